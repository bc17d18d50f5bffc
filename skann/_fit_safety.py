"""Inputs and outputs that stay finite in the network's compute dtype.

The checks say clearly when finite data would overflow the network's
compute dtype. (Fits are all or nothing by construction: they train a
state aside and commit it at the end; see ``skann/_plan.py``.)
"""

import numpy as np
import scipy.sparse as sp

from .nn._finite import all_finite

__all__ = ["all_finite", "check_finite_output", "check_representable", "scale_safe_weights"]

# Total sample weights outside this range make weighted means inexact or
# infinite (a sum above 1.8e308, the L2 penalty alpha / sum(weight)).
SAFE_WEIGHT_TOTAL = (2.0**-500, 2.0**500)


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
    if not all_finite(values):
        raise ValueError(
            f"The output of {type(estimator).__name__} overflowed to infinity or NaN on "
            f"this X (largest magnitude {_largest_magnitude(X):.3g}). Scale X, e.g. with "
            "StandardScaler, as for the training data."
        )


def _largest_magnitude(X):
    values = X.data if sp.issparse(X) else X
    return float(np.abs(values).max()) if values.size else 0.0


def scale_safe_weights(weight, name="sample_weight"):
    """``weight``, or ones for uniform weights whose total is out of range.

    A weighted fit divides by the total weight (the loss's weighted mean,
    the L2 penalty ``alpha / sum(weight)``). Uniform weights of 1e308 (the
    sum overflows) or 1e-320 (the penalty overflows) mean equal weights, so
    they become ones; other weights whose total is outside
    ``SAFE_WEIGHT_TOTAL`` are refused: divide them by their mean.
    """
    if weight is None or not len(weight):
        return weight
    with np.errstate(over="ignore"):
        total = weight.sum()
    low, high = SAFE_WEIGHT_TOTAL
    if total == 0 or low <= total <= high:
        return weight
    if (weight == weight[0]).all():
        return np.ones_like(weight)
    raise ValueError(
        f"{name} sums to {total:.3g}, too {'large' if total > high else 'small'} for "
        "the weighted means of training (their total must lie between "
        f"{low:.3g} and {high:.3g}). Divide {name} by its mean (the loss depends "
        "only on the weights' ratios)."
    )
