"""Fits that are all or nothing, and inputs and outputs that stay finite.

:func:`all_or_nothing` wraps the estimators' ``fit`` and ``partial_fit``:
a call that raises leaves the estimator exactly as it was. The checks say
clearly when finite data would overflow the network's compute dtype.
"""

import copy
import functools

import numpy as np
import scipy.sparse as sp

from ._compat import CALLBACK_ATTRIBUTES

__all__ = [
    "all_or_nothing", "check_finite_output", "check_representable", "restore_state", "save_state",
]


@functools.lru_cache(maxsize=None)
def _estimator_param_names(cls):
    """``cls``'s parameter names (cached: fits call this on every call)."""
    return frozenset(cls._get_param_names())


# Fitted lists that training only ever appends to.
APPEND_ONLY = frozenset({"loss_curve_", "history_", "validation_scores_"})
# Fitted attributes that a fit may replace but never changes in place:
# kept by reference, not copied.
REPLACED_ONLY = frozenset({
    "_loss", "_trained_architecture", "_inference_plan", "_label_binarizer",
    "classes_", "target_mean_", "target_scale_", "n_features_in_", "feature_names_in_",
})


def all_or_nothing(fit_method):
    """Leave the estimator exactly as it was when ``fit_method`` raises.

    Everything but the parameters is deep-copied first (the network's
    buffers, optimizer and schedule state, the training history) and put
    back on any exception, so a fit that fails on bad input, diverges or is
    interrupted never leaves a half-trained or half-reset model. Callbacks
    and their fit state are not the model's: they are kept by reference and
    left as the call left them (sklearn tears them down after the call).
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        saved = save_state(self)
        try:
            return fit_method(self, *args, **kwargs)
        except BaseException:
            restore_state(self, saved)
            raise

    return wrapper


def save_state(estimator):
    """What :func:`restore_state` needs to put ``estimator`` back as it is now."""
    kept = _estimator_param_names(type(estimator)) | REPLACED_ONLY | frozenset(CALLBACK_ATTRIBUTES)
    saved, lengths, states = {}, {}, {}
    for key, value in estimator.__dict__.items():
        if key in kept:
            saved[key] = value
        elif key in APPEND_ONLY and isinstance(value, list):
            # Training only appends to these: remember the length, not
            # a copy (a copy of history_ would grow with every call).
            saved[key], lengths[key] = value, len(value)
        elif isinstance(value, np.random.RandomState):
            # Its state, not a pickled copy: several times cheaper.
            saved[key], states[key] = value, value.get_state()
        else:
            saved[key] = copy.deepcopy(value)
    return saved, lengths, states


def restore_state(estimator, state):
    """Put ``estimator`` back as it was at :func:`save_state` (callbacks kept)."""
    saved, lengths, states = state
    callbacks = {key: estimator.__dict__[key] for key in CALLBACK_ATTRIBUTES if key in estimator.__dict__}
    estimator.__dict__.clear()
    estimator.__dict__.update(saved)
    estimator.__dict__.update(callbacks)
    for key, length in lengths.items():
        del saved[key][length:]
    for key, random_state in states.items():
        saved[key].set_state(random_state)


def check_representable(X, dtype):
    """Raise a ``ValueError`` when finite X overflows the compute ``dtype``.

    Values above float32's largest (3.4e38) would train a float32 network
    on infinities; the error says what to do instead.
    """
    limit = np.finfo(dtype).max
    values = X.data if sp.issparse(X) else X
    # max and -min rather than abs(X).max(): no temporary copy of X.
    if np.finfo(values.dtype).max > limit and values.size and max(values.max(), -values.min()) > limit:
        raise ValueError(
            f"X has values of magnitude above {limit:.3g}, beyond the range of the "
            f"network's compute dtype {np.dtype(dtype).name}. Scale X (e.g. with "
            "StandardScaler), or set dtype='float64'."
        )


def check_finite_output(estimator, values, X):
    """Raise a clear ``ValueError`` where finite X overflowed to inf or NaN."""
    if not np.isfinite(values).all():
        raise ValueError(
            f"The output of {type(estimator).__name__} overflowed to infinity or NaN on "
            f"this X (largest magnitude {_largest_magnitude(X):.3g}). Scale X, e.g. with "
            "StandardScaler, as for the training data."
        )


def _largest_magnitude(X):
    values = X.data if sp.issparse(X) else X
    return float(np.abs(values).max()) if values.size else 0.0
