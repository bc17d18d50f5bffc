"""Activation functions and their derivatives.

Each activation works in place on preallocated buffers: ``forward`` writes
``f(Z)`` into ``out`` (which may be ``Z`` itself) and ``backward`` multiplies
an incoming gradient by ``f'(Z)`` in place. Scratch space comes from the
caller's per-call context, never from the activation object. Most derivatives are expressed
through the output ``A = f(Z)`` so that ``Z`` need not be kept; activations
that need ``Z`` say so with ``needs_input = True``.
"""

import functools

import numpy as np
from scipy.special import erf, expit


__all__ = ["Activation", "ACTIVATIONS", "get_activation", "shared_activation"]


class Activation:
    """Base class of activation functions.

    Attributes
    ----------
    name : str
        Registry name.
    needs_input : bool
        Whether ``backward`` needs the pre-activation ``Z`` (otherwise ``Z``
        may be overwritten by ``forward``).
    init : {"glorot_uniform", "he_uniform"}
        The weight initialisation that ``Dense(init="auto")`` uses with it.
    init_gain : float
        Gain of the Glorot-uniform bound, ``sqrt(gain / (fan_in + fan_out))``
        (6, or 2 for the logistic, as sklearn); see
        :func:`skann.nn.layers.init_bound`.

    Notes
    -----
    Every built-in activation, the ReLU family included, prefers
    Glorot-uniform: on the small tabular sets we measure (digits, wine,
    breast_cancer, diabetes; 200 Adam epochs) He-uniform scored lower for
    ReLU. ``Dense(init="he_uniform")`` is there for deep ReLU stacks.
    """

    name = None
    needs_input = False
    init = "glorot_uniform"
    init_gain = 6.0

    def forward(self, Z, out, ctx):
        """Write ``f(Z)`` into ``out`` and return it.

        ``ctx`` (a :class:`~skann.nn.workspace.LayerContext`) lends scratch
        buffers; the activation object itself holds no state, so one
        object may serve many threads.

        Parameters
        ----------
        Z : ndarray
            Pre-activations.
        out : ndarray
            Where to write (may be ``Z``).
        ctx : LayerContext
        """
        raise NotImplementedError

    def backward(self, dA, Z, A, ctx):
        """Multiply ``dA`` in place by ``f'(Z)`` and return it.

        Parameters
        ----------
        dA : ndarray
            Gradient at the activation's output; overwritten.
        Z, A : ndarray
            The pre-activations and activations of the forward pass.
        ctx : LayerContext
        """
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(Activation):
    name = "identity"

    def forward(self, Z, out, ctx):
        if out is not Z:
            np.copyto(out, Z)
        return out

    def backward(self, dA, Z, A, ctx):
        return dA


class Logistic(Activation):
    name = "logistic"
    init_gain = 2.0

    def forward(self, Z, out, ctx):
        return expit(Z, out=out)

    def backward(self, dA, Z, A, ctx):
        dA *= A
        one_minus = np.subtract(1, A, out=ctx.buffer("act", A.shape, A.dtype))
        dA *= one_minus
        return dA


class Tanh(Activation):
    name = "tanh"

    def forward(self, Z, out, ctx):
        return np.tanh(Z, out=out)

    def backward(self, dA, Z, A, ctx):
        derivative = np.multiply(A, A, out=ctx.buffer("act", A.shape, A.dtype))
        np.subtract(1, derivative, out=derivative)
        dA *= derivative
        return dA


@functools.lru_cache(maxsize=64)
def zeros_row(width, dtype):
    """A read-only row of ``width`` zeros of ``dtype``, shared.

    ``np.maximum(Z, zeros_row(...))`` broadcasts a row and runs numpy's
    vectorised loop: 3.2 against 4.5 ns per thousand float64 values with
    a scalar 0 (1,000 x 100), and 6 against 20 µs on a 256 x 256 float32
    block, the same values.

    Examples
    --------
    >>> import numpy as np
    >>> zeros_row(3, np.dtype(np.float32))
    array([0., 0., 0.], dtype=float32)
    """
    row = np.zeros(width, dtype)
    row.setflags(write=False)
    return row


