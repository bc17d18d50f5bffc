"""skann's estimators converted by skl2onnx and served by onnxruntime.

onnxruntime's outputs must equal skann's predict / predict_proba /
transform on fresh data: values to 1e-5 (float32 graphs), labels
identical. The data are well separated, so no label is decided by a
near-tie of scores.
"""

import doctest
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

skl2onnx = pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")

import skann.onnx  # noqa: E402, F401  (registers the converters)
from skann import AutoEncoder, MLPClassifier, MLPRegressor  # noqa: E402
from skann.nn import Network  # noqa: E402
from skann.nn.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D  # noqa: E402
from skann.onnx import UnsupportedError  # noqa: E402
from skann.onnx._estimators import class_labels  # noqa: E402

TOLERANCE = 1e-5
REPO = Path(__file__).resolve().parents[1]
FIT = dict(max_iter=60, random_state=0)


def session(model, X, **options):
    """Convert ``model`` for float32 rows like X; an onnxruntime session (one thread)."""
    onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32), **options)
    session_options = rt.SessionOptions()
    session_options.intra_op_num_threads = 1
    return rt.InferenceSession(onx.SerializeToString(), session_options, providers=["CPUExecutionProvider"])


def run(model, X, **options):
    sess = session(model, X, **options)
    return sess.run(None, {sess.get_inputs()[0].name: X.astype(np.float32)})


def blobs(n_classes, seed, n_samples=150):
    """Well-separated clusters: the same centres for every seed."""
    centres = np.random.RandomState(42).uniform(-6, 6, size=(n_classes, 5))
    return make_blobs(n_samples=n_samples, centers=centres, cluster_std=1.0, random_state=seed)


def assert_probabilities(actual, model, X):
    expected = model.predict_proba(X.astype(np.float32))
    assert actual.shape == expected.shape and actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE)


# ----------------------------------------------------------------------
# MLPClassifier
# ----------------------------------------------------------------------
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("labels", ["int", "str"])
def test_classifier_labels_and_probabilities(n_classes, labels):
    X, y = blobs(n_classes, seed=0)
    names = np.array(["ant", "bee", "cat", "dog"])[:n_classes] if labels == "str" else np.array([3, 7, 11, 20])
    clf = MLPClassifier((16,), **FIT).fit(X, names[y])
    X_new = blobs(n_classes, seed=1)[0]
    label, proba = run(clf, X_new, options={"zipmap": False})
    np.testing.assert_array_equal(label, clf.predict(X_new.astype(np.float32)))
    assert_probabilities(proba, clf, X_new)


def test_classifier_zipmap_by_default_as_sklearns_mlp():
    X, y = blobs(3, seed=0)
    clf = MLPClassifier((8,), activation="gelu", **FIT).fit(X, np.array(["a", "b", "c"])[y])
    X_new = blobs(3, seed=1)[0]
    sess = session(clf, X_new)
    assert [o.name for o in sess.get_outputs()] == ["output_label", "output_probability"]
    label, maps = sess.run(None, {"X": X_new.astype(np.float32)})
    np.testing.assert_array_equal(label, clf.predict(X_new))
    proba = np.array([[row[name] for name in clf.classes_] for row in maps], dtype=np.float32)
    assert_probabilities(proba, clf, X_new)
    columns = run(clf, X_new, options={"zipmap": "columns"})
    np.testing.assert_allclose(np.column_stack(columns[1:]), proba, atol=1e-7)


