"""The one place that reaches into scikit-learn's private or new modules.

A scikit-learn release that moves one of these names breaks this file and
nothing else. ``sklearn.callback`` (experimental, new in 1.9) is optional:
without it, :class:`CallbackSupportMixin` is an empty mixin (no
``set_callbacks``) and :func:`root_callback_context` returns None, so
everything else keeps working.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

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
    "Interval",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "check_matplotlib_support",
    "root_callback_context",
]
