"""Inputs and outputs that stay finite in the network's compute dtype.

The checks say clearly when finite data would overflow the network's
compute dtype. (Fits are all or nothing by construction: they train a
state aside and commit it at the end; see ``skann/_plan.py``.)
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["check_finite_output", "check_representable"]


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