class ReLU(Activation):
    name = "relu"

    def forward(self, Z, out, ctx):
        return np.maximum(Z, zeros_row(Z.shape[-1], Z.dtype), out=out)

    def backward(self, dA, Z, A, ctx):
        # A boolean mask times dA, in reused buffers: dA[A <= 0] = 0 gathers
        # indices and allocates on every call (docs/performance.rst).
        active = np.greater(A, 0, out=ctx.buffer("act_mask", A.shape, bool))
        return np.multiply(dA, active, out=dA)


class LeakyReLU(Activation):
    """``max(z, slope * z)`` with ``slope = 0.01``."""

    name = "leaky_relu"
    slope = 0.01

    def forward(self, Z, out, ctx):
        negative = np.less(Z, 0, out=ctx.buffer("act_mask", Z.shape, bool))
        if out is not Z:
            np.copyto(out, Z)
        np.multiply(out, self.slope, out=out, where=negative)
        return out

    def backward(self, dA, Z, A, ctx):
        negative = np.less(A, 0, out=ctx.buffer("act_mask", A.shape, bool))
        return np.multiply(dA, self.slope, out=dA, where=negative)


class ELU(Activation):
    """``z`` for ``z > 0``, ``exp(z) - 1`` otherwise."""

    name = "elu"

    def forward(self, Z, out, ctx):
        negative = np.less(Z, 0, out=ctx.buffer("act_mask", Z.shape, bool))
        if out is not Z:
            np.copyto(out, Z)
        np.expm1(out, out=out, where=negative)
        return out

    def backward(self, dA, Z, A, ctx):
        # f'(z) = exp(z) = A + 1 where z < 0, and 1 elsewhere.
        derivative = np.add(A, 1, out=ctx.buffer("act", A.shape, A.dtype))
        np.minimum(derivative, 1, out=derivative)
        dA *= derivative
        return dA


class GELU(Activation):
    """Gaussian error linear unit, ``z * Phi(z)`` (exact, with erf)."""

    name = "gelu"
    needs_input = True

    def forward(self, Z, out, ctx):
        half_cdf = erf(Z * np.sqrt(0.5, dtype=Z.dtype))
        half_cdf += 1
        half_cdf *= 0.5
        return np.multiply(Z, half_cdf, out=out)

    def backward(self, dA, Z, A, ctx):
        cdf = 0.5 * (1 + erf(Z * np.sqrt(0.5, dtype=Z.dtype)))
        pdf = np.exp(-0.5 * Z * Z) * np.asarray(1 / np.sqrt(2 * np.pi), Z.dtype)
        dA *= cdf + Z * pdf
        return dA


class Softplus(Activation):
    """``log(1 + exp(z))``, computed without overflow."""

    name = "softplus"

    def forward(self, Z, out, ctx):
        return np.logaddexp(Z, 0, out=out)

    def backward(self, dA, Z, A, ctx):
        # f'(z) = sigmoid(z) = 1 - exp(-f(z))
        derivative = np.negative(A, out=ctx.buffer("act", A.shape, A.dtype))
        np.expm1(derivative, out=derivative)
        np.negative(derivative, out=derivative)
        dA *= derivative
        return dA


ACTIVATIONS = {
    cls.name: cls
    for cls in (Identity, Logistic, Tanh, ReLU, LeakyReLU, ELU, GELU, Softplus)
}


def get_activation(name):
    """Return a new activation object from its registry name.

    Parameters
    ----------
    name : str or Activation
        One of ``ACTIVATIONS`` or an :class:`Activation` instance.

    Returns
    -------
    activation : Activation

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.activations import get_activation
    >>> relu = get_activation("relu")
    >>> relu.forward(np.array([-1.0, 2.0]), np.empty(2), ctx=None)
    array([0., 2.])
    """
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}."
        ) from None


@functools.lru_cache(maxsize=None)
def _shared(name):
    return get_activation(name)


def shared_activation(name):
    """The activation of ``name``, one object per registry name.

    Activations hold no state, so the layers share one object per name
    instead of keeping their own: a dictionary look-up per pass.

    Parameters
    ----------
    name : str or Activation
        One of ``ACTIVATIONS`` or an :class:`Activation` instance (returned
        as is).

    Returns
    -------
    activation : Activation

    Examples
    --------
    >>> from skann.nn.activations import shared_activation
    >>> shared_activation("tanh") is shared_activation("tanh")
    True
    """
    if isinstance(name, str):
        return _shared(name)
    return get_activation(name)
