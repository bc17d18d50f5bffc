"""Network: layers built from shapes over flat parameter and state buffers."""

import zlib

import numpy as np

from ._blocks import BLOCK_SIZE, blocks
from ._finite import all_finite
from ._params import clone_params
from .workspace import Context, LayerContext

# Elements of the L2 penalty's scratch (a quarter of its blocks).
PENALTY_PART = BLOCK_SIZE // 16

__all__ = ["Network"]

# Rows per chunk of :meth:`Network.output` by default.
CHUNK_ROWS = 4096


class Network:
    """Ordered layers trained by backpropagation.

    :meth:`build` asks every layer for its weights (:class:`~skann.nn.layers.Weight`)
    and allocates them in three flat buffers: ``params`` (trainable,
    regularised weights first, so that the L2 penalty and weight decay act
    on the contiguous slice ``params[:n_regularized]``), ``grads`` (same
    layout) and ``state`` (non-trainable, e.g. running statistics).
    Optimizers, lbfgs, snapshots and teachers work on these flat arrays.

    Every pass runs in a per-call :class:`~skann.nn.workspace.Context`
    (:meth:`context`): the network itself holds no batch-sized array, so
    :meth:`output` may be called from many threads at once.

    Parameters
    ----------
    layers : list of Layer
        Copied (from their parameters) on construction: the objects passed
        in are never built or changed.

    Attributes
    ----------
    layers : list of Layer
        The network's own built layers.
    shapes : list of tuple of int
        Shape of one sample: the input's, then every layer's output
        (layer ``i`` maps ``shapes[i]`` to ``shapes[i + 1]``).
    input_shape, output_shape : tuple of int
        ``shapes[0]`` and ``shapes[-1]``. Rows of 2-D input are reshaped to
        ``input_shape`` once, before the first layer.
    params, grads, state : ndarray of shape (n,)
        The flat buffers.
    n_regularized : int
        Length of the regularised leading slice of ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Dense, Network
    >>> net = Network([Dense(4, "tanh"), Dense(1, "identity")])
    >>> net.build((3,), np.float64, np.random.RandomState(0))
    (1,)
    >>> net.params.shape, net.n_regularized
    ((21,), 16)
    >>> net.output(np.ones((2, 3))).shape
    (2, 1)
    """

    def __init__(self, layers):
        self.layers = [clone_params(layer) for layer in layers]

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------
    def build(self, input_shape, dtype, rng):
        """Build every layer and allocate the flat buffers.

        Parameters
        ----------
        input_shape : int or tuple of int
            Shape of one input sample.
        dtype : numpy dtype
            Compute dtype of every buffer.
        rng : RandomState
            Draws the initial weights, layer by layer in declaration order.

        Returns
        -------
        output_shape : tuple of int
        """
        shape = (int(input_shape),) if np.isscalar(input_shape) else tuple(map(int, input_shape))
        shapes = [shape]
        dtype = np.dtype(dtype)
        declared = []
        for layer in self.layers:
            weights, shape = layer.build(shapes[-1], dtype)
            declared.append(list(weights))
            shapes.append(tuple(shape))
        self.shapes = shapes
        self._layout = _layout(declared)
        self.n_regularized = sum(w.size for _, w in self._layout["params"] if w.regularized)
        self.params = np.empty(_total(self._layout["params"]), dtype=dtype)
        self.grads = np.zeros_like(self.params)
        self.state = np.empty(_total(self._layout["state"]), dtype=dtype)
        for position, weights in enumerate(declared):
            for weight in weights:
                self.weights(position, weight.trainable)[weight.name][...] = weight.init(
                    rng, weight.shape, dtype
                )
        self._bind_views()
        return self.output_shape

    @property
    def input_shape(self):
        """Shape of one input sample (``shapes[0]``)."""
        return self.shapes[0]

    @property
    def output_shape(self):
        """Shape of one output sample (``shapes[-1]``)."""
        return self.shapes[-1]

    @property
    def dtype(self):
        """Compute dtype of the buffers."""
        return self.params.dtype

    @property
    def n_features(self):
        """Number of values in one input sample."""
        return int(np.prod(self.input_shape))

    def weights(self, position, trainable=True, buffer=None):
        """Views of layer ``position``'s weights in a flat buffer.

        Parameters
        ----------
        position : int
        trainable : bool, default=True
            Trainable weights (in ``params``) or non-trainable state.
        buffer : ndarray, default=None
            A flat buffer of the same layout (``grads``, a snapshot, a
            teacher's parameters); by default ``params`` or ``state``.

        Returns
        -------
        views : dict of str to ndarray
        """
        kind = "params" if trainable else "state"
        if buffer is None:
            buffer = self.params if trainable else self.state
        return {
            weight.name: buffer[offset : offset + weight.size].reshape(weight.shape)
            for (layer, weight), offset in zip(self._layout[kind], self._layout[kind + "_offsets"])
            if layer == position
        }

    # ------------------------------------------------------------------
    # Passes
    # ------------------------------------------------------------------
    def context(self, training=False, rng=None, params=None, frozen_state=False):
        """A fresh per-call workspace for :meth:`forward` / :meth:`backward`.

        Parameters
        ----------
        training : bool, default=False
            Training mode: gradients are written to ``grads``, layers save
            what backward needs and may draw from ``rng``.
        rng : numpy.random.Generator, default=None
        params : ndarray, default=None
            Another flat parameter buffer to run the layers with (a teacher's
            or a snapshot's); by default the network's ``params``.
        frozen_state : bool, default=False
            With ``training``: the layers that hold non-trainable state
            (BatchNorm's running statistics) run as at inference, using
            their state without updating it, while the other layers save
            what backward needs. For :meth:`input_gradient` of the
            inference function; such a pass has no weight gradients.

        Returns
        -------
        ctx : Context
        """
        if params is None or params is self.params:
            params, states = self._own_views()
        else:
            params, states = self._views("params", params), self._own_views()[1]
        grads = self._views("params", self.grads) if training else [{}] * len(self.layers)
        layers = [
            LayerContext(training and not (frozen_state and state), rng, weights, gradients, state, position > 0)
            for position, (weights, gradients, state) in enumerate(zip(params, grads, states))
        ]
        return Context(training, rng, layers)

    def _own_views(self):
        """Every layer's views of ``params`` and of ``state``: bound once
        when the buffers are (build, copy, unpickling), since slicing and
        reshaping them was 60,000 of the 230,000 instructions of a one-row
        predict. Read-only: contexts share them, nothing writes them."""
        bound = self.__dict__.get("_bound_views")
        if bound is not None and bound[0] is self.params and bound[1] is self.state:
            return bound[2], bound[3]
        # Buffers replaced from outside: fresh views, not written on the network.
        return self._views("params", self.params), self._views("state", self.state)

    def _bind_views(self):
        self._bound_views = (
            self.params, self.state, self._views("params", self.params), self._views("state", self.state)
        )

    def _views(self, kind, buffer):
        """Every layer's views of its weights in ``buffer``, in one pass
        over the layout (:meth:`weights` of each layer in turn, at the cost
        of one): a list of dicts, one per layer."""
        views = [{} for _ in self.layers]
        for (position, weight), offset in zip(self._layout[kind], self._layout[kind + "_offsets"]):
            views[position][weight.name] = buffer[offset : offset + weight.size].reshape(weight.shape)
        return views

    def forward(self, X, ctx, start=0, stop=None):
        """Output of layers ``start:stop`` for the batch ``X``.

        2-D input to the first layer is reshaped to ``(n, *input_shape)``
        (sparse input is made dense first).
        The result may be a buffer of ``ctx``, reused by its next pass.

        Parameters
        ----------
        X : ndarray or sparse matrix
            The batch: rows of features, or the output of layer ``start - 1``.
        ctx : Context
            From :meth:`context`.
        start, stop : int, default=0, None
            The layers to run (``None``: to the last).
        """
        if start == 0 and len(self.input_shape) > 1:
            if hasattr(X, "toarray"):  # sparse rows of images: dense to reshape
                X = X.toarray()
            X = X.reshape((X.shape[0], *self.input_shape))
        stop = len(self.layers) if stop is None else stop
        for position in range(start, stop):
            X = self.layers[position].forward(X, ctx.layers[position])
        return X

    def backward(self, dY, ctx):
        """Backpropagate ``dY`` (gradient at the output) into ``grads``.

        Parameters
        ----------
        dY : ndarray
            Gradient of the loss at the network's output (may be overwritten).
        ctx : Context
            The context of the :meth:`forward` pass.
        """
        for position in range(len(self.layers) - 1, -1, -1):
            dY = self.layers[position].backward(dY, ctx.layers[position])

    def input_gradient(self, dY, ctx):
        """Backpropagate ``dY`` to the network's input, without weight gradients.

        The gradient of a loss with respect to the input rows (adversarial
        and virtual adversarial perturbations, saliency). No layer computes
        its weights' gradients and ``grads`` is not written: the layers see
        empty ``ctx.grads`` during the call, and the first layer returns its
        input gradient. Thread-safe like :meth:`output`: everything it
        writes is in ``ctx``.

        Parameters
        ----------
        dY : ndarray of shape (n_rows, ``*output_shape``)
            Gradient of the loss at the network's output (may be overwritten).
        ctx : Context
            The context of a :meth:`forward` pass in training mode
            (``network.context(training=True)``, or with ``frozen_state``
            for the inference function of BatchNorm layers).

        Returns
        -------
        dX : ndarray of shape (n_rows, n_features)
            Gradient at the input rows, flat like the 2-D rows
            :meth:`forward` takes; may be a buffer of ``ctx``, overwritten
            by its next pass.

        Examples
        --------
        >>> import numpy as np
        >>> from skann.nn import Dense, Network
        >>> net = Network([Dense(1, "identity")])
        >>> net.build((2,), np.float64, np.random.RandomState(0))
        (1,)
        >>> ctx = net.context(training=True)
        >>> _ = net.forward(np.ones((3, 2)), ctx)
        >>> dX = net.input_gradient(np.ones((3, 1)), ctx)
        >>> bool(np.allclose(dX, net.params[:2])), bool(np.any(net.grads))  # dX = dY W.T
        (True, False)
        """
        if not ctx.training:
            raise ValueError(
                "input_gradient needs the context of a training-mode forward pass, in "
                "which the layers save what backward needs: network.context(training=True) "
                "(frozen_state=True for BatchNorm's inference function)."
            )
        kept = [(layer_ctx.grads, layer_ctx.input_grad) for layer_ctx in ctx.layers]
        try:
            for layer_ctx in ctx.layers:
                layer_ctx.grads, layer_ctx.input_grad = {}, True
            for position in range(len(self.layers) - 1, -1, -1):
                dY = self.layers[position].backward(dY, ctx.layers[position])
        finally:
            for layer_ctx, (grads, input_grad) in zip(ctx.layers, kept):
                layer_ctx.grads, layer_ctx.input_grad = grads, input_grad
        return dY.reshape(dY.shape[0], -1)

    def output(self, X, start=0, stop=None, chunk_rows=CHUNK_ROWS, out_dtype=None, reduce=None):
        """Inference of layers ``start:stop`` on ``X``, chunk by chunk.

        Thread-safe: every call has its own workspace. Each chunk of rows
        is cast to the compute dtype in one reused buffer, so the working
        memory is bounded by ``chunk_rows`` rows whatever ``X``'s size.
        With ``reduce``, each chunk's output is mapped through it before
        the next chunk runs, and only the results are kept (an argmax over
        many classes never holds every row's scores).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_inputs)
        start, stop : int, default=0, None
            The layers to run (all by default).
        chunk_rows : int, default=4096
        out_dtype : dtype, default=None
            Dtype of the result; by default the compute dtype.
        reduce : callable, default=None
            ``reduce(Y) -> array`` of one chunk's output ``Y`` (in
            ``out_dtype``), with one row per row of ``Y``; the results fill
            one array. ``Y`` is a buffer reused by the next chunk: the result
            must not be a view of it.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_outputs)
            Or, with ``reduce``, the concatenated results.
        """
        ctx = self.context(training=False)
        out = None
        dense = isinstance(X, np.ndarray)
        n_rows = X.shape[0]
        for begin in range(0, n_rows, chunk_rows):
            chunk = X[begin : begin + chunk_rows] if n_rows > chunk_rows else X
            if chunk.dtype != self.params.dtype:
                chunk = self._cast(chunk, ctx, dense)
            Y = self.forward(chunk, ctx, start, stop)
            if reduce is None and n_rows <= chunk_rows and dense and not np.may_share_memory(Y, X):
                # One chunk: the output is a buffer of this call's own
                # context, which nothing else will write; no copy needed.
                return Y.astype(out_dtype or self.params.dtype, copy=False)
            if reduce is not None:
                Y = np.asarray(reduce(Y.astype(out_dtype or self.dtype, copy=False)))
            if out is None:
                out = np.empty((X.shape[0], *Y.shape[1:]), dtype=Y.dtype if reduce else out_dtype or self.dtype)
            elif out.dtype != Y.dtype and reduce is not None:  # e.g. longer strings
                out = out.astype(np.result_type(out, Y))
            out[begin : begin + chunk_rows] = Y
        if out is None:  # no rows: run one empty chunk for the output shape
            Y = self.forward(np.zeros((0, *X.shape[1:]), self.dtype), ctx, start, stop)
            out = np.empty(Y.shape, dtype=out_dtype or self.dtype)
            if reduce is not None:
                return reduce(out)
        return out

    def _cast(self, chunk, ctx, dense):
        """``chunk`` in the compute dtype (a reused buffer when dense).

        Raises a ``ValueError`` when a finite input overflows the compute
        dtype (above 3.4e38 for float32): it would turn into inf and NaN
        outputs.
        """
        with np.errstate(over="ignore"):
            if dense:
                cast = ctx.buffers.get("cast", chunk.shape, self.dtype)
                np.copyto(cast, chunk)
                values = cast
            else:
                cast = chunk.astype(self.dtype)
                values = cast.data
        if not all_finite(values):
            raise ValueError(
                f"X has values that are not finite in the network's compute dtype "
                f"{self.dtype.name} (largest magnitude {np.finfo(self.dtype).max:.3g}). "
                "Scale X, or train the network in float64."
            )
        return cast

    # ------------------------------------------------------------------
    # L2 penalty
    # ------------------------------------------------------------------
    def penalty(self):
        """Squared L2 norm of the regularised parameters."""
        weights = self.params[: self.n_regularized]
        return float(np.dot(weights, weights))

    def add_penalty_gradient(self, scale, ctx):
        """Add ``scale * W`` to the gradient of every regularised parameter.

        Parameters
        ----------
        scale : float
        ctx : Context
            The per-call context whose gradients receive the term.

        Returns
        -------
        penalty : float
            :meth:`penalty`, computed in the same cache-blocked pass.
        """
        # Quarter-size blocks: this pass makes only 3 ufunc calls a block.
        # The products go through a smaller scratch, a part of a block at a
        # time (a quarter of the memory); the norm still sums by block.
        block_size, n_regularized = BLOCK_SIZE // 4, self.n_regularized
        buffer = ctx.buffers.get("penalty", min(n_regularized, PENALTY_PART), self.dtype)
        scale = float(scale)
        if n_regularized <= PENALTY_PART:  # one part: no generator, no slices
            weights = self.params[:n_regularized]
            penalty = float(np.dot(weights, weights))
            self.grads[:n_regularized] += np.multiply(weights, scale, out=buffer)
            return penalty
        penalty = 0.0
        for part in blocks(n_regularized, PENALTY_PART):
            if part.start % block_size == 0:
                weights = self.params[part.start : min(part.start + block_size, n_regularized)]
                penalty += float(np.dot(weights, weights))
            self.grads[part] += np.multiply(self.params[part], scale, out=buffer[: part.stop - part.start])
        return penalty

    # ------------------------------------------------------------------
    # Snapshots and pickling
    # ------------------------------------------------------------------
    def snapshot(self):
        """A copy of the trainable parameters and the state."""
        return self.params.copy(), self.state.copy()

    def restore(self, snapshot):
        """Put back a :meth:`snapshot` (in place: views stay valid).

        Parameters
        ----------
        snapshot : tuple
            What :meth:`snapshot` returned.
        """
        params, state = snapshot
        np.copyto(self.params, params)
        np.copyto(self.state, state)

    def is_finite(self):
        """Whether every parameter and state value is finite (checked without
        a parameter-sized temporary: it runs at the end of every epoch)."""
        return all_finite(self.params) and all_finite(self.state)

    def __deepcopy__(self, memo):
        # Built layers are configuration only (never changed after build):
        # share them, copy the buffers. Much cheaper than a generic deep
        # copy, which all-or-nothing fits make before every call.
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        if hasattr(self, "params"):
            copied.params = self.params.copy()
            copied.state = self.state.copy()
            copied.grads = np.zeros_like(self.params)
            copied._bind_views()
        memo[id(self)] = copied
        return copied

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("grads", None)  # scratch of training, not model state
        state.pop("_bound_views", None)  # views of the buffers, bound again on loading
        if "params" in state:
            # Saved files can be damaged in ways the unpickler does not see
            # (bytes changed inside an array): a checksum of the buffers
            # lets loading tell.
            state[CHECKSUM_KEY] = _checksum(self.params, self.state)
        return state

    def __setstate__(self, state):
        state = dict(state)
        expected = state.pop(CHECKSUM_KEY, None)
        if "params" in state:
            _check_buffers(state, expected)
        self.__dict__.update(state)
        if "params" in state:
            self.grads = np.zeros_like(self.params)
            self._bind_views()


