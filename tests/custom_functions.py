"""Custom Functions shared by the tests (imported as a plain module, like torch_check)."""
import tensorgrad as tg


class Cube(tg.Function):
    """x ** 3, with its backward written in numpy vocabulary (so it differentiates twice)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad
