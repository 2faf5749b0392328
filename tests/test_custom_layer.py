"""A user-defined layer, written the way the docs tell users to, checked with the layer checker."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
from tensorgrad.testing import check_module


class LowRankLinear(nn.Module):
    """z = (x @ U) @ V + b with U (in, r), V (r, out): a rank-r dense layer."""

    def __init__(self, fin, fout, rank):
        super().__init__()
        self.U = nn.Parameter(tg.randn(fin, rank).data * 0.5)
        self.V = nn.Parameter(tg.randn(rank, fout).data * 0.5)
        self.bias = nn.Parameter(np.zeros(fout, np.float32))

    def forward(self, x):
        return (x @ self.U) @ self.V + self.bias


class GatedTanh(nn.Module):
    """A gated activation: tanh(x W) * sigmoid(x G)."""

    def __init__(self, fin, fout):
        super().__init__()
        self.lin = nn.Linear(fin, fout)
        self.gate = nn.Linear(fin, fout)

    def forward(self, x):
        return self.lin(x).tanh() * self.gate(x).sigmoid()


class LeakyGate(GatedTanh):
    """Broken on purpose: the gate is cut out of the graph, so its gradient is missing."""

    def forward(self, x):
        return self.lin(x).tanh() * self.gate(x).sigmoid().detach()


@pytest.mark.parametrize("layer", [lambda: LowRankLinear(4, 3, 2), lambda: GatedTanh(4, 3)])
def test_custom_layers_pass_the_layer_checker(layer):
    tg.manual_seed(0)
    m = layer()
    x = tg.randn(5, 4)
    assert check_module(m, x)
    assert all(p.dtype == np.float32 for p in m.parameters())  # the check used a copy


def test_layer_checker_names_the_parameter_whose_gradient_is_wrong():
    tg.manual_seed(0)
    with pytest.raises(tg.GradcheckError, match="gate.weight"):
        check_module(LeakyGate(4, 3), tg.randn(5, 4), check_inputs=False)


def test_custom_layer_trains():
    tg.manual_seed(1)
    m = nn.Sequential(LowRankLinear(2, 8, 2), nn.Tanh(), nn.Linear(8, 1))
    opt = tg.optim.Adam(m.parameters(), lr=0.05)
    x = tg.randn(64, 2)
    y = x[:, :1] * x[:, 1:]
    first = None
    for _ in range(200):
        loss = nn.functional.mse_loss(m(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
