"""`tg.compile`: a training step traced once at the numpy level and replayed as generated
numpy code (`trace` records, `codegen` writes the program, `api` dispatches on signatures)."""
from .api import Compiled, compile

__all__ = ["Compiled", "compile"]
