"""MLPRegressor: single and multi-output targets, target scaling, Poisson."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import mean_poisson_deviance, r2_score
from sklearn.preprocessing import StandardScaler

from skann import MLPRegressor

from ._data import regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _scaled_regression(**kwargs):
    X, y = regression(**kwargs)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_single_output(solver):
    X, y = _scaled_regression()
    reg = MLPRegressor(hidden_layer_sizes=(20,), solver=solver, learning_rate_init=0.01, max_iter=300, random_state=0)
    reg.fit(X, y)
    prediction = reg.predict(X)
    assert prediction.shape == (X.shape[0],)
    assert reg.n_outputs_ == 1
    assert reg.out_activation_ == "identity"
    assert reg.score(X, y) == pytest.approx(r2_score(y, prediction))
    assert reg.score(X, y) > 0.95


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multi_output(solver):
    X, Y = _scaled_regression(n_targets=3)
    Y[:, 1] *= 1000  # outputs on very different scales
    reg = MLPRegressor(hidden_layer_sizes=(20,), solver=solver, learning_rate_init=0.01, max_iter=300, random_state=0)
    reg.fit(X, Y)
    prediction = reg.predict(X)
    assert prediction.shape == Y.shape
    assert reg.n_outputs_ == 3
    assert [coef.shape for coef in reg.coefs_] == [(5, 20), (20, 3)]
    for column in range(3):
        assert r2_score(Y[:, column], prediction[:, column]) > 0.9
    tags = reg.__sklearn_tags__()
    assert tags.target_tags.multi_output and tags.target_tags.single_output


def test_column_target_warns_and_predicts_1d():
    X, y = _scaled_regression()
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0)
    with pytest.warns(DataConversionWarning):
        reg.fit(X, y.reshape(-1, 1))
    assert reg.predict(X).shape == (X.shape[0],)


def test_target_scaling_makes_predictions_equivariant():
    # Defaults work on targets of any scale: fitting 1000 * y + 5 trains the
    # network on the same standardised target as y does, so it predicts
    # 1000 * (prediction on y) + 5. Few lbfgs iterations: over hundreds of
    # them, round-off differences between the two runs (which BLAS and
    # library versions change) are amplified without bound.
    X, y = _scaled_regression()
    params = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small = MLPRegressor(**params).fit(X, y / y.std())
        large = MLPRegressor(**params).fit(X, 1000 * y / y.std() + 5)
    # The same optimisation problem: the same losses, iteration by iteration.
    np.testing.assert_allclose(large.loss_curve_, small.loss_curve_, rtol=1e-6)
    assert large.n_iter_ == small.n_iter_
    # Predictions agree to a thousandth of the target's spread.
    np.testing.assert_allclose(large.predict(X), 1000 * small.predict(X) + 5, rtol=0, atol=1.0)
    assert large.score(X, 1000 * y / y.std() + 5) == pytest.approx(small.score(X, y / y.std()), abs=1e-6)


def test_default_regressor_handles_large_targets():
    X, y = _scaled_regression()
    reg = MLPRegressor(random_state=0).fit(X, 1e4 * y + 1e5)
    assert reg.score(X, 1e4 * y + 1e5) > 0.9


def test_scale_target_attributes():
    X, y = _scaled_regression()
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0).fit(X, 3 * y + 7)
    np.testing.assert_allclose(reg.target_mean_, [np.mean(3 * y + 7)])
    np.testing.assert_allclose(reg.target_scale_, [np.std(3 * y + 7)])
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", scale_target=False, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.target_mean_, [0.0])
    np.testing.assert_array_equal(reg.target_scale_, [1.0])


@pytest.mark.parametrize("tol, atol", [(1e-4, 0.05), (1e-9, 1e-3)])
def test_constant_target(tol, atol):
    # lbfgs stops once the projected gradient is below tol, as in sklearn.
    X, _ = _scaled_regression()
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", tol=tol, random_state=0)
    reg.fit(X, np.full(X.shape[0], 3.5))
    np.testing.assert_allclose(reg.predict(X), 3.5, atol=atol)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_poisson(solver):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    y = rng.poisson(np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.5))
    reg = MLPRegressor(
        loss="poisson", hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    assert reg.out_activation_ == "exp"
    prediction = reg.predict(X)
    assert np.all(prediction > 0)
    baseline = mean_poisson_deviance(y, np.full(len(y), y.mean()))
    assert mean_poisson_deviance(y, prediction) < 0.6 * baseline
    assert reg.__sklearn_tags__().target_tags.positive_only


def test_fitted_attributes():
    X, y = _scaled_regression()
    reg = MLPRegressor(hidden_layer_sizes=(6, 3), max_iter=15, random_state=0).fit(X, y)
    assert [coef.shape for coef in reg.coefs_] == [(5, 6), (6, 3), (3, 1)]
    assert [intercept.shape for intercept in reg.intercepts_] == [(6,), (3,), (1,)]
    assert reg.n_layers_ == 4
    assert reg.n_features_in_ == 5
    assert reg.n_iter_ == 15 == len(reg.loss_curve_)
    assert reg.t_ == 15 * X.shape[0]
    assert reg.loss_ == reg.loss_curve_[-1]


def test_lbfgs_loss_matches_half_squared_error_in_scaled_units():
    X, y = _scaled_regression()
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", alpha=0.0, random_state=0).fit(X, y)
    residual = (reg.predict(X) - y) / reg.target_scale_[0]
    assert reg.loss_ == pytest.approx(0.5 * np.mean(residual**2), rel=1e-6)
