"""A fit is all or nothing, divergence is an error, a fitted model holds no
training data, and every fit keeps an epoch table in ``history_``."""

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.nn.training import MinibatchPlan


def _regression(n_samples=300, n_features=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    return X, X @ rng.normal(size=n_features) + 0.1 * rng.normal(size=n_samples)


def _state(model):
    """What a fit may change, as comparable copies."""
    return {
        "params": model.network_.params.copy(),
        "loss_curve_": list(model.loss_curve_),
        "history_": [dict(record) for record in model.history_],
        "n_iter_": model.n_iter_,
        "t_": model.t_,
    }


def _assert_same_state(before, after):
    np.testing.assert_array_equal(before["params"], after["params"])
    for key in ("loss_curve_", "history_", "n_iter_", "t_"):
        assert before[key] == after[key], key


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_diverging_sgd_fit_raises_and_keeps_the_previous_model():
    X, y = _regression()
    model = MLPRegressor(solver="sgd", random_state=0, max_iter=20).fit(X, y)
    before, prediction = _state(model), model.predict(X)
    with pytest.raises(ValueError, match="diverged.*learning_rate_init.*StandardScaler"):
        model.set_params(learning_rate_init=1e3).fit(X, 1e6 * y)
    _assert_same_state(before, _state(model))
    np.testing.assert_array_equal(model.predict(X), prediction)


def test_diverging_first_fit_leaves_no_model():
    X, y = _regression()
    model = MLPRegressor(solver="sgd", learning_rate_init=1e3, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        model.fit(X, 1e6 * y)
    assert not hasattr(model, "network_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_divergence_mid_warm_start_restores_weights_and_curves():
    # The weights change in place for several steps before the loss blows
    # up: everything must come back, not only the attributes.
    X, y = _regression()
    model = MLPRegressor(solver="sgd", warm_start=True, random_state=0, max_iter=10).fit(X, y)
    before = _state(model)
    with pytest.raises(ValueError, match="diverged"):
        model.set_params(learning_rate_init=50.0).fit(X, y)
    _assert_same_state(before, _state(model))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_exception_mid_training_restores_everything(monkeypatch, method):
    X, y = _regression()
    model = MLPRegressor(warm_start=True, random_state=0, max_iter=5).fit(X, y)
    before = _state(model)
    untouched = MLPRegressor(warm_start=True, random_state=0, max_iter=5).fit(X, y)
    original = MinibatchPlan.batches

    def failing(self):
        for index, batch in enumerate(original(self)):
            if index == 1:
                raise RuntimeError("interrupted")
            yield batch

    monkeypatch.setattr(MinibatchPlan, "batches", failing)
    with pytest.raises(RuntimeError, match="interrupted"):
        getattr(model, method)(X, y)
    _assert_same_state(before, _state(model))
    monkeypatch.setattr(MinibatchPlan, "batches", original)
    # Everything that training continues (the optimizer's moments, the
    # schedule, the shuffling draws) is as it was: training on from here
    # gives exactly what training on from a model that never failed gives.
    getattr(model, method)(X, y)
    getattr(untouched, method)(X, y)
    np.testing.assert_array_equal(model.predict(X), untouched.predict(X))


def _traced_bytes_after_fit(estimator, X, y):
    gc.collect()
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        gc.collect()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "estimator",
    [
        MLPRegressor(hidden_layer_sizes=(100,), solver="lbfgs", max_iter=5, random_state=0),
        MLPClassifier(hidden_layer_sizes=(100,), max_iter=2, random_state=0),
        AutoEncoder(hidden_layer_sizes=(100, 10), max_iter=2, random_state=0),
    ],
    ids=["lbfgs", "adam", "autoencoder"],
)
def test_fitted_model_keeps_no_training_arrays(estimator):
    # float32 X: the old engine kept a float64 copy of it (lbfgs) and the
    # last batch's activations in its layers.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20_000, 50)).astype(np.float32)
    y = X[:, 0] > 0 if isinstance(estimator, MLPClassifier) else X[:, 0]
    model = clone(estimator)
    retained = _traced_bytes_after_fit(model, X, y)
    params = model.network_.params
    # Parameters, optimizer moments and a few small encoders: a handful of
    # parameter-sized arrays, far below one copy of X (4 MB, 8 MB in float64).
    assert retained < 8 * params.nbytes + 200_000, retained
    assert retained < X.nbytes / 4


def test_history_is_an_epoch_table():
    X, y = _regression()
    model = MLPRegressor(max_iter=7, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert len(model.history_) == model.n_iter_ == 7
    assert [record["epoch"] for record in model.history_] == list(range(1, 8))
    assert [record["loss"] for record in model.history_] == model.loss_curve_
    for record in model.history_:
        assert {"epoch", "loss", "learning_rate", "seconds"} <= set(record)
        assert record["learning_rate"] == 0.001 and record["seconds"] >= 0
    model.partial_fit(X, y)
    assert [record["epoch"] for record in model.history_][-2:] == [7, 8]


def test_history_with_early_stopping_has_validation_columns():
    X, y = _regression(n_samples=400)
    model = MLPRegressor(early_stopping=True, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert [record["val_score"] for record in model.history_] == model.validation_scores_
    losses = [record["val_loss"] for record in model.history_]
    best = int(np.argmin(losses))
    assert model.history_[best].get("restored") is True
    assert model.best_validation_score_ == model.history_[best]["val_score"]


def test_lbfgs_history_has_one_record_per_iteration():
    X, y = _regression()
    model = MLPRegressor(solver="lbfgs", max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert len(model.history_) == model.n_iter_
    losses = [record["loss"] for record in model.history_]
    assert losses[-1] < losses[0]
    assert model.loss_ == pytest.approx(losses[-1])
