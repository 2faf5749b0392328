"""Neural-network layers: ``import tensorgrad.nn as nn``.

`Module` and `Parameter` (module.py), containers `Sequential`, `ModuleList` and
`ModuleDict`, layers `Linear`/`Dense`, `Dropout`, `Identity`, `Flatten`, `Embedding`
(layers.py), `BatchNorm1d`, `BatchNorm2d`, `LayerNorm` (normalization.py),
`MultiheadAttention` (attention.py), `Conv1d`, `Conv2d`, `MaxPool1d/2d`, `AvgPool1d/2d`
(conv.py), activation modules (activation.py), loss modules
(loss.py); the stateless versions are in `functional` and the initialisers in `init`;
gradient clipping in `utils`.
"""
from . import functional, init, utils
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .conv import AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d
from .layers import Dense, Dropout, Embedding, Flatten, Identity, Linear
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
from .module import (
    IncompatibleKeys,
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    Sequential,
    StateDictError,
)
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = [
    "functional", "init", "utils", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax",
    "Tanh", "Dense", "Dropout", "Flatten", "Identity", "Linear", "BCELoss",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss", "NLLLoss",
    "SmoothL1Loss", "IncompatibleKeys", "Module", "ModuleList", "Parameter", "Sequential",
    "StateDictError", "Embedding", "ModuleDict", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "MultiheadAttention",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
]
