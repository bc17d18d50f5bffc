"""Pooling of channels-last images: max, average and global average."""

import functools

import numpy as np

from .base import Layer
from .conv import _image_shape, window_geometry

__all__ = ["AvgPool2D", "GlobalAvgPool2D", "MaxPool2D"]


class _Pool2D(Layer):
    """Shared parameters and geometry of the windowed pooling layers."""

    def __init__(self, pool_size=2, strides=None, padding="valid"):
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding

    def geometry(self, input_shape):
        """The (cached) window geometry over samples of ``input_shape``.

        See :func:`~skann.nn.layers.conv.window_geometry`; raises for bad
        ``pool_size``, ``strides``, ``padding`` or input shapes.
        """
        return window_geometry(
            type(self).__name__, input_shape, self.pool_size, self.strides, self.padding, "pool_size"
        )

    def compute_output_shape(self, input_shape):
        geometry = self.geometry(input_shape)
        return (*geometry.output_hw, geometry.channels)

    @staticmethod
    def _gradient_buffer(geometry, n_rows, dtype, ctx):
        """The (padded-shape) input gradient buffer, zeroed unless the windows tile it."""
        dXp = ctx.buffer("dXp", (n_rows, *geometry.padded_shape), dtype)
        if not geometry.tiles:
            dXp.fill(0)
        return dXp

    @staticmethod
    def _unpadded(geometry, dXp, ctx):
        """The input gradient without the padding, as a contiguous array."""
        if not geometry.padded:
            return dXp
        shape = (dXp.shape[0], geometry.height, geometry.width, geometry.channels)
        dX = ctx.buffer("dX", shape, dXp.dtype)
        np.copyto(dX, geometry.unpad(dXp))
        return dX


class MaxPool2D(_Pool2D):
    """Maximum over windows of each channel of channels-last images.

    Parameters
    ----------
    pool_size : int or (int, int), default=2
        Height and width of the windows.
    strides : int or (int, int), default=None
        Step between windows; ``pool_size`` by default (no overlap).
    padding : {"valid", "same"}, default="valid"
        As :class:`~skann.nn.layers.Conv2D`; with ``"same"`` the padded
        cells never win (they count as ``-inf``), as in TensorFlow/Keras.

    Notes
    -----
    .. math::

        Y[n, y, x, c] = \\max_{i, j} X_p[n, y s_h + i, x s_w + j, c]

    The gradient goes to the position of the maximum only: on ties, to the
    first position of the window in row-major order. Computed with a few
    vectorised passes per window offset (``ph * pw`` offsets, no loop over
    pixels); training keeps the offset of each maximum (one byte per
    output value). No weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import MaxPool2D
    >>> net = Network([MaxPool2D(2)])
    >>> net.build((4, 4, 1), np.float64, np.random.RandomState(0))
    (2, 2, 1)
    >>> net.output(np.arange(16.0).reshape(1, 16))[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """

    def forward(self, X, ctx):
        geometry = self.geometry(X.shape[1:])
        Xp = geometry.pad(X, ctx.buffer, "Xp", -np.inf)
        Y = ctx.buffer("Y", (X.shape[0], *geometry.output_hw, geometry.channels), X.dtype)
        offsets = geometry.offsets
        if len(offsets) == 1:
            np.copyto(Y, geometry.window(Xp, 0, 0))
        else:
            np.maximum(geometry.window(Xp, *offsets[0]), geometry.window(Xp, *offsets[1]), out=Y)
        if not ctx.training:
            for i, j in offsets[2:]:
                np.maximum(Y, geometry.window(Xp, i, j), out=Y)
            return Y
        # The offset of each maximum, first one on ties. Arithmetic on small
        # integers: masked assignments (copyto where=) are several times
        # slower on the random masks of real data.
        index_dtype = np.uint8 if len(offsets) <= 255 else np.int32
        index = ctx.buffer("index", Y.shape, index_dtype)
        step = ctx.buffer("step", Y.shape, index_dtype)
        larger = ctx.buffer("larger", Y.shape, bool)
        if len(offsets) > 1:
            np.greater(geometry.window(Xp, *offsets[1]), geometry.window(Xp, *offsets[0]), out=larger)
            np.copyto(index, larger, casting="unsafe")
        else:
            index.fill(0)
        for k in range(2, len(offsets)):
            window = geometry.window(Xp, *offsets[k])
            np.greater(window, Y, out=larger)  # strict: the first maximum wins ties
            np.maximum(Y, window, out=Y)
            np.subtract(k, index, out=step)  # index += larger * (k - index)
            np.multiply(step, larger, out=step)
            np.add(index, step, out=index)
        ctx.saved["index"], ctx.saved["geometry"] = index, geometry
        return Y

    def backward(self, dY, ctx):
        if not ctx.input_grad:
            return None
        geometry = ctx.saved["geometry"]
        index = ctx.saved["index"]
        dXp = self._gradient_buffer(geometry, dY.shape[0], dY.dtype, ctx)
        chosen = ctx.buffer("chosen", dY.shape, bool)
        routed = None if geometry.tiles else ctx.buffer("routed", dY.shape, dY.dtype)
        for k, (i, j) in enumerate(geometry.offsets):
            np.equal(index, k, out=chosen)
            window = geometry.window(dXp, i, j)
            if routed is None:  # the windows tile the input: write each cell once
                np.multiply(dY, chosen, out=window)
            else:
                np.multiply(dY, chosen, out=routed)
                np.add(window, routed, out=window)
        return self._unpadded(geometry, dXp, ctx)


