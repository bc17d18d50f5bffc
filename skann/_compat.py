"""The one place that reaches into scikit-learn's private modules.

A scikit-learn release that moves one of these names breaks this file and
nothing else.
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

__all__ = [
    "check_array",
    "validate_data",
    "Interval",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "check_matplotlib_support",
]
