"""The face's contract: one fit plan, one commit.

A fit trains a state aside and commits it at the end, so that a fit that
fails or is interrupted before its first completed epoch leaves the model
exactly as it was, a concurrent ``predict`` sees the old model or the new
one, and only the estimators' own classes write their attributes.
"""

import sys
import threading
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.nn.training import SupervisedObjective
from skann.semi_supervised._training import ConsistencyObjective

from ._data import iris

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _fitted_state(model):
    """What a user can observe of a fitted model."""
    return {
        "params": model.network_.params.copy(),
        "n_iter_": model.n_iter_,
        "history": len(model.history_),
        "n_features_in_": model.n_features_in_,
        "warm_start": model.warm_start,
    }


def _assert_same(before, model):
    after = _fitted_state(model)
    np.testing.assert_array_equal(after.pop("params"), before.pop("params"))
    assert after == before


def _interrupt_after(monkeypatch, objective_class, n_calls):
    """Make ``objective_class.__call__`` raise KeyboardInterrupt on call ``n_calls + 1``."""
    original = objective_class.__call__
    calls = [0]

    def interrupted(self, network, batch, ctx):
        calls[0] += 1
        if calls[0] > n_calls:
            raise KeyboardInterrupt
        return original(self, network, batch, ctx)

    monkeypatch.setattr(objective_class, "__call__", interrupted)
    return calls


# ----------------------------------------------------------------------
# Interrupts
# ----------------------------------------------------------------------
def test_an_interrupt_in_the_first_epoch_of_a_refit_keeps_the_previous_model(monkeypatch):
    X, y = iris()
    model = MLPClassifier(max_iter=50, **FAST).fit(X, y)
    before, score = _fitted_state(model), model.score(X, y)
    _interrupt_after(monkeypatch, SupervisedObjective, 0)  # inside the first epoch
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    _assert_same(before, model)
    assert model.score(X, y) == score


def test_an_interrupt_after_some_epochs_commits_them_with_a_warning(monkeypatch):
    X, y = iris()
    n_batches = -(-len(X) // 200)
    _interrupt_after(monkeypatch, SupervisedObjective, 3 * n_batches + 0)
    with pytest.warns(UserWarning, match="interrupted"):
        model = MLPClassifier(max_iter=50, **FAST).fit(X, y)
    assert model.n_iter_ == 3 and len(model.history_) == 3


def test_an_interrupt_in_the_guard_trial_ends_the_whole_semi_supervised_fit(monkeypatch):
    X, y = iris()
    y = y.copy()
    y[1::3] = -1
    model = MLPClassifier(max_iter=30, **FAST).fit(X[y != -1], y[y != -1])
    before = _fitted_state(model)
    calls = _interrupt_after(monkeypatch, SupervisedObjective, 5)  # the trial is supervised
    model.set_params(semi_supervised="pseudo_label", max_iter=10**5)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert calls[0] == 6  # nothing ran after the interrupt
    _assert_same(before, model)


def test_an_interrupt_in_the_semi_supervised_phase_commits_it_without_a_fallback(monkeypatch):
    X, y = iris()
    y = y.copy()
    y[1::3] = -1
    calls = _interrupt_after(monkeypatch, ConsistencyObjective, 12)
    with pytest.warns(UserWarning, match="interrupted"):
        model = MLPClassifier(max_iter=10**5, semi_supervised="pseudo_label", **FAST).fit(X, y)
    assert calls[0] == 13
    assert model.used_unlabelled_ and 0 < model.n_iter_ < 13
    assert "semi_supervised" not in model.guard_scores_  # not judged: interrupted


def test_an_interrupted_partial_fit_changes_nothing(monkeypatch):
    X, y = iris()
    model = MLPClassifier(**FAST).partial_fit(X, y, classes=[0, 1, 2])
    before = _fitted_state(model)
    _interrupt_after(monkeypatch, SupervisedObjective, 0)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X, y)
    _assert_same(before, model)


# ----------------------------------------------------------------------
# Callbacks' stops in semi-supervised fits
# ----------------------------------------------------------------------
def test_a_callback_stop_ends_a_semi_supervised_fit_without_a_fallback():
    pytest.importorskip("sklearn.callback")
    from .test_callbacks import Recorder

    X, y = iris()
    y = y.copy()
    y[1::3] = -1
    recorder = Recorder(stop_after=4)
    model = MLPClassifier(max_iter=3000, semi_supervised="pseudo_label", **FAST).set_callbacks(recorder)
    model.fit(X, y)
    assert model.n_iter_ == 4
    assert [task for task, _, _ in recorder.ended] == ["epoch"] * 4 + ["fit"]


