"""From the estimator's parameters to the engine's layers and dtype."""

from numbers import Integral

import numpy as np

from .nn import Dense

# With dtype="auto", stochastic solvers compute in float32 from this many
# weights on: there BLAS time dominates and float32 halves it. Smaller
# networks gain nothing from float32 and keep float64's exactness (their
# predictions do not depend on how rows are batched).
FLOAT32_MIN_WEIGHTS = 10_000

STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop")


def hidden_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a list of positive ints (an int is one layer)."""
    sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
    if any(not isinstance(size, Integral) or size <= 0 for size in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return [int(size) for size in sizes]


def dense_layers(layer_sizes, activation):
    """Hidden Dense layers of ``activation`` and a linear output layer.

    ``layer_sizes`` runs from input to output widths.
    """
    layers = [Dense(units, activation) for units in layer_sizes[1:-1]]
    layers.append(Dense(layer_sizes[-1], "identity"))
    return layers


def compute_dtype(dtype, solver, layer_sizes):
    """The dtype the network computes in (see the ``dtype`` parameter)."""
    if dtype != "auto":
        return np.dtype(dtype).type
    n_weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    if solver in STOCHASTIC_SOLVERS and n_weights >= FLOAT32_MIN_WEIGHTS:
        return np.float32
    return np.float64
