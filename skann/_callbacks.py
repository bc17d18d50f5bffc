"""The bridge from the training loop to scikit-learn's callbacks.

A fit with callbacks (``set_callbacks``, or propagated by a meta-estimator
such as ``GridSearchCV`` or ``Pipeline``) is a root task with one subtask
per epoch (per iteration for lbfgs). :class:`CallbackBridge` is the loop
hook that begins and ends these subtasks; :func:`fit_task` opens and closes
the root task around the whole fit. Nothing here runs without callbacks.
"""

import copy
from contextlib import contextmanager

from ._compat import root_callback_context
from .nn.hooks import Hook

__all__ = ["CallbackBridge", "fit_task"]


class FitTask:
    """The root task of one fit: its context and what callbacks are shown.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.
    context : sklearn.callback.CallbackContext
    X : {array-like, sparse matrix}
        The training data, as given to ``fit``.
    y : array-like or None
        The targets, as given (callbacks score in the user's terms).
    metadata : dict
        ``{"sample_weight": ...}`` when weights were given.

    Attributes
    ----------
    epoch_attributes : callable
        ``epoch_attributes(network, epoch) -> dict``: the fitted attributes
        of the model at the end of an epoch (set by the estimator that fits).
    """

    def __init__(self, estimator, context, X, y, metadata):
        self.estimator = estimator
        self.context = context
        self.data = {"X": X, "y": y, "metadata": metadata}
        self.epoch_attributes = lambda network, epoch: {"network_": network, "n_iter_": epoch}

    def bridge(self, task_name="epoch"):
        """A new :class:`CallbackBridge` reporting to this task."""
        return CallbackBridge(self, task_name)


class CallbackBridge(Hook):
    """Report each epoch of the loop to sklearn's callbacks as a subtask.

    Begins a subtask at each epoch's start and ends it with the epoch's
    model; a callback whose ``on_fit_task_end`` returns True stops
    training (the other hooks then end the fit as for early stopping: the
    best weights are restored when they are kept).

    The model shown to callbacks (``fitted_estimator``) is a copy of the
    estimator whose ``network_`` holds a copy of the epoch's parameters,
    built only when a callback asks for it: the next step cannot change it.

    Parameters
    ----------
    task : FitTask
        The root task of the fit.
    task_name : str, default="epoch"
        Name of the subtasks.
    """

    def __init__(self, task, task_name="epoch"):
        self.task = task
        self.task_name = task_name

    def on_fit_begin(self, loop):
        self._epoch = None

    def on_epoch_begin(self, loop, epoch):
        self._epoch = self.task.context.subcontext(task_name=self.task_name)
        self._epoch.call_on_fit_task_begin(estimator=self.task.estimator, **self.task.data)

    def on_epoch_end(self, loop, record):
        epoch, self._epoch = self._epoch, None
        stop = epoch.call_on_fit_task_end(
            estimator=self.task.estimator,
            reconstruction_attributes=lambda: self.snapshot(loop, record),
            **self.task.data,
        )
        if stop and not loop.stop_reason:
            loop.stop_reason = f"A callback asked to stop after {self.task_name} {record['epoch']}."
        return bool(stop)

    def on_fit_end(self, loop):
        if self._epoch is not None:  # begun, never run (interrupted, or lbfgs done)
            self._epoch.call_on_fit_task_end(estimator=self.task.estimator)
            self._epoch = None

    def snapshot(self, loop, record):
        """Fitted attributes of the model at the end of ``record``'s epoch."""
        return self.task.epoch_attributes(copy.deepcopy(loop.network), record["epoch"])


@contextmanager
def fit_task(estimator, X, y, sample_weight, max_subtasks):
    """The root callback task of a fit, or None without callbacks.

    Begins the task on entry and ends it, with the fitted estimator, when
    the block completes (not when it raises: callbacks are torn down by
    sklearn's fit context either way).

    Parameters
    ----------
    estimator : estimator instance
    X : {array-like, sparse matrix}
        Training data, as given to ``fit``.
    y : array-like or None
        Targets, as given.
    sample_weight : array-like or None
    max_subtasks : int
        Epochs (lbfgs iterations, plus one) the fit may report.

    Yields
    ------
    task : FitTask or None
    """
    context = root_callback_context(estimator, max_subtasks)
    if context is None:
        yield None
        return
    metadata = {} if sample_weight is None else {"sample_weight": sample_weight}
    task = FitTask(estimator, context, X, y, metadata)
    context.call_on_fit_task_begin(estimator=estimator, **task.data)
    yield task
    context.call_on_fit_task_end(estimator=estimator, reconstruction_attributes={}, **task.data)
