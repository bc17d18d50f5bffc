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


# ----------------------------------------------------------------------
# Fit: memory above the input (benchmarks/memory.py measures it against
# sklearn on the benchmark configs)
# ----------------------------------------------------------------------
def _fit_bytes_per_row(make, n_classes, sizes=(20_000, 60_000)):
    """Growth of a fit's traced peak per training row (a warm-up fit first:
    imports and caches are not the fit's)."""
    rng = np.random.RandomState(0)
    peaks = []
    for n_rows in sizes:
        X = rng.normal(size=(n_rows, 4)).astype(np.float32)
        y = np.arange(n_rows) % n_classes if n_classes else X[:, 0].astype(np.float64)
        make().fit(X[:100], y[:100])
        peaks.append(traced(make().fit, X, y)[1])
    return (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_memory_per_row_is_not_a_float_one_hot_of_the_classes():
    # Classes stay one-hot in uint8 (made from the binarizer's sparse form)
    # and each minibatch is cast on its own: a fit no longer holds a float64
    # one-hot matrix, its float32 copy and the binarizer's int64 one
    # (8 + 4 + 8 bytes per row and class: 800 bytes a row here).
    n_classes = 40
    per_row = _fit_bytes_per_row(
        lambda: MLPClassifier(hidden_layer_sizes=(8,), batch_size=64, max_iter=1, random_state=0), n_classes,
    )
    assert per_row < 4 * n_classes, per_row  # less than a float32 one-hot


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_memory_per_row_of_a_regression_is_under_two_float64_targets():
    # The float64 targets are dropped for their float32 copy before training,
    # and no int64 row index is kept (it was 28 bytes a row: the targets in
    # float64 and float32, an index and its shuffled copy).
    per_row = _fit_bytes_per_row(
        lambda: MLPRegressor(hidden_layer_sizes=(8,), batch_size=64, max_iter=1, random_state=0), None,
    )
    assert per_row < 16, per_row


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_memory_of_a_wide_network_is_five_parameter_copies_and_a_batch():
    # Parameters, gradients, Adam's two moments and the interrupt snapshot
    # (the weights at the epoch's start): the step's scratch is the gradient
    # itself, the penalty's a quarter block, and the end-of-epoch check
    # allocates nothing parameter-sized (6.6 copies of the parameters in all
    # before; 5.4 now, the batch's buffers and Python objects included).
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(2000, 20)).astype(np.float32), rng.normal(size=2000)
    make = lambda: MLPRegressor(hidden_layer_sizes=(512, 512), batch_size=32, max_iter=2, random_state=0)  # noqa: E731
    make().fit(X[:100], y[:100])
    model, peak = traced(make().fit, X, y)
    parameter_bytes = model.network_.params.nbytes
    assert model.network_.params.dtype == np.float32
    assert peak < 6 * parameter_bytes, peak / parameter_bytes
