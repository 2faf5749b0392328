"""The autograd: grad mode, the op record, the engine, custom Functions, gradient checks."""
from .anomaly import detect_anomaly
from .engine import backward, grad
from .function import Context, Function, once_differentiable
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "detect_anomaly", "backward", "grad", "Context", "Function", "enable_grad",
    "is_grad_enabled", "no_grad", "set_grad_enabled", "GradcheckError", "gradcheck",
    "gradgradcheck", "once_differentiable",
]
