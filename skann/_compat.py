"""The one place that reaches into scikit-learn's private or new modules.

A scikit-learn release that moves one of these names breaks this file and
nothing else. ``sklearn.callback`` (experimental, new in 1.9) is optional:
without it, :class:`CallbackSupportMixin` is an empty mixin (no
``set_callbacks``) and :func:`root_callback_context` returns None, so
everything else keeps working.
"""

import functools

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils import validation as _validation



def _quiet(function):
    """``function`` without numpy's floating-point warnings.

    sklearn's finiteness check sums the input first; inf and -inf in one
    array make that sum warn "invalid value" before the clear "Input
    contains infinity" error. The error is what the user needs.
    """

    @functools.wraps(function)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return function(*args, **kwargs)

    return quiet


def _check_columns(X):
    # sklearn lets numpy fail on a DataFrame without columns ("at least one
    # array or dtype is required"); say what is wrong instead.
    if hasattr(X, "columns") and hasattr(X, "shape") and len(X.columns) == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
            "is required."
        )


@_quiet
def validate_data(estimator, X="no_validation", *args, **kwargs):
    """sklearn's ``validate_data``, quiet and clear (see ``_quiet``)."""
    _check_columns(X)
    return _validation.validate_data(estimator, X, *args, **kwargs)


@_quiet
def check_array(array, *args, **kwargs):
    """sklearn's ``check_array``, quiet and clear (see ``_quiet``)."""
    _check_columns(array)
    return _validation.check_array(array, *args, **kwargs)


_check_sample_weight = _quiet(_validation._check_sample_weight)


def feature_names(X):
    """X's column names (an array of str) as ``validate_data`` would record
    them in ``feature_names_in_``, or None; nothing is written."""
    return _validation._get_feature_names(X)

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callbacks
    HAS_CALLBACKS = False

    class CallbackSupportMixin:
        """Stands in for ``sklearn.callback.CallbackSupportMixin``: no callbacks."""

else:
    HAS_CALLBACKS = True

# What sklearn.callback keeps on an estimator: the callbacks set (or
# propagated by a meta-estimator) and the state of the fit in progress.
# Callbacks belong to a session, not to a model: fits keep them by
# reference and pickles drop them.
CALLBACK_ATTRIBUTES = (
    "_skl_callbacks",
    "_skl_callbacks_to_teardown",
    "_callback_fit_ctx",
    "_parent_callback_ctx",
)


def root_callback_context(estimator, max_subtasks):
    """The root callback context of a fit, or None when no callback listens.

    Calls ``_init_callback_context`` (which runs the callbacks' ``setup``)
    only when callbacks are set on ``estimator`` or it is fitted inside a
    meta-estimator's task; otherwise (and without ``sklearn.callback``) a
    fit pays nothing.

    Parameters
    ----------
    estimator : estimator instance
    max_subtasks : int or None
        The number of subtasks (epochs) the fit may report.

    Returns
    -------
    context : sklearn.callback.CallbackContext or None
    """
    if not HAS_CALLBACKS:
        return None
    listening = getattr(estimator, "_skl_callbacks", None) or hasattr(
        estimator, "_parent_callback_ctx"
    )
    if not listening or hasattr(estimator, "_callback_fit_ctx"):
        return None  # nobody listens, or an outer call of this fit reports
    return estimator._init_callback_context(max_subtasks=max_subtasks)


__all__ = [
    "CALLBACK_ATTRIBUTES",
    "CallbackSupportMixin",
    "HAS_CALLBACKS",
    "check_array",
    "feature_names",
    "validate_data",
    "Interval",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "check_matplotlib_support",
    "root_callback_context",
]
