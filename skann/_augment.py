"""Image augmentation of training batches (the ``augment`` parameter)."""

import numpy as np

__all__ = ["ShiftAugmentation", "cut_out", "shift_images"]

AUGMENTATIONS = ("shift",)


class ShiftAugmentation:
    """Shift each image of a batch by up to one pixel, in each direction.

    Every row of a batch (a flattened, channels-last image of
    ``input_shape``) moves by ``dy, dx`` drawn uniformly from ``{-1, 0, 1}``
    each; the pixels moved in are zeros. One fancy-indexing gather per
    batch, no Python loop over samples.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)``.
    rng : numpy.random.Generator
        Draws the shifts.

    Examples
    --------
    >>> import numpy as np
    >>> from skann._augment import ShiftAugmentation
    >>> shift = ShiftAugmentation((3, 3, 1), np.random.default_rng(0))
    >>> image = np.arange(1.0, 10.0).reshape(1, 9)
    >>> moved = shift(image)
    >>> moved.shape, sorted(set(moved.ravel()) - set(image.ravel()) - {0.0})
    ((1, 9), [])
    """

    def __init__(self, input_shape, rng):
        self.input_shape = tuple(input_shape)
        self.rng = rng

    def __call__(self, X):
        """A shifted copy of the batch ``X`` (2-D, rows are images)."""
        if hasattr(X, "toarray"):
            X = X.toarray()
        return shift_images(X, self.input_shape, 1, self.rng)


def shift_images(X, input_shape, max_shift, rng):
    """A copy of the images ``X`` (rows), each shifted by up to ``max_shift``.

    Each row moves by ``dy, dx`` drawn uniformly from
    ``{-max_shift, ..., max_shift}``; the pixels moved in are zeros. One
    fancy-indexing gather for the whole batch.

    Examples
    --------
    >>> import numpy as np
    >>> from skann._augment import shift_images
    >>> image = np.arange(1.0, 10.0).reshape(1, 9)
    >>> shift_images(image, (3, 3, 1), 0, np.random.default_rng(0)).tolist() == image.tolist()
    True
    """
    height, width, channels = input_shape
    n_rows, m = X.shape[0], int(max_shift)
    padded = np.zeros((n_rows, height + 2 * m, width + 2 * m, channels), dtype=X.dtype)
    padded[:, m : m + height, m : m + width] = X.reshape(n_rows, height, width, channels)
    dy, dx = rng.integers(0, 2 * m + 1, size=(2, n_rows))
    rows = np.arange(n_rows)[:, None, None]
    ys = dy[:, None, None] + np.arange(height)[None, :, None]
    xs = dx[:, None, None] + np.arange(width)[None, None, :]
    return padded[rows, ys, xs].reshape(n_rows, -1)


def cut_out(X, input_shape, sizes, rng):
    """Zero a random square of each image of ``X`` (rows), in place.

    Each row gets one square of side drawn from ``sizes = (low, high)``
    (inclusive), its top-left corner uniform over the positions that
    leave at least one pixel of it inside the image (DeVries & Taylor,
    2017). One boolean mask for the whole batch.

    Returns
    -------
    X : the same array
    """
    height, width, channels = input_shape
    n_rows = X.shape[0]
    low, high = sizes
    side = rng.integers(low, high + 1, size=n_rows)
    top = rng.integers(0, height + side - 1) - (side - 1)
    left = rng.integers(0, width + side - 1) - (side - 1)
    ys = np.arange(height)[None, :]
    xs = np.arange(width)[None, :]
    inside_y = (ys >= top[:, None]) & (ys < (top + side)[:, None])
    inside_x = (xs >= left[:, None]) & (xs < (left + side)[:, None])
    mask = inside_y[:, :, None] & inside_x[:, None, :]
    images = X.reshape(n_rows, height, width, channels)
    images[mask] = 0
    return X
