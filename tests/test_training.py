"""Training mechanics shared by both estimators: sample_weight, partial_fit,
warm_start, early stopping, sparse input and dtypes."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier, MLPRegressor

from ._data import binary, iris, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [MLPClassifier, MLPRegressor]
SMALL = dict(hidden_layer_sizes=(5,), random_state=0)


def _data(estimator_class, n_samples=60, seed=0):
    if estimator_class is MLPClassifier:
        X, y = binary(n_samples=n_samples, seed=seed)
    else:
        X, y = regression(n_samples=n_samples, seed=seed)
    return StandardScaler().fit_transform(X), y


def _output(estimator, X):
    """What a user compares: probabilities, or predictions in units of y."""
    if isinstance(estimator, MLPClassifier):
        return estimator.predict_proba(X)
    return estimator.predict(X) / estimator.target_scale_


def _fit_kwargs(estimator_class, y):
    return {"classes": np.unique(y)} if estimator_class is MLPClassifier else {}


# ----------------------------------------------------------------------
# sample_weight
# ----------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_lbfgs_integer_weights_equal_repeated_rows(estimator_class):
    X, y = _data(estimator_class)
    weights = np.random.RandomState(1).randint(1, 4, size=len(y)).astype(float)
    repeated = np.repeat(np.arange(len(y)), weights.astype(int))
    params = dict(SMALL, solver="lbfgs", max_iter=50)
    weighted = estimator_class(**params).fit(X, y, sample_weight=weights)
    expanded = estimator_class(**params).fit(X[repeated], y[repeated])
    np.testing.assert_allclose(_output(weighted, X), _output(expanded, X), rtol=1e-6, atol=1e-7)
    # ... and the weights matter: an unweighted fit is different.
    unweighted = estimator_class(**params).fit(X, y)
    assert np.abs(_output(unweighted, X) - _output(weighted, X)).max() > 1e-3


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_lbfgs_zero_weight_equals_dropping_rows(estimator_class):
    X, y = _data(estimator_class)
    weights = np.random.RandomState(2).randint(0, 3, size=len(y)).astype(float)
    weights[:2] = [1.0, 0.0]
    keep = weights > 0
    params = dict(SMALL, solver="lbfgs", max_iter=50)
    with_zeros = estimator_class(**params).fit(X, y, sample_weight=weights)
    dropped = estimator_class(**params).fit(X[keep], y[keep], sample_weight=weights[keep])
    np.testing.assert_allclose(_output(with_zeros, X), _output(dropped, X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
def test_unit_weights_equal_no_weights(estimator_class, solver):
    X, y = _data(estimator_class)
    params = dict(SMALL, solver=solver, max_iter=20)
    plain = estimator_class(**params).fit(X, y)
    ones = estimator_class(**params).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(_output(ones, X), _output(plain, X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_accepts_sample_weight(estimator_class):
    X, y = _data(estimator_class)
    weights = np.random.RandomState(3).uniform(0.5, 2, size=len(y))
    estimator = estimator_class(**SMALL)
    estimator.partial_fit(X, y, sample_weight=weights, **_fit_kwargs(estimator_class, y))
    unweighted = estimator_class(**SMALL).partial_fit(X, y, **_fit_kwargs(estimator_class, y))
    assert not np.allclose(_output(estimator, X), _output(unweighted, X))


# ----------------------------------------------------------------------
# partial_fit
# ----------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_is_one_epoch_per_call(estimator_class, solver):
    X, y = _data(estimator_class)
    params = dict(SMALL, solver=solver, batch_size=16)
    incremental = estimator_class(**params)
    for call in range(1, 4):
        incremental.partial_fit(X, y, **_fit_kwargs(estimator_class, y))
        assert incremental.n_iter_ == 1
        assert len(incremental.loss_curve_) == call
        assert incremental.t_ == call * len(y)
    # Three one-epoch calls are three epochs of fit, step for step.
    batch = estimator_class(**params, max_iter=3).fit(X, y)
    assert batch.n_iter_ == 3
    np.testing.assert_allclose(incremental.loss_curve_, batch.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(_output(incremental, X), _output(batch, X), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_availability_follows_solver(estimator_class):
    assert hasattr(estimator_class(solver="sgd"), "partial_fit")
    assert hasattr(estimator_class(solver="adam"), "partial_fit")
    assert not hasattr(estimator_class(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        estimator_class(solver="lbfgs").partial_fit


def test_partial_fit_requires_classes_on_first_call():
    X, y = _data(MLPClassifier)
    clf = MLPClassifier(**SMALL)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y)  # not needed afterwards


def test_partial_fit_classes_may_exceed_first_batch():
    X, y = iris()
    clf = MLPClassifier(**SMALL)
    first = y < 2
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(y), 3)
    clf.partial_fit(X, y)
    assert clf.predict_proba(X).shape == (len(y), 3)


def test_partial_fit_label_outside_classes_is_a_clear_error():
    X, y = iris()
    clf = MLPClassifier(**SMALL)
    with pytest.raises(ValueError, match=r"not in classes"):
        clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match=r"\[2\].*not in classes_"):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_regressor_partial_fit_rejects_changed_number_of_outputs():
    X, y = _data(MLPRegressor)
    reg = MLPRegressor(**SMALL).partial_fit(X, y)
    with pytest.raises(ValueError, match="outputs"):
        reg.partial_fit(X, np.column_stack([y, y]))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_after_fit_continues(estimator_class):
    X, y = _data(estimator_class)
    estimator = estimator_class(**SMALL, max_iter=5).fit(X, y)
    loss_after_fit = estimator.loss_
    for _ in range(20):
        estimator.partial_fit(X, y)
    assert len(estimator.loss_curve_) == 25
    assert estimator.loss_ < loss_after_fit


# ----------------------------------------------------------------------
# warm_start
# ----------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_continues_training(estimator_class, solver):
    X, y = _data(estimator_class)
    params = dict(SMALL, solver=solver, max_iter=10)
    estimator = estimator_class(**params, warm_start=True).fit(X, y)
    first_loss = estimator.loss_
    first_coefs = [coef.copy() for coef in estimator.coefs_]
    estimator.fit(X, y)
    assert estimator.n_iter_ == 10
    assert len(estimator.loss_curve_) == 20
    assert estimator.t_ == 20 * len(y)
    # It started where it stopped: the loss keeps going down.
    assert estimator.loss_curve_[10] < estimator.loss_curve_[0]
    assert estimator.loss_ < first_loss
    assert not np.array_equal(estimator.coefs_[0], first_coefs[0])
    # Without warm_start, fit starts again from the same initialisation.
    cold = estimator_class(**params).fit(X, y)
    estimator.set_params(warm_start=False).fit(X, y)
    np.testing.assert_array_equal(estimator.coefs_[0], cold.coefs_[0])
    assert len(estimator.loss_curve_) == 10


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_warm_start_lbfgs_starts_from_previous_solution(estimator_class):
    X, y = _data(estimator_class)
    estimator = estimator_class(**SMALL, solver="lbfgs", max_iter=5, warm_start=True).fit(X, y)
    first_loss = estimator.loss_
    estimator.fit(X, y)
    assert estimator.loss_ < first_loss


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize(
    "change", [dict(hidden_layer_sizes=(6,)), dict(hidden_layer_sizes=(5, 5)), dict(activation="tanh")]
)
def test_warm_start_with_changed_architecture_raises(estimator_class, change):
    X, y = _data(estimator_class)
    estimator = estimator_class(**SMALL, max_iter=5, warm_start=True).fit(X, y)
    before = _output(estimator, X)
    estimator.set_params(**change)
    with pytest.raises(ValueError, match="architecture"):
        estimator.fit(X, y)
    with pytest.raises(ValueError, match="architecture"):
        estimator.partial_fit(X, y)
    np.testing.assert_array_equal(_output(estimator, X), before)


def test_warm_start_with_changed_n_features_raises():
    X, y = _data(MLPRegressor)
    reg = MLPRegressor(**SMALL, max_iter=5, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.fit(X[:, :3], y)


# ----------------------------------------------------------------------
# early stopping
# ----------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_early_stopping_records_and_stops(estimator_class):
    X, y = _data(estimator_class, n_samples=200)
    estimator = estimator_class(
        hidden_layer_sizes=(10,), early_stopping=True, learning_rate_init=0.01, max_iter=500, random_state=0
    ).fit(X, y)
    assert estimator.n_iter_ < 500
    assert len(estimator.validation_scores_) == estimator.n_iter_ == len(estimator.loss_curve_)
    assert estimator.best_validation_score_ in estimator.validation_scores_
    assert estimator.best_loss_ is None
    # The held-out rows are a random sample of the data: the model cannot be
    # much worse on all the data (90% of which it trained on) than on them.
    assert estimator.score(X, y) > estimator.best_validation_score_ - 0.1


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("seed", [0, 1])
def test_best_validation_score_is_the_score_of_the_restored_epoch(estimator_class, seed):
    # skann stops on the validation loss (documented difference from
    # sklearn): best_validation_score_ is the score recorded at the epoch
    # whose weights are restored, so it is one of validation_scores_, and
    # the restored model is not the last epoch's when the loss rose at the end.
    X, y = _data(estimator_class, n_samples=200, seed=seed)
    estimator = estimator_class(
        hidden_layer_sizes=(10,), early_stopping=True, learning_rate_init=0.01, max_iter=500, random_state=0
    ).fit(X, y)
    assert estimator.best_validation_score_ in estimator.validation_scores_
    assert estimator.n_iter_ < 500


def test_early_stopping_regressor_learns_an_easy_problem():
    # sklearn's MLPRegressor reaches R² 0.98 here with the same parameters.
    X, y = _data(MLPRegressor, n_samples=200)
    reg = MLPRegressor(
        hidden_layer_sizes=(10,), early_stopping=True, learning_rate_init=0.01, max_iter=500, random_state=0
    ).fit(X, y)
    assert reg.best_validation_score_ > 0.9
    assert reg.score(X, y) > 0.9


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_early_stopping_restores_best_weights(estimator_class):
    # A noisy problem and a wide layer: the validation score peaks, then
    # degrades, and training stops with weights that are not the last ones.
    X, y = _data(estimator_class, n_samples=100, seed=1)
    rng = np.random.RandomState(0)
    if estimator_class is MLPClassifier:
        flip = rng.rand(len(y)) < 0.2
        y = np.where(flip, 1 - y, y)
    else:
        y = y + rng.normal(scale=3 * y.std(), size=len(y))
    params = dict(
        hidden_layer_sizes=(50,), early_stopping=True, validation_fraction=0.3, learning_rate_init=0.01, tol=0.0,
        random_state=0,
    )
    stopped = estimator_class(**params, max_iter=300).fit(X, y)
    assert stopped.n_iter_ < 300
    restored = stopped.coefs_ + stopped.intercepts_
    # The same training, cut at the best epoch, ends with the weights that
    # the early-stopped model must have restored; the best epoch is one whose
    # score is best_validation_score_ (not the last one: tol=0 stops only
    # after n_iter_no_change epochs without any improvement).
    candidates = [
        epoch + 1 for epoch, score in enumerate(stopped.validation_scores_) if score == stopped.best_validation_score_
    ]
    assert candidates and candidates[0] < stopped.n_iter_
    matches = []
    for epochs in candidates[:40]:
        cut = estimator_class(**params, max_iter=epochs).fit(X, y)
        np.testing.assert_array_equal(cut.validation_scores_, stopped.validation_scores_[:epochs])
        if all(np.array_equal(got, want) for got, want in zip(restored, cut.coefs_ + cut.intercepts_)):
            matches.append(epochs)
    assert matches, "the restored weights are those of no epoch with the best validation score"
    assert matches[0] < stopped.n_iter_


def test_early_stopping_split_is_stratified():
    # 10% of a 90/10 imbalanced problem: a random split might hold out no
    # minority sample; a stratified one holds out some of each class, so
    # the accuracy on the held-out set moves in steps that reflect both.
    X, y = iris()
    clf = MLPClassifier(**SMALL, early_stopping=True, validation_fraction=0.2, max_iter=30).fit(X, y)
    assert clf.validation_scores_ is not None
    assert len(clf.validation_scores_) == clf.n_iter_


# ----------------------------------------------------------------------
# sparse input and dtypes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_dense_csr_csc_give_same_predictions(estimator_class, solver):
    X, y = _data(estimator_class)
    X[np.abs(X) < 0.5] = 0.0
    params = dict(SMALL, solver=solver, max_iter=30)
    dense = estimator_class(**params).fit(X, y)
    expected = _output(dense, X)
    for convert in (sp.csr_matrix, sp.csc_matrix, sp.csr_array):
        X_sparse = convert(X)
        np.testing.assert_allclose(_output(dense, X_sparse), expected, rtol=1e-6, atol=1e-8)
        fitted_sparse = estimator_class(**params).fit(X_sparse, y)
        np.testing.assert_allclose(_output(fitted_sparse, X), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("hidden_layer_sizes", [(5,), (200, 60)], ids=["small", "large"])
def test_float32_and_float64_X_give_same_predictions(estimator_class, solver, hidden_layer_sizes):
    # With an explicit dtype the input's float dtype does not matter.
    X, y = _data(estimator_class)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)  # the same numbers, in float64
    params = dict(
        SMALL, solver=solver, max_iter=10, hidden_layer_sizes=hidden_layer_sizes, dtype="float64"
    )
    fit32 = estimator_class(**params).fit(X32, y)
    fit64 = estimator_class(**params).fit(X64, y)
    assert fit32.coefs_[0].dtype == fit64.coefs_[0].dtype
    np.testing.assert_allclose(_output(fit32, X64), _output(fit64, X64), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_output(fit64, X32), _output(fit64, X64), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_auto_dtype_follows_float32_input(estimator_class, solver):
    # As sklearn's MLP: float32 X trains float32 parameters and predicts float32.
    X, y = _data(estimator_class)
    params = dict(SMALL, solver=solver, max_iter=5, hidden_layer_sizes=(5,))
    fitted = estimator_class(**params).fit(X.astype(np.float32), y)
    assert all(w.dtype == np.float32 for w in fitted.coefs_ + fitted.intercepts_)
    method = fitted.predict_proba if isinstance(fitted, MLPClassifier) else fitted.predict
    assert method(X.astype(np.float32)).dtype == np.float32
    small64 = estimator_class(**params).fit(X, y)
    assert small64.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_explicit_dtype_works_with_every_solver(estimator_class, solver, dtype):
    X, y = _data(estimator_class)
    estimator = estimator_class(
        hidden_layer_sizes=(10,), solver=solver, dtype=dtype, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    assert all(coef.dtype == np.dtype(dtype) for coef in estimator.coefs_ + estimator.intercepts_)
    assert estimator.score(X, y) > 0.85
    assert np.all(np.isfinite(estimator.loss_curve_))


def test_changed_dtype_under_warm_start_raises():
    X, y = _data(MLPClassifier)
    clf = MLPClassifier(**SMALL, dtype="float64", max_iter=5, warm_start=True).fit(X, y)
    clf.set_params(dtype="float32")
    with pytest.raises(ValueError, match="float64"):
        clf.fit(X, y)
