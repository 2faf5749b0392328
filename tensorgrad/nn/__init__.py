"""Neural-network layers: ``import tensorgrad.nn as nn``.

`Module` and `Parameter` (module.py), containers `Sequential` and `ModuleList`, layers
`Linear`/`Dense`, `Dropout`, `Identity`, `Flatten` (layers.py), activation modules
(activation.py), loss modules (loss.py); the stateless versions are in `functional` and the
initialisers in `init`.
"""
from . import functional, init
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .layers import Dense, Dropout, Flatten, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential, StateDictError

__all__ = [
    "functional", "init", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax",
    "Tanh", "Dense", "Dropout", "Flatten", "Identity", "Linear", "BCELoss",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss", "NLLLoss",
    "SmoothL1Loss", "IncompatibleKeys", "Module", "ModuleList", "Parameter", "Sequential",
    "StateDictError",
]
