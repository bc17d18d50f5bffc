"""solver="adamw" / "rmsprop", learning_rate schedules for every stochastic
solver (and their state across partial_fit and warm_start), clip_grad_norm,
and the errors for bad values of the new parameters."""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skann import AutoEncoder, MLPClassifier, MLPRegressor

from ._data import binary, iris, regression

STOCHASTIC = ["sgd", "adam", "adamw", "rmsprop"]
FAST = dict(hidden_layer_sizes=(8,), random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _rates(model):
    return [record["learning_rate"] for record in model.history_]


def _weight_norm(model):
    return math.sqrt(sum(float((W**2).sum()) for W in model.coefs_))


# ----------------------------------------------------------------------
# adamw and rmsprop
# ----------------------------------------------------------------------
def test_adamw_without_decay_is_adam_without_penalty():
    X, y = iris()
    adam = MLPClassifier(solver="adam", alpha=0.0, max_iter=10, **FAST).fit(X, y)
    adamw = MLPClassifier(solver="adamw", weight_decay=0.0, max_iter=10, **FAST).fit(X, y)
    for a, b in zip(adam.coefs_, adamw.coefs_):
        np.testing.assert_array_equal(a, b)


def test_adamw_decay_shrinks_the_weights_and_replaces_alpha():
    X, y = iris()
    adam = MLPClassifier(solver="adam", alpha=0.0, max_iter=50, **FAST).fit(X, y)
    adamw = MLPClassifier(solver="adamw", weight_decay=5.0, max_iter=50, **FAST).fit(X, y)
    assert _weight_norm(adamw) < 0.8 * _weight_norm(adam)
    # adamw's decay replaces the L2 penalty: alpha changes nothing.
    with_alpha = MLPClassifier(solver="adamw", weight_decay=5.0, alpha=10.0, max_iter=50, **FAST).fit(X, y)
    for a, b in zip(adamw.coefs_, with_alpha.coefs_):
        np.testing.assert_array_equal(a, b)


def test_rmsprop_trains_with_its_own_steps():
    X, y = iris()
    rmsprop = MLPClassifier(solver="rmsprop", max_iter=100, **FAST).fit(X, y)
    adam = MLPClassifier(solver="adam", max_iter=100, **FAST).fit(X, y)
    assert rmsprop.score(X, y) > 0.95
    assert rmsprop.loss_curve_[-1] < 0.3 * rmsprop.loss_curve_[0]
    assert not np.allclose(rmsprop.coefs_[0], adam.coefs_[0])


@pytest.mark.parametrize("solver", ["adamw", "rmsprop"])
def test_new_solvers_have_partial_fit_and_float32_for_large_networks(solver):
    X, y = binary()
    model = MLPClassifier(solver=solver, hidden_layer_sizes=(200, 50), **{"random_state": 0})
    model.partial_fit(X, y, classes=[0, 1])
    assert model.network_.dtype == np.float32  # dtype="auto", 11,250 weights
    assert hasattr(MLPRegressor(solver=solver), "partial_fit")


@pytest.mark.parametrize("solver", ["adamw", "rmsprop"])
def test_new_solvers_train_semi_supervised(solver):
    X, y = iris()
    y = y.copy()
    y[::2] = -1
    model = MLPClassifier(solver=solver, semi_supervised="entropy", supervised_fallback=False, max_iter=20, **FAST)
    assert model.fit(X, y).used_unlabelled_


# ----------------------------------------------------------------------
# Schedules: the documented rate per epoch, for every solver
# ----------------------------------------------------------------------
def _expected_rates(name, n_epochs, rate, samples, power_t=0.5, warmup=0, max_iter=None):
    if name == "constant":
        return [rate] * n_epochs
    if name == "invscaling":
        return [rate if e == 0 else rate / (e * samples + 1) ** power_t for e in range(n_epochs)]
    if name == "cosine":
        rates = []
        for e in range(n_epochs):
            if e < warmup:
                rates.append(rate * (e + 1) / (warmup + 1))
            else:
                progress = min((e - warmup) / (max_iter - warmup), 1.0)
                rates.append(rate * 0.5 * (1 + math.cos(math.pi * progress)))
        return rates
    raise ValueError(name)


@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("schedule", ["constant", "invscaling", "cosine"])
def test_every_schedule_gives_its_rate_for_every_solver(solver, schedule):
    X, y = binary(n_samples=60)
    model = MLPClassifier(
        solver=solver, learning_rate=schedule, learning_rate_init=0.01, power_t=0.3,
        warmup_epochs=2, max_iter=8, n_iter_no_change=100, **FAST,
    ).fit(X, y)
    expected = _expected_rates(schedule, 8, 0.01, 60, power_t=0.3, warmup=2, max_iter=8)
    np.testing.assert_allclose(_rates(model), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_adaptive_divides_the_rate_by_five_on_plateaus(solver):
    X, y = binary(n_samples=60)
    # tol so large that no epoch counts as an improvement: a plateau after
    # every n_iter_no_change + 1 epochs.
    model = MLPClassifier(
        solver=solver, learning_rate="adaptive", learning_rate_init=0.01, tol=1e9,
        n_iter_no_change=2, max_iter=10, **FAST,
    ).fit(X, y)
    np.testing.assert_allclose(_rates(model), [0.01] * 4 + [0.002] * 3 + [0.0004] * 3, rtol=1e-12)


def test_schedules_continue_across_partial_fit_calls():
    X, y = binary(n_samples=60)
    for name in ("invscaling", "cosine"):
        model = MLPClassifier(learning_rate=name, learning_rate_init=0.01, max_iter=5, **FAST)
        for _ in range(7):
            model.partial_fit(X, y, classes=[0, 1])
        expected = _expected_rates(name, 7, 0.01, 60, max_iter=5)
        np.testing.assert_allclose(_rates(model), expected, rtol=1e-12, atol=1e-15)


def test_warm_start_continues_invscaling_and_restarts_the_cosine():
    X, y = binary(n_samples=60)
    params = dict(learning_rate_init=0.01, max_iter=4, n_iter_no_change=100, warm_start=True, **FAST)
    invscaling = MLPClassifier(learning_rate="invscaling", **params).fit(X, y).fit(X, y)
    np.testing.assert_allclose(_rates(invscaling), _expected_rates("invscaling", 8, 0.01, 60), rtol=1e-12)
    cosine = MLPClassifier(learning_rate="cosine", **params).fit(X, y).fit(X, y)
    np.testing.assert_allclose(_rates(cosine), 2 * _expected_rates("cosine", 4, 0.01, 60, max_iter=4), rtol=1e-12)
    # A changed schedule configuration starts afresh.
    invscaling.set_params(learning_rate_init=0.02).fit(X, y)
    assert _rates(invscaling)[8] == 0.02


def test_adam_follows_the_learning_rate_schedule():
    X, y = binary(n_samples=60)
    constant = MLPClassifier(max_iter=3, **FAST).fit(X, y)
    invscaling = MLPClassifier(learning_rate="invscaling", max_iter=3, **FAST).fit(X, y)
    assert _rates(constant) == [0.001] * 3
    assert _rates(invscaling)[1] < 0.001 / 7


# ----------------------------------------------------------------------
# clip_grad_norm
# ----------------------------------------------------------------------
def test_clip_grad_norm_bounds_each_step():
    X, y = regression(n_samples=50)
    y = y * 100.0  # large gradients
    steps = {}
    for clip in (None, 0.5):
        model = MLPRegressor(
            solver="sgd", momentum=0.0, batch_size=50, learning_rate_init=0.01, scale_target=False,
            clip_grad_norm=clip, **FAST,
        )
        model.partial_fit(X, y)  # builds the network and takes one step
        before = model.network_.params.copy()
        model.partial_fit(X, y)
        steps[clip] = float(np.linalg.norm(model.network_.params - before))
    assert steps[0.5] == pytest.approx(0.01 * 0.5, rel=1e-9)
    assert steps[None] > 10 * steps[0.5]


def test_autoencoder_takes_the_new_parameters():
    X, _ = regression(n_samples=60)
    model = AutoEncoder(hidden_layer_sizes=(4, 2), solver="rmsprop", learning_rate="cosine", clip_grad_norm=1.0, max_iter=3, random_state=0)
    assert len(model.fit(X).history_) == 3


# ----------------------------------------------------------------------
# Bad values
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor, AutoEncoder])
@pytest.mark.parametrize(
    "params, name",
    [
        (dict(solver="adamx"), "solver"),
        (dict(learning_rate="cos"), "learning_rate"),
        (dict(monitor="loss"), "monitor"),
        (dict(weight_decay=-0.1), "weight_decay"),
        (dict(warmup_epochs=-1), "warmup_epochs"),
        (dict(warmup_epochs=1.5), "warmup_epochs"),
        (dict(clip_grad_norm=0.0), "clip_grad_norm"),
        (dict(clip_grad_norm="1"), "clip_grad_norm"),
    ],
)
def test_bad_new_parameters_are_named(Estimator, params, name):
    X, y = binary(n_samples=20)
    with pytest.raises(ValueError, match=f"'{name}' parameter of {Estimator.__name__} must be"):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize("class_weight", ["auto", 3, np.ones(2)])
def test_bad_class_weight_is_named(class_weight):
    X, y = binary(n_samples=20)
    with pytest.raises(ValueError, match="'class_weight' parameter of MLPClassifier must be"):
        MLPClassifier(class_weight=class_weight).fit(X, y)