CHECKSUM_KEY = "_buffers_crc32"


def _checksum(params, state):
    crc = zlib.crc32(np.ascontiguousarray(params).view(np.uint8))
    return zlib.crc32(np.ascontiguousarray(state).view(np.uint8), crc)


def _check_buffers(state, expected):
    """Refuse a loaded network whose buffers do not fit its layout or checksum."""
    problem = None
    layout = state.get("_layout")
    for kind in ("params", "state"):
        buffer = state.get(kind)
        if not isinstance(buffer, np.ndarray) or buffer.ndim != 1 or buffer.dtype.kind != "f":
            problem = f"its {kind} buffer is not a flat float array"
        elif isinstance(layout, dict) and buffer.size != _total(layout.get(kind, ())):
            problem = (
                f"its {kind} buffer has {buffer.size} values where its layers need "
                f"{_total(layout.get(kind, ()))}"
            )
        if problem:
            break
    if problem is None and expected is not None:
        if _checksum(state["params"], state["state"]) != expected:
            problem = "its weights do not match the checksum saved with them"
    if problem:
        raise ValueError(
            f"The saved network is corrupted: {problem}. Load an undamaged copy of "
            "the file, or fit the model again."
        )


def _layout(declared):
    """Flat-buffer order of every declared weight, with offsets.

    Trainable weights go to ``params`` (regularised ones first, then the
    others, each in layer order); non-trainable ones to ``state``.
    """
    entries = [(position, w) for position, weights in enumerate(declared) for w in weights]
    groups = {
        "params": [e for e in entries if e[1].trainable and e[1].regularized]
        + [e for e in entries if e[1].trainable and not e[1].regularized],
        "state": [e for e in entries if not e[1].trainable],
    }
    for kind in ("params", "state"):
        offsets, offset = [], 0
        for _, weight in groups[kind]:
            offsets.append(offset)
            offset += weight.size
        groups[kind + "_offsets"] = offsets
    return groups


def _total(entries):
    return sum(weight.size for _, weight in entries)