class AvgPool2D(_Pool2D):
    """Mean over windows of each channel of channels-last images.

    Parameters
    ----------
    pool_size : int or (int, int), default=2
        Height and width of the windows.
    strides : int or (int, int), default=None
        Step between windows; ``pool_size`` by default (no overlap).
    padding : {"valid", "same"}, default="valid"
        As :class:`~skann.nn.layers.Conv2D`; with ``"same"`` the padded
        cells are left out of the mean, as in TensorFlow/Keras.

    Notes
    -----
    .. math::

        Y[n, y, x, c] = \\frac{1}{|w(y, x)|} \\sum_{(i, j) \\in w(y, x)}
            X[n, y s_h + i - p_t, x s_w + j - p_l, c]

    where ``w(y, x)`` are the window's offsets that fall inside the image.
    The gradient spreads ``dY / |w(y, x)|`` evenly over the window. No
    weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import AvgPool2D
    >>> net = Network([AvgPool2D(2)])
    >>> net.build((4, 4, 1), np.float64, np.random.RandomState(0))
    (2, 2, 1)
    >>> net.output(np.arange(16.0).reshape(1, 16))[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """

    def forward(self, X, ctx):
        geometry = self.geometry(X.shape[1:])
        Xp = geometry.pad(X, ctx.buffer, "Xp", 0)
        Y = ctx.buffer("Y", (X.shape[0], *geometry.output_hw, geometry.channels), X.dtype)
        np.copyto(Y, geometry.window(Xp, 0, 0))
        for i, j in geometry.offsets[1:]:
            np.add(Y, geometry.window(Xp, i, j), out=Y)
        np.multiply(Y, _mean_scale(geometry, X.dtype), out=Y)
        if ctx.training:
            ctx.saved["geometry"] = geometry
        return Y

    def backward(self, dY, ctx):
        if not ctx.input_grad:
            return None
        geometry = ctx.saved["geometry"]
        scale = _mean_scale(geometry, dY.dtype)
        share = np.multiply(dY, scale, out=ctx.buffer("share", dY.shape, dY.dtype))
        dXp = self._gradient_buffer(geometry, dY.shape[0], dY.dtype, ctx)
        for i, j in geometry.offsets:
            window = geometry.window(dXp, i, j)
            if geometry.tiles:
                np.copyto(window, share)
            else:
                np.add(window, share, out=window)
        return self._unpadded(geometry, dXp, ctx)


@functools.lru_cache(maxsize=1024)
def _mean_scale(geometry, dtype):
    """``1 / (cells of each window inside the image)``, read-only, in ``dtype``.

    Per output pixel with padding (the padded cells are left out of the
    mean), one scalar without.
    """
    if geometry.padded:
        inside = np.zeros(geometry.padded_shape[:2] + (1,))
        top, bottom, left, right = geometry.pads
        inside[top : top + geometry.height, left : left + geometry.width] = 1
        counts = sum(geometry.window(inside[None], i, j)[0] for i, j in geometry.offsets)
        scale = (1.0 / counts).astype(dtype)
    else:
        scale = np.asarray(1.0 / len(geometry.offsets), dtype=dtype)
    scale.flags.writeable = False
    return scale


class GlobalAvgPool2D(Layer):
    """Mean of each channel over the whole image: ``(h, w, c) -> (c,)``.

    Notes
    -----
    .. math::

        Y[n, c] = \\frac{1}{h w} \\sum_{y, x} X[n, y, x, c]

    and the gradient is ``dY / (h w)`` at every pixel. No weights; often
    replaces ``Flatten`` after the last convolution.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import GlobalAvgPool2D
    >>> net = Network([GlobalAvgPool2D()])
    >>> net.build((2, 2, 3), np.float64, np.random.RandomState(0))
    (3,)
    >>> net.output(np.arange(12.0).reshape(1, 12))
    array([[4.5, 5.5, 6.5]])
    """

    def __init__(self):
        pass

    def compute_output_shape(self, input_shape):
        return (_image_shape(input_shape, "GlobalAvgPool2D")[2],)

    def forward(self, X, ctx):
        n_rows, height, width, channels = X.shape
        Y = ctx.buffer("Y", (n_rows, channels), X.dtype)
        X.reshape(n_rows, height * width, channels).sum(axis=1, out=Y)
        np.multiply(Y, np.asarray(1.0 / (height * width), X.dtype), out=Y)
        if ctx.training:
            ctx.saved["input_shape"] = X.shape[1:]
        return Y

    def backward(self, dY, ctx):
        if not ctx.input_grad:
            return None
        height, width, channels = ctx.saved["input_shape"]
        dX = ctx.buffer("dX", (dY.shape[0], height, width, channels), dY.dtype)
        share = ctx.buffer("share", dY.shape, dY.dtype)
        np.multiply(dY, np.asarray(1.0 / (height * width), dY.dtype), out=share)
        np.copyto(dX, share[:, None, None, :])
        return dX
