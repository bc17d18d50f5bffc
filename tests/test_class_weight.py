"""class_weight: factors multiplied into the sample weights, by class."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight

from skann import MLPClassifier

from ._data import binary, iris

FAST = dict(hidden_layer_sizes=(8,), max_iter=15, random_state=0)


def _assert_same_fit(a, b):
    for coef_a, coef_b in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(coef_a, coef_b, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_balanced_raises_minority_recall():
    X, y = make_classification(n_samples=4000, weights=[0.95, 0.05], class_sep=0.8, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    recalls = {}
    for class_weight in (None, "balanced"):
        model = MLPClassifier(hidden_layer_sizes=(16,), class_weight=class_weight, max_iter=50, random_state=0)
        model.fit(X_train, y_train)
        recalls[class_weight] = recall_score(y_test, model.predict(X_test))
    # 55 minority samples in the test set: about 5 found without, 39 with.
    assert recalls["balanced"] > recalls[None] + 0.3


@pytest.mark.parametrize("data", [binary, iris], ids=["binary", "multiclass"])
def test_a_dict_is_a_sample_weight_by_class(data):
    X, y = data()
    factors = {label: 1.0 + 2.0 * position for position, label in enumerate(np.unique(y))}
    weighted = MLPClassifier(class_weight=factors, **FAST).fit(X, y)
    by_hand = MLPClassifier(**FAST).fit(X, y, sample_weight=np.array([factors[label] for label in y]))
    _assert_same_fit(weighted, by_hand)


@pytest.mark.parametrize("data", [binary, iris], ids=["binary", "multiclass"])
def test_balanced_multiplies_the_sample_weight_as_sklearn(data):
    X, y = data()
    sample_weight = np.random.RandomState(0).randint(1, 4, len(y)).astype(float)
    weighted = MLPClassifier(class_weight="balanced", **FAST).fit(X, y, sample_weight=sample_weight)
    # sklearn's balanced factors, computed with the sample weights.
    counts = {label: sample_weight[y == label].sum() for label in np.unique(y)}
    factors = np.array([sample_weight.sum() / (len(counts) * counts[label]) for label in y])
    by_hand = MLPClassifier(**FAST).fit(X, y, sample_weight=sample_weight * factors)
    _assert_same_fit(weighted, by_hand)


def test_multilabel_rows_weigh_the_product_of_their_outputs_factors():
    X, Y = make_multilabel_classification(n_samples=150, n_classes=3, random_state=0)
    per_output = [{0: 1.0, 1: 2.0}, {0: 0.5, 1: 1.0}, {1: 3.0}]
    for class_weight in ("balanced", per_output):
        weighted = MLPClassifier(class_weight=class_weight, **FAST).fit(X, Y)
        by_hand = MLPClassifier(**FAST).fit(X, Y, sample_weight=compute_sample_weight(class_weight, Y))
        _assert_same_fit(weighted, by_hand)


def test_partial_fit_balances_over_every_batch_seen():
    X, y = binary(n_samples=200)
    first, second = slice(0, 60), slice(60, 200)
    model = MLPClassifier(class_weight="balanced", **FAST)
    model.partial_fit(X[first], y[first], classes=[0, 1])
    model.partial_fit(X[second], y[second])
    # The same steps with the factors of the class counts known at each call.
    by_hand = MLPClassifier(**FAST)
    by_hand.partial_fit(X[first], y[first], classes=[0, 1], sample_weight=compute_sample_weight("balanced", y[first]))
    seen = y[:200]
    factors = compute_sample_weight("balanced", seen)[second]
    by_hand.partial_fit(X[second], y[second], sample_weight=factors)
    _assert_same_fit(model, by_hand)


def test_class_weights_weigh_the_validation_rows_too():
    # Three classes: a class of weight 0 leaves two to learn (one alone is refused).
    X, y = make_classification(n_samples=200, n_classes=3, n_informative=4, random_state=0)
    model = MLPClassifier(class_weight={2: 0.0}, **FAST).fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
    keep = y[150:] != 2
    expected = np.mean(model.predict(X[150:][keep]) == y[150:][keep])
    assert model.history_[-1]["val_score"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "class_weight, y, message",
    [
        ({0: 1.0, 7: 2.0}, None, r"keys \[7\] that are not classes"),
        ({0: -1.0}, None, "non-negative"),
        ([{0: 1.0}], None, "must be None, 'balanced' or a dict"),
        ({0: 1.0}, "multilabel", "list of 3 dicts"),
        ([{0: 1.0}, {1: 1.0}, {2: 1.0}], "multilabel", r"class_weight\[2\] has keys \[2\]"),
    ],
)
def test_bad_class_weights_say_what_is_wrong(class_weight, y, message):
    X, y_binary = binary()
    if y == "multilabel":
        X, y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    else:
        y = y_binary
    with pytest.raises(ValueError, match=message):
        MLPClassifier(class_weight=class_weight, **FAST).fit(X, y)
