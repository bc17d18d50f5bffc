"""Robust statistics of numeric columns, weighted as repeated rows.

A row of integer ``sample_weight`` k counts exactly as k copies of it, so
that the Tabular estimators fit the same preprocessing on weighted and on
repeated rows.
"""

import numpy as np

__all__ = ["robust_statistics"]


def robust_statistics(values, weights=None):
    """Median and scale factor of each column, NaN ignored.

    The scale is ``1 / IQR``; when the IQR is 0 (mostly one value) it is
    ``2 / (max - min)``; a constant or all-missing column gets 0.
    """
    medians, scales = np.zeros(values.shape[1]), np.zeros(values.shape[1])
    for j, values_j in enumerate(values.T):
        present = ~np.isnan(values_j)
        if not present.any():
            continue
        seen = values_j[present]
        q25, q50, q75 = _quantiles(seen, None if weights is None else weights[present])
        spread = q75 - q25
        if spread <= 0:
            spread = 0.5 * (seen.max() - seen.min())
        medians[j] = q50
        scales[j] = 1.0 / spread if spread > 0 else 0.0
    return medians, scales


def _quantiles(values, weights, levels=(0.25, 0.5, 0.75)):
    """numpy's (linear) quantiles of the rows repeated by their weights:
    a row of integer weight ``k`` counts exactly as ``k`` rows."""
    order = np.argsort(values, kind="stable")
    values = values[order]
    ends = np.cumsum(np.ones(len(values)) if weights is None else weights[order])
    position = np.maximum(ends[-1] - 1, 0) * np.asarray(levels)
    low = np.floor(position)

    def at(index):  # the value at ``index`` of the repeated rows
        return values[np.minimum(np.searchsorted(ends, index, side="right"), len(values) - 1)]

    return at(low) + (position - low) * (at(low + 1) - at(low))
