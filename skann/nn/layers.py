"""Layers: the building blocks of a :class:`~skann.nn.network.Network`.

A layer owns its trainable parameters (``params``), the gradients of the
loss with respect to them (``grads``, same order and shapes) and the buffers
it reuses from batch to batch. The network may rebind ``params`` and
``grads`` to views of one flat buffer after :meth:`Layer.build`; layers
therefore always reach them through these lists, never through copies.
"""

import numpy as np
import scipy.sparse as sp

from ._blocks import SCRATCH, scratch
from .activations import get_activation

__all__ = ["INITS", "Layer", "Dense", "init_bound"]


INITS = ("auto", "glorot_uniform", "he_uniform")


def init_bound(fan_in, fan_out, activation, init="auto"):
    """Half-width of the uniform initialisation of weights and biases.

    ``"glorot_uniform"``: ``sqrt(gain / (fan_in + fan_out))`` with the
    activation's gain (6, or 2 for the logistic activation, as sklearn);
    ``"he_uniform"``: ``sqrt(6 / fan_in)``; ``"auto"``: the activation's
    preference (``Activation.init``).

    Parameters
    ----------
    fan_in, fan_out : int
    activation : Activation
    init : {"auto", "glorot_uniform", "he_uniform"}, default="auto"

    Returns
    -------
    bound : float

    Examples
    --------
    >>> from skann.nn.activations import get_activation
    >>> from skann.nn.layers import init_bound
    >>> round(init_bound(4, 2, get_activation("tanh")), 4)
    1.0
    >>> round(init_bound(6, 2, get_activation("relu"), "he_uniform"), 4)
    1.0
    """
    if init == "auto":
        init = activation.init
    if init == "he_uniform":
        return float(np.sqrt(6.0 / fan_in))
    if init == "glorot_uniform":
        return float(np.sqrt(activation.init_gain / (fan_in + fan_out)))
    raise ValueError(f"Unknown init {init!r}; choose one of {INITS}.")


class Layer:
    """Base class of layers.

    Subclasses implement :meth:`build`, :meth:`forward` and
    :meth:`backward`, and list their trainable arrays in ``params`` with a
    matching ``decay`` flag each (whether L2 regularisation applies).
    """

    params = ()
    grads = ()
    decay = ()

    def build(self, n_in, rng, dtype):
        """Create parameters for ``n_in`` inputs; return the output width."""
        raise NotImplementedError

    def forward(self, X, training):
        """Return the layer's output for ``X``; cache what backward needs."""
        raise NotImplementedError

    def backward(self, dY, input_grad=True):
        """Fill ``grads`` from ``dY``; return ``dX`` (``None`` if not asked)."""
        raise NotImplementedError

    def __getstate__(self):
        # Buffers and cached activations are scratch space, not state.
        # Parameters bound to a network's flat buffer are stored by it.
        state = self.__dict__.copy()
        scratch_keys = [SCRATCH, "_input", "_Z", "_A"]
        if state.get("bound"):
            scratch_keys += ["params", "grads"]
        for key in scratch_keys:
            state.pop(key, None)
        return state


class Dense(Layer):
    """Fully connected layer: ``A = f(X @ W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons (output width).
    activation : str or Activation, default="identity"
        Activation ``f``; see :data:`skann.nn.activations.ACTIVATIONS`.
    init : {"auto", "glorot_uniform", "he_uniform"}, default="auto"
        Uniform initialisation of weights and biases; see
        :func:`init_bound`.

    Attributes
    ----------
    params : list of ndarray
        ``[W, b]``, weights of shape ``(n_in, units)`` and biases of shape
        ``(units,)``.
    grads : list of ndarray
        Gradients of the loss, same shapes as ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.layers import Dense
    >>> layer = Dense(3, activation="relu")
    >>> layer.build(2, np.random.RandomState(0), np.float64)
    3
    >>> layer.forward(np.ones((4, 2)), training=False).shape
    (4, 3)
    """

    decay = (True, False)

    def __init__(self, units, activation="identity", init="auto"):
        self.units = units
        self.activation = get_activation(activation)
        self.init = init

    def build(self, n_in, rng, dtype):
        bound = init_bound(n_in, self.units, self.activation, self.init)
        weights = rng.uniform(-bound, bound, (n_in, self.units)).astype(dtype)
        bias = rng.uniform(-bound, bound, self.units).astype(dtype)
        self.params = [weights, bias]
        self.grads = [np.zeros_like(weights), np.zeros_like(bias)]
        return self.units

    def forward(self, X, training):
        weights, bias = self.params
        n_rows = X.shape[0]
        Z = scratch(self, "Z", (n_rows, self.units), weights.dtype)
        if sp.issparse(X):
            Z[...] = X @ weights
        else:
            np.matmul(X, weights, out=Z)
        Z += bias
        if self.activation.needs_input:
            A = scratch(self, "A", (n_rows, self.units), weights.dtype)
        else:
            A = Z
        self.activation.forward(Z, A)
        if training:
            self._input, self._Z, self._A = X, Z, A
        return A

    def backward(self, dY, input_grad=True):
        weights = self.params[0]
        grad_W, grad_b = self.grads
        X = self._input
        dZ = self.activation.backward(dY, self._Z, self._A)
        if sp.issparse(X):
            grad_W[...] = X.T @ dZ
        else:
            np.matmul(X.T, dZ, out=grad_W)
        dZ.sum(axis=0, out=grad_b)
        if not input_grad:
            return None
        dX = scratch(self, "dX", (dZ.shape[0], weights.shape[0]), weights.dtype)
        return np.matmul(dZ, weights.T, out=dX)

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation.name!r})"
