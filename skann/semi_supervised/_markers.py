"""Which samples are unlabelled: the marker and its checks.

The estimators describe their marking once (:class:`Marking`, from their
parameters); the functions here take that description, never the
estimator.
"""

import numbers

import numpy as np
from typing import NamedTuple

from sklearn.base import is_classifier

from .._compat import _safe_indexing
from .._targets import is_missing

__all__ = ["Marking", "check_labelled", "marker_mask", "marking", "resolve_marker", "unlabelled_mask"]


class Marking(NamedTuple):
    """How an estimator marks unlabelled targets.

    Attributes
    ----------
    marker : object
        The resolved marker (-1, NaN, or the user's value).
    given : object
        ``unlabelled_marker`` as set ("auto" by default).
    classifier : bool
    method : str
        The ``semi_supervised`` method, for error messages.
    """

    marker: object
    given: object
    classifier: bool
    method: str


def marking(estimator):
    """The :class:`Marking` of ``estimator``'s parameters (read, not kept)."""
    classifier = is_classifier(estimator)
    given = estimator.unlabelled_marker
    return Marking(resolve_marker(given, classifier), given, classifier, estimator.semi_supervised)


def resolve_marker(marker, classifier):
    """The value that marks an unlabelled target: ``marker``, or for "auto"
    -1 (classifiers) and NaN (regressors)."""
    if isinstance(marker, str) and marker == "auto":
        return -1 if classifier else np.nan
    if isinstance(marker, (bool, np.bool_)):
        raise TypeError(
            f"unlabelled_marker={marker!r} would mark the class {int(marker)} as "
            "unlabelled; give the marker as the label value itself (e.g. -1), not a bool."
        )
    return marker


def _is_nan(value):
    return isinstance(value, numbers.Real) and np.isnan(value)


def marker_mask(y, marker):
    """Boolean mask of the rows of raw targets ``y`` equal to ``marker``.

    A row of a 2-d target matches when all its entries are the marker;
    a NaN marker matches NaN, None and pandas' NA targets.

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
            # None and pandas' NA are missing labels too.
            equal = np.vectorize(is_missing, otypes=[bool])(y) if y.size else y.astype(bool)
    else:
        equal = np.asarray(y.astype(object) == marker, dtype=bool).reshape(y.shape)
    return equal.all(axis=1) if equal.ndim == 2 else equal


def unlabelled_mask(y, marking):
    """Boolean mask of the unlabelled rows of raw targets ``y``."""
    _check_marker_type(y, marking)
    mask = marker_mask(y, marking.marker)
    _check_string_labels(y, mask, marking)
    return mask


def _check_marker_type(y, marking):
    """A marker that cannot be a label of ``y`` would mark nothing, silently."""
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    marker = marking.marker
    numeric_labels = y.dtype.kind in "iufb"
    if numeric_labels and isinstance(marker, str):
        raise ValueError(
            f"unlabelled_marker={marker!r} is a string but y has numeric labels, so it "
            "marks no sample; give it as a number (e.g. -1)."
        )


def _check_string_labels(y, mask, marking):
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if y.dtype.kind not in "OUS" or mask.any() or not (isinstance(marking.given, str) and marking.given == "auto"):
        return
    if np.any(y.astype(object) == "-1"):
        raise ValueError(
            "y has string labels and some are '-1'. The default "
            "unlabelled_marker='auto' is -1, which marks numeric labels only; "
            "set unlabelled_marker='-1' if those samples are unlabelled."
        )


def check_labelled(y, mask, marking, classes=None, incremental=False):
    """Errors for targets with too few labels, or a marker that is a class.

    ``partial_fit`` (``incremental``) accepts batches without any label.
    """
    marker = marking.marker
    if classes is not None and not _is_nan(marker):
        if np.any(np.asarray(classes, dtype=object) == marker):
            raise ValueError(
                f"classes contains {marker!r}, the unlabelled_marker of "
                f"semi_supervised={marking.method!r}. Set unlabelled_marker "
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
    if marking.classifier and labelled.ndim == 1 and len(np.unique(labelled)) < 2:
        raise ValueError(
            f"Once the samples marked unlabelled (y == {marker!r}) are set aside, "
            f"only one class is left: {labelled[0]!r}. If {marker!r} is a real "
            "class, set unlabelled_marker to another value, or "
            "semi_supervised=None."
        )
