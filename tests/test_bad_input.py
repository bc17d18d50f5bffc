"""Bad input raises a clear ValueError / TypeError naming the problem, and a
failed fit leaves a previously fitted model exactly as it was."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from skann import MLPClassifier, MLPRegressor

from ._data import binary, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [MLPClassifier, MLPRegressor]


def _data(estimator_class):
    return binary(n_samples=60) if estimator_class is MLPClassifier else regression(n_samples=60)


def _with(X, value):
    X = X.copy()
    X[3, 1] = value
    return X


# Each case: (description, function of (estimator_class, X, y) -> (X, y), regex).
BAD_DATA = [
    ("nan", lambda X, y: (_with(X, np.nan), y), "NaN"),
    ("inf", lambda X, y: (_with(X, np.inf), y), "infinity"),
    ("-inf", lambda X, y: (_with(X, -np.inf), y), "infinity"),
    ("sparse nan", lambda X, y: (sp.csr_matrix(_with(X, np.nan)), y), "NaN"),
    ("empty", lambda X, y: (X[:0], y[:0]), "0 sample"),
    ("no features", lambda X, y: (X[:, :0], y), "0 feature"),
    ("strings", lambda X, y: (np.full(X.shape, "abc"), y), "could not convert string to float"),
    ("object", lambda X, y: (np.array([[1.0, "x"]] * len(y), dtype=object), y), "could not convert string to float"),
    ("complex", lambda X, y: (X + 1j, y), "[Cc]omplex"),
    ("1d X", lambda X, y: (X[:, 0], y), "Expected 2D array"),
    ("3d X", lambda X, y: (X[:, :, None], y), "dim 3"),
    ("too few y", lambda X, y: (X, y[:-1]), "samples"),
    ("y nan", lambda X, y: (X, np.where(np.arange(len(y)) == 0, np.nan, y)), "NaN"),
    ("y None", lambda X, y: (X, None), "y"),
]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("case", BAD_DATA, ids=[case[0] for case in BAD_DATA])
def test_bad_data_in_fit(estimator_class, case):
    _, make, message = case
    X, y = make(*_data(estimator_class))
    with pytest.raises((ValueError, TypeError), match=message):
        estimator_class(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_bad_data_in_partial_fit(estimator_class):
    X, y = _data(estimator_class)
    kwargs = {"classes": [0, 1]} if estimator_class is MLPClassifier else {}
    with pytest.raises(ValueError, match="NaN"):
        estimator_class().partial_fit(_with(X, np.nan), y, **kwargs)
    estimator = estimator_class(hidden_layer_sizes=(3,)).partial_fit(X, y, **kwargs)
    with pytest.raises(ValueError, match="infinity"):
        estimator.partial_fit(_with(X, np.inf), y)
    with pytest.raises(ValueError, match="4 features.*expecting"):
        estimator.partial_fit(X[:, :4], y)


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def fitted(request):
    estimator_class = request.param
    X, y = _data(estimator_class)
    estimator = estimator_class(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
    return estimator, X, y


def _snapshot(estimator, X):
    if isinstance(estimator, MLPClassifier):
        return estimator.predict(X).copy(), estimator.predict_proba(X).copy()
    return (estimator.predict(X).copy(),)


@pytest.mark.parametrize(
    "case, message",
    [
        (lambda X: X[:, :3], "3 features.*expecting"),
        (lambda X: np.hstack([X, X]), "features.*expecting"),
        (lambda X: _with(X, np.nan), "NaN"),
        (lambda X: _with(X, np.inf), "infinity"),
        (lambda X: X[:0], "0 sample"),
        (lambda X: np.full(X.shape, "abc"), "could not convert"),
        (lambda X: X[0], "Expected 2D array"),
    ],
    ids=["fewer features", "more features", "nan", "inf", "empty", "strings", "1d"],
)
def test_bad_data_at_predict(fitted, case, message):
    estimator, X, _ = fitted
    methods = ["predict"] + (["predict_proba", "predict_log_proba"] if isinstance(estimator, MLPClassifier) else [])
    for method in methods:
        with pytest.raises((ValueError, TypeError), match=message):
            getattr(estimator, method)(case(X))


def test_wrong_feature_names_at_predict():
    X, y = _data(MLPRegressor)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reg = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(frame, y)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(frame.rename(columns={"f0": "other"}))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_predict_before_fit(estimator_class):
    X, _ = _data(estimator_class)
    with pytest.raises(NotFittedError):
        estimator_class().predict(X)


@pytest.mark.parametrize("y", [np.zeros(60), np.full(60, "spam")], ids=["numeric", "string"])
def test_one_class_only(y):
    X, _ = _data(MLPClassifier)
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier(max_iter=5).fit(X, y)


def test_continuous_labels_are_rejected():
    X, y = _data(MLPRegressor)
    with pytest.raises(ValueError, match="continuous"):
        MLPClassifier(max_iter=5).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_negative_targets_with_poisson(solver):
    X, y = _data(MLPRegressor)
    with pytest.raises(ValueError, match="poisson.*non-negative"):
        MLPRegressor(loss="poisson", solver=solver, max_iter=5).fit(X, y)
    ok = MLPRegressor(loss="poisson", solver=solver, max_iter=5, random_state=0).fit(X, np.abs(y))
    with pytest.raises(ValueError, match="non-negative"):
        MLPRegressor(loss="poisson", max_iter=5).partial_fit(X, -np.abs(y) - 1)
    if solver == "adam":
        with pytest.raises(ValueError, match="non-negative"):
            ok.partial_fit(X, y)


BAD_PARAMS = [
    (dict(activation="bogus"), "activation"),
    (dict(activation="softmax"), "activation"),
    (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(5, -1)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=("a",)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=2.5), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=0), "hidden_layer_sizes"),
    (dict(solver="x"), "solver"),
    (dict(alpha=-1.0), "alpha"),
    (dict(batch_size=0), "batch_size"),
    (dict(learning_rate="bogus"), "learning_rate"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
    (dict(max_iter=0), "max_iter"),
    (dict(tol=-1.0), "tol"),
    (dict(momentum=1.5), "momentum"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(beta_1=1.0), "beta_1"),
    (dict(beta_2=-0.1), "beta_2"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(n_iter_no_change=0), "n_iter_no_change"),
    (dict(max_fun=0), "max_fun"),
    (dict(shuffle="yes"), "shuffle"),
    (dict(dtype="float16"), "dtype"),
    (dict(early_stopping=True, validation_fraction=0.0), "validation_fraction"),
]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("params, message", BAD_PARAMS, ids=[str(params) for params, _ in BAD_PARAMS])
def test_invalid_parameters(estimator_class, params, message):
    X, y = _data(estimator_class)
    with pytest.raises(ValueError, match=message):
        estimator_class(**params).fit(X, y)


def test_invalid_regressor_loss():
    X, y = _data(MLPRegressor)
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss="hinge").fit(X, y)


def test_sample_weight_of_wrong_length():
    X, y = _data(MLPRegressor)
    with pytest.raises(ValueError, match="sample_weight"):
        MLPRegressor(max_iter=5).fit(X, y, sample_weight=np.ones(3))


# ----------------------------------------------------------------------
# A failed fit must not break a fitted model.
# ----------------------------------------------------------------------
def _failing_fits(estimator, X, y):
    """Calls that must fail, each on a model fitted on (X, y)."""
    other_labels = np.array(["a", "b"])[y] if isinstance(estimator, MLPClassifier) else 1000 * y + 7
    one_class = np.zeros(len(y)) if isinstance(estimator, MLPClassifier) else None
    calls = {
        "nan": lambda: estimator.fit(_with(X, np.nan), y),
        "inf": lambda: estimator.fit(_with(X, np.inf), y),
        "empty": lambda: estimator.fit(X[:0], y[:0]),
        "strings": lambda: estimator.fit(np.full(X.shape, "abc"), y),
        "y nan": lambda: estimator.fit(X, np.where(np.arange(len(y)) == 0, np.nan, y)),
        # The target is valid and differs from the fitted one; only its
        # length is wrong.
        "other y of wrong length": lambda: estimator.fit(X[:-1], other_labels),
        "other y with bad sample_weight": lambda: estimator.fit(X, other_labels, sample_weight=np.ones(3)),
        # X is valid (with another feature count); y is not.
        "other X with y nan": lambda: estimator.fit(X[:, :3], np.where(np.arange(len(y)) == 0, np.nan, y)),
        "partial_fit nan": lambda: estimator.partial_fit(_with(X, np.nan), y),
        "partial_fit wrong features": lambda: estimator.partial_fit(X[:, :3], y),
    }
    if one_class is not None:
        calls["bad targets"] = lambda: estimator.fit(X, one_class)
        calls["other X with bad targets"] = lambda: estimator.fit(X[:, :3], one_class)
    else:
        # set_params is undone by the test after the call.
        calls["bad targets"] = lambda: estimator.set_params(loss="poisson").fit(X, y)
        calls["other X with bad targets"] = lambda: estimator.set_params(loss="poisson").fit(X[:, :3], y)
    return calls


@pytest.mark.parametrize(
    "name",
    [
        "nan", "inf", "empty", "strings", "y nan", "other y of wrong length", "other y with bad sample_weight",
        "other X with y nan", "partial_fit nan", "partial_fit wrong features", "bad targets", "other X with bad targets",
    ],
)
def test_failed_fit_keeps_previous_model(fitted, name):
    # "bad targets": one class for the classifier, negative y with
    # loss="poisson" for the regressor.
    estimator, X, y = fitted
    before = _snapshot(estimator, X)
    attributes = {
        key: getattr(estimator, key) for key in ("n_features_in_", "n_outputs_", "n_iter_", "t_") if hasattr(estimator, key)
    }
    calls = _failing_fits(estimator, X, y)
    params = estimator.get_params()
    with pytest.raises((ValueError, TypeError)):
        calls[name]()
    estimator.set_params(**params)
    for key, value in attributes.items():
        assert getattr(estimator, key) == value, key
    for got, want in zip(_snapshot(estimator, X), before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("params", [dict(activation="bogus"), dict(hidden_layer_sizes=(0,)), dict(solver="x")])
def test_failed_fit_with_invalid_params_keeps_previous_model(fitted, params):
    estimator, X, y = fitted
    before = _snapshot(estimator, X)
    original = estimator.get_params()
    estimator.set_params(**params)
    with pytest.raises(ValueError):
        estimator.fit(X, y)
    estimator.set_params(**original)
    for got, want in zip(_snapshot(estimator, X), before):
        np.testing.assert_array_equal(got, want)
