"""LossCurveDisplay draws history_: the plotted data are the records."""

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skann import AutoEncoder, LossCurveDisplay, MLPClassifier, MLPRegressor

from ._data import iris, regression

plt = pytest.importorskip("matplotlib.pyplot")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _early_stopped():
    X, y = iris()
    return MLPClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=3,
        learning_rate_init=0.02, max_iter=100, random_state=0,
    ).fit(X, y)


def test_plotted_data_are_the_history():
    clf = _early_stopped()
    history = [dict(record) for record in clf.history_]
    display = LossCurveDisplay.from_estimator(clf)

    epochs = [record["epoch"] for record in history]
    assert set(display.lines_) == {"loss", "val_loss", "best_epoch"}
    np.testing.assert_array_equal(display.lines_["loss"].get_xdata(), epochs)
    np.testing.assert_array_equal(display.lines_["loss"].get_ydata(), [r["loss"] for r in history])
    np.testing.assert_array_equal(display.lines_["val_loss"].get_xdata(), epochs)
    np.testing.assert_array_equal(
        display.lines_["val_loss"].get_ydata(), [r["val_loss"] for r in history]
    )
    assert clf.history_ == history  # drawing changes nothing


def test_best_epoch_marker_sits_at_the_restored_epoch():
    clf = _early_stopped()
    restored = [record for record in clf.history_ if record.get("restored")]
    assert len(restored) == 1
    # Early stopping ran past the best epoch: the marker is not the last one.
    assert restored[0]["epoch"] < clf.history_[-1]["epoch"]
    marker = LossCurveDisplay.from_estimator(clf).lines_["best_epoch"]
    np.testing.assert_array_equal(marker.get_xdata(), [restored[0]["epoch"]])
    np.testing.assert_array_equal(marker.get_ydata(), [restored[0]["val_loss"]])
    assert restored[0]["val_loss"] == min(record["val_loss"] for record in clf.history_)


@pytest.mark.parametrize(
    "estimator, data",
    [
        (MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0), regression),
        (MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=15, random_state=0), iris),
        (AutoEncoder(hidden_layer_sizes=(4, 2), max_iter=20, random_state=0), iris),
    ],
)
def test_without_validation_only_the_training_loss(estimator, data):
    X, y = data()
    estimator.fit(X, y)
    display = LossCurveDisplay.from_estimator(estimator)
    assert set(display.lines_) == {"loss"}
    np.testing.assert_array_equal(
        display.lines_["loss"].get_ydata(), [record["loss"] for record in estimator.history_]
    )
    assert len(display.lines_["loss"].get_xdata()) == estimator.n_iter_
    assert display.ax_.get_title() == type(estimator).__name__


def test_pipeline_draws_its_last_step():
    X, y = iris()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0))
    pipe.fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(display.lines_["loss"].get_ydata(), pipe[-1].loss_curve_)
    assert display.ax_.get_title() == "MLPClassifier"


def test_given_axes_are_drawn_on():
    clf = _early_stopped()
    figure, (left, right) = plt.subplots(1, 2)
    display = LossCurveDisplay.from_estimator(clf, ax=right, name="mine", val_loss_kw={"color": "red"})
    assert display.ax_ is right and display.figure_ is figure
    assert len(right.get_lines()) == 3 and not left.get_lines()
    assert right.get_title() == "mine"
    assert display.lines_["val_loss"].get_color() == "red"
    assert right.get_legend() is not None


def test_plot_from_data_and_replot():
    display = LossCurveDisplay(epochs=[1, 2, 3], loss=[3.0, 2.0, 1.5], val_loss=[3.5, 2.5, 2.6], best_epochs=[2])
    display.plot()
    first_axes = display.ax_
    np.testing.assert_array_equal(display.lines_["best_epoch"].get_xdata(), [2])
    np.testing.assert_array_equal(display.lines_["best_epoch"].get_ydata(), [2.5])
    _, ax = plt.subplots()
    assert display.plot(ax=ax).ax_ is ax is not first_axes


def test_unfitted_estimator_is_an_error():
    with pytest.raises(NotFittedError, match="not fitted"):
        LossCurveDisplay.from_estimator(MLPClassifier())
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(make_pipeline(StandardScaler(), MLPRegressor()))


def test_estimator_without_history_is_an_error():
    X, y = iris()
    sklearn_mlp = SklearnMLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(X, y)
    with pytest.raises(TypeError, match="history_ of a fitted skann estimator"):
        LossCurveDisplay.from_estimator(sklearn_mlp)


def test_missing_matplotlib_is_a_clear_error(monkeypatch):
    clf = _early_stopped()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.from_estimator requires matplotlib"):
        LossCurveDisplay.from_estimator(clf)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay(epochs=[1], loss=[1.0]).plot()
