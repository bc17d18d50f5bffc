"""The one place that reaches into scikit-learn's private modules.

A scikit-learn release that moves one of these names breaks this file and
nothing else.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "Interval",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "check_matplotlib_support",
]
