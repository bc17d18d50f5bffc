"""Saving and loading: skops with SKOPS_TRUSTED_TYPES, in a fresh process,
and the skann version that every saved estimator carries."""

import importlib
import inspect
import io
import os
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skann
from skann import (
    SKOPS_TRUSTED_TYPES,
    AutoEncoder,
    LabelledScorer,
    MLPClassifier,
    MLPRegressor,
    make_labelled_scorer,
)
from skann.exceptions import InconsistentVersionWarning
from skann.nn import ACTIVATIONS, LOSSES, OPTIMIZERS, SCHEDULES, Network, Weight, layers
from skann.nn.initializers import Constant as ConstantInit
from skann.nn.initializers import Uniform

from ._data import iris, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# The fresh process imports the skann under test, wherever it lives.
SKANN_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(skann.__file__)))

# What is compared before and after a round trip. Run in this process and,
# as source, in the fresh one, so that both compute exactly the same thing.
OUTPUTS = '''
import numpy as np
from skann.nn import Network, Optimizer, Schedule

def outputs(obj, X):
    if isinstance(obj, Network):
        return [obj.output(X)]
    if isinstance(obj, Optimizer):
        params = np.linspace(-1.0, 1.0, obj.n_params_)
        obj.step(params, np.cos(params), 0.1)
        return [params]
    if isinstance(obj, Schedule):
        return [np.array([obj.rate()])]
    if hasattr(obj, "predict_proba"):
        return [obj.predict(X), obj.predict_proba(X)]
    if hasattr(obj, "transform"):
        codes = obj.transform(X)
        return [codes, obj.inverse_transform(codes)]
    return [obj.predict(X)]
'''
namespace = {}
exec(OUTPUTS, namespace)
outputs = namespace["outputs"]

LOAD_IN_FRESH_PROCESS = OUTPUTS + '''
import glob, os, sys
import skops.io
import skann

assert os.path.dirname(os.path.dirname(skann.__file__)) == sys.argv[2], skann.__file__
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.skops"))):
    extra = open(path[:-6] + ".trusted").read().split()
    model = skops.io.load(path, trusted=skann.SKOPS_TRUSTED_TYPES + extra)
    X = np.load(path[:-6] + ".X.npy")
    np.savez(path[:-6] + ".out.npz", *outputs(model, X))
'''


def _partly_labelled(y, marker=-1):
    """``y`` with every third row unlabelled."""
    y = np.array(y, dtype=type(marker))
    y[::3] = marker
    return y


def _network(layer_list, input_shape):
    network = Network(layer_list)
    network.build(input_shape, np.float64, np.random.RandomState(0))
    return network


def _optimizer(cls):
    optimizer = cls().build(12, 6, np.float64)
    optimizer.step(np.zeros(12), np.ones(12), 0.01)  # state that is not zero
    return optimizer


def _schedule(cls):
    schedule = cls(0.1, 10) if cls is SCHEDULES["cosine"] else cls(0.1)
    for _ in range(3):
        schedule.on_epoch_end({"loss": 1.0, "samples": 100})
    return schedule


