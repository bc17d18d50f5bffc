"""Damaged model files fail loudly; a loaded model refits like a fresh one.

Truncated files fail in the unpickler or the zip reader. Bytes changed
inside the weights, which the unpickler cannot notice, fail in
``Network.__setstate__``: the network saves a CRC-32 of its buffers and
checks them (and their sizes against its layers) on load.
"""

import io
import pickle
import struct
import warnings
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone

from skann import SKOPS_TRUSTED_TYPES, AutoEncoder, MLPClassifier, MLPRegressor
from skann.layers import Conv2D, Flatten, MaxPool2D

# What a damaged file may raise: each names the problem (the stream ended,
# an invalid opcode, a bad zip member, or skann's own check).
# joblib reads with the pure-Python unpickler, whose stack runs out on some
# truncated streams with an IndexError ("index out of range"), and which
# raises struct.error ("unpack requires a buffer of 8 bytes") when the cut
# falls inside a frame's length.
CLEAR_ERRORS = (EOFError, pickle.UnpicklingError, ValueError, zipfile.BadZipFile, KeyError,
                OSError, IndexError, struct.error)


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 16))
    return X, (X[:, 0] > 0).astype(int)


def _models():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "classifier": MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y),
            "regressor": MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, X[:, 0]),
            "autoencoder": AutoEncoder(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X),
            "convnet": MLPClassifier(layers=[Conv2D(2, 3), MaxPool2D(2), Flatten()],
                                     input_shape=(4, 4), max_iter=2, random_state=0).fit(X, y),
        }


MODELS = _models()


def _dump(way, model):
    if way == "pickle":
        return pickle.dumps(model)
    buffer = io.BytesIO()
    if way == "joblib":
        joblib.dump(model, buffer)
        return buffer.getvalue()
    skops_io = pytest.importorskip("skops.io")
    return skops_io.dumps(model)


def _load(way, blob):
    if way == "pickle":
        return pickle.loads(blob)
    if way == "joblib":
        return joblib.load(io.BytesIO(blob))
    skops_io = pytest.importorskip("skops.io")
    return skops_io.loads(blob, trusted=SKOPS_TRUSTED_TYPES)


def _outputs(model, X):
    return model.transform(X) if isinstance(model, AutoEncoder) else model.predict(X)


WAYS = ["pickle", "joblib", "skops"]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file_fails_clearly(way, name, keep):
    blob = _dump(way, MODELS[name])
    cut = blob[: int(len(blob) * keep)] if keep < 0.999 else blob[:-1]
    with pytest.raises(CLEAR_ERRORS) as error:
        _load(way, cut)
    assert str(error.value) or isinstance(error.value, EOFError)


@pytest.mark.parametrize("way", ["pickle", "joblib"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_changed_weight_bytes_are_refused(way, name):
    model = MODELS[name]
    blob = bytearray(_dump(way, model))
    weights = model.network_.params.tobytes()
    start = bytes(blob).find(weights)
    assert start >= 0, "the weights are stored as raw bytes"
    blob[start + len(weights) // 2] ^= 0xFF
    with pytest.raises(ValueError, match="corrupted.*checksum"):
        _load(way, bytes(blob))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_changed_bytes_in_a_skops_file_are_refused(name):
    blob = bytearray(_dump("skops", MODELS[name]))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(CLEAR_ERRORS):
        _load("skops", bytes(blob))


def test_buffers_that_do_not_fit_the_layers_are_refused():
    model = MODELS["classifier"]
    state = model.network_.__getstate__()
    state["params"] = state["params"][:-1]
    network = object.__new__(type(model.network_))
    with pytest.raises(ValueError, match="corrupted.*buffer has"):
        network.__setstate__(state)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_loaded_and_refitted_model_equals_a_fresh_fit(way, name):
    model = MODELS[name]
    loaded = _load(way, _dump(way, model))
    np.testing.assert_array_equal(loaded.network_.params, model.network_.params)
    rng = np.random.RandomState(1)
    X = rng.normal(size=(50, 16))
    y = (X[:, 1] > 0).astype(int) if isinstance(model, MLPClassifier) else X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = clone(model)
        args = (X,) if isinstance(model, AutoEncoder) else (X, y)
        loaded.fit(*args)
        fresh.fit(*args)
    np.testing.assert_array_equal(loaded.network_.params, fresh.network_.params)
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(fresh, X))
    assert loaded.loss_curve_ == fresh.loss_curve_


class Halver(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X / 2


def test_skops_refuses_types_outside_the_trusted_list():
    skops_io = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline

    X, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(Halver(), clone(MODELS["regressor"])).fit(X, X[:, 0])
    blob = skops_io.dumps(model)
    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException):
        skops_io.loads(blob, trusted=SKOPS_TRUSTED_TYPES)
    untrusted = set(skops_io.get_untrusted_types(data=blob)) - set(SKOPS_TRUSTED_TYPES)
    assert untrusted and all(not name.startswith("skann.") for name in untrusted)


# ----------------------------------------------------------------------
# The whole fitted state is covered, not only the weights
# ----------------------------------------------------------------------
def test_changed_class_bytes_are_refused():
    X, y = _data()
    labels = np.array([10, 20])[y]  # class labels that stand out in the file
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, labels)
    blob = bytearray(pickle.dumps(model))
    classes = model.classes_.tobytes()
    start = bytes(blob).find(classes)
    assert start >= 0
    blob[start] ^= 0x01  # class 10 would become 11: predictions silently wrong
    with pytest.raises(ValueError, match="corrupted"):
        pickle.loads(bytes(blob))


def test_a_skops_layer_retyped_to_another_trusted_type_is_refused():
    import json
    import re

    blob = _dump("skops", MODELS["classifier"])
    archive = zipfile.ZipFile(io.BytesIO(blob))
    schema = archive.read("schema.json").decode()
    retyped = re.sub(
        r'"__class__": "Dense",(\s*)"__module__": "skann.nn.layers.dense"',
        r'"__class__": "Dropout",\1"__module__": "skann.nn.layers.dropout"', schema, count=1,
    )
    assert retyped != schema and json.loads(retyped)
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        for member in archive.namelist():
            out.writestr(member, retyped if member == "schema.json" else archive.read(member))
    with pytest.raises(ValueError, match="corrupted"):
        _load("skops", damaged.getvalue())


@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_one_byte_flips_never_change_predictions_silently(name):
    model = MODELS[name]
    X, _ = _data()
    blob = pickle.dumps(model)
    expected = _outputs(model, X)
    positions = np.random.RandomState(0).choice(len(blob), 300, replace=False)
    for position in positions:
        damaged = bytearray(blob)
        damaged[position] ^= 0xFF
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = pickle.loads(bytes(damaged))
                got = _outputs(loaded, X)
        except Exception:  # noqa: BLE001 - any clear refusal is fine; silence is not
            continue
        np.testing.assert_array_equal(got, expected, err_msg=f"flip at byte {position}")
