"""
A progress bar and a score per epoch with scikit-learn's callbacks
==================================================================

scikit-learn 1.9 brings callbacks (``sklearn.callback``, experimental):
objects set on an estimator with ``set_callbacks`` that are told when each
task of a fit begins and ends. skann reports every fit as a task with one
subtask per epoch (per iteration for ``solver="lbfgs"``), so
:class:`~sklearn.callback.ProgressBar` draws a bar that moves epoch by epoch
and :class:`~sklearn.callback.ScoringMonitor` scores the model of each
epoch.

Needs scikit-learn >= 1.9, and rich for the progress bar
(``pip install "skann[progress]"``); pandas for the table. Run
``python examples/plot_callbacks.py`` (a few seconds).
"""

# %%
# A progress bar
# --------------
# The bar counts the epochs of the fit (``max_iter`` of them at most). The
# short fits below stop at ``max_iter``: we silence the warning that says so.
import warnings

from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0)
model.set_callbacks(ProgressBar())
model.fit(X_train, y_train)

# %%
# A score per epoch
# -----------------
# ``ScoringMonitor`` scores, at the end of each epoch, a copy of the model
# holding that epoch's weights, on the training data of the fit. Its log has
# one row per epoch (``task_name == "epoch"``) and one for the whole fit.
monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0)
model.set_callbacks(monitor)
model.fit(X_train, y_train)

log = monitor.get_logs().data_as_pandas
epochs = log[log["task_name"] == "epoch"]
print(epochs[["task_id", "accuracy", "neg_log_loss"]].iloc[::5].round(4).to_string(index=False))

# %%
# Stopping from a callback
# ------------------------
# A callback whose ``on_fit_task_end`` returns True stops training after
# that epoch. This one stops once the training accuracy passes 0.99; with
# ``early_stopping=True`` the weights of the best validation epoch would
# then be restored, as when early stopping itself ends the fit.


class StopAtAccuracy:
    """Stop the fit once the epoch's model reaches an accuracy on the data."""

    def __init__(self, threshold):
        self.threshold = threshold

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        if context.task_name != "epoch" or fitted_estimator is None:
            return False
        return fitted_estimator.score(X, y) > self.threshold


model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
model.set_callbacks(StopAtAccuracy(0.99))
model.fit(X_train, y_train)
print(f"stopped after {model.n_iter_} epochs; test accuracy {model.score(X_test, y_test):.4f}")
