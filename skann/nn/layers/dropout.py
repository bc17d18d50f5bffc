"""Dropout: random zeroing of inputs during training (inverted dropout)."""

import numbers

import numpy as np

from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Zero each input with probability ``rate`` during training.

    Parameters
    ----------
    rate : float in [0, 1), default=0.5
        Probability of dropping each value.

    Notes
    -----
    Inverted dropout: in training,

    .. math::

        Y = X \\odot M / (1 - \\text{rate}), \\qquad
        M_{ij} \\sim \\text{Bernoulli}(1 - \\text{rate}),

    so that the expected output equals the input, and at inference
    ``Y = X`` (the input itself, no copy). The mask is drawn from the
    pass's ``ctx.rng`` (a :class:`numpy.random.Generator`, given to
    :meth:`~skann.nn.training.TrainingLoop.run`); the gradient is
    ``dY * M / (1 - rate)``. Works on inputs of any shape; no weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import Dropout
    >>> net = Network([Dropout(0.5)])
    >>> net.build((4,), np.float64, np.random.RandomState(0))
    (4,)
    >>> net.output(np.ones((1, 4)))  # identity at inference
    array([[1., 1., 1., 1.]])
    >>> ctx = net.context(training=True, rng=np.random.default_rng(0))
    >>> net.forward(np.ones((1, 4)), ctx)  # kept values are scaled by 2
    array([[2., 0., 0., 0.]])
    """

    def __init__(self, rate=0.5):
        self.rate = rate

    def compute_output_shape(self, input_shape):
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be a number in [0, 1), got {rate!r}.")
        return tuple(input_shape)

    def forward(self, X, ctx):
        if not ctx.training or self.rate == 0:
            return X
        if ctx.rng is None:
            raise ValueError(
                "Dropout needs a random generator in training: give the pass a "
                "numpy.random.Generator (network.context(training=True, rng=...) "
                "or TrainingLoop.run(..., rng=...))."
            )
        dtype = X.dtype
        # Uniform draws in the compute dtype, turned in place into the scaled mask.
        mask = ctx.buffer("mask", X.shape, dtype)
        ctx.rng.random(out=mask, dtype=dtype)
        keep = ctx.buffer("keep", X.shape, bool)
        np.greater_equal(mask, dtype.type(self.rate), out=keep)
        np.multiply(keep, dtype.type(1.0 / (1.0 - self.rate)), out=mask)
        ctx.saved["mask"] = mask
        return np.multiply(X, mask, out=ctx.buffer("Y", X.shape, dtype))

    def backward(self, dY, ctx):
        if not ctx.input_grad:
            return None
        if self.rate == 0:
            return dY
        return np.multiply(dY, ctx.saved["mask"], out=dY)
