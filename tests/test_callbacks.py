"""sklearn 1.9 callbacks (one task per epoch, per lbfgs iteration), the
shim for scikit-learn without them, and the verbose epoch table."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skann
from skann import AutoEncoder, MLPClassifier, MLPRegressor

from ._data import iris, regression

callback = pytest.importorskip("sklearn.callback")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SKANN_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(skann.__file__)))
FAST = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)


class Recorder:
    """Keeps every task that ends, with the model it was shown.

    ``stop_after`` (an epoch number) makes it ask to stop there.
    """

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.ended = []  # (task_name, estimator_name, fitted_estimator)
        self.began = []
        self.setups = self.teardowns = 0

    def setup(self, estimator, context):
        self.setups += 1

    def teardown(self, estimator, context):
        self.teardowns += 1

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.began.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        self.ended.append((context.task_name, context.estimator_name, fitted_estimator))
        epochs = self.epochs()
        return context.task_name == "epoch" and len(epochs) == self.stop_after

    def epochs(self, name="epoch"):
        return [fitted for task, _, fitted in self.ended if task == name and fitted is not None]


class PropagatedRecorder(Recorder):
    """A :class:`Recorder` that meta-estimators hand to their sub-estimators."""

    max_propagation_depth = None


# ----------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor, AutoEncoder])
def test_one_task_per_epoch(Estimator):
    X, y = iris()
    recorder = Recorder()
    model = Estimator(max_iter=4, **FAST).set_callbacks(recorder)
    model.fit(X, y)
    assert recorder.began == ["fit"] + ["epoch"] * 4
    assert [task for task, _, _ in recorder.ended] == ["epoch"] * 4 + ["fit"]
    assert recorder.setups == recorder.teardowns == 1
    assert not hasattr(model, "_callback_fit_ctx")  # sklearn cleaned up


def test_lbfgs_iterations_are_tasks():
    X, y = iris()
    recorder = Recorder()
    model = MLPClassifier(solver="lbfgs", max_iter=6, **FAST).set_callbacks(recorder)
    model.fit(X, y)
    # One task per iteration, plus the one begun when scipy stops (ended empty).
    assert len(recorder.epochs("iteration")) == model.n_iter_ == len(model.history_) == 6
    assert recorder.began.count("iteration") == 7
    assert recorder.ended[-2][2] is None


def test_partial_fit_is_one_epoch_task():
    X, y = iris()
    recorder = Recorder()
    model = MLPClassifier(**FAST).set_callbacks(recorder)
    model.partial_fit(X, y, classes=np.unique(y))
    model.partial_fit(X, y)
    assert [task for task, _, _ in recorder.ended] == ["epoch", "fit"] * 2


def test_no_callbacks_no_tasks(monkeypatch):
    calls = []
    monkeypatch.setattr(MLPClassifier, "_init_callback_context", lambda *a, **k: calls.append(1))
    X, y = iris()
    MLPClassifier(max_iter=2, **FAST).fit(X, y)
    assert calls == []


# ----------------------------------------------------------------------
# The model shown to callbacks: a snapshot of each epoch
# ----------------------------------------------------------------------
def test_snapshots_are_the_models_of_their_epochs():
    X, y = iris()
    recorder = Recorder()
    model = MLPClassifier(max_iter=5, **FAST).set_callbacks(recorder)
    model.fit(X, y)
    snapshots = recorder.epochs()
    assert [snapshot.n_iter_ for snapshot in snapshots] == [1, 2, 3, 4, 5]
    params = [snapshot.network_.params for snapshot in snapshots]
    # Distinct copies, none of them the live buffer, each epoch's own weights.
    assert all(p is not model.network_.params for p in params)
    assert all(not np.array_equal(a, b) for a, b in zip(params, params[1:]))
    np.testing.assert_array_equal(params[-1], model.network_.params)
    # Each snapshot predicts as the model would with those weights.
    reference = pickle.loads(pickle.dumps(model))
    reference.network_.params[...] = params[1]
    np.testing.assert_array_equal(snapshots[1].predict_proba(X), reference.predict_proba(X))


def test_scoring_monitor_logs_one_row_per_epoch():
    X, y = iris()
    monitor = callback.ScoringMonitor(scoring="neg_log_loss")
    recorder = Recorder()
    model = MLPClassifier(max_iter=6, **FAST).set_callbacks(monitor, recorder)
    model.fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert len(rows) == model.n_iter_ == 6
    scores = [row["neg_log_loss"] for row in rows]
    assert len(set(scores)) == 6  # the model changes from epoch to epoch
    # The scores are those of the epochs' models, still intact after the fit.
    expected = [-log_loss(y, snapshot.predict_proba(X)) for snapshot in recorder.epochs()]
    np.testing.assert_allclose(scores, expected)
    assert scores[-1] > scores[0]


# ----------------------------------------------------------------------
# Stopping
# ----------------------------------------------------------------------
def test_a_callback_stops_training():
    X, y = iris()
    recorder = Recorder(stop_after=3)
    model = MLPClassifier(max_iter=50, **FAST).set_callbacks(recorder)
    model.fit(X, y)
    assert model.n_iter_ == len(model.history_) == len(model.loss_curve_) == 3
    # Without kept weights the model is the one of the last epoch run.
    np.testing.assert_array_equal(model.network_.params, recorder.epochs()[-1].network_.params)


def test_a_callback_stop_keeps_the_best_weights():
    X, y = iris()

    class StopAtSix(Recorder):
        def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
            super().on_fit_task_end(estimator, context, X=X, y=y, fitted_estimator=fitted_estimator)
            return context.task_name == "epoch" and len(self.epochs()) == 6

    recorder = StopAtSix()
    # A large rate: the validation loss goes up and down, the best epoch is not the last.
    model = MLPClassifier(
        max_iter=100, early_stopping=True, n_iter_no_change=50, hidden_layer_sizes=(8,),
        learning_rate_init=1.0, random_state=0,
    ).set_callbacks(recorder)
    model.fit(X, y)
    assert model.n_iter_ == len(model.history_) == 6
    best = int(np.argmin([record["val_loss"] for record in model.history_]))
    assert best < 5, "the test needs a best epoch before the last"
    assert model.history_[best].get("restored")
    np.testing.assert_array_equal(model.network_.params, recorder.epochs()[best].network_.params)


def test_a_callback_stops_lbfgs():
    X, y = iris()
    class StopAtThree(Recorder):
        def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
            super().on_fit_task_end(estimator, context, X=X, y=y, fitted_estimator=fitted_estimator)
            return len(self.epochs("iteration")) == 3

    recorder = StopAtThree()
    model = MLPClassifier(solver="lbfgs", max_iter=50, **FAST).set_callbacks(recorder)
    model.fit(X, y)
    assert model.n_iter_ == len(model.history_) == 3
    np.testing.assert_array_equal(
        model.network_.params, recorder.epochs("iteration")[-1].network_.params
    )


def test_a_failing_callback_leaves_the_model_as_it_was():
    X, y = iris()

    class Fails(Recorder):
        def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
            if context.task_name == "epoch":
                raise RuntimeError("callback failed")

    model = MLPClassifier(max_iter=3, **FAST).fit(X, y)
    before = model.network_.params.copy()
    failing = Fails()
    model.set_callbacks(failing)
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.network_.params, before)
    assert model.n_iter_ == 3
    assert failing.teardowns == 1 and model._skl_callbacks == [failing]
    assert not hasattr(model, "_callback_fit_ctx")


# ----------------------------------------------------------------------
# Progress bar and meta-estimators
# ----------------------------------------------------------------------
def test_progress_bar_is_drawn(capsys):
    pytest.importorskip("rich")
    X, y = iris()
    MLPClassifier(max_iter=3, **FAST).set_callbacks(callback.ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "MLPClassifier - fit" in out and "100%" in out


def test_grid_search_over_a_pipeline_reaches_the_epochs(capsys):
    pytest.importorskip("rich")
    X, y = iris()
    recorder = PropagatedRecorder()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(max_iter=3, **FAST)),
        {"mlpclassifier__alpha": [1e-4, 1e-2]},
        cv=2,
    )
    # The MLP is two levels below the search (ProgressBar's default is one).
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=2), recorder)
    search.fit(X, y)
    epochs = [name for task, name, _ in recorder.ended if task == "epoch"]
    # 2 candidates x 2 splits + the refit, 3 epochs each.
    assert epochs == ["MLPClassifier"] * 15
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out and "MLPClassifier - fit" in out


# ----------------------------------------------------------------------
# Persistence: callbacks are not part of the model
# ----------------------------------------------------------------------
def test_callbacks_are_not_pickled():
    X, y = iris()
    recorder = Recorder()
    model = MLPClassifier(max_iter=2, **FAST).set_callbacks(recorder)
    assert "_skl_callbacks" not in pickle.loads(pickle.dumps(model)).__dict__
    model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert "_skl_callbacks" not in restored.__dict__
    assert model._skl_callbacks == [recorder]  # the session keeps them
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_callbacks_are_not_in_skops_files():
    sio = pytest.importorskip("skops.io")
    X, y = iris()
    model = MLPClassifier(max_iter=2, **FAST).set_callbacks(callback.ScoringMonitor(scoring="accuracy"))
    model.fit(X, y)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert set(untrusted) <= set(skann.SKOPS_TRUSTED_TYPES)  # no callback type to trust
    assert not any("callback" in name for name in untrusted)
    restored = sio.loads(data, trusted=skann.SKOPS_TRUSTED_TYPES)
    assert not hasattr(restored, "_skl_callbacks")


# ----------------------------------------------------------------------
# scikit-learn without sklearn.callback
# ----------------------------------------------------------------------
def test_shim_without_sklearn_callback():
    # scikit-learn 1.9 itself needs sklearn.callback: import its modules
    # first, then remove the public name, as a scikit-learn without
    # callbacks lacks it, and import skann.
    code = textwrap.dedent(
        """
        import sklearn.callback, sklearn.datasets, sklearn.linear_model, sklearn.metrics
        import sklearn.model_selection, sklearn.pipeline, sklearn.preprocessing
        del sklearn.callback.CallbackSupportMixin
        import skann
        from skann import MLPClassifier, _compat
        from sklearn.datasets import load_iris
        assert not _compat.HAS_CALLBACKS
        assert not hasattr(MLPClassifier(), "set_callbacks")
        X, y = load_iris(return_X_y=True)
        model = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
        assert model.n_iter_ == 3
        print("ok", skann.__file__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True,
        cwd=SKANN_ROOT, env={**os.environ, "PYTHONPATH": SKANN_ROOT}, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok " + SKANN_ROOT)


# ----------------------------------------------------------------------
# verbose: the epoch table
# ----------------------------------------------------------------------
def test_verbose_epoch_table(capsys):
    X, y = iris()
    model = MLPClassifier(max_iter=3, verbose=True, **FAST)
    model.fit(X[::2], y[::2], X_val=X[1::2], y_val=y[1::2])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Iteration", "loss", "val_loss", "val_score", "learning_rate", "seconds"]
    assert len(lines) == 1 + 3
    for epoch, (line, record) in enumerate(zip(lines[1:], model.history_), start=1):
        fields = line.split()
        assert fields[0] == str(epoch)
        assert float(fields[1]) == pytest.approx(record["loss"], abs=1e-8)
        assert float(fields[2]) == pytest.approx(record["val_loss"], abs=1e-8)
        assert float(fields[3]) == pytest.approx(record["val_score"], abs=1e-6)
        assert float(fields[4]) == pytest.approx(0.01)


def test_verbose_partial_fit_continues_the_count(capsys):
    X, y = regression()
    model = MLPRegressor(verbose=True, **FAST)
    model.partial_fit(X, y)
    model.partial_fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["Iteration", "1", "Iteration", "2"]


def test_semi_supervised_guard_fits_are_not_reported():
    X, y = iris()
    y = y.copy()
    y[1::3] = -1  # a third unlabelled
    recorder = Recorder()
    model = MLPClassifier(max_iter=3, semi_supervised="pseudo_label", **FAST).set_callbacks(recorder)
    model.fit(X, y)
    assert model.guard_scores_ is not None  # the guard ran (its supervised trial fit unreported)
    # The semi-supervised fit's epochs, then the fallback's when the guard fell back.
    epochs = 3 if model.used_unlabelled_ else 6
    assert [task for task, _, _ in recorder.ended] == ["epoch"] * epochs + ["fit"]
    assert recorder.setups == recorder.teardowns == 1
