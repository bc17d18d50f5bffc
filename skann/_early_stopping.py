"""The early-stopping split: which training rows are held out.

The split is a split of row indices, chosen by content (see
:func:`held_out_rows`); the held-out rows are gathered once per fit.
"""

import numpy as np


def held_out_rows(X, Y, sample_weight, fraction, strata, random_state):
    """Rows to hold out for early stopping, chosen by content.

    Each row gets a pseudo-random key that depends only on its values (the
    scrambled random projection of X and Y); within each stratum, rows are taken in
    key order until they carry ``fraction`` of the stratum's weight, and at
    least 2 rows are held out. Identical rows share a key, so they always
    land on the same side: duplicates never leak from training into
    validation, and a sample of integer weight ``k`` is split exactly as
    ``k`` repeated copies of it would be.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    fraction : float
    strata : ndarray of shape (n_samples,) or None
        Class of each row, to stratify by; None for one stratum.
    random_state : RandomState

    Returns
    -------
    held_out : ndarray of int
        Sorted row indices.
    """
    n_samples = X.shape[0]
    weight = np.ones(n_samples) if sample_weight is None else sample_weight
    projection = np.asarray(X @ random_state.uniform(-1, 1, X.shape[1])).ravel()
    projection = projection + Y @ random_state.uniform(-1, 1, Y.shape[1])
    # The fractional part of a large multiple scatters the projection into a
    # pseudo-random key in [0, 1): held-out rows are a random sample, not a
    # corner of the data, and identical rows still share a key.
    keys = np.modf(np.abs(projection) * 9973.0)[0]
    strata = np.zeros(n_samples) if strata is None else strata
    held_out = []
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        rows = rows[np.argsort(keys[rows], kind="stable")]
        cumulative = np.cumsum(weight[rows])
        target = fraction * cumulative[-1]
        if target <= 0:
            continue
        last = min(np.searchsorted(cumulative, target, side="left"), len(rows) - 1)
        # Rows tied with the last one taken (duplicates) go along with it.
        cut = np.searchsorted(keys[rows], keys[rows[last]], side="right")
        held_out.append(rows[:cut])
    held_out = np.sort(np.concatenate(held_out)) if held_out else np.array([], np.intp)
    # At least 2 samples, a row of integer weight k counting as k samples.
    if 0 < _n_samples_held(weight, held_out) < 2:
        for row in np.argsort(keys, kind="stable"):
            if row not in held_out and weight[row] > 0:
                held_out = np.sort(np.append(held_out, row))
                break
    return held_out.astype(np.intp)


def _n_samples_held(weight, rows):
    """Samples in ``rows``, a row of weight ``w > 0`` counting ``max(w, 1)``."""
    held = weight[rows]
    return float(np.maximum(held[held > 0], 1).sum())


def split_validation(X, Y, sample_weight, fraction, strata, random_state):
    """Training rows and held-out ``(X, Y, weight)`` for early stopping.

    Raises a ``ValueError`` naming the fix when the data are too few to
    hold out at least 2 samples and keep 1 for training.
    """
    rows = np.arange(X.shape[0])
    if fraction == 0:
        raise ValueError("early_stopping=True needs validation_fraction > 0.")
    held_out = held_out_rows(X, Y, sample_weight, fraction, strata, random_state)
    train = np.setdiff1d(rows, held_out, assume_unique=True)
    weight = np.ones(len(rows)) if sample_weight is None else sample_weight
    if _n_samples_held(weight, held_out) < 2 or len(train) < 1:
        raise ValueError(
            f"The validation set is too small: {len(rows)} samples are too few for "
            "early stopping, which needs at least 2 held-out samples and 1 "
            "training sample. Provide more samples, increase "
            "validation_fraction, or set early_stopping=False."
        )
    weight = None if sample_weight is None else sample_weight[held_out]
    return train, (X[held_out], Y[held_out], weight)
