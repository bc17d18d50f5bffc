"""skann's engine: a small, complete numpy library for feed-forward networks.

It knows nothing about scikit-learn: layers that declare their weights from
input shapes, activations, losses fused with their output activation,
optimizers and schedules over one flat parameter buffer, :class:`Network`
(flat buffers, per-call workspaces, thread-safe inference) and one
:class:`TrainingLoop` with hooks. ``docs/engine.rst`` describes the
contracts.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .hooks import (
    EMA,
    Divergence,
    EarlyStopping,
    FiniteCheck,
    Hook,
    KeepBest,
    Validation,
    Verbose,
)
from .initializers import init_bound
from .layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    LayerNorm,
    MaxPool2D,
    Weight,
)
from .lbfgs import LbfgsLoop, minimize_lbfgs
from .losses import LOSSES, Loss, get_loss
from .network import Network
from .optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop
from .schedules import SCHEDULES, Adaptive, Constant, Cosine, InvScaling, Schedule
from .training import MinibatchPlan, SupervisedObjective, TrainingLoop

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Adam",
    "AdamW",
    "Adaptive",
    "AvgPool2D",
    "BatchNorm",
    "Constant",
    "Conv2D",
    "Cosine",
    "Dense",
    "Divergence",
    "Dropout",
    "EMA",
    "EarlyStopping",
    "Flatten",
    "GlobalAvgPool2D",
    "FiniteCheck",
    "Hook",
    "InvScaling",
    "KeepBest",
    "LOSSES",
    "Layer",
    "LayerNorm",
    "LbfgsLoop",
    "Loss",
    "MaxPool2D",
    "MinibatchPlan",
    "Network",
    "OPTIMIZERS",
    "Optimizer",
    "RMSprop",
    "SCHEDULES",
    "SGD",
    "Schedule",
    "SupervisedObjective",
    "TrainingLoop",
    "Validation",
    "Verbose",
    "Weight",
    "get_activation",
    "get_loss",
    "init_bound",
    "minimize_lbfgs",
]
