"""Normalisation layers: batch normalisation and layer normalisation."""

import math
import numbers

import numpy as np

from ..initializers import Constant
from .base import Layer, Weight

__all__ = ["BatchNorm", "LayerNorm"]


def _check_epsilon(epsilon, layer):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
        raise ValueError(f"{layer} epsilon must be a positive number, got {epsilon!r}.")


def _check_input(input_shape, layer):
    if len(input_shape) < 1 or min(input_shape) < 1:
        raise ValueError(f"{layer} needs a non-empty input shape, got {tuple(input_shape)}.")


def _rows(array, width, ctx, key):
    """``array`` as a C-contiguous ``(-1, width)`` matrix (a reused copy if need be)."""
    if array.flags.c_contiguous:
        return array.reshape(-1, width)
    rows = ctx.buffer(key, (array.size // width, width), array.dtype)
    np.copyto(rows.reshape(array.shape), array)
    return rows


def _column_sums(matrix, out, ctx):
    """``matrix.sum(axis=0)`` into ``out``, as a GEMV (ones @ matrix).

    Several times faster than numpy's axis-0 reduction on tall matrices
    of few columns (the pixels times channels of images).
    """
    ones = ctx.buffer("ones", (matrix.shape[0],), matrix.dtype)
    ones.fill(1)
    return np.dot(ones, matrix, out=out)


class BatchNorm(Layer):
    """Batch normalisation of each feature (each channel of images).

    Parameters
    ----------
    momentum : float in [0, 1], default=0.9
        Weight of the old running statistics in their update (Keras
        convention: PyTorch's ``momentum=0.1``, its default, is this 0.9).
        Not Keras' 0.99: sklearn-sized data trains for a few hundred steps,
        and after 100 steps 0.99 still keeps ``0.99 ** 100`` = 37% of the
        initial statistics (0.9 keeps 0.003%).
    epsilon : float, default=1e-3
        Added to the variance before the square root.

    Notes
    -----
    Normalises over every axis but the last (the batch, and the pixels of
    images of shape ``(h, w, c)``), with ``c`` features. In training, with
    the batch mean ``mu`` and (biased) variance ``var`` of each feature,

    .. math::

        Y = \\gamma \\frac{X - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta,

        \\text{moving\\_mean} \\leftarrow m \\, \\text{moving\\_mean} + (1 - m) \\mu,
        \\quad
        \\text{moving\\_var} \\leftarrow m \\, \\text{moving\\_var} + (1 - m) \\sigma^2,

    and at inference the running ``moving_mean`` and ``moving_var`` replace
    ``mu`` and ``var``. Declares trainable ``gamma`` (ones) and ``beta``
    (zeros), not regularised, and the non-trainable state ``moving_mean``
    (zeros) and ``moving_var`` (ones), kept in the network's ``state``.
    The input gradient is the exact one of the batch statistics,
    ``gamma / sqrt(var + eps) * (dY - mean(dY) - xhat * mean(dY * xhat))``.

    A training batch needs more than one value per feature (two rows, or
    one image of several pixels): the statistics of one value normalise it
    to zero, so a training batch of one row raises a ``ValueError``, as
    PyTorch's ``BatchNorm1d`` does. :class:`~skann.nn.training.MinibatchPlan`
    never makes one when ``batch_size >= 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import BatchNorm
    >>> net = Network([BatchNorm(momentum=0.0)])
    >>> net.build((2,), np.float64, np.random.RandomState(0))
    (2,)
    >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> net.forward(X, net.context(training=True)).round(3)  # batch statistics
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> net.weights(0, trainable=False)["moving_mean"]  # momentum 0: the batch's
    array([ 2., 20.])
    """

    def __init__(self, momentum=0.9, epsilon=1e-3):
        self.momentum = momentum
        self.epsilon = epsilon

    def compute_output_shape(self, input_shape):
        momentum = self.momentum
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm momentum must be a number in [0, 1], got {momentum!r}.")
        _check_epsilon(self.epsilon, "BatchNorm")
        _check_input(input_shape, "BatchNorm")
        return tuple(input_shape)

    def build(self, input_shape, dtype):
        output_shape = self.compute_output_shape(input_shape)
        features = (int(input_shape[-1]),)
        weights = [
            Weight("gamma", features, Constant(1.0)),
            Weight("beta", features, Constant(0.0)),
            Weight("moving_mean", features, Constant(0.0), trainable=False),
            Weight("moving_var", features, Constant(1.0), trainable=False),
        ]
        return weights, output_shape

    def forward(self, X, ctx):
        gamma, beta = ctx.params["gamma"], ctx.params["beta"]
        dtype = gamma.dtype
        width = gamma.shape[0]
        X2 = _rows(X, width, ctx, "X")
        Y = ctx.buffer("Y", X2.shape, dtype)
        if not ctx.training:
            state = ctx.state
            scale = gamma / np.sqrt(state["moving_var"] + dtype.type(self.epsilon))
            shift = beta - state["moving_mean"] * scale
            np.multiply(X2, scale, out=Y)
            Y += shift
            return Y.reshape(X.shape)
        n_rows = X2.shape[0]
        if n_rows == 1:
            raise ValueError(
                "BatchNorm got a training batch of 1 sample (one value per feature): "
                "its batch statistics would normalise every value to zero, and the "
                "network would train to chance. Train with batches of at least 2 "
                "rows (batch_size >= 2)."
            )
        inverse_rows = dtype.type(1.0 / max(n_rows, 1))
        mean = _column_sums(X2, ctx.buffer("mean", (width,), dtype), ctx)
        mean *= inverse_rows
        xhat = np.subtract(X2, mean, out=ctx.buffer("xhat", X2.shape, dtype))
        squares = np.multiply(xhat, xhat, out=Y)  # Y as scratch
        var = _column_sums(squares, ctx.buffer("var", (width,), dtype), ctx)
        var *= inverse_rows
        inv_std = np.add(var, dtype.type(self.epsilon), out=ctx.buffer("inv_std", (width,), dtype))
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        xhat *= inv_std
        np.multiply(xhat, gamma, out=Y)
        Y += beta
        # Running statistics, in place in the network's state buffer.
        momentum = dtype.type(self.momentum)
        for name, batch_value in (("moving_mean", mean), ("moving_var", var)):
            running = ctx.state[name]
            running *= momentum
            running += (1 - momentum) * batch_value
        ctx.saved["xhat"], ctx.saved["inv_std"] = xhat, inv_std
        return Y.reshape(X.shape)

    def backward(self, dY, ctx):
        gamma = ctx.params["gamma"]
        if not ctx.training:  # running statistics (a frozen-state pass): Y = X * scale + shift
            if ctx.grads:
                raise ValueError(
                    "BatchNorm's weight gradients need a training-mode pass; a pass with "
                    "frozen_state=True gives input gradients only (Network.input_gradient)."
                )
            if not ctx.input_grad:
                return None
            dY2 = _rows(dY, gamma.shape[0], ctx, "dY")
            scale = gamma / np.sqrt(ctx.state["moving_var"] + gamma.dtype.type(self.epsilon))
            return np.multiply(dY2, scale, out=ctx.buffer("dX", dY2.shape, dY2.dtype)).reshape(dY.shape)
        xhat, inv_std = ctx.saved["xhat"], ctx.saved["inv_std"]
        n_rows, width = xhat.shape
        dY2 = _rows(dY, width, ctx, "dY")
        if ctx.grads:
            grad_gamma, grad_beta = ctx.grads["gamma"], ctx.grads["beta"]
        else:  # the input gradient only: the column sums in scratch
            grad_gamma, grad_beta = (ctx.buffer(key, (width,), xhat.dtype) for key in ("sum_dY_xhat", "sum_dY"))
        _column_sums(dY2, grad_beta, ctx)
        product = np.multiply(dY2, xhat, out=ctx.buffer("product", xhat.shape, xhat.dtype))
        _column_sums(product, grad_gamma, ctx)
        if not ctx.input_grad:
            return None
        inverse_rows = xhat.dtype.type(1.0 / max(n_rows, 1))
        # dX = gamma * inv_std * (dY - mean(dY) - xhat * mean(dY * xhat))
        dX = np.multiply(xhat, grad_gamma * inverse_rows, out=product)
        np.subtract(dY2, dX, out=dX)
        dX -= grad_beta * inverse_rows
        dX *= gamma * inv_std
        return dX.reshape(dY.shape)


class LayerNorm(Layer):
    """Layer normalisation: each sample normalised over all its values.

    Parameters
    ----------
    epsilon : float, default=1e-5
        Added to the variance before the square root.

    Notes
    -----
    For each sample, with the mean ``mu`` and (biased) variance ``var`` of
    all its values (every non-batch axis),

    .. math::

        Y = \\gamma \\frac{X - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta,

    with trainable ``gamma`` (ones) and ``beta`` (zeros) of one value per
    feature of the last axis (per channel of images), not regularised. The
    same in training and at inference; the input gradient is
    ``inv_std * (g - mean(g) - xhat * mean(g * xhat))`` with
    ``g = gamma * dY``, means taken over each sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import LayerNorm
    >>> net = Network([LayerNorm()])
    >>> net.build((4,), np.float64, np.random.RandomState(0))
    (4,)
    >>> net.output(np.array([[1.0, 2.0, 3.0, 4.0]])).round(3)
    array([[-1.342, -0.447,  0.447,  1.342]])
    """

    def __init__(self, epsilon=1e-5):
        self.epsilon = epsilon

    def compute_output_shape(self, input_shape):
        _check_epsilon(self.epsilon, "LayerNorm")
        _check_input(input_shape, "LayerNorm")
        return tuple(input_shape)

    def build(self, input_shape, dtype):
        output_shape = self.compute_output_shape(input_shape)
        features = (int(input_shape[-1]),)
        weights = [
            Weight("gamma", features, Constant(1.0)),
            Weight("beta", features, Constant(0.0)),
        ]
        return weights, output_shape

    def forward(self, X, ctx):
        gamma, beta = ctx.params["gamma"], ctx.params["beta"]
        dtype = gamma.dtype
        size, width = math.prod(X.shape[1:]), gamma.shape[0]
        X2 = _rows(X, size, ctx, "X")
        n_rows = X2.shape[0]
        inverse_size = dtype.type(1.0 / size)
        mean = np.sum(X2, axis=1, keepdims=True, out=ctx.buffer("mean", (n_rows, 1), dtype))
        mean *= inverse_size
        xhat = np.subtract(X2, mean, out=ctx.buffer("xhat", X2.shape, dtype))
        Y = ctx.buffer("Y", X2.shape, dtype)
        squares = np.multiply(xhat, xhat, out=Y)  # Y as scratch
        inv_std = np.sum(squares, axis=1, keepdims=True, out=ctx.buffer("inv_std", (n_rows, 1), dtype))
        inv_std *= inverse_size
        inv_std += dtype.type(self.epsilon)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        xhat *= inv_std
        Y3 = Y.reshape(n_rows, size // width, width)
        np.multiply(xhat.reshape(Y3.shape), gamma, out=Y3)
        Y3 += beta
        if ctx.training:
            ctx.saved["xhat"], ctx.saved["inv_std"] = xhat, inv_std
        return Y.reshape(X.shape)

    def backward(self, dY, ctx):
        xhat, inv_std = ctx.saved["xhat"], ctx.saved["inv_std"]
        gamma = ctx.params["gamma"]
        n_rows, size = xhat.shape
        width = gamma.shape[0]
        dY2 = _rows(dY, size, ctx, "dY")
        product = ctx.buffer("product", xhat.shape, xhat.dtype)
        if ctx.grads:  # empty: the input gradient only (Network.input_gradient)
            _column_sums(dY2.reshape(-1, width), ctx.grads["beta"], ctx)
            np.multiply(dY2, xhat, out=product)
            _column_sums(product.reshape(-1, width), ctx.grads["gamma"], ctx)
        if not ctx.input_grad:
            return None
        inverse_size = xhat.dtype.type(1.0 / size)
        shape3 = (n_rows, size // width, width)
        # g = gamma * dY; dX = inv_std * (g - mean(g) - xhat * mean(g * xhat))
        g = ctx.buffer("g", xhat.shape, xhat.dtype)
        np.multiply(dY2.reshape(shape3), gamma, out=g.reshape(shape3))
        np.multiply(g, xhat, out=product)
        mean_gx = np.sum(product, axis=1, keepdims=True, out=ctx.buffer("mean_gx", (n_rows, 1), xhat.dtype))
        mean_gx *= inverse_size
        mean_g = np.sum(g, axis=1, keepdims=True, out=ctx.buffer("mean_g", (n_rows, 1), xhat.dtype))
        mean_g *= inverse_size
        dX = np.multiply(xhat, mean_gx, out=product)
        np.subtract(g, dX, out=dX)
        dX -= mean_g
        dX *= inv_std
        return dX.reshape(dY.shape)
