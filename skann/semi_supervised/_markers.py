"""Which samples are unlabelled: the marker, its checks, the labelled split."""

import numbers

import numpy as np
from sklearn.base import is_classifier

from .._compat import _safe_indexing

__all__ = ["check_labelled", "marker_mask", "resolve_marker", "split_labelled", "unlabelled_mask"]


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
    >>> from skann.semi_supervised import marker_mask
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
