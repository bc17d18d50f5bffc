"""Perturbed views of a batch: feature noise, feature dropout, mixup."""

import numpy as np
import scipy.sparse as sp

__all__ = ["Perturbation", "feature_statistics", "mixup"]

# Share of features hidden (set to their mean) in a strongly perturbed view.
FEATURE_DROPOUT = 0.1
# Noise of the weakly perturbed view, relative to the strong view's.
WEAK_NOISE = 0.5
# Gaussian draws pooled by a perturbation (see Perturbation._gaussian).
NOISE_POOL = 1 << 18
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
        self.rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        # Gaussian draws dominate a step's time: windows at random offsets
        # of one pool of them are as good as fresh draws, at copy cost.
        self.pool = self.rng.standard_normal(NOISE_POOL, dtype=center.dtype)

    def _gaussian(self, shape):
        size = shape[0] * shape[1]
        if size > len(self.pool) // 2:
            return self.rng.standard_normal(shape, dtype=self.pool.dtype)
        start = self.rng.integers(len(self.pool) - size)
        return self.pool[start : start + size].reshape(shape) * 1

    def __call__(self, X, strong):
        """A perturbed copy of the dense batch ``X``."""
        rng = self.rng
        noise = self._gaussian(X.shape)
        noise *= self.noise if strong else WEAK_NOISE * self.noise
        noise += X
        if strong and FEATURE_DROPOUT > 0:
            hidden = rng.random(X.shape, dtype=X.dtype) < FEATURE_DROPOUT
            np.copyto(noise, np.broadcast_to(self.center, X.shape), where=hidden)
        return noise


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
