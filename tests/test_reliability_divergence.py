"""Exploding settings for every solver: a clear error, or (lbfgs, and the
adaptive solvers whose steps stay bounded) a finite model; never NaN
predictions, and a failed fit leaves the previous model as it was."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.nn.hooks import Divergence

SOLVERS = ["sgd", "adam", "adamw", "rmsprop", "lbfgs"]
rng = np.random.RandomState(0)
X = rng.normal(size=(80, 5))
TARGETS = {MLPClassifier: (X[:, 0] > 0).astype(int), MLPRegressor: 3 * X[:, 0], AutoEncoder: None}
# (learning_rate_init, input scale): a huge step, and inputs near float64's limit.
SETTINGS = [(1e6, 1.0), (1e3, 1e100), (0.1, 1e150)]


def _outputs(model, X):
    if isinstance(model, AutoEncoder):
        return model.inverse_transform(model.transform(X))
    return model.predict_proba(X) if isinstance(model, MLPClassifier) else model.predict(X)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor, AutoEncoder])
@pytest.mark.parametrize("learning_rate, scale", SETTINGS)
def test_exploding_settings_raise_or_stay_finite(solver, estimator_class, learning_rate, scale):
    params = dict(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=learning_rate,
                  max_iter=20, random_state=0)
    if estimator_class is MLPRegressor:
        params["scale_target"] = False
    model = estimator_class(**params)
    data = X * scale
    y = TARGETS[estimator_class]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            model.fit(data, y) if y is not None else model.fit(data)
        except Divergence as error:
            assert "diverged" in str(error)
            assert not hasattr(model, "network_")  # all or nothing
            return
        assert np.isfinite(model.network_.params).all()
        try:
            outputs = _outputs(model, data)
        except ValueError as error:  # finite weights, but the input overflows them
            assert "overflow" in str(error)
        else:
            assert np.isfinite(outputs).all()


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_sgd_with_a_huge_step_raises_and_keeps_the_previous_model(estimator_class):
    y = TARGETS[estimator_class]
    model = estimator_class(hidden_layer_sizes=(16,), solver="sgd", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    before = model.network_.params.copy(), list(model.loss_curve_)
    model.set_params(learning_rate_init=1e6, scale_target=False) if estimator_class is MLPRegressor \
        else model.set_params(learning_rate_init=1e6)
    with pytest.raises(ValueError, match="diverged"):
        model.fit(X * 1e100, y)
    np.testing.assert_array_equal(model.network_.params, before[0])
    assert model.loss_curve_ == before[1]


def test_lbfgs_stops_with_a_warning_and_finite_weights():
    # The line search refuses steps that blow the loss up: lbfgs stops early,
    # warns, and keeps finite weights.
    model = MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs"):
        model.fit(X * 1e150, TARGETS[MLPClassifier])
    assert np.isfinite(model.network_.params).all()
    proba = model.predict_proba(X * 1e150)
    assert np.isfinite(proba).all()


def test_lbfgs_whose_first_loss_is_not_finite_raises():
    # Nothing finite to stop at: the squared error of unscaled outputs of
    # inputs near 1e150 overflows at the starting weights.
    model = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", scale_target=False,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="diverged"):
            model.fit(X * 1e150, 3 * X[:, 0])
