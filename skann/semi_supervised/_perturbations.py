"""Perturbed views of a batch: feature noise, feature dropout, mixup;
pixel shifts and cut-out for images."""

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri

from .._augment import cut_out, shift_images

__all__ = ["ImagePerturbation", "Perturbation", "feature_statistics", "mixup"]

# Share of features hidden (set to their mean) in a strongly perturbed view,
# and the standard normal quantile that a draw exceeds with that probability.
FEATURE_DROPOUT = 0.1
HIDDEN_QUANTILE = float(ndtri(1 - FEATURE_DROPOUT))
# Noise of the weakly perturbed view, relative to the strong view's.
WEAK_NOISE = 0.5
# Gaussian draws pooled by a perturbation (see Perturbation._gaussian).
NOISE_POOL = 1 << 18
# Largest pixel shift of the weak and strong views of images (FixMatch).
WEAK_SHIFT, STRONG_SHIFT = 1, 2
# Side of the strong view's cut-out square, as a fraction of the image's
# shorter side: 3x3 to 4x4 on 8x8 digits.
CUT_OUT = (3 / 8, 4 / 8)
# Beta(MIXUP, MIXUP) draws the mixing weight of mixup on labelled rows.
MIXUP = 0.75


class Perturbation:
    """Gaussian feature noise and feature dropout, scaled to the data.

    Parameters
    ----------
    center, spread : ndarray of shape (n_features,)
        Mean and standard deviation of each feature on the training data.
    scale : float
        Noise standard deviation as a fraction of each feature's.
    random_state : RandomState
        Seeds the (faster) generator the perturbations are drawn from.
    """

    def __init__(self, center, spread, scale, random_state):
        self.center, self.spread = center, spread
        self.noise = scale * spread
        self.weak_noise = WEAK_NOISE * self.noise
        self.rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        # Gaussian draws dominate a step's time: windows at random offsets
        # of one pool of them are as good as fresh draws, at copy cost.
        self.pool = self.rng.standard_normal(NOISE_POOL, dtype=center.dtype)

    def _gaussian(self, shape):
        """Standard normal draws of ``shape``: a window of the pool (a view)."""
        size = shape[0] * shape[1]
        if size > len(self.pool) // 2:
            return self.rng.standard_normal(shape, dtype=self.pool.dtype)
        start = self.rng.integers(len(self.pool) - size)
        return self.pool[start : start + size].reshape(shape)

    def __call__(self, X, strong):
        """A perturbed copy of the dense batch ``X``."""
        noise = np.multiply(self._gaussian(X.shape), self.noise if strong else self.weak_noise)
        noise += X
        if strong and FEATURE_DROPOUT > 0:
            # Another window of the pool: a draw above its 1 - FEATURE_DROPOUT
            # quantile hides the feature.
            hidden = self._gaussian(X.shape) > HIDDEN_QUANTILE
            np.copyto(noise, np.broadcast_to(self.center, X.shape), where=hidden)
        return noise


class ImagePerturbation:
    """Pixel shifts, and cut-out for the strong view, of flattened images.

    The weak view shifts each image by up to 1 pixel in each direction;
    the strong view by up to 2, and zeroes a square of 3/8 to 4/8 of the
    shorter side (3x3 to 4x4 on 8x8 images), as FixMatch's weak and
    strong augmentations. Pixels moved in and cut out are zeros: scale the
    images so that 0 is the background (e.g. ``X / 16`` for digits).
    Vectorised over the batch.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)``.
    random_state : RandomState
        Seeds the generator the shifts and squares are drawn from.
    """

    def __init__(self, input_shape, random_state):
        self.input_shape = tuple(input_shape)
        self.rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        shorter = min(self.input_shape[:2])
        low = max(1, int(round(CUT_OUT[0] * shorter)))
        self.cut_out = (low, max(low, int(round(CUT_OUT[1] * shorter))))

    def __call__(self, X, strong):
        """A perturbed copy of the dense batch ``X``."""
        largest = STRONG_SHIFT if strong else WEAK_SHIFT
        shifted = shift_images(X, self.input_shape, largest, self.rng)
        return cut_out(shifted, self.input_shape, self.cut_out, self.rng) if strong else shifted


def feature_statistics(X, dtype):
    """Mean and standard deviation of each column of dense or sparse ``X``."""
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        mean_sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(mean_sq - mean**2, 0))
    else:
        mean, std = X.mean(axis=0), X.std(axis=0)
    return mean.astype(dtype), std.astype(dtype)


def mixup(X, Y, weight, rng):
    """Mixup of a labelled batch with a shuffled copy of itself.

    Inputs, targets and weights are mixed with one weight ``lam >= 0.5``
    drawn from Beta(MIXUP, MIXUP): the few labels are seen between
    classes too, which keeps the network from memorising them.

    Returns
    -------
    X, Y, weight : the mixed batch (new arrays; the inputs are unchanged)
    """
    if MIXUP <= 0 or X.shape[0] < 2:
        return X, Y, weight
    lam = rng.beta(MIXUP, MIXUP)
    lam = max(lam, 1.0 - lam)
    other = rng.permutation(X.shape[0])
    X = (lam * X + (1.0 - lam) * X[other]).astype(X.dtype, copy=False)
    Y = (lam * Y + (1.0 - lam) * Y[other]).astype(Y.dtype, copy=False)
    if weight is not None:
        weight = (lam * weight + (1.0 - lam) * weight[other]).astype(weight.dtype, copy=False)
    return X, Y, weight
