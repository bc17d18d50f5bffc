"""Predict works in chunks: its memory above the input grows only by the
result (and the raw scores) per row, whatever the number of rows.

benchmarks/predict_memory.py measures 2,000,000 rows against sklearn.
"""

import numpy as np
import pytest

from skann import AutoEncoder, MLPClassifier, MLPRegressor

from ._data import traced

MEBIBYTE = 2**20


def _fitted(estimator):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 20))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    if isinstance(estimator, AutoEncoder):
        return estimator.fit(X)
    return estimator.fit(X, y if isinstance(estimator, MLPClassifier) else X[:, 0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "estimator, method, bytes_per_row",
    [
        # predict: the labels (int64; decoded chunk by chunk, no row's
        # scores are kept); predict_proba: the scores (3 columns), in whose
        # buffer the probabilities are computed
        (MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=1, random_state=0), "predict", 8),
        (MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=1, random_state=0),
         "predict_proba", 24),
        (MLPRegressor(hidden_layer_sizes=(256, 128), max_iter=1, random_state=0), "predict", 8),
        (AutoEncoder(hidden_layer_sizes=(256, 4), max_iter=1, random_state=0), "transform", 32),
    ],
    ids=["classifier-predict", "classifier-proba", "regressor", "autoencoder"],
)
def test_predict_working_memory_does_not_grow_with_rows(estimator, method, bytes_per_row):
    model = _fitted(estimator)
    call = getattr(model, method)
    X_small = np.random.RandomState(1).normal(size=(100_000, 20))
    X_large = np.random.RandomState(1).normal(size=(200_000, 20))
    small, large = traced(call, X_small)[1], traced(call, X_large)[1]
    # Beyond the per-row outputs, the working buffers are the same size ...
    working_small = small - bytes_per_row * len(X_small)
    working_large = large - bytes_per_row * len(X_large)
    assert abs(working_large - working_small) < 0.5 * MEBIBYTE, (small, large)
    # ... and bounded: a chunk of 4096 rows through the widest layers,
    # far below a pass of all rows at once (100,000 x 256 x 8 = 195 MiB).
    assert working_large < 24 * MEBIBYTE, working_large
