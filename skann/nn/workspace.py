"""Per-call workspaces: everything a forward or backward pass writes.

A fitted :class:`~skann.nn.network.Network` holds its parameters and its
non-trainable state, nothing batch-sized. The arrays a pass writes (layer
outputs, saved inputs, casts, scratch) live in a :class:`Context` that the
caller creates with :meth:`Network.context` and drops when done, so one
network can serve many threads at once. A training loop creates one context
and reuses its buffers from batch to batch.
"""

import math

import numpy as np

__all__ = ["Context", "LayerContext", "Buffers"]


class Buffers:
    """Reusable arrays by key, grown when a larger one is asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.workspace import Buffers
    >>> buffers = Buffers()
    >>> first = buffers.get("Z", (4, 3), np.float32)
    >>> buffers.get("Z", (2, 3), np.float32).base is first.base
    True
    """

    __slots__ = ("_arrays", "_shaped")

    def __init__(self):
        self._arrays = {}  # key -> flat array, the largest asked for
        self._shaped = {}  # key -> the view last returned

    def get(self, key, shape, dtype):
        """A C-contiguous array of ``shape``, valid until the next ``get(key)``."""
        if isinstance(shape, int):
            shape = (shape,)
        # Called several times per batch, mostly with the last batch's
        # shape: that view again, without slicing and reshaping anew.
        shaped = self._shaped.get(key)
        if shaped is not None and shaped.shape == shape and shaped.dtype == dtype:
            return shaped
        size = math.prod(shape)
        array = self._arrays.get(key)
        if array is None or array.size < size or array.dtype != dtype:
            array = self._arrays[key] = np.empty(max(size, 1), dtype=dtype)
        shaped = self._shaped[key] = (array if array.size == size else array[:size]).reshape(shape)
        return shaped


class LayerContext(Buffers):
    """What one layer sees during one pass, and its reusable buffers.

    Attributes
    ----------
    training : bool
        Training mode (dropout active, batch statistics) or inference.
    rng : numpy.random.Generator or None
        Random draws of the pass (dropout masks).
    params, grads, state : dict of str to ndarray
        Views of the layer's weights in the network's flat buffers (or in
        another flat buffer of the same layout, such as a teacher's);
        ``grads`` is empty outside training and during
        :meth:`~skann.nn.network.Network.input_gradient`: backward then
        computes no weight gradient.
    input_grad : bool
        Whether ``backward`` must return the gradient of its input (False
        for the first layer).
    saved : dict
        Arrays saved by ``forward`` for ``backward``.
    """

    __slots__ = ("training", "rng", "params", "grads", "state", "input_grad", "saved")

    def __init__(self, training, rng, params, grads, state, input_grad):
        self.training = training
        self.rng = rng
        self.params = params
        self.grads = grads
        self.state = state
        self.input_grad = input_grad
        self.saved = {}
        # Buffers' own state, without a second __init__ call per layer.
        self._arrays, self._shaped = {}, {}

    # A reusable array of this pass: Buffers.get itself, one call deep
    # (layers ask for several per batch).
    buffer = Buffers.get


class Context:
    """The workspace of one call: a :class:`LayerContext` per layer.

    Create it with :meth:`skann.nn.network.Network.context`.

    Attributes
    ----------
    training : bool
    layers : list of LayerContext
    buffers : Buffers
        The network's own buffers (input casts, penalty scratch).
    """

    __slots__ = ("training", "rng", "layers", "buffers")

    def __init__(self, training, rng, layers):
        self.training = training
        self.rng = rng
        self.layers = layers
        self.buffers = Buffers()
