"""Flatten: samples of any shape to flat vectors."""

import math

from .base import Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    """Reshape each sample to one axis: ``(n, d1, d2, ...) -> (n, d1 d2 ...)``.

    Notes
    -----
    A reshape (C order, no copy for contiguous inputs); the gradient is
    reshaped back (to the input shape the forward pass saw). Put it between image layers and
    :class:`~skann.nn.layers.Dense`. No weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import Flatten
    >>> net = Network([Flatten()])
    >>> net.build((2, 3, 4), np.float64, np.random.RandomState(0))
    (24,)
    >>> net.output(np.zeros((5, 24))).shape
    (5, 24)
    """

    def __init__(self):
        pass

    def compute_output_shape(self, input_shape):
        return (math.prod(int(extent) for extent in input_shape),)

    def forward(self, X, ctx):
        if ctx.training:
            ctx.saved["input_shape"] = X.shape[1:]
        return X if X.ndim == 2 else X.reshape(X.shape[0], math.prod(X.shape[1:]))

    def backward(self, dY, ctx):
        if not ctx.input_grad:
            return None
        return dY.reshape(dY.shape[0], *ctx.saved["input_shape"])
