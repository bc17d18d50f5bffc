"""Conv2D: 2-D convolution of channels-last images, by im2col and GEMM.

Also the window geometry (sizes, padding, strided views) that the pooling
layers share."""

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..activations import shared_activation
from ..initializers import Uniform, init_bound
from .base import Layer, Weight, check_positive_int

__all__ = ["Conv2D"]

PADDINGS = ("valid", "same")


# ----------------------------------------------------------------------
# Geometry shared with the pooling layers
# ----------------------------------------------------------------------
def _pair(value, what, layer):
    """``value`` as a pair of positive ints (an int is used for both axes)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in pair
    ):
        raise ValueError(f"{layer} {what} must be a positive int or a pair of them, got {value!r}.")
    return int(pair[0]), int(pair[1])


def _image_shape(input_shape, layer):
    """``(height, width, channels)`` of an image input, or a clear error."""
    if len(input_shape) != 3:
        raise ValueError(
            f"{layer} expects channels-last images of shape (height, width, channels) "
            f"per sample, but its input has shape {tuple(input_shape)} per sample. Give "
            "the network the image shape as input_shape, e.g. (8, 8, 1) for 8x8 "
            "grey images (rows of flat data are reshaped to it)."
        )
    if min(input_shape) < 1:
        raise ValueError(f"{layer} got an empty input shape {tuple(input_shape)}.")
    return tuple(int(extent) for extent in input_shape)


def _check_window_fits(layer, kernel, height, width, padding):
    """Refuse windows that do not fit the image.

    ``"valid"`` needs the window inside the image. ``"same"`` pads the
    image to fit any window, but a window larger than the image in both
    dimensions holds more padding than image, and costs as much as over
    an image of its own size (a 1000x1000 pool took 86 s an epoch on 8x8
    digits).
    """
    too_tall, too_wide = kernel[0] > height, kernel[1] > width
    if padding == "valid" and (too_tall or too_wide):
        raise ValueError(
            f"{layer} window {kernel} is larger than its input {height}x{width} "
            "with padding='valid'; use a smaller window or padding='same'."
        )
    if padding == "same" and too_tall and too_wide:
        raise ValueError(
            f"{layer} window {kernel} is larger than its input {height}x{width} "
            f"in both dimensions; use a window of at most {height}x{width} (or "
            "fewer pooling and strided layers before this one)."
        )


def _axis_geometry(size, kernel, stride, padding):
    """Output length and (before, after) padding of one spatial axis.

    ``"valid"``: windows inside the input only; ``"same"``: TensorFlow's
    rule, ``ceil(size / stride)`` outputs, the padding split evenly with
    the extra one after.
    """
    if padding == "valid":
        return (size - kernel) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def window_geometry(layer, input_shape, kernel_size, strides, padding, kernel_name="kernel_size"):
    """The windows of a layer's kernel over images of ``input_shape``.

    A pure function of its arguments, cached: the layers call it with the
    shape of every batch, and the ONNX exporter with the network's shapes.
    Raises the layer's ``ValueError`` for parameters or shapes it cannot
    take.

    Parameters
    ----------
    layer : str
        Name of the layer, for the error messages.
    input_shape : tuple of int
        ``(height, width, channels)`` of one input sample.
    kernel_size : int or (int, int)
        Window size (a pooling layer's ``pool_size``).
    strides : int or (int, int) or None
        Step between windows; ``None`` for the window size.
    padding : {"valid", "same"}
    kernel_name : str, default="kernel_size"
        The parameter's name in the error messages.

    Returns
    -------
    geometry : _Geometry
        Shared and read-only: sizes (``output_hw``, ``pads``,
        ``padded_shape``, ``kernel``, ``strides``) and window views.

    Examples
    --------
    >>> from skann.nn.layers.conv import window_geometry
    >>> geometry = window_geometry("Conv2D", (5, 5, 1), 3, 2, "same")
    >>> geometry.output_hw, geometry.pads
    ((3, 3), (1, 1, 1, 1))
    """
    key = (layer, tuple(input_shape), _frozen(kernel_size), _frozen(strides), padding, kernel_name)
    try:
        hash(key)
    except TypeError:  # e.g. an array as kernel_size: build it uncached
        return _new_geometry(*key)
    return _cached_geometry(*key)


def _frozen(value):
    """Lists (as set_params or a loaded file may give them) as hashable tuples."""
    return tuple(value) if isinstance(value, list) else value


def _new_geometry(layer, input_shape, kernel_size, strides, padding, kernel_name):
    kernel = _pair(kernel_size, kernel_name, layer)
    strides = kernel if strides is None else _pair(strides, "strides", layer)
    return _Geometry(layer, input_shape, kernel, strides, padding)


_cached_geometry = functools.lru_cache(maxsize=1024)(_new_geometry)


class _Geometry:
    """Windows of a kernel over an image: sizes, padding, offset views.

    Made by :func:`window_geometry`; never changed after construction.
    """

    def __init__(self, layer, input_shape, kernel, strides, padding):
        height, width, channels = _image_shape(input_shape, layer)
        if padding not in PADDINGS:
            raise ValueError(f"{layer} padding must be one of {PADDINGS}, got {padding!r}.")
        _check_window_fits(layer, kernel, height, width, padding)
        self.height, self.width, self.channels = height, width, channels
        self.kernel, self.strides = kernel, strides
        # A 1x1 kernel with stride 1 needs no im2col copy: X is the matrix.
        self.pointwise = kernel == (1, 1) and strides == (1, 1)
        self.out_height, top, bottom = _axis_geometry(height, kernel[0], strides[0], padding)
        self.out_width, left, right = _axis_geometry(width, kernel[1], strides[1], padding)
        self.pads = (top, bottom, left, right)
        self.padded = any(self.pads)
        self.padded_shape = (height + top + bottom, width + left + right, channels)
        # Whether the windows tile the input exactly once (no overlap, no gap).
        self.tiles = (
            not self.padded
            and strides == kernel
            and self.out_height * kernel[0] == height
            and self.out_width * kernel[1] == width
        )
        self.offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]

    @property
    def output_hw(self):
        return self.out_height, self.out_width

    def pad(self, X, buffer, key, fill):
        """``X`` inside a border of ``fill`` (a reused buffer), or ``X`` itself."""
        if not self.padded:
            return X
        top, bottom, left, right = self.pads
        Xp = buffer(key, (X.shape[0], *self.padded_shape), X.dtype)
        rows, cols = Xp.shape[1], Xp.shape[2]
        # The buffer is reused with other batch sizes: refill every border.
        Xp[:, :top] = fill
        Xp[:, rows - bottom :] = fill
        Xp[:, :, :left] = fill
        Xp[:, :, cols - right :] = fill
        Xp[:, top : rows - bottom, left : cols - right] = X
        return Xp

    def unpad(self, dXp):
        """The interior (unpadded) part of a padded-shape array."""
        if not self.padded:
            return dXp
        top, bottom, left, right = self.pads
        return dXp[:, top : dXp.shape[1] - bottom, left : dXp.shape[2] - right]

    def window(self, Xp, i, j):
        """The input values under kernel offset ``(i, j)`` for every output pixel."""
        sh, sw = self.strides
        return Xp[
            :,
            i : i + sh * (self.out_height - 1) + 1 : sh,
            j : j + sw * (self.out_width - 1) + 1 : sw,
        ]

    def patches(self, Xp):
        """Read-only view ``(n, out_h, out_w, kh, kw, c)`` of every window."""
        s_n, s_h, s_w, s_c = Xp.strides
        sh, sw = self.strides
        shape = (Xp.shape[0], self.out_height, self.out_width, *self.kernel, Xp.shape[3])
        return as_strided(Xp, shape, (s_n, s_h * sh, s_w * sw, s_h, s_w, s_c), writeable=False)


# ----------------------------------------------------------------------
# Conv2D
# ----------------------------------------------------------------------
class Conv2D(Layer):
    """2-D convolution of channels-last images: ``A = f(conv(X, W) + b)``.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or (int, int)
        Height and width of the kernel.
    strides : int or (int, int), default=1
        Step between windows, vertically and horizontally.
    padding : {"valid", "same"}, default="valid"
        ``"valid"``: windows inside the image only, ``(h - kh) // s + 1``
        outputs per axis. ``"same"``: zero padding as TensorFlow/Keras,
        ``ceil(h / s)`` outputs per axis, the padding split evenly with the
        extra row (column) at the bottom (right).
    activation : str, default="relu"
        Activation ``f``; see :data:`skann.nn.activations.ACTIVATIONS`.
    init : {"auto", "glorot_uniform", "he_uniform"}, default="auto"
        Uniform initialisation of weights and biases, with
        ``fan_in = kh * kw * c_in`` and ``fan_out = kh * kw * filters``;
        see :func:`~skann.nn.initializers.init_bound`.

    Notes
    -----
    Input samples have shape ``(h, w, c_in)`` and outputs
    ``(h_out, w_out, filters)``, with (cross-correlation, as every deep
    learning library)

    .. math::

        Z[n, y, x, f] = b[f] + \\sum_{i, j, c}
            X_p[n, y s_h + i, x s_w + j, c] \\, W[i, j, c, f]

    where ``X_p`` is the padded input. Declares ``W`` of shape
    ``(kh, kw, c_in, filters)`` (regularised) and ``b`` of shape
    ``(filters,)``.

    The windows are copied once into an im2col matrix of shape
    ``(n h_out w_out, kh kw c_in)`` (strided copies, no loop over pixels or
    samples), so the forward pass is one GEMM and the weight gradient
    another (the bias gradient a GEMV). The input gradient is one batched
    GEMM, ``dZ @ W[i, j].T`` for every kernel offset, followed by
    ``kh * kw`` strided additions onto the input (col2im). The matrices
    live in the pass's reused buffers (``ctx.buffer``); inference of
    ``n`` rows holds an im2col matrix of ``n h_out w_out kh kw c_in``
    values per layer.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import Conv2D
    >>> net = Network([Conv2D(4, 3, padding="same")])
    >>> net.build((8, 8, 1), np.float32, np.random.RandomState(0))
    (8, 8, 4)
    >>> net.output(np.ones((2, 64), np.float32)).shape
    (2, 8, 8, 4)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation="relu", init="auto"):
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.activation = activation
        self.init = init

    def geometry(self, input_shape):
        """The (cached) window geometry over samples of ``input_shape``.

        See :func:`window_geometry`; raises for bad ``kernel_size``,
        ``strides``, ``padding`` or input shapes.
        """
        return window_geometry("Conv2D", input_shape, self.kernel_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        filters = check_positive_int(self.filters, "Conv2D filters")
        return (*self.geometry(input_shape).output_hw, filters)

    def build(self, input_shape, dtype):
        output_shape = self.compute_output_shape(input_shape)
        geometry = self.geometry(input_shape)
        kernel, channels, filters = geometry.kernel, geometry.channels, output_shape[-1]
        area = kernel[0] * kernel[1]
        activation = shared_activation(self.activation)
        init = Uniform(init_bound(area * channels, area * filters, activation, self.init))
        weights = [
            Weight("W", (*kernel, channels, filters), init, regularized=True),
            Weight("b", (filters,), init),
        ]
        return weights, output_shape

    def forward(self, X, ctx):
        geometry = self.geometry(X.shape[1:])
        weights, bias = ctx.params["W"], ctx.params["b"]
        dtype = weights.dtype
        n_rows = X.shape[0]
        out_h, out_w = geometry.output_hw
        n_pixels = n_rows * out_h * out_w
        size = weights.shape[0] * weights.shape[1] * weights.shape[2]
        filters = weights.shape[3]
        if geometry.pointwise:
            cols = X.reshape(n_pixels, size)
        else:
            Xp = geometry.pad(X, ctx.buffer, "Xp", 0)
            cols = ctx.buffer("cols", (n_pixels, size), dtype)
            _im2col(geometry, Xp, cols.reshape(n_rows, out_h, out_w, *weights.shape[:3]))
        Z = ctx.buffer("Z", (n_pixels, filters), dtype)
        np.matmul(cols, weights.reshape(size, filters), out=Z)
        Z += bias
        activation = shared_activation(self.activation)
        A = ctx.buffer("A", (n_pixels, filters), dtype) if activation.needs_input else Z
        activation.forward(Z, A, ctx)
        if ctx.training:
            saved = ctx.saved
            saved["cols"], saved["Z"], saved["A"] = cols, Z, A
            saved["geometry"] = geometry
        return A.reshape(n_rows, out_h, out_w, filters)

    def backward(self, dY, ctx):
        saved = ctx.saved
        geometry = saved["geometry"]
        cols = saved["cols"]
        weights = ctx.params["W"]
        n_pixels, size = cols.shape
        filters = weights.shape[3]
        n_rows = dY.shape[0]
        if dY.flags.c_contiguous:
            dZ = dY.reshape(n_pixels, filters)
        else:  # e.g. a view: copy once into a reused buffer
            dZ = ctx.buffer("dY", (n_pixels, filters), dY.dtype)
            np.copyto(dZ.reshape(dY.shape), dY)
        dZ = shared_activation(self.activation).backward(dZ, saved["Z"], saved["A"], ctx)
        if ctx.grads:  # empty: the input gradient only (Network.input_gradient)
            np.matmul(cols.T, dZ, out=ctx.grads["W"].reshape(size, filters))
            # Column sums as a GEMV: several times faster than dZ.sum(axis=0).
            ones = ctx.buffer("ones", (n_pixels,), dZ.dtype)
            ones.fill(1)
            np.dot(ones, dZ, out=ctx.grads["b"])
        if not ctx.input_grad:
            return None
        if geometry.pointwise:
            dX = ctx.buffer("dX", (n_pixels, size), dZ.dtype)
            np.matmul(dZ, weights.reshape(size, filters).T, out=dX)
            return dX.reshape(n_rows, geometry.height, geometry.width, geometry.channels)
        return _col2im(geometry, dZ, weights, n_rows, ctx)


def _im2col(geometry, Xp, patches):
    """Copy every window of ``Xp`` into ``patches`` (n, out_h, out_w, kh, kw, c)."""
    kw = geometry.kernel[1]
    if geometry.channels == 1 and kw < geometry.out_width:
        # Grey images: one copy per kernel offset moves runs of out_w
        # values, where one strided copy of all windows would move runs of kw.
        for i, j in geometry.offsets:
            np.copyto(patches[:, :, :, i, j, 0], geometry.window(Xp, i, j)[..., 0])
    else:  # one copy, in runs of kw * c contiguous values
        np.copyto(patches, geometry.patches(Xp))


def _col2im(geometry, dZ, weights, n_rows, ctx):
    """Input gradient: each kernel offset's window gradient, summed onto the input.

    One batched GEMM gives the gradient of every offset's window as a
    contiguous ``(n_pixels, c_in)`` block (``dZ @ W[i, j].T``); each block is
    then added to its strided window of the input, ``kh * kw`` additions in
    all. Contiguous blocks make these additions faster than scattering the
    columns of one ``(n_pixels, kh kw c_in)`` matrix.
    """
    kh, kw, channels, filters = weights.shape
    dtype = dZ.dtype
    out_h, out_w = geometry.output_hw
    transposed = ctx.buffer("W_t", (kh * kw, filters, channels), dtype)
    np.copyto(transposed, weights.reshape(kh * kw, channels, filters).transpose(0, 2, 1))
    blocks = ctx.buffer("dwindows", (kh * kw, dZ.shape[0], channels), dtype)
    np.matmul(dZ, transposed, out=blocks)
    blocks = blocks.reshape(kh * kw, n_rows, out_h, out_w, channels)
    dXp = ctx.buffer("dXp", (n_rows, *geometry.padded_shape), dtype)
    if geometry.tiles:  # every input cell in exactly one window
        for k, (i, j) in enumerate(geometry.offsets):
            np.copyto(geometry.window(dXp, i, j), blocks[k])
        return dXp
    dXp.fill(0)
    for k, (i, j) in enumerate(geometry.offsets):
        window = geometry.window(dXp, i, j)
        np.add(window, blocks[k], out=window)
    if not geometry.padded:
        return dXp
    dX = ctx.buffer("dX", (n_rows, geometry.height, geometry.width, geometry.channels), dtype)
    np.copyto(dX, geometry.unpad(dXp))
    return dX