def test_classifier_multilabel():
    X, y = blobs(4, seed=0, n_samples=200)
    Y = np.column_stack([y % 2, y // 2, (y == 3)]).astype(int)
    clf = MLPClassifier((16,), activation="elu", **FIT).fit(X, Y)
    X_new = blobs(4, seed=1, n_samples=200)[0]
    label, proba = run(clf, X_new, options={"zipmap": False})
    expected = clf.predict(X_new.astype(np.float32))
    assert label.dtype == np.int64 and label.shape == expected.shape
    np.testing.assert_array_equal(label, expected)
    assert_probabilities(proba, clf, X_new)
    label, maps = run(clf, X_new)  # with the default ZipMap, as sklearn's multilabel MLP
    np.testing.assert_array_equal(label, expected)
    np.testing.assert_allclose([[row[k] for k in range(3)] for row in maps], proba, atol=1e-7)


def test_classifier_whole_float_labels_become_int64_and_others_raise():
    X, y = blobs(2, seed=0)
    clf = MLPClassifier((4,), **FIT).fit(X, y * 2.0)
    label, _ = run(clf, X, options={"zipmap": False})
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, clf.predict(X).astype(np.int64))
    # sklearn refuses to fit such labels; a model that has them anyway must not convert.
    with pytest.raises(UnsupportedError, match="not whole numbers"):
        class_labels(SimpleNamespace(classes_=np.array([0.5, 1.5])))


def test_class_index_labels_and_unsupported_options():
    X, y = blobs(3, seed=0)
    clf = MLPClassifier((4,), **FIT).fit(X, np.array(["a", "b", "c"])[y])
    label, _ = run(clf, X, options={"zipmap": False, "nocl": True})
    np.testing.assert_array_equal(label, np.searchsorted(clf.classes_, clf.predict(X)))
    *_, classes = run(clf, X, options={"zipmap": False, "output_class_labels": True})
    np.testing.assert_array_equal(classes, clf.classes_)
    with pytest.raises(NameError, match="raw_scores"):  # skl2onnx names the option
        session(clf, X, options={"raw_scores": True})


# ----------------------------------------------------------------------
# MLPRegressor and AutoEncoder
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, n_targets, activation",
    [("squared_error", 1, "tanh"), ("squared_error", 3, "softplus"), ("poisson", 1, "relu"), ("poisson", 2, "leaky_relu")],
)
def test_regressor(loss, n_targets, activation):
    rng = np.random.RandomState(0)
    X, X_new = rng.normal(size=(120, 5)), rng.normal(size=(60, 5))
    W = rng.normal(size=(5, n_targets))
    y = np.exp(0.3 * X @ W) if loss == "poisson" else 40 + 25 * (X @ W)
    reg = MLPRegressor(hidden_layer_sizes=(16,), activation=activation, loss=loss, **FIT).fit(X, y.squeeze())
    (prediction,) = run(reg, X_new)
    expected = reg.predict(X_new.astype(np.float32)).reshape(len(X_new), -1)
    assert prediction.shape == (len(X_new), n_targets)  # (n, 1) for one target, as skl2onnx
    np.testing.assert_allclose(prediction, expected, rtol=TOLERANCE, atol=TOLERANCE)


def test_autoencoder_transform():
    X = StandardScaler().fit_transform(np.random.RandomState(0).normal(size=(100, 8)) @ np.ones((8, 8)) * 0.1)
    ae = AutoEncoder((6, 3), activation="tanh", **FIT).fit(X)
    X_new = np.random.RandomState(1).normal(size=(40, 8))
    (codes,) = run(ae, X_new)
    np.testing.assert_allclose(codes, ae.transform(X_new.astype(np.float32)), rtol=0, atol=TOLERANCE)


# ----------------------------------------------------------------------
# Inside scikit-learn's composites
# ----------------------------------------------------------------------
def test_pipeline_with_standard_scaler():
    X, y = blobs(3, seed=0)
    X = X * [1, 10, 100, 0.1, 1] + 50
    pipe = make_pipeline(StandardScaler(), MLPClassifier((12,), **FIT)).fit(X, y)
    X_new = blobs(3, seed=1)[0] * [1, 10, 100, 0.1, 1] + 50
    label, proba = run(pipe, X_new, options={"zipmap": False})
    np.testing.assert_array_equal(label, pipe.predict(X_new.astype(np.float32)))
    assert_probabilities(proba, pipe, X_new)


def test_column_transformer_with_autoencoder_before_regressor():
    rng = np.random.RandomState(0)
    X, X_new = rng.normal(size=(120, 7)), rng.normal(size=(50, 7))
    y = X[:, 0] - 2 * X[:, 5]
    features = ColumnTransformer([
        ("codes", AutoEncoder((4,), **FIT), [0, 1, 2, 3, 4]),
        ("scaled", StandardScaler(), [5, 6]),
    ])
    pipe = make_pipeline(features, MLPRegressor(hidden_layer_sizes=(8,), **FIT)).fit(X, y)
    (prediction,) = run(pipe, X_new)
    np.testing.assert_allclose(prediction[:, 0], pipe.predict(X_new.astype(np.float32)), rtol=TOLERANCE, atol=TOLERANCE)