def configurations():
    """``name -> build()``, where ``build() -> (object to save, X, extra trusted types)``.

    Building is deferred so that the names are known at collection time.
    """
    X_clf, y_clf = iris()
    X_reg, y_reg = regression()
    X_img = np.random.RandomState(0).normal(size=(10, 64))
    small = {"hidden_layer_sizes": (6,), "max_iter": 15, "random_state": 0}
    names = np.array(["setosa", "versicolor", "virginica"])

    def fitted(estimator, X, y=None):
        return lambda: (estimator.fit(X, y), X, [])

    builds = {}
    for solver in ("sgd", "adam", "lbfgs"):
        builds[f"classifier_{solver}"] = fitted(MLPClassifier(solver=solver, **small), X_clf, y_clf)
        builds[f"regressor_{solver}"] = fitted(MLPRegressor(solver=solver, **small), X_reg, y_reg)
        builds[f"autoencoder_{solver}"] = fitted(
            AutoEncoder(hidden_layer_sizes=(6, 2), solver=solver, max_iter=15, random_state=0), X_clf
        )
    builds.update(
        classifier_early_stopping=fitted(MLPClassifier(early_stopping=True, **small), X_clf, y_clf),
        regressor_early_stopping=fitted(MLPRegressor(early_stopping=True, **small), X_reg, y_reg),
        classifier_strings=fitted(MLPClassifier(**small), X_clf, names[y_clf]),
        classifier_multilabel=fitted(MLPClassifier(**small), X_clf, np.eye(3, dtype=int)[y_clf]),
        classifier_float32=fitted(MLPClassifier(dtype="float32", **small), X_clf, y_clf),
        sgd_invscaling=fitted(MLPClassifier(solver="sgd", learning_rate="invscaling", **small), X_clf, y_clf),
        sgd_adaptive=fitted(MLPRegressor(solver="sgd", learning_rate="adaptive", **small), X_reg, y_reg),
        regressor_poisson=fitted(MLPRegressor(loss="poisson", **small), X_reg, np.abs(y_reg)),
        autoencoder_denoising=fitted(
            AutoEncoder(hidden_layer_sizes=(6, 2), noise=0.2, max_iter=15, random_state=0), X_clf
        ),
        regressor_pi_model=fitted(
            MLPRegressor(semi_supervised="pi_model", **small), X_reg, _partly_labelled(y_reg, np.nan)
        ),
        pipeline=fitted(make_pipeline(StandardScaler(), MLPClassifier(**small)), X_clf, y_clf),
        # The splitter a fitted search keeps is sklearn's, which skops does
        # not trust by default: the caller's to check, not skann's.
        search_labelled_scorer=lambda: (
            GridSearchCV(
                MLPClassifier(semi_supervised="entropy", **small), {"alpha": [1e-4, 1e-2]},
                scoring=make_labelled_scorer(), cv=2,
            ).fit(X_clf, _partly_labelled(y_clf)),
            X_clf,
            ["sklearn.model_selection._split.StratifiedKFold"],
        ),
        network_convnet=lambda: (
            _network(
                [
                    layers.Conv2D(3, 3, padding="same"), layers.BatchNorm(), layers.MaxPool2D(2),
                    layers.Conv2D(4, 3, activation="elu"), layers.AvgPool2D(2, padding="same"),
                    layers.LayerNorm(), layers.Dropout(0.3), layers.GlobalAvgPool2D(),
                    layers.Dense(3, "softplus"),
                ],
                (8, 8, 1),
            ),
            X_img,
            [],
        ),
        network_flatten=lambda: (
            _network([layers.Flatten(), layers.Dense(5, "leaky_relu"), layers.Dense(2, "logistic")], (8, 8, 1)),
            X_img,
            [],
        ),
    )
    for method in ("pseudo_label", "entropy", "pi_model", "graph"):
        builds[f"classifier_{method}"] = fitted(
            MLPClassifier(semi_supervised=method, **small), X_clf, _partly_labelled(y_clf)
        )
    for name in ACTIVATIONS:
        builds[f"activation_{name}"] = fitted(MLPClassifier(activation=name, **small), X_clf, y_clf)
    for name, cls in OPTIMIZERS.items():
        builds[f"optimizer_{name}"] = lambda cls=cls: (_optimizer(cls), X_img, [])
    for name, cls in SCHEDULES.items():
        builds[f"schedule_{name}"] = lambda cls=cls: (_schedule(cls), X_img, [])
    return builds


CONFIGURATIONS = configurations()


