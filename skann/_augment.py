"""Image augmentation of training batches (the ``augment`` parameter)."""

import numpy as np

__all__ = ["ShiftAugmentation"]

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
        height, width, channels = self.input_shape
        n_rows = X.shape[0]
        padded = np.zeros((n_rows, height + 2, width + 2, channels), dtype=X.dtype)
        padded[:, 1:-1, 1:-1] = X.reshape(n_rows, height, width, channels)
        dy, dx = self.rng.integers(0, 3, size=(2, n_rows))
        rows = np.arange(n_rows)[:, None, None]
        ys = dy[:, None, None] + np.arange(height)[None, :, None]
        xs = dx[:, None, None] + np.arange(width)[None, None, :]
        return padded[rows, ys, xs].reshape(n_rows, -1)
