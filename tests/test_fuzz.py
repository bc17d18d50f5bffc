"""Property-based fuzzing of every public estimator (see tests/_fuzz.py).

Profiles (tests/conftest.py): ``SKANN_FUZZ_PROFILE=ci`` (default, >= 2,000
cases over these tests) and ``SKANN_FUZZ_PROFILE=thorough`` (>= 20,000).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, LayerNorm, MaxPool2D

from ._fuzz import (
    LABEL_KINDS,
    NUMERIC_DTYPES,
    TARGET_KINDS,
    WEIGHT_KINDS,
    check_outputs,
    classify,
    make_labels,
    make_matrix,
    make_targets,
    make_weights,
    matrices,
)

pytest.importorskip("pandas")  # DataFrame inputs

SOLVERS = ["sgd", "adam", "adamw", "rmsprop", "lbfgs"]
seeds = st.integers(0, 2**16)


@st.composite
def options(draw):
    return dict(
        hidden_layer_sizes=draw(st.sampled_from([(1,), (3,), (2, 2)])),
        solver=draw(st.sampled_from(SOLVERS)),
        max_iter=draw(st.integers(1, 3)),
        batch_size=draw(st.sampled_from(["auto", 1, 3])),
        activation=draw(st.sampled_from(["relu", "tanh", "logistic", "identity", "gelu"])),
        alpha=draw(st.sampled_from([0.0, 1e-4, 10.0])),
        learning_rate_init=draw(st.sampled_from([1e-3, 0.1, 10.0])),
        early_stopping=draw(st.sampled_from([False, False, False, True])),
        random_state=0,
    )


CLASSIFIER_OUTPUTS = ("predict", "predict_proba", "predict_log_proba")


@given(matrices(), st.sampled_from(LABEL_KINDS), st.sampled_from(WEIGHT_KINDS), seeds,
       options(), st.sampled_from([None, "balanced"]))
def test_fuzz_classifier_fit(matrix, labels, weights, seed, params, class_weight):
    X, n, _ = matrix
    y = make_labels(labels, n, seed)
    sample_weight = make_weights(weights, n, seed)
    model = MLPClassifier(**params, class_weight=class_weight)

    def call():
        model.fit(X, y, sample_weight=sample_weight)
        check_outputs(model, X, CLASSIFIER_OUTPUTS)

    classify("classifier fit", call)


@given(matrices(), st.sampled_from(TARGET_KINDS), st.sampled_from(WEIGHT_KINDS), seeds,
       options(), st.sampled_from(["squared_error", "poisson"]))
def test_fuzz_regressor_fit(matrix, targets, weights, seed, params, loss):
    X, n, _ = matrix
    y = make_targets(targets, n, seed)
    sample_weight = make_weights(weights, n, seed)
    model = MLPRegressor(**params, loss=loss)

    def call():
        model.fit(X, y, sample_weight=sample_weight)
        check_outputs(model, X, ("predict",))

    classify("regressor fit", call)


@given(matrices(), st.sampled_from(WEIGHT_KINDS), seeds, options(),
       st.sampled_from([(1,), (2,), (3, 1)]), st.floats(0, 1))
def test_fuzz_autoencoder(matrix, weights, seed, params, sizes, noise):
    X, n, _ = matrix
    sample_weight = make_weights(weights, n, seed)
    params = {**params, "hidden_layer_sizes": sizes}
    model = AutoEncoder(**params, noise=noise)

    def call():
        model.fit(X, sample_weight=sample_weight)
        check_outputs(model, X, ("transform", "predict"))
        codes = model.transform(X)
        assert np.isfinite(model.inverse_transform(codes)).all()

    classify("autoencoder fit", call)


@given(matrices(), st.sampled_from(["classifier", "regressor", "autoencoder"]),
       st.sampled_from(LABEL_KINDS), st.sampled_from(WEIGHT_KINDS), seeds, options(),
       st.integers(1, 3))
def test_fuzz_partial_fit(matrix, kind, labels, weights, seed, params, calls):
    X, n, _ = matrix
    params = {**params, "solver": "sgd" if params["solver"] == "lbfgs" else params["solver"]}
    sample_weight = make_weights(weights, n, seed)

    def call():
        for _ in range(calls):
            if kind == "classifier":
                y = make_labels(labels, n, seed)
                # the labels in order of appearance (np.unique cannot sort mixed types)
                classes = (list(dict.fromkeys(np.asarray(y).tolist()))
                           if np.asarray(y).ndim == 1 else np.arange(3))
                model = MLPClassifier(**params).partial_fit(X, y, sample_weight, classes=classes)
                outputs = CLASSIFIER_OUTPUTS
            elif kind == "regressor":
                model = MLPRegressor(**params).partial_fit(
                    X, make_targets("normal", n, seed), sample_weight)
                outputs = ("predict",)
            else:
                model = AutoEncoder(**params).partial_fit(X, sample_weight=sample_weight)
                outputs = ("transform", "predict")
        check_outputs(model, X, outputs)

    classify("partial_fit", call)


@given(st.sampled_from(["classifier", "regressor"]), st.sampled_from([20, 12, 4, 2, 1, 0]),
       st.sampled_from(["pseudo_label", "entropy", "pi_model", "mean_teacher"]),
       st.sampled_from([0.0, 0.3, 0.7, 1.0]), st.sampled_from(WEIGHT_KINDS),
       st.sampled_from(["ndarray", "column", "list", "str_labels"]), st.booleans(), seeds)
def test_fuzz_semi_supervised(kind, n, method, unlabelled_share, weights, layout, fallback,
                              seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    unlabelled = rng.rand(n) < unlabelled_share
    if kind == "classifier":
        methods = ("pseudo_label", "entropy", "pi_model")
        y = np.arange(n) % 2
        y = np.where(unlabelled, -1, y)
        if layout == "str_labels":
            y = np.where(unlabelled, "-1", np.array(["a", "b"])[np.abs(y)])
        Model, outputs = MLPClassifier, CLASSIFIER_OUTPUTS
    else:
        from skann.semi_supervised import REGRESSION_METHODS as methods

        y = np.where(unlabelled, np.nan, rng.normal(size=n))
        Model, outputs = MLPRegressor, ("predict",)
    if method not in methods:
        method = methods[seed % len(methods)]
    if layout == "column":
        y = y.reshape(-1, 1)
    elif layout == "list":
        y = y.tolist()
    marker = "-1" if layout == "str_labels" else "auto"
    model = Model(hidden_layer_sizes=(3,), max_iter=2, random_state=0, semi_supervised=method,
                  supervised_fallback=fallback, unlabelled_marker=marker)
    sample_weight = make_weights(weights, n, seed)

    def call():
        model.fit(X, y, sample_weight=sample_weight)
        check_outputs(model, X, outputs)
        assert len(model.transduction_) == n

    classify("semi-supervised fit", call)


def _layer_stacks(draw):
    kind = draw(st.sampled_from(["dense", "conv"]))
    if kind == "dense":
        stack = [Dense(draw(st.integers(1, 4)))]
        for extra in draw(st.lists(st.sampled_from(["bn", "ln", "drop", "dense"]), max_size=3)):
            stack.append({"bn": BatchNorm(), "ln": LayerNorm(), "drop": Dropout(0.5),
                          "dense": Dense(2)}[extra])
        return stack, None
    stack = [Conv2D(2, 2, padding=draw(st.sampled_from(["same", "valid"])))]
    if draw(st.booleans()):
        stack.append(MaxPool2D(2))
    if draw(st.booleans()):
        stack.append(BatchNorm())
    return stack + [Flatten(), Dense(2)], (4, 4)


@given(st.data(), st.sampled_from([8, 3, 1, 0]), st.sampled_from(["float64"] * 4 + NUMERIC_DTYPES),
       st.sampled_from(["classifier", "regressor", "autoencoder"]), st.sampled_from(WEIGHT_KINDS),
       st.sampled_from(["none"] * 4 + ["nan", "inf"]), st.sampled_from([1.0] * 3 + [1e30, 1e300]),
       seeds,
       st.sampled_from(["adam", "sgd", "lbfgs"]))
def test_fuzz_layers(data, n, dtype, kind, weights, special, scale, seed, solver):
    layers, input_shape = _layer_stacks(data.draw)
    n_cols = 16 if input_shape else data.draw(st.sampled_from([1, 3, 16]))
    X = make_matrix(n, n_cols, dtype, "ndarray", scale, special, seed)
    sample_weight = make_weights(weights, n, seed)
    common = dict(layers=layers, input_shape=input_shape, max_iter=2, random_state=0,
                  solver=solver, learning_rate_init=0.01)

    def call():
        if kind == "classifier":
            model = MLPClassifier(**common).fit(X, np.arange(n) % 2, sample_weight)
            outputs = CLASSIFIER_OUTPUTS
        elif kind == "regressor":
            model = MLPRegressor(**common).fit(X, make_targets("normal", n, seed), sample_weight)
            outputs = ("predict",)
        else:
            model = AutoEncoder(**common).fit(X, sample_weight=sample_weight)
            outputs = ("transform", "predict")
        check_outputs(model, X, outputs)

    classify("layers= fit", call)


@pytest.fixture(scope="module")
def fitted_models():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 4))
    y = np.arange(30) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            (MLPClassifier((3,), max_iter=5, random_state=0).fit(X, y), CLASSIFIER_OUTPUTS),
            (MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, X[:, 0]),
             ("predict",)),
            (AutoEncoder(hidden_layer_sizes=(2,), max_iter=5, random_state=0).fit(X),
             ("transform", "predict")),
            (MLPClassifier(layers=[Conv2D(2, 2), Flatten()], input_shape=(2, 2), max_iter=2,
                           random_state=0).fit(X, y), CLASSIFIER_OUTPUTS),
        ]


@given(matrices(cols=st.sampled_from([4, 4, 0, 3, 5])), st.integers(0, 3))
def test_fuzz_predict_inputs(fitted_models, matrix, which):
    # Fitted models given any input at predict time.
    X, _, _ = matrix
    model, outputs = fitted_models[which]
    classify("predict on fuzzed X", lambda: check_outputs(model, X, outputs))
