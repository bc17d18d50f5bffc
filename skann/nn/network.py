"""A feed-forward network: ordered layers over one flat parameter buffer."""

import numpy as np

from ._blocks import BLOCK_SIZE, SCRATCH, blocks, scratch

__all__ = ["Network"]


class Network:
    """Ordered layers trained by backpropagation.

    After :meth:`build`, every trainable array of every layer is a view into
    one flat buffer, ``params``, and every gradient a view into ``grads``.
    Decayed parameters (weights) come first, so the L2 penalty and its
    gradient act on the contiguous slice ``params[:n_decay]``. Optimizers
    update ``params`` in place.

    Parameters
    ----------
    layers : list of Layer

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        All trainable parameters.
    grads : ndarray of shape (n_params,)
        Their gradients after :meth:`backward`.
    n_decay : int
        Length of the leading slice of ``params`` that is L2-regularised.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.layers import Dense
    >>> from skann.nn.network import Network
    >>> net = Network([Dense(4, "tanh"), Dense(1)])
    >>> net.build(3, np.random.RandomState(0), np.float64)
    1
    >>> net.params.shape, net.n_decay
    ((21,), 16)
    >>> net.forward(np.ones((2, 3))).shape
    (2, 1)
    """

    def __init__(self, layers):
        self.layers = list(layers)

    def build(self, n_in, rng, dtype):
        """Build every layer and gather the parameters into flat buffers.

        Returns
        -------
        n_out : int
            Width of the last layer.
        """
        for layer in self.layers:
            n_in = layer.build(n_in, rng, dtype)
            layer.param_shapes = [param.shape for param in layer.params]
        initial = [(layer, index, layer.params[index]) for layer, index in self._slots()]
        n_params = sum(param.size for _, _, param in initial)
        self.n_decay = sum(
            param.size for layer, index, param in initial if layer.decay[index]
        )
        self.params = np.empty(n_params, dtype=dtype)
        self.grads = np.zeros(n_params, dtype=dtype)
        self._bind()
        for layer, index, param in initial:
            layer.params[index][...] = param
        return n_in

    @property
    def dtype(self):
        """Compute dtype of the parameters."""
        return self.params.dtype

    def forward(self, X, training=False):
        """Output of the last layer (a buffer reused by the next call)."""
        for layer in self.layers:
            X = layer.forward(X, training)
        return X

    def backward(self, dY):
        """Backpropagate ``dY`` (gradient at the output) into ``grads``."""
        last = len(self.layers) - 1
        for position in range(last, -1, -1):
            dY = self.layers[position].backward(dY, input_grad=position > 0)

    def penalty(self):
        """Squared L2 norm of the decayed parameters."""
        weights = self.params[: self.n_decay]
        return float(np.dot(weights, weights))

    def add_penalty_gradient(self, scale):
        """Add ``scale * W`` to the gradient of every decayed parameter.

        Returns
        -------
        penalty : float
            The squared L2 norm of the decayed parameters (:meth:`penalty`),
            computed in the same cache-blocked pass at no extra cost.
        """
        # Quarter-size blocks: the scratch (kept between calls) is 4x smaller
        # for the same speed, as this pass makes only 3 ufunc calls a block.
        block_size = BLOCK_SIZE // 4
        buffer = scratch(self, "penalty", min(self.n_decay, block_size), self.dtype)
        scale = float(scale)
        penalty = 0.0
        for block in blocks(self.n_decay, block_size):
            weights = self.params[block]
            penalty += float(np.dot(weights, weights))
            self.grads[block] += np.multiply(
                weights, scale, out=buffer[: block.stop - block.start]
            )
        return penalty

    def predict(self, X, out, batch_size=4096):
        """Forward ``X`` in chunks into the preallocated array ``out``.

        Each chunk is cast to the compute dtype into one reused buffer, and
        every layer reuses its own output buffer, so the memory used is
        bounded by ``batch_size`` rows whatever the number of rows of ``X``.
        """
        dense_cast = not hasattr(X, "tocsr") and X.dtype != self.dtype
        for start in range(0, X.shape[0], batch_size):
            stop = min(start + batch_size, X.shape[0])
            chunk = X[start:stop]
            if dense_cast:
                cast = scratch(self, "cast", chunk.shape, self.dtype)
                np.copyto(cast, chunk)
                chunk = cast
            elif chunk.dtype != self.dtype:
                chunk = chunk.astype(self.dtype)
            out[start:stop] = self.forward(chunk, training=False)
        return out

    def _slots(self):
        """(layer, index) of every parameter, in flat-buffer order."""
        for decayed in (True, False):
            for layer in self.layers:
                for index, flag in enumerate(layer.decay):
                    if flag == decayed:
                        yield layer, index

    def _bind(self):
        """Point every layer's params and grads at slices of the buffers."""
        offset = 0
        for layer, index in self._slots():
            shape = layer.param_shapes[index]
            size = int(np.prod(shape))
            layer.params[index] = self.params[offset : offset + size].reshape(shape)
            layer.grads[index] = self.grads[offset : offset + size].reshape(shape)
            layer.bound = True
            offset += size

    def __getstate__(self):
        # Layers hold views into the flat buffers: pickle the flat parameter
        # buffer once (layers drop their views) and rebind the views on load.
        state = self.__dict__.copy()
        for key in ("grads", SCRATCH):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "params" in state:
            self.grads = np.zeros_like(self.params)
            for layer in self.layers:
                layer.params = [None] * len(layer.param_shapes)
                layer.grads = [None] * len(layer.param_shapes)
            self._bind()