# ----------------------------------------------------------------------
# Failed fits leave the model as it was
# ----------------------------------------------------------------------
def test_a_failed_lbfgs_warm_start_keeps_the_loss_curve(monkeypatch):
    X, y = iris()
    model = MLPClassifier(solver="lbfgs", max_iter=20, warm_start=True, **FAST).fit(X, y)
    curve, history = list(model.loss_curve_), list(model.history_)
    _interrupt_after(monkeypatch, SupervisedObjective, 5)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert model.loss_curve_ == curve and model.history_ == history


def test_a_failed_fit_after_training_keeps_the_previous_model():
    pytest.importorskip("sklearn.callback")
    from .test_callbacks import Recorder

    class FailsAtTheEnd(Recorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "fit":
                raise RuntimeError("callback failed")
            return super().on_fit_task_end(estimator, context, **kwargs)

    X, y = iris()
    model = MLPClassifier(max_iter=20, warm_start=True, **FAST).fit(X, y)
    before = _fitted_state(model)
    model.set_callbacks(FailsAtTheEnd())
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X, y)
    # The callbacks' fit task ends after the commit (they see the fitted
    # model); its error undoes the commit.
    _assert_same(before, model)


def test_init_network_that_fails_leaves_the_estimator_as_it_was(digits):
    X, y = digits
    autoencoder = AutoEncoder(hidden_layer_sizes=(32, 8), max_iter=5, random_state=0).fit(X)
    classifier = MLPClassifier(hidden_layer_sizes=(32, 8), max_iter=20, random_state=0).fit(X[:, :40], y)
    before, score = _fitted_state(classifier), classifier.score(X[:, :40], y)
    with pytest.raises(ValueError, match="features the autoencoder was fit on"):
        autoencoder.init_network(classifier, X[:, :40], y)
    _assert_same(before, classifier)
    assert classifier.score(X[:, :40], y) == score


def test_validation_weights_follow_the_training_weights_rule():
    X, y = iris()
    weight = np.full(len(y), 1e39)  # finite in float64, beyond float32
    model = MLPClassifier(max_iter=3, **FAST)
    model.fit(X, y, sample_weight=weight, X_val=X, y_val=y, sample_weight_val=weight)
    assert np.isfinite(model.history_[-1]["val_loss"])


# ----------------------------------------------------------------------
# Concurrent readers see the old model or the new one
# ----------------------------------------------------------------------
def test_predict_while_another_thread_refits_sees_a_whole_model(digits):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=0).fit(X, y)
    rows = X[:200]
    seen, errors = [], []
    done = threading.Event()

    def read():
        while not done.is_set():
            try:
                seen.append(model.predict_proba(rows))
            except Exception as error:  # noqa: BLE001 - any error is a failure
                errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    fitted = []
    try:
        for seed in range(4):
            model.set_params(random_state=seed + 1, hidden_layer_sizes=(64 + 16 * (seed % 2),))
            model.fit(X, y)
            fitted.append(model.predict_proba(rows))
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert not errors and seen
    first = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=0).fit(X, y).predict_proba(rows)
    for proba in seen:
        assert any(np.array_equal(proba, known) for known in [first, *fitted])