def test_float64_input_gives_a_float64_graph():
    X, y = blobs(3, seed=0)
    clf = MLPClassifier((8,), dtype="float64", **FIT).fit(X, y)
    onx = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False})
    sess = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = sess.run(None, {"X": X})
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-12)


def test_wrong_input_width_raises():
    X, y = blobs(2, seed=0)
    clf = MLPClassifier((4,), **FIT).fit(X, y)
    with pytest.raises(UnsupportedError, match="fitted on 5 features"):
        skl2onnx.to_onnx(clf, X[:1, :3].astype(np.float32))


@pytest.mark.parametrize(
    "model",
    [MLPClassifier(), MLPRegressor(), AutoEncoder(), make_pipeline(StandardScaler(), MLPClassifier())],
    ids=["classifier", "regressor", "autoencoder", "pipeline"],
)
def test_unfitted_model_raises_not_fitted_error(model):
    X = np.random.RandomState(0).rand(10, 5).astype(np.float32)
    if hasattr(model, "steps"):
        model.steps[0][1].fit(X)  # the scaler fitted, the classifier not
    with pytest.raises(NotFittedError, match="not fitted yet"):
        skl2onnx.to_onnx(model, X[:1])


def test_import_skann_does_not_import_skl2onnx():
    code = "import sys, skann; assert 'skl2onnx' not in sys.modules and 'onnx' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------
# Image networks in an estimator
# ----------------------------------------------------------------------
def images(n_samples, seed):
    """8x8 grey images of two classes: a bright left half or a bright top half."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n_samples)
    X = rng.normal(scale=0.3, size=(n_samples, 8, 8))
    X[y == 0, :, :4] += 1.5
    X[y == 1, :4, :] += 1.5
    return X.reshape(n_samples, 64), y


def test_classifier_with_a_hand_built_conv_network():
    # Until estimators take ``layers=``: a fitted classifier's network
    # replaced by a convolutional one of the same input and output widths.
    X, y = images(80, seed=0)
    clf = MLPClassifier((4,), **FIT).fit(X, y)
    network = Network([Conv2D(4, 3, padding="same"), BatchNorm(momentum=0.5), MaxPool2D(2),
                       Dropout(0.3), Flatten(), Dense(1, "identity")])
    network.build((8, 8, 1), np.float64, np.random.RandomState(0))
    network.forward(X, network.context(training=True, rng=np.random.default_rng(0)))
    clf.network_ = network
    X_new = images(60, seed=1)[0]
    label, proba = run(clf, X_new, options={"zipmap": False})
    np.testing.assert_array_equal(label, clf.predict(X_new.astype(np.float32)))
    assert_probabilities(proba, clf, X_new)


@pytest.mark.skipif(
    "layers" not in MLPClassifier().get_params(),
    reason="estimators take layers= / input_shape= only after the layers branch is merged",
)
def test_classifier_with_layers_parameter():
    X, y = images(120, seed=0)
    layers = [Conv2D(4, 3, padding="same"), BatchNorm(), MaxPool2D(2), Dropout(0.2), Flatten()]
    clf = MLPClassifier(layers=layers, input_shape=(8, 8, 1), **FIT).fit(X, y)
    X_new = images(60, seed=1)[0]
    label, proba = run(clf, X_new, options={"zipmap": False})
    np.testing.assert_array_equal(label, clf.predict(X_new.astype(np.float32)))
    assert_probabilities(proba, clf, X_new)


# ----------------------------------------------------------------------
# The docs page and the gallery example run
# ----------------------------------------------------------------------
def test_docs_page_runs():
    result = doctest.testfile(str(REPO / "docs" / "onnx.rst"), module_relative=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_gallery_example_runs(capsys):
    runpy.run_path(str(REPO / "examples" / "plot_onnx_export.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "labels identical: True" in printed
