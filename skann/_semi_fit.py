"""Semi-supervised fitting around the estimators: unlabelled markers, the
supervised fallback guard and ``transduction_``.

The loss terms themselves live in :mod:`skann._semi_supervised`; this
module decides which rows are unlabelled and whether the unlabelled rows
helped.
"""

import numbers

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import indexable

from ._compat import _safe_indexing

# Share of the labelled rows held out (per class) to check the unlabelled
# rows help, and the fewest held-out rows that make the check worth it.
GUARD_FRACTION = 0.2
GUARD_MIN_ROWS = 4


def resolve_marker(estimator):
    """The value that marks an unlabelled target for ``estimator``."""
    marker = estimator.unlabelled_marker
    if isinstance(marker, str) and marker == "auto":
        return -1 if is_classifier(estimator) else np.nan
    return marker


def _is_nan(value):
    return isinstance(value, numbers.Real) and np.isnan(value)


def marker_mask(y, marker):
    """Boolean mask of the rows of raw targets ``y`` equal to ``marker``.

    A row of a 2-d target matches when all its entries are the marker;
    a NaN marker matches NaN targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skann._semi_fit import marker_mask
    >>> marker_mask([0, -1, 2], -1)
    array([False,  True, False])
    >>> marker_mask([0.5, np.nan], np.nan)
    array([False,  True])
    """
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if _is_nan(marker):
        if y.dtype.kind in "fc":
            equal = np.isnan(y)
        else:
            equal = np.vectorize(_is_nan, otypes=[bool])(y) if y.size else y.astype(bool)
    else:
        equal = np.asarray(y.astype(object) == marker, dtype=bool).reshape(y.shape)
    return equal.all(axis=1) if equal.ndim == 2 else equal


def unlabelled_mask(estimator, y):
    """Boolean mask of the unlabelled rows of raw targets ``y``."""
    mask = marker_mask(y, resolve_marker(estimator))
    _check_string_labels(estimator, y, mask)
    return mask


def _check_string_labels(estimator, y, mask):
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if y.dtype.kind not in "OUS" or mask.any() or estimator.unlabelled_marker != "auto":
        return
    if np.any(y.astype(object) == "-1"):
        raise ValueError(
            "y has string labels and some are '-1'. The default "
            "unlabelled_marker='auto' is -1, which marks numeric labels only; "
            "set unlabelled_marker='-1' if those samples are unlabelled."
        )


def check_labelled(estimator, y, mask, classes=None, incremental=False):
    """Errors for targets with too few labels, or a marker that is a class.

    ``partial_fit`` (``incremental``) accepts batches without any label.
    """
    marker = resolve_marker(estimator)
    if classes is not None and not _is_nan(marker):
        if np.any(np.asarray(classes, dtype=object) == marker):
            raise ValueError(
                f"classes contains {marker!r}, the unlabelled_marker of "
                f"semi_supervised={estimator.semi_supervised!r}. Set unlabelled_marker "
                "to a value that is not a class (or semi_supervised=None to treat it "
                "as a class)."
            )
    if incremental or classes is not None or not mask.any():
        return
    if mask.all():
        raise ValueError(
            f"Every sample is unlabelled (y == {marker!r}); semi-supervised "
            "learning needs some labelled samples. Label some samples, or use "
            "partial_fit after a labelled first call."
        )
    labelled = _safe_indexing(y, ~mask)
    labelled = labelled.to_numpy() if hasattr(labelled, "to_numpy") else np.asarray(labelled)
    if is_classifier(estimator) and labelled.ndim == 1 and len(np.unique(labelled)) < 2:
        raise ValueError(
            f"Once the samples marked unlabelled (y == {marker!r}) are set aside, "
            f"only one class is left: {labelled[0]!r}. If {marker!r} is a real "
            "class, set unlabelled_marker to another value, or "
            "semi_supervised=None."
        )


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


def guard(estimator, X, y, sample_weight, mask):
    """Whether the unlabelled rows help, judged on held-out labelled rows.

    Trains the network twice without the held-out rows, once on the
    labelled rows alone and once with the unlabelled rows as well, and
    compares their scores (accuracy, or R²) on the held-out rows.

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
        model.fit(
            _safe_indexing(X, rows),
            _safe_indexing(y, rows),
            sample_weight=None if weight is None else weight[rows],
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


def fit_semi_supervised(estimator, X, y, sample_weight):
    """``fit`` of an estimator with ``semi_supervised`` set."""
    if y is None:  # the estimator's own error
        return estimator._fit(X, y, sample_weight, incremental=False)
    X, y = indexable(X, y)
    mask = unlabelled_mask(estimator, y)
    check_labelled(estimator, y, mask)
    use_unlabelled, scores = bool(mask.any()), None
    if use_unlabelled and estimator.supervised_fallback:
        use_unlabelled, scores = guard(estimator, X, y, sample_weight, mask)
    if use_unlabelled or not mask.any():
        estimator._fit(X, y, sample_weight, incremental=False)
    else:
        labelled = np.flatnonzero(~mask)
        weight = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        estimator._fit(
            _safe_indexing(X, labelled), _safe_indexing(y, labelled), weight, incremental=False
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
    assigned[mask] = predicted
    return assigned


def split_labelled(estimator, X, y, sample_weight, incremental, classes=None):
    """Labelled part of validated ``X`` and raw ``y``, and unlabelled rows.

    Returns
    -------
    X_labelled, y_labelled, weight_labelled : the labelled rows; when no
        row is labelled, ``y_labelled`` is a one-row placeholder target
        that only serves to set up the target encoders.
    unlabelled_rows : ndarray of int
    """
    mask = unlabelled_mask(estimator, y)
    if len(mask) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {len(mask)}; they must match.")
    check_labelled(estimator, y, mask, classes, incremental)
    unlabelled_rows = np.flatnonzero(mask)
    if not len(unlabelled_rows):
        return X, y, sample_weight, unlabelled_rows
    labelled = np.flatnonzero(~mask)
    weight = None if sample_weight is None else sample_weight[labelled]
    if len(labelled):
        return X[labelled], _safe_indexing(y, labelled), weight, unlabelled_rows
    if is_classifier(estimator):
        labels = classes if classes is not None else estimator.classes_
        placeholder = np.asarray(labels)[:1]
    else:
        shape = np.shape(y)
        placeholder = np.zeros((1, shape[1]) if len(shape) == 2 and shape[1] > 1 else 1)
    return X[labelled], placeholder, weight, unlabelled_rows
