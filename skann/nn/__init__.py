"""skann's engine: a small, complete numpy library for feed-forward networks.

It knows nothing about scikit-learn: layers, activations, losses fused with
their output activation, optimizers that update one flat parameter buffer in
place, and :class:`Network`, which ties them together.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .layers import Dense, Layer, init_bound
from .losses import LOSSES, Loss, get_loss
from .network import Network
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, minimize_lbfgs

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "Activation",
    "Adam",
    "Dense",
    "Layer",
    "Loss",
    "Network",
    "Optimizer",
    "SGD",
    "get_activation",
    "get_loss",
    "init_bound",
    "minimize_lbfgs",
]
