"""One fitted model, many threads: predictions are bit-identical to
sequential ones, and the process's BLAS setting is left as it was."""

import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from threadpoolctl import threadpool_info, threadpool_limits

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.layers import AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LayerNorm, MaxPool2D

N_THREADS, N_ROUNDS = 8, 50


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(800, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def _fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


def _run_in_threads(method, parts):
    """``method(part)`` N_ROUNDS times in each of N_THREADS threads at once."""
    results = [[None] * N_ROUNDS for _ in parts]
    barrier = threading.Barrier(len(parts))

    def work(index):
        barrier.wait()
        for round_ in range(N_ROUNDS):
            results[index][round_] = method(parts[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


CASES = [
    (MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=3, random_state=0), "predict_proba"),
    (MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=3, random_state=0), "predict"),
    (MLPClassifier(max_iter=5, random_state=0), "predict_proba"),
    (MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=3, random_state=0), "predict"),
    (AutoEncoder(hidden_layer_sizes=(256, 8), max_iter=3, random_state=0), "transform"),
    (AutoEncoder(hidden_layer_sizes=(256, 8), max_iter=3, random_state=0), "inverse_transform"),
    (
        MLPClassifier(
            layers=[Conv2D(8, 3, padding="same"), BatchNorm(), Flatten(), Dense(16), Dropout(0.3)],
            input_shape=(4, 5), max_iter=3, random_state=0,
        ),
        "predict_proba",
    ),
    (MLPClassifier(hidden_layer_sizes=(32,), max_iter=3, random_state=0), "predict_log_proba"),
    (
        MLPRegressor(
            layers=[Conv2D(4, 3, padding="same"), MaxPool2D(2), LayerNorm(), Flatten(), Dense(8)],
            input_shape=(4, 5), max_iter=3, random_state=0,
        ),
        "predict",
    ),
    (
        AutoEncoder(
            layers=[Conv2D(4, 3, padding="same"), AvgPool2D(2), Flatten(), Dense(8)],
            input_shape=(4, 5), max_iter=3, random_state=0,
        ),
        "transform",
    ),
    (
        MLPClassifier(hidden_layer_sizes=(32,), semi_supervised="pi_model", max_iter=3,
                      random_state=0),
        "predict_proba",
    ),
]


@pytest.mark.parametrize("estimator, method", CASES, ids=lambda c: str(c)[:40])
def test_concurrent_inference_is_bit_identical_to_sequential(estimator, method):
    X, y = _data()
    model = _fitted(clone(estimator), X, y)
    call = getattr(model, method)
    if method == "inverse_transform":
        X = model.transform(X)
    # Parts of different sizes, so that the threads' buffers differ in shape.
    parts = [X[i :: N_THREADS][: 40 + 10 * i] for i in range(N_THREADS)]
    expected = [call(part) for part in parts]
    results = _run_in_threads(call, parts)
    wrong = sum(
        not np.array_equal(result, expected[index])
        for index, rounds in enumerate(results)
        for result in rounds
    )
    assert wrong == 0, f"{wrong} of {N_THREADS * N_ROUNDS} concurrent calls differ"


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_predict_and_fit_leave_the_process_blas_setting_alone():
    X, y = _data()
    model = _fitted(MLPClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0), X, y)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        _run_in_threads(model.predict_proba, [X[:100]] * 4)
        assert _blas_threads() == before
        # Fits limit BLAS threads while they run (small products run on one
        # thread); concurrent fits, ending in any order, restore the setting.
        fits = [clone(model).set_params(max_iter=1 + i) for i in range(4)]
        threads = [threading.Thread(target=_fitted, args=(fit, X, y)) for fit in fits]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _blas_threads() == before
        assert all(hasattr(fit, "network_") for fit in fits)


FIT_CASES = [
    MLPClassifier(hidden_layer_sizes=(32,), max_iter=3, random_state=0),
    MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=5, random_state=0),
    AutoEncoder(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    MLPClassifier(
        layers=[Conv2D(4, 3, padding="same"), BatchNorm(), MaxPool2D(2), Flatten(), Dropout(0.2)],
        input_shape=(4, 5), max_iter=2, random_state=0,
    ),
]


@pytest.mark.parametrize("estimator", FIT_CASES, ids=lambda c: str(c)[:40])
def test_fitting_clones_in_threads_matches_a_sequential_fit(estimator):
    X, y = _data()
    expected = _fitted(clone(estimator), X, y)
    clones = [clone(estimator) for _ in range(4)]
    errors = []

    def work(model):
        try:
            _fitted(model, X, y)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(model,)) for model in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for model in clones:
        np.testing.assert_array_equal(model.network_.params, expected.network_.params)
        assert model.loss_curve_ == expected.loss_curve_
