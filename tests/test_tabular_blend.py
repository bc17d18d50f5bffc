"""The Tabular estimators' linear blend: its weight is chosen on the
validation rows, it persists, and switching it off gives the network."""

import pickle

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error

import skann
from skann import TabularClassifier, TabularRegressor

FAST = {"max_iter": 60, "random_state": 0}


def _linear_regression(n=150, seed=0):
    """A linear target of 20 columns: too few rows for the network alone."""
    X = np.random.RandomState(seed).normal(size=(n, 20))
    beta = np.random.RandomState(100).normal(size=20)
    return X, X @ beta + np.random.RandomState(seed + 1000).normal(size=n)


def _xor(n=600, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_a_linear_problem_leans_on_the_linear_model():
    X, y = _linear_regression()
    X_test, y_test = _linear_regression(seed=1)
    blended = TabularRegressor(**FAST).fit(X, y)
    network = TabularRegressor(linear_blend=False, **FAST).fit(X, y)
    assert blended.linear_weight_ >= 0.5  # the linear half of the grid
    assert type(blended.linear_model_).__name__ == "Ridge"
    assert mean_squared_error(y_test, blended.predict(X_test)) <= mean_squared_error(y_test, network.predict(X_test))


def test_a_nonlinear_problem_leans_on_the_network():
    X, y = _xor()
    X_test, y_test = _xor(seed=1)
    blended = TabularClassifier(**FAST).fit(X, y)
    assert blended.linear_weight_ <= 0.2
    assert log_loss(y_test, blended.predict_proba(X_test)) < 0.4


def test_the_weight_is_the_validation_loss_minimum():
    X, y = _linear_regression()
    X_val, y_val = _linear_regression(n=100, seed=2)
    model = TabularRegressor(**FAST).fit(X, y, X_val=X_val, y_val=y_val)
    w, linear = model.linear_weight_, model.linear_model_
    network = TabularRegressor(linear_blend=False, **FAST).fit(X, y, X_val=X_val, y_val=y_val)
    encoded = model.preprocessor_.transform(X_val)
    losses = [
        mean_squared_error(y_val, (1 - v) * network.predict(X_val) + v * (
            linear.predict(encoded) * model.target_scale_[0] + model.target_mean_[0]))
        for v in np.linspace(0, 1, 11)
    ]
    assert w == pytest.approx(np.linspace(0, 1, 11)[int(np.argmin(losses))])


def test_multiclass_probabilities_are_the_blend():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = np.argmax(X[:, :3] + rng.normal(scale=0.5, size=(300, 3)), axis=1)
    model = TabularClassifier(**FAST).fit(X, y)
    off = TabularClassifier(linear_blend=False, **FAST).fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    if model.linear_model_ is not None:
        expected = (1 - model.linear_weight_) * off.predict_proba(X) + model.linear_weight_ * (
            model.linear_model_.predict_proba(model.preprocessor_.transform(X)))
        np.testing.assert_allclose(proba, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])


def test_switching_it_off_gives_the_network_alone():
    X, y = _linear_regression()
    off = TabularRegressor(linear_blend=False, **FAST).fit(X, y)
    on = TabularRegressor(**FAST).fit(X, y)
    assert off.linear_model_ is None and off.linear_weight_ == 0.0
    # Same network (the blend is fitted after training): unblended scores match.
    on_network = on._raw_scores(on._inference, on.preprocessor_.transform(X).astype(np.float64))
    off_network = off._raw_scores(off._inference, off.preprocessor_.transform(X).astype(np.float64))
    np.testing.assert_array_equal(on_network, off_network)


def test_pickle_and_skops_round_trips_keep_the_blend(tmp_path):
    X, y = _linear_regression()
    models = [TabularRegressor(**FAST).fit(X, y), TabularClassifier(**FAST).fit(X, y > 0)]
    assert all(m.linear_model_ is not None for m in models)
    for model in models:
        method = getattr(model, "predict_proba", model.predict)
        np.testing.assert_array_equal(method(X), getattr(pickle.loads(pickle.dumps(model)), method.__name__)(X))
    sio = pytest.importorskip("skops.io")
    for model in models:
        path = tmp_path / "model.skops"
        sio.dump(model, path)
        untrusted = sio.get_untrusted_types(file=path)
        assert [t for t in untrusted if t.startswith(("skann", "sklearn"))
                and t not in skann.SKOPS_TRUSTED_TYPES] == []
        loaded = sio.load(path, trusted=skann.SKOPS_TRUSTED_TYPES + untrusted)
        method = getattr(model, "predict_proba", model.predict)
        np.testing.assert_array_equal(getattr(loaded, method.__name__)(X), method(X))


def test_partial_fit_drops_the_blend():
    X, y = _linear_regression()
    model = TabularRegressor(**FAST).fit(X, y)
    assert model.linear_model_ is not None
    model.partial_fit(X, y)
    assert model.linear_model_ is None and model.linear_weight_ == 0.0
