"""tensorgrad's global random generator: ``tg.manual_seed(s)`` makes randn/rand, weight
initialisation, dropout and shuffling reproducible."""
from __future__ import annotations

from typing import Optional

import numpy as np

_rng: np.random.Generator = np.random.default_rng()


def manual_seed(seed: Optional[int]) -> np.random.Generator:
    """Reseed the global generator (and return it)."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def get_rng() -> np.random.Generator:
    """The global generator every random function in tensorgrad draws from."""
    return _rng
