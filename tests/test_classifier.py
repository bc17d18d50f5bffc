"""MLPClassifier: target types, labels and the probability methods."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier

from ._data import binary, iris

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _check_probability_methods(clf, X):
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], len(clf.classes_))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == proba.shape
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_binary(solver):
    X, y = binary()
    clf = MLPClassifier(hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, random_state=0)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 1
    _check_probability_methods(clf, X)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multiclass(solver):
    X, y = iris()
    clf = MLPClassifier(hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, random_state=0)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.out_activation_ == "softmax"
    assert clf.n_outputs_ == 3
    _check_probability_methods(clf, X)
    assert clf.score(X, y) > 0.95
    assert clf.score(X, y) == accuracy_score(y, clf.predict(X))


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array(["setosa", "versicolor", "virginica"], dtype=object),
        np.array([-7, 3, 12]),
        np.array([1.0, 2.0, 4.0]),
    ],
    ids=["str", "object", "int", "float"],
)
def test_labels_are_encoded_and_decoded(labels):
    X, y = iris()
    reference = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(X, y)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    prediction = clf.predict(X)
    # Same kind of labels as sklearn's MLPClassifier (which returns str
    # for object input too, through LabelBinarizer).
    assert prediction.dtype.kind == ("U" if labels.dtype.kind == "O" else labels.dtype.kind)
    np.testing.assert_array_equal(prediction, labels[reference.predict(X)])
    np.testing.assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))


def test_binary_string_labels():
    X, y = binary()
    labels = np.array(["no", "yes"])
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X, labels[y])
    assert set(np.unique(clf.predict(X))) <= {"no", "yes"}
    _check_probability_methods(clf, X)


def test_minus_one_is_an_ordinary_label():
    X, y = binary()
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0).fit(X, 2 * y - 1)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])
    assert clf.score(X, 2 * y - 1) > 0.9


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel(solver):
    X, Y = make_multilabel_classification(n_samples=120, n_features=8, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(20,), solver=solver, max_iter=300, learning_rate_init=0.01, random_state=0)
    clf.fit(X, Y)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 4
    prediction = clf.predict(X)
    assert prediction.shape == Y.shape
    assert set(np.unique(prediction)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(prediction, (proba > 0.5).astype(prediction.dtype))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-4, atol=1e-7)
    # score is the subset accuracy, and the model learns the training set.
    assert clf.score(X, Y) == accuracy_score(Y, prediction)
    assert clf.score(X, Y) > 0.8


def test_fitted_attributes():
    X, y = iris()
    clf = MLPClassifier(hidden_layer_sizes=(7, 4), max_iter=20, random_state=0).fit(X, y)
    assert [coef.shape for coef in clf.coefs_] == [(4, 7), (7, 4), (4, 3)]
    assert [intercept.shape for intercept in clf.intercepts_] == [(7,), (4,), (3,)]
    assert clf.n_layers_ == 4
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ == 20
    assert len(clf.loss_curve_) == 20
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.t_ == 20 * X.shape[0]
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert not hasattr(clf, "feature_names_in_")


def test_int_hidden_layer_sizes():
    X, y = iris()
    clf = MLPClassifier(hidden_layer_sizes=6, max_iter=5, random_state=0).fit(X, y)
    assert [coef.shape for coef in clf.coefs_] == [(4, 6), (6, 3)]


def test_loss_matches_log_loss_of_predictions():
    from sklearn.metrics import log_loss

    X, y = iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", alpha=0.0, dtype="float64", random_state=0)
    clf.fit(X, y)
    assert clf.loss_ == pytest.approx(log_loss(y, clf.predict_proba(X)), rel=1e-6, abs=1e-9)


def test_feature_names_in_from_dataframe():
    X, y = iris()
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=10, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["sl", "sw", "pl", "pw"])
    on_array = MLPClassifier(hidden_layer_sizes=(5,), max_iter=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(frame), on_array.predict_proba(X))


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus"])
def test_every_activation_learns_iris(activation):
    X, y = iris()
    clf = MLPClassifier(hidden_layer_sizes=(10,), activation=activation, solver="lbfgs", random_state=0)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.95


def test_random_state_makes_fits_reproducible():
    X, y = iris()
    first = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=3).fit(X, y)
    second = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=3).fit(X, y)
    other = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=4).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_convergence_warning_when_max_iter_reached():
    X, y = iris()
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)


def test_coefs_can_be_assigned():
    X, y = iris()
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    zeros = [np.zeros_like(coef) for coef in clf.coefs_]
    clf.coefs_ = zeros
    clf.intercepts_ = [np.zeros_like(intercept) for intercept in clf.intercepts_]
    np.testing.assert_allclose(clf.predict_proba(X), 1 / 3)
    with pytest.raises(ValueError, match="coefs_ must be a list of 2 arrays"):
        clf.coefs_ = zeros[:1]
