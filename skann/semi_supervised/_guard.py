"""Semi-supervised ``fit``: the supervised fallback guard and ``transduction_``.

The loss terms live in :mod:`skann.semi_supervised._objectives` and the
training steps in :mod:`skann.semi_supervised._training`; this module
decides whether the unlabelled rows helped.
"""

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import indexable

from .._compat import _safe_indexing
from ._markers import check_labelled, unlabelled_mask
from ._objectives import LABELLED_ONLY

__all__ = ["fit_semi_supervised", "guard", "transduction"]

# Share of the labelled rows held out (per class) to check the unlabelled
# rows help, and the fewest held-out rows that make the check worth it.
GUARD_FRACTION = 0.2
GUARD_MIN_ROWS = 4


def _guard_split(estimator, y, labelled_rows):
    """Held-out labelled rows for the guard (stratified), or None."""
    rng = check_random_state(estimator.random_state)
    y_labelled = _safe_indexing(y, labelled_rows)
    y_labelled = np.asarray(y_labelled)
    if is_classifier(estimator) and y_labelled.ndim == 1:
        strata = y_labelled
    else:
        strata = np.zeros(len(labelled_rows))
    held_out = []
    for stratum in np.unique(strata):
        rows = rng.permutation(labelled_rows[strata == stratum])
        n_held = int(GUARD_FRACTION * len(rows))
        held_out.extend(rows[:n_held])
    held_out = np.sort(np.asarray(held_out, dtype=np.intp))
    train = np.setdiff1d(labelled_rows, held_out)
    if len(held_out) < GUARD_MIN_ROWS:
        return None
    if is_classifier(estimator) and len(np.unique(strata[np.isin(labelled_rows, train)])) < 2:
        return None
    return train, held_out


def guard(estimator, X, y, sample_weight, mask, validation=None):
    """Whether the unlabelled rows help, judged on held-out labelled rows.

    Trains the network twice without the held-out rows, once on the
    labelled rows alone and once with the unlabelled rows as well, and
    compares their scores (accuracy, or R²) on the held-out rows. Both
    fits get ``fit``'s validation data (``X_val``, ``y_val``,
    ``sample_weight_val``), if any.

    Returns
    -------
    use_unlabelled : bool
        False when the semi-supervised network scored lower by more than
        ``1 / n_held_out`` (one held-out sample's worth of accuracy).
    scores : dict or None
        The two held-out scores; None when too few labels to hold out.
    """
    split = _guard_split(estimator, y, np.flatnonzero(~mask))
    if split is None:
        return True, None
    train, held_out = split
    keep = np.sort(np.concatenate([train, np.flatnonzero(mask)]))
    weight = None if sample_weight is None else np.asarray(sample_weight)
    scores = {}
    for name, rows, params in (
        ("supervised", train, {"semi_supervised": None}),
        ("semi_supervised", keep, {"supervised_fallback": False}),
    ):
        model = clone(estimator).set_params(**params, verbose=False)
        if hasattr(model, "set_callbacks"):  # trial fits: callbacks see the final fit only
            model.set_callbacks()
        model.fit(
            _safe_indexing(X, rows),
            _safe_indexing(y, rows),
            sample_weight=None if weight is None else weight[rows],
            **validation_kwargs(validation),
        )
        scores[name] = model.score(
            _safe_indexing(X, held_out),
            _safe_indexing(y, held_out),
            sample_weight=None if weight is None else weight[held_out],
        )
    # A few held-out labels are a noisy judge: fall back only when the
    # semi-supervised network lost more than one held-out sample's worth.
    margin = 1.0 / len(held_out) + 1e-12
    return scores["semi_supervised"] >= scores["supervised"] - margin, scores


def validation_kwargs(validation):
    """``fit``'s keyword arguments for validation data (or None)."""
    if validation is None:
        return {}
    return dict(zip(("X_val", "y_val", "sample_weight_val"), validation))


def fit_semi_supervised(estimator, X, y, sample_weight, validation=None):
    """``fit`` of an estimator with ``semi_supervised`` set."""
    if y is None:  # the estimator's own error
        return estimator._fit(X, y, sample_weight, incremental=False)
    X, y = indexable(X, y)
    mask = unlabelled_mask(estimator, y)
    check_labelled(estimator, y, mask)
    use_unlabelled = bool(mask.any()) and estimator.semi_supervised != LABELLED_ONLY
    scores = None
    if use_unlabelled and estimator.supervised_fallback:
        use_unlabelled, scores = guard(estimator, X, y, sample_weight, mask, validation)
    if use_unlabelled or not mask.any():
        estimator._fit(X, y, sample_weight, incremental=False, validation=validation)
    else:
        labelled = np.flatnonzero(~mask)
        weight = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        estimator._fit(
            _safe_indexing(X, labelled), _safe_indexing(y, labelled), weight,
            incremental=False, validation=validation,
        )
    estimator.used_unlabelled_ = use_unlabelled
    estimator.guard_scores_ = scores
    estimator.transduction_ = transduction(estimator, X, y, mask)
    return estimator


def transduction(estimator, X, y, mask):
    """Given labels for labelled rows, predictions for unlabelled ones."""
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if not mask.any():
        return y.copy()
    predicted = estimator.predict(_safe_indexing(X, np.flatnonzero(mask)))
    dtype = np.result_type(y.dtype, predicted.dtype) if y.dtype.kind != "O" else object
    assigned = y.astype(dtype, copy=True)
    # A column-vector y (n, 1) gets its predictions as a column too.
    assigned[mask] = predicted.reshape(assigned[mask].shape)
    return assigned
