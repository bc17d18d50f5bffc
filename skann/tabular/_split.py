"""The internal validation split of the Tabular estimators.

Tables often hold many identical rows (a few categorical columns, a
coarse number): :func:`~skann._early_stopping.held_out_rows` keeps
identical rows on one side, so that whole groups of them leave training
and the validation loss measures a few groups. Here each group of
identical rows is split by weight instead, as a random split of the rows
would split it: rows are laid end to end in a pseudo-random order of
their content, each taking its weight's length, and every
``1 / fraction``-th unit of length (systematic sampling, per class) is
held out. A row of integer weight ``k`` and ``k`` copies of it are split
the same way; a row whose length spans held-out and kept units is in
both sets, with those weights.
"""

import numpy as np

from .._early_stopping import content_keys
from .._plan import FitData

__all__ = ["split_by_weight"]


def held_out_weights(keys, weight, fraction, strata, offset):
    """Weight of each row to hold out (the rest trains).

    Parameters
    ----------
    keys : ndarray of shape (n_samples,)
        Pseudo-random order of the rows (identical rows share a key).
    weight : ndarray of shape (n_samples,)
    fraction : float
    strata : ndarray of shape (n_samples,) or None
    offset : float in [0, 1)
        Random start of the systematic sample.
    """
    held = np.zeros(len(keys))
    strata = np.zeros(len(keys)) if strata is None else strata

    def sampled(length):  # held-out length within [0, length] of the line
        cells = np.floor(length)
        before = np.floor(fraction * cells + offset) - np.floor(offset)
        current = np.floor(fraction * (cells + 1) + offset) - np.floor(fraction * cells + offset)
        return before + (length - cells) * current

    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        rows = rows[np.argsort(keys[rows], kind="stable")]
        ends = np.cumsum(weight[rows])
        held[rows] = sampled(ends) - sampled(ends - weight[rows])
    return np.clip(held, 0, weight)


def split_by_weight(data, fraction, random_state):
    """``data`` with ``fraction`` of its weight held out as its validation
    data (see the module's docstring).

    Parameters
    ----------
    data : FitData
        Supervised data without validation data.
    fraction : float in (0, 1)
    random_state : RandomState

    Returns
    -------
    data : FitData
    """
    X, Y, sample_weight = data.X, data.Y, data.sample_weight
    weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    keys = content_keys(X, Y, random_state)
    held = held_out_weights(keys, weight, fraction, data.encoder.stratification(Y), random_state.uniform())
    kept = weight - held
    validation, training = np.flatnonzero(held > 0), np.flatnonzero(kept > 0)
    unit = sample_weight is None and np.all(held[validation] == 1) and np.all(kept[training] == 1)
    validation_data = (X[validation], Y[validation], None if unit else held[validation])
    return FitData(
        X[training], Y[training], None if unit else kept[training], data.encoder, data.unlabelled,
        validation_data, data.given, data.fitted, data.X_unlabelled,
    )
