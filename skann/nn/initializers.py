"""Weight initialisers: how a declared :class:`~skann.nn.layers.Weight` is filled.

An initialiser is a callable ``init(rng, shape, dtype) -> ndarray``;
``Network.build`` calls it once per weight, in layer order, so a network
built twice from the same seed has the same weights.
"""

import numpy as np

__all__ = ["INITS", "Constant", "Normal", "Uniform", "init_bound"]

INITS = ("auto", "glorot_uniform", "he_uniform")


def init_bound(fan_in, fan_out, activation, init="auto"):
    """Half-width of the uniform initialisation of weights and biases.

    ``"glorot_uniform"``: ``sqrt(gain / (fan_in + fan_out))`` with the
    activation's gain (6, or 2 for the logistic activation, as sklearn);
    ``"he_uniform"``: ``sqrt(6 / fan_in)``; ``"auto"``: the activation's
    preference (``Activation.init``, Glorot-uniform for every built-in
    activation).

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
    >>> from skann.nn.initializers import init_bound
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


class Uniform:
    """Draws from ``U(-bound, bound)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.initializers import Uniform
    >>> values = Uniform(0.5)(np.random.RandomState(0), (3,), np.float32)
    >>> values.dtype.name, bool((abs(values) <= 0.5).all())
    ('float32', True)
    """

    def __init__(self, bound):
        self.bound = float(bound)

    def __call__(self, rng, shape, dtype):
        return rng.uniform(-self.bound, self.bound, shape).astype(dtype)

    def __repr__(self):
        return f"Uniform({self.bound:g})"


class Constant:
    """Fills with one value (zeros for shifts, ones for scales).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.initializers import Constant
    >>> Constant(1.0)(None, (2,), np.float64)
    array([1., 1.])
    """

    def __init__(self, value):
        self.value = float(value)

    def __call__(self, rng, shape, dtype):
        return np.full(shape, self.value, dtype=dtype)

    def __repr__(self):
        return f"Constant({self.value:g})"


class Normal:
    """Draws from ``N(0, std**2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.initializers import Normal
    >>> Normal(0.5)(np.random.RandomState(0), (2,), np.float32).dtype.name
    'float32'
    """

    def __init__(self, std):
        self.std = float(std)

    def __call__(self, rng, shape, dtype):
        return (self.std * rng.standard_normal(shape)).astype(dtype)

    def __repr__(self):
        return f"Normal({self.std:g})"