# ----------------------------------------------------------------------
# One writer
# ----------------------------------------------------------------------
class _WritesRecorder(dict):
    """An instance ``__dict__`` that records which file writes into it."""

    def __init__(self, initial, writers):
        super().__init__(initial)
        self.writers = writers

    def _record(self, names):
        filename = sys._getframe(2).f_code.co_filename
        self.writers.setdefault(filename, set()).update(names)

    def __setitem__(self, name, value):
        self._record([name])
        super().__setitem__(name, value)

    def update(self, *args, **kwargs):
        new = dict(*args, **kwargs)
        self._record(new)
        super().update(new)

    def pop(self, name, *default):
        self._record([name])
        return super().pop(name, *default)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLPClassifier(max_iter=3, early_stopping=True, random_state=0),
        lambda: MLPClassifier(max_iter=3, semi_supervised="pseudo_label", random_state=0),
        lambda: MLPClassifier(max_iter=3, solver="lbfgs", class_weight="balanced", random_state=0),
        lambda: MLPRegressor(max_iter=3, random_state=0),
        lambda: AutoEncoder(max_iter=3, noise=0.1, random_state=0),
    ],
)
def test_only_the_estimators_own_modules_write_its_attributes(make):
    X, y = iris()
    y = y.copy()
    estimator = make()
    if getattr(estimator, "semi_supervised", None):
        y[1::3] = -1
    writers = {}

    class Spy(type(estimator)):
        def __setattr__(self, name, value):
            writers.setdefault(sys._getframe(1).f_code.co_filename, set()).add(name)
            object.__setattr__(self, name, value)

    Spy.__name__ = type(estimator).__name__
    spy = Spy(**estimator.get_params(deep=False))
    object.__setattr__(spy, "__dict__", _WritesRecorder(spy.__dict__, writers))
    spy.fit(X, y)
    spy.partial_fit(X, y) if hasattr(spy, "partial_fit") else None
    own = {
        sys.modules[cls.__module__].__file__
        for cls in type(estimator).__mro__
        if cls.__module__.startswith("skann")
    }
    skann_files = {filename for filename in writers if "/skann/" in filename and "/tests/" not in filename}
    assert skann_files, "the recorder saw no write"
    assert skann_files <= own, {filename: writers[filename] for filename in skann_files - own}


# ----------------------------------------------------------------------
# Parameters that reach the engine
# ----------------------------------------------------------------------
def test_nesterovs_momentum_changes_sgd_training():
    X, y = iris()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nesterov = MLPClassifier(solver="sgd", momentum=0.9, max_iter=5, **FAST).fit(X, y)
        classical = MLPClassifier(solver="sgd", momentum=0.9, nesterovs_momentum=False, max_iter=5, **FAST).fit(X, y)
        no_momentum = MLPClassifier(solver="sgd", momentum=0.0, nesterovs_momentum=False, max_iter=5, **FAST).fit(X, y)
    assert not np.allclose(nesterov.network_.params, classical.network_.params)
    assert not np.allclose(classical.network_.params, no_momentum.network_.params)
    assert nesterov._optimizer.nesterov and not classical._optimizer.nesterov


def test_confidence_threshold_decides_which_pseudo_labels_count(digits):
    X, y = digits
    y = y.copy()
    rng = np.random.RandomState(0)
    y[rng.permutation(len(y))[100:]] = -1
    common = dict(max_iter=6, semi_supervised="pseudo_label", supervised_fallback=False, random_state=0)
    # Above every probability, no pseudo-label counts: the unlabelled term is 0
    # and training follows the labelled rows alone.
    never = MLPClassifier(confidence_threshold=1.0, **common).fit(X, y)
    always = MLPClassifier(confidence_threshold=0.0, **common).fit(X, y)
    assert not np.allclose(never.network_.params, always.network_.params)
    assert never.history_[-1]["loss"] < always.history_[-1]["loss"]


# ----------------------------------------------------------------------
# Inputs checked before anything indexes them
# ----------------------------------------------------------------------
@pytest.mark.parametrize("n_weights", [19, 40])
def test_labelled_only_checks_sample_weight_before_indexing_it(n_weights):
    X, y = iris()
    rows = np.r_[0:7, 50:57, 100:106]  # 20 rows, every class
    X, y = X[rows], y[rows].copy()
    y[::2] = -1
    with pytest.raises(ValueError, match="sample_weight"):
        MLPClassifier(semi_supervised="labelled_only", max_iter=2, **FAST).fit(X, y, sample_weight=np.ones(n_weights))


def test_unlabelled_marker_of_the_wrong_type_is_an_error():
    X, y = iris()
    y = y.copy()
    y[::3] = -1
    with pytest.raises(ValueError, match="string but y has numeric labels"):
        MLPClassifier(semi_supervised="pseudo_label", unlabelled_marker="-1", max_iter=2, **FAST).fit(X, y)
    with pytest.raises(TypeError, match="not a bool"):
        MLPClassifier(semi_supervised="pseudo_label", unlabelled_marker=True, max_iter=2, **FAST).fit(X, y)
