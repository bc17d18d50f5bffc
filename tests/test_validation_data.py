"""fit(X, y, *, X_val, y_val, sample_weight_val): recorded validation
metrics, early stopping on them, and their way through Pipelines."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skann import AutoEncoder, MLPClassifier, MLPRegressor

from ._data import binary, iris, regression

FAST = dict(hidden_layer_sizes=(8,), random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def test_val_metrics_are_computed_on_X_val_every_epoch():
    X, y = iris()
    order = np.random.RandomState(0).permutation(len(y))
    X_train, y_train, X_val, y_val = _split(X[order], y[order], 100)
    model = MLPClassifier(max_iter=5, **FAST).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(model.history_) == 5 and all("val_loss" in record for record in model.history_)
    last = model.history_[-1]
    # Without early stopping nothing is restored: the last epoch's metrics
    # are those of the final model.
    assert last["val_loss"] == pytest.approx(log_loss(y_val, model.predict_proba(X_val)), rel=1e-10)
    assert last["val_score"] == pytest.approx(model.score(X_val, y_val))
    assert not any("restored" in record for record in model.history_)
    assert model.validation_scores_ is None
    # All training rows train: nothing is held out.
    assert last["samples"] == len(y_train)


def test_sample_weight_val_weighs_the_validation_metrics():
    X, y = binary(n_samples=200)
    X_train, y_train, X_val, y_val = _split(X, y, 150)
    weight = np.where(y_val == 1, 3.0, 1.0)
    model = MLPClassifier(max_iter=3, **FAST).fit(
        X_train, y_train, X_val=X_val, y_val=y_val, sample_weight_val=weight
    )
    expected = log_loss(y_val, model.predict_proba(X_val), sample_weight=weight)
    assert model.history_[-1]["val_loss"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("monitor, best", [("val_loss", np.argmin), ("val_score", np.argmax)])
def test_early_stopping_watches_X_val_and_restores_the_best_epoch(monitor, best):
    X, y = iris()
    order = np.random.RandomState(1).permutation(len(y))
    X_train, y_train, X_val, y_val = _split(X[order], y[order], 110)
    # A large step overfits the 110 training rows within 300 epochs.
    model = MLPClassifier(
        early_stopping=True, monitor=monitor, validation_fraction=0.0, max_iter=300,
        hidden_layer_sizes=(64,), learning_rate_init=0.02, random_state=0,
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    values = [record[monitor] for record in model.history_]
    chosen = int(best(values))
    assert model.history_[chosen].get("restored") is True
    assert model.n_iter_ < 300  # it stopped
    assert model.history_[0]["samples"] == len(y_train)
    assert model.score(X_val, y_val) == pytest.approx(model.history_[chosen]["val_score"])
    assert model.best_validation_score_ == model.history_[chosen]["val_score"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(X_val="X"), "X_val was given without y_val"),
        (dict(y_val="y"), "y_val was given without X_val"),
        (dict(sample_weight_val=np.ones(10)), "sample_weight_val was given without"),
        (dict(X_val="X3", y_val="y"), "3 features"),
        (dict(X_val="X", y_val="y5"), "X_val has 20 samples but y_val has 5"),
        (dict(X_val="X", y_val="y7"), r"y_val contains labels \[7\]"),
    ],
)
def test_bad_validation_data_say_what_is_wrong(kwargs, message):
    X, y = binary()
    values = {"X": X[:20], "X3": X[:20, :3], "y": y[:20], "y5": y[:5], "y7": np.full(20, 7)}
    kwargs = {key: values.get(value, value) if isinstance(value, str) else value for key, value in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        MLPClassifier(max_iter=2, **FAST).fit(X, y, **kwargs)


def test_X_val_goes_through_a_pipeline_with_metadata_routing():
    X, y = iris()
    X = X * 10.0 + 50.0  # unscaled: an untransformed X_val would score badly
    order = np.random.RandomState(0).permutation(len(y))
    X_train, y_train, X_val, y_val = _split(X[order], y[order], 100)
    with sklearn.config_context(enable_metadata_routing=True):
        model = MLPClassifier(max_iter=20, **FAST).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", model)], transform_input=["X_val"])
        pipe.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        expected = log_loss(y_val, pipe.predict_proba(X_val))
    assert not sklearn.get_config()["enable_metadata_routing"]
    assert pipe[-1].history_[-1]["val_loss"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("method", ["pseudo_label", "entropy"])
def test_semi_supervised_validation_drops_unlabelled_rows(method):
    X, y = iris()
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order], y[order]
    y_train = y[:100].copy()
    y_train[::3] = -1
    y_val = y[100:].copy()
    y_val[::4] = -1
    params = dict(semi_supervised=method, supervised_fallback=False, max_iter=4, **FAST)
    with_markers = MLPClassifier(**params).fit(X[:100], y_train, X_val=X[100:], y_val=y_val)
    labelled = y_val != -1
    without = MLPClassifier(**params).fit(X[:100], y_train, X_val=X[100:][labelled], y_val=y_val[labelled])
    assert [r["val_loss"] for r in with_markers.history_] == [r["val_loss"] for r in without.history_]
    with pytest.raises(ValueError, match="Every row of y_val is marked unlabelled"):
        MLPClassifier(**params).fit(X[:100], y_train, X_val=X[100:], y_val=np.full(50, -1))


def test_autoencoder_validates_on_X_val_alone():
    X, _ = regression(n_samples=150)
    X = StandardScaler().fit_transform(X)
    model = AutoEncoder(hidden_layer_sizes=(4, 2), max_iter=5, random_state=0)
    model.fit(X[:100], X_val=X[100:])
    assert model.history_[-1]["val_score"] == pytest.approx(model.score(X[100:]))
    stopped = AutoEncoder(hidden_layer_sizes=(4, 2), early_stopping=True, random_state=0)
    stopped.fit(X[:100], X_val=X[100:])
    assert any(record.get("restored") for record in stopped.history_)


def test_lbfgs_records_validation_metrics_every_iteration():
    X, y = regression(n_samples=150)
    model = MLPRegressor(solver="lbfgs", max_iter=15, **FAST).fit(X[:100], y[:100], X_val=X[100:], y_val=y[100:])
    assert len(model.history_) == model.n_iter_
    assert all({"val_loss", "val_score"} <= set(record) for record in model.history_)
    assert model.history_[-1]["val_score"] == pytest.approx(model.score(X[100:], y[100:]))


def test_verbose_prints_the_validation_metrics(capsys):
    X, y = iris()
    MLPClassifier(max_iter=2, verbose=True, **FAST).fit(X[::2], y[::2], X_val=X[1::2], y_val=y[1::2])
    header = capsys.readouterr().out.splitlines()[0]
    assert "val_loss" in header.split() and "val_score" in header.split()


def test_sparse_X_val():
    import scipy.sparse as sp

    X = sp.random(60, 5, density=0.5, format="csr", random_state=0)
    model = AutoEncoder(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X[:40], X_val=X[40:])
    assert model.history_[-1]["val_score"] == pytest.approx(model.score(X[40:]))


def test_early_stopping_on_the_validation_loss_stops_well_before_max_iter():
    # The validation loss creeps down for ~150 epochs on digits; improvements
    # under 1% of it count as a plateau, so training stops far sooner at
    # about the full run's accuracy.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    stopped = MLPClassifier(early_stopping=True, random_state=0).fit(X_train, y_train)
    assert stopped.n_iter_ < 120
    assert stopped.score(X_test, y_test) > 0.95
