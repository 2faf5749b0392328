"""Optimizers that update parameters' ``.data`` in place, and learning-rate schedulers.

``SGD``, ``Adam``, ``AdamW`` and ``RMSprop`` follow PyTorch's update rules (each class
docstring states its equations); ``lr_scheduler`` holds ``StepLR`` and
``CosineAnnealingLR``.
"""

from __future__ import annotations

from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "Optimizer",
    "RMSprop",
    "StepLR",
    "lr_scheduler",
]
