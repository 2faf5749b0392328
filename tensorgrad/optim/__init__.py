"""Optimizers that update parameters' ``.data`` in place, and learning-rate schedulers.

``SGD``, ``Adam``, ``AdamW`` and ``RMSprop`` follow PyTorch's update rules (each class
docstring states its equations); ``lr_scheduler`` holds the learning-rate schedulers
(``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``LambdaLR``, ``LinearLR``,
``CosineAnnealingLR``, ``OneCycleLR``, ``ReduceLROnPlateau``), also importable from here.
"""

from __future__ import annotations

from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
    "lr_scheduler",
]
