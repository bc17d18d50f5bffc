"""Dense: the fully connected layer."""

import numpy as np

from ..activations import ACTIVATIONS, shared_activation
from ..initializers import Uniform, init_bound
from .base import Layer, Weight, check_positive_int

__all__ = ["Dense", "product"]

# The shared activation of each built-in name: a dictionary look-up per pass
# instead of a call of shared_activation (two per layer and batch).
_SHARED = {name: shared_activation(name) for name in ACTIVATIONS}


def product(A, B, out):
    """``A @ B`` written into ``out`` (2-D arrays).

    ``np.dot`` when the three dtypes agree: the same BLAS call and the same
    bits as ``np.matmul`` (checked on C, F and strided operands, float32
    and float64, 1 to 4,096 rows), at half the per-call cost of the gufunc
    machinery (1.5 against 2.9 µs for one row), which is most of a small
    layer's time. Otherwise ``np.matmul``, which casts.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.layers.dense import product
    >>> product(np.ones((2, 3)), np.ones((3, 1)), np.empty((2, 1)))
    array([[3.],
           [3.]])
    """
    if A.dtype == B.dtype == out.dtype:
        return np.dot(A, B, out=out)
    return np.matmul(A, B, out=out)


class Dense(Layer):
    """Fully connected layer: ``A = f(X @ W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons (output width).
    activation : str, default="relu"
        Activation ``f``; see :data:`skann.nn.activations.ACTIVATIONS`.
    init : {"auto", "glorot_uniform", "he_uniform"}, default="auto"
        Uniform initialisation of weights and biases; see
        :func:`~skann.nn.initializers.init_bound`. ``"auto"`` is
        Glorot-uniform for every built-in activation.

    Notes
    -----
    Declares ``W`` of shape ``(n_in, units)`` (regularised) and ``b`` of
    shape ``(units,)``, both drawn from ``U(-bound, bound)`` as sklearn's
    MLP draws them. The input must be flat (one axis per sample): put a
    ``Flatten`` layer after image layers.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Dense, Network
    >>> net = Network([Dense(3, activation="relu")])
    >>> net.build((2,), np.float64, np.random.RandomState(0))
    (3,)
    >>> net.output(np.ones((4, 2))).shape
    (4, 3)
    """

    def __init__(self, units, activation="relu", init="auto"):
        self.units = units
        self.activation = activation
        self.init = init

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs, but its input has shape {tuple(input_shape)} "
                "per sample. Put a Flatten() layer before it."
            )
        return (check_positive_int(self.units, "Dense units"),)

    def build(self, input_shape, dtype):
        (units,) = self.compute_output_shape(input_shape)
        n_in = int(input_shape[0])
        init = Uniform(init_bound(n_in, units, shared_activation(self.activation), self.init))
        weights = [
            Weight("W", (n_in, units), init, regularized=True),
            Weight("b", (units,), init),
        ]
        return weights, (units,)

    def forward(self, X, ctx):
        params = ctx.params
        weights = params["W"]
        n_rows, units = X.shape[0], weights.shape[1]
        Z = ctx.buffer("Z", (n_rows, units), weights.dtype)
        if isinstance(X, np.ndarray):
            product(X, weights, Z)
        else:  # sparse rows
            Z[...] = X @ weights
        Z += params["b"]
        activation = _SHARED.get(self.activation) or shared_activation(self.activation)
        A = ctx.buffer("A", (n_rows, units), weights.dtype) if activation.needs_input else Z
        activation.forward(Z, A, ctx)
        if ctx.training:
            saved = ctx.saved
            saved["X"], saved["Z"], saved["A"] = X, Z, A
        return A

    def backward(self, dY, ctx):
        saved = ctx.saved
        X = saved["X"]
        activation = _SHARED.get(self.activation) or shared_activation(self.activation)
        dZ = activation.backward(dY, saved["Z"], saved["A"], ctx)
        grads = ctx.grads
        if grads:  # empty: the input gradient only (Network.input_gradient)
            grad_W = grads["W"]
            if isinstance(X, np.ndarray):
                product(X.T, dZ, grad_W)
            else:  # sparse rows
                grad_W[...] = X.T @ dZ
            # dZ.sum(axis=0) without its Python wrapper (a call per batch).
            np.add.reduce(dZ, axis=0, out=grads["b"])
        if not ctx.input_grad:
            return None
        weights = ctx.params["W"]
        dX = ctx.buffer("dX", (dZ.shape[0], weights.shape[0]), weights.dtype)
        return product(dZ, weights.T, dX)