@pytest.fixture(scope="module")
def round_trips(tmp_path_factory):
    """Every configuration saved with skops and loaded in one fresh process.

    ``name -> (saved object, its outputs here, the loaded copy's outputs)``.
    """
    skops_io = pytest.importorskip("skops.io")
    folder = tmp_path_factory.mktemp("skops")
    saved = {}
    for name, build in CONFIGURATIONS.items():
        model, X, extra_trusted = build()
        skops_io.dump(model, folder / f"{name}.skops")
        np.save(folder / f"{name}.X.npy", X)
        (folder / f"{name}.trusted").write_text(" ".join(extra_trusted))
        saved[name] = model, outputs(model, X)
    result = subprocess.run(
        [sys.executable, "-c", LOAD_IN_FRESH_PROCESS, str(folder), SKANN_ROOT],
        cwd=SKANN_ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    trips = {}
    for name, (model, expected) in saved.items():
        with np.load(folder / f"{name}.out.npz") as arrays:
            loaded = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        trips[name] = model, expected, loaded
    return trips


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_skops_round_trip_in_a_fresh_process(round_trips, name):
    model, expected, loaded = round_trips[name]
    assert len(loaded) == len(expected)
    for before, after in zip(expected, loaded):
        assert before.dtype == after.dtype and before.shape == after.shape
        assert np.array_equal(before, after)  # bit for bit
    skops_io = pytest.importorskip("skops.io")
    untrusted = set(skops_io.get_untrusted_types(data=skops_io.dumps(model)))
    assert any(name.startswith("skann.") for name in untrusted)


# ----------------------------------------------------------------------
# The list and the engine's registries
# ----------------------------------------------------------------------
def _qualified(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _layer_classes():
    found, todo = set(), [layers.Layer]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("skann."):
                found.add(sub)
                todo.append(sub)
    return {cls for cls in found if not cls.__name__.startswith("_")}


def test_every_registered_class_is_trusted():
    public_layers = {getattr(layers, name) for name in layers.__all__} - {layers.Layer, Weight}
    assert _layer_classes() == public_layers  # no layer class escapes the registry below
    registered = (
        public_layers
        | set(ACTIVATIONS.values()) | set(LOSSES.values())
        | set(OPTIMIZERS.values()) | set(SCHEDULES.values())
        | {Network, Weight, Uniform, ConstantInit, LabelledScorer}
        | {getattr(skann, name) for name in skann.__all__
           if inspect.isclass(getattr(skann, name)) and issubclass(getattr(skann, name), BaseEstimator)}
    )
    missing = {_qualified(cls) for cls in registered} - set(SKOPS_TRUSTED_TYPES)
    assert not missing, f"add to SKOPS_TRUSTED_TYPES: {sorted(missing)}"


def test_every_trusted_name_is_a_real_skann_type():
    """skann's own types, and the scikit-learn models a fitted skann model holds
    (the Tabular estimators' linear blend)."""
    assert SKOPS_TRUSTED_TYPES == sorted(set(SKOPS_TRUSTED_TYPES))
    for name in SKOPS_TRUSTED_TYPES:
        module_name, _, class_name = name.rpartition(".")
        assert module_name.split(".")[0] in ("skann", "sklearn"), name
        cls = getattr(importlib.import_module(module_name), class_name)
        assert inspect.isclass(cls) and _qualified(cls) == name, name


# ----------------------------------------------------------------------
# Files with other types are refused
# ----------------------------------------------------------------------
class Foreign:
    """An object skops cannot vouch for."""

    def __init__(self):
        self.payload = "anything"


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return 2 * X


def test_foreign_attribute_is_refused(tmp_path):
    skops_io = pytest.importorskip("skops.io")
    X, y = iris()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    model.foreign_ = Foreign()
    skops_io.dump(model, tmp_path / "model.skops")
    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException, match="Foreign"):
        skops_io.load(tmp_path / "model.skops", trusted=SKOPS_TRUSTED_TYPES)


def test_foreign_pipeline_step_is_refused(tmp_path):
    skops_io = pytest.importorskip("skops.io")
    X, y = iris()
    pipe = make_pipeline(Doubler(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0))
    skops_io.dump(pipe.fit(X, y), tmp_path / "pipe.skops")
    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException, match="Doubler"):
        skops_io.load(tmp_path / "pipe.skops", trusted=SKOPS_TRUSTED_TYPES)
    untrusted = skops_io.get_untrusted_types(file=tmp_path / "pipe.skops")
    assert [name for name in untrusted if name not in SKOPS_TRUSTED_TYPES] == [
        f"{__name__}.Doubler"
    ]


# ----------------------------------------------------------------------
# The saving skann version
# ----------------------------------------------------------------------
def _fitted():
    X, y = iris()
    return MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y), X


def _save_load_functions():
    """``way -> save(model) -> (data, load(data) -> model)``."""
    def skops_round_trip(model):
        skops_io = pytest.importorskip("skops.io")
        return skops_io.dumps(model), lambda data: skops_io.loads(data, trusted=SKOPS_TRUSTED_TYPES)

    def joblib_round_trip(model):
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        return buffer.getvalue(), lambda data: joblib.load(io.BytesIO(data))

    return {
        "pickle": lambda model: (pickle.dumps(model), pickle.loads),
        "joblib": joblib_round_trip,
        "skops": skops_round_trip,
    }


@pytest.mark.parametrize("way", ["pickle", "joblib", "skops"])
def test_model_from_another_skann_version_warns(monkeypatch, way):
    model, X = _fitted()
    with monkeypatch.context() as patch:
        patch.setattr(skann, "__version__", "0.0.1")
        data, load = _save_load_functions()[way](model)
    with pytest.warns(InconsistentVersionWarning, match=f"saved by skann 0.0.1 with skann {skann.__version__}") as record:
        loaded = load(data)
    warning = [w.message for w in record if isinstance(w.message, InconsistentVersionWarning)][0]
    assert (warning.original_version, warning.current_version) == ("0.0.1", skann.__version__)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("way", ["pickle", "joblib", "skops"])
def test_same_version_loads_silently(way):
    model, X = _fitted()
    data, load = _save_load_functions()[way](model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load(data)
    assert "_skann_version" not in vars(loaded)
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_model_saved_without_a_version_warns():
    model, _ = _fitted()
    state = model.__getstate__()
    del state["_skann_version"]
    with pytest.warns(InconsistentVersionWarning, match="saved by skann unknown"):
        MLPClassifier.__new__(MLPClassifier).__setstate__(state)


def test_saving_never_changes_the_model():
    model, X = _fitted()
    before = dict(vars(model))
    params = model.network_.params.copy()
    for way, save in _save_load_functions().items():
        save(model)
        assert vars(model).keys() == before.keys(), way
        assert all(vars(model)[key] is value for key, value in before.items()), way
    assert np.array_equal(model.network_.params, params)
    assert model.network_.grads.shape == params.shape
