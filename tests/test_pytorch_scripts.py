"""Three PyTorch scripts run unchanged but for their import lines (issue 10's acceptance).

Each script is one string. It runs once after PyTorch's imports and once after tensorgrad's
(``import tensorgrad as torch`` ...); each run leaves a dict ``result``. tensorgrad must reach
its goal on its own, and PyTorch's result when PyTorch is installed. Both start from the same
numpy arrays; the only line that knows the libraries differ is the one documented difference:
``nn.Linear.weight`` is ``(out, in)`` in PyTorch and ``(in, out)`` in tensorgrad.
"""
import numpy as np
import pytest

TORCH_IMPORTS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
"""
TENSORGRAD_IMPORTS = """\
import tensorgrad as torch
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F
"""

# Shared by the scripts below (the same text in both runs): weights from numpy, so both
# libraries start from the same numbers.
INIT = """
import numpy as np

def init_from_numpy(model, seed=0):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            bound = 1 / np.sqrt(m.in_features)
            W = rng.uniform(-bound, bound, (m.out_features, m.in_features))  # PyTorch: (out, in)
            if tuple(m.weight.shape) != W.shape:  # tensorgrad's Linear.weight is (in, out)
                W = W.T
            m.weight.data[...] = torch.tensor(W, dtype=torch.float32)
            m.bias.data[...] = torch.tensor(rng.uniform(-bound, bound, m.out_features),
                                            dtype=torch.float32)
"""

POLYNOMIAL_FIT = """
# Fit y = 0.5 x^3 - x + 0.25 with a cubic by hand-written gradient descent.
x = torch.linspace(-1, 1, 64).reshape(-1, 1)
y = 0.5 * x ** 3 - x + 0.25
features = torch.cat([x ** k for k in range(4)], dim=1)
w = torch.zeros(4, 1, requires_grad=True)
lr = 0.5
for step in range(300):
    loss = ((features @ w - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
    w.grad = None
result = {"loss": loss.item(), "w": w.detach().numpy().ravel().tolist()}
"""

CLASSIFIER = INIT + """
# Three classes on the plane: an MLP with SGD + momentum, clipping and a step schedule.
rng = np.random.default_rng(1)
X_np = rng.standard_normal((240, 2)).astype(np.float32)
y_np = (X_np[:, 1] > 0).astype(np.int64) + (np.hypot(X_np[:, 0], X_np[:, 1]) > 1.2)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))

model = Net()
init_from_numpy(model)
opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=15, gamma=0.5)
X, y = torch.tensor(X_np), torch.tensor(y_np)
norms = []
for epoch in range(45):
    for i in range(0, X.size(0), 48):
        xb, yb = X[i:i + 48], y[i:i + 48]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)))
        opt.step()
    sched.step()
model.eval()
with torch.no_grad():
    logits = model(X)
    _, pred = logits.max(dim=1)
    accuracy = (pred == y).float().mean().item()
    probs = F.softmax(logits, dim=1).sum(dim=0) / X.size(0)
result = {"accuracy": accuracy, "loss": F.cross_entropy(logits, y).item(),
          "first_norm": norms[0], "probs": probs.numpy().tolist(),
          "lr": sched.get_last_lr()[0]}
"""

CHECKPOINT = INIT + """
# Train 6 steps, save model and optimizer, resume in a fresh model for 6 more steps.
import os
import tempfile

rng = np.random.default_rng(2)
X = torch.tensor(rng.standard_normal((32, 3)).astype(np.float32))
y = torch.tensor(rng.standard_normal((32, 1)).astype(np.float32))

def make():
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    init_from_numpy(model)
    return model, torch.optim.Adam(model.parameters(), lr=0.01)

def train(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    return loss.item()

model, opt = make()
train(model, opt, 6)
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 6}, path)

resumed, resumed_opt = make()
checkpoint = torch.load(path)
resumed.load_state_dict(checkpoint["model"])
resumed_opt.load_state_dict(checkpoint["optimizer"])
loss_resumed = train(resumed, resumed_opt, 6)

straight, straight_opt = make()
loss_straight = train(straight, straight_opt, 12)
result = {"step": checkpoint["step"], "loss_resumed": loss_resumed,
          "loss_straight": loss_straight,
          "same": all(np.array_equal(np.asarray(a.detach().numpy()), b.detach().numpy())
                      for a, b in zip(resumed.parameters(), straight.parameters()))}
"""


def run(script: str, imports: str) -> dict:
    namespace: dict = {}
    exec(compile(imports + script, "<script>", "exec"), namespace)  # noqa: S102
    return namespace["result"]


def _torch_result(script: str) -> dict:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a busy machine
    return run(script, TORCH_IMPORTS)


def test_the_two_runs_differ_only_in_their_import_lines():
    assert TENSORGRAD_IMPORTS == TORCH_IMPORTS.replace("import torch\n", "import tensorgrad as "
                                                       "torch\n").replace("import torch.nn",
                                                                           "import tensorgrad.nn")


def test_manual_update_polynomial_fit():
    result = run(POLYNOMIAL_FIT, TENSORGRAD_IMPORTS)
    assert result["loss"] < 1e-6
    np.testing.assert_allclose(result["w"], [0.25, -1.0, 0.0, 0.5], atol=0.01)
    ref = _torch_result(POLYNOMIAL_FIT)
    np.testing.assert_allclose(result["loss"], ref["loss"], rtol=1e-3)
    np.testing.assert_allclose(result["w"], ref["w"], rtol=1e-5, atol=1e-6)


def test_module_classifier_with_dim_max_size_clipping_and_scheduler():
    result = run(CLASSIFIER, TENSORGRAD_IMPORTS)
    assert result["accuracy"] >= 0.9
    assert result["lr"] == pytest.approx(0.2 * 0.5 ** 3)
    ref = _torch_result(CLASSIFIER)
    assert result["accuracy"] == pytest.approx(ref["accuracy"], abs=1 / 240)
    np.testing.assert_allclose(result["loss"], ref["loss"], rtol=1e-3)
    np.testing.assert_allclose(result["first_norm"], ref["first_norm"], rtol=1e-5)
    np.testing.assert_allclose(result["probs"], ref["probs"], rtol=1e-3)


def test_checkpoint_resumed_mid_training():
    result = run(CHECKPOINT, TENSORGRAD_IMPORTS)
    assert result["step"] == 6 and result["same"]
    assert result["loss_resumed"] == result["loss_straight"]
    ref = _torch_result(CHECKPOINT)
    assert ref["same"]
    np.testing.assert_allclose(result["loss_resumed"], ref["loss_resumed"], rtol=1e-4)
