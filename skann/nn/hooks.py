"""Hooks of the training loop: everything but the steps themselves.

A hook sees the loop before the first epoch, after each optimizer step,
after each epoch (it may add to the epoch's record and ask to stop) and at
the end. Validation metrics, keeping the best weights, early stopping,
divergence checks, printing and a mean teacher are hooks;
:class:`~skann.nn.training.TrainingLoop` and
:class:`~skann.nn.lbfgs.LbfgsLoop` run them.
"""

import math

import numpy as np

__all__ = [
    "Divergence",
    "EMA",
    "EarlyStopping",
    "FiniteCheck",
    "History",
    "Hook",
    "KeepBest",
    "Validation",
    "Verbose",
]


class Divergence(ValueError):
    """Training produced a non-finite loss or non-finite weights."""



class Hook:
    """Base class of the loop's hooks; every method is optional.

    Attributes
    ----------
    steps_non_finite_only : bool
        Whether :meth:`on_step` does nothing when the loss is finite (as
        :class:`FiniteCheck`'s): the loops then call it only for a
        non-finite loss, a scalar test per step instead of a call.
    """

    steps_non_finite_only = False

    def on_fit_begin(self, loop):
        """Before the first epoch.

        Parameters
        ----------
        loop : TrainingLoop or LbfgsLoop
            The running loop (its ``network``, ``records`` so far, ...).
        """

    def on_epoch_begin(self, loop, epoch):
        """Before each epoch (each lbfgs iteration), numbered from 1."""

    def on_step(self, loop, loss):
        """After each optimizer step, with the batch's loss.

        Parameters
        ----------
        loop : TrainingLoop
            The running loop.
        loss : float
            The minibatch's loss, penalty included.
        """

    def on_epoch_end(self, loop, record):
        """After each epoch; may add to ``record``. Return True to stop.

        Parameters
        ----------
        loop : TrainingLoop or LbfgsLoop
            The running loop.
        record : dict
            The epoch's record (``epoch``, ``loss``, ``learning_rate``,
            ``samples``, ``seconds``), which becomes an entry of the
            estimators' ``history_``.

        Returns
        -------
        stop : bool
        """
        return False

    def on_fit_end(self, loop):
        """After the last epoch (not after an exception).

        Parameters
        ----------
        loop : TrainingLoop or LbfgsLoop
            The loop that ran.
        """


class History(Hook):
    """Keep every epoch's record: the loops' ``records`` and the estimators'
    ``history_``.

    The loops add one as their last hook, so each record it keeps is
    complete (validation metrics included).

    Attributes
    ----------
    records : list of dict
        One per completed epoch, in order.

    Examples
    --------
    >>> from skann.nn.hooks import History
    >>> history = History()
    >>> history.on_fit_begin(None)
    >>> history.on_epoch_end(None, {"epoch": 1, "loss": 0.5})
    False
    >>> history.records
    [{'epoch': 1, 'loss': 0.5}]
    """

    def on_fit_begin(self, loop):
        self.records = []

    def on_epoch_end(self, loop, record):
        self.records.append(record)
        return False


class FiniteCheck(Hook):
    """Raise :class:`Divergence` on a non-finite loss or non-finite weights.

    Parameters
    ----------
    hint : str, default="Lower the learning rate or scale the input features."
        What the message advises.
    """

    # on_step acts only on a non-finite loss: the loop calls it only then.
    steps_non_finite_only = True

    def __init__(self, hint="Lower the learning rate or scale the input features."):
        self.hint = hint

    def on_step(self, loop, loss):
        if not math.isfinite(loss):
            self._fail(loop, f"the loss of a minibatch became {loss}")

    def on_epoch_end(self, loop, record):
        if not math.isfinite(record["loss"]):
            self._fail(loop, f"the training loss became {record['loss']}")
        if not loop.network.is_finite():
            self._fail(loop, "the weights became non-finite")
        return False

    def _fail(self, loop, what):
        # sklearn's words when the weights are gone (its tests match them).
        weights = (
            "" if loop.network.is_finite() else
            "Solver produced non-finite parameter weights. The input data may "
            "contain large values and need to be preprocessed. "
        )
        raise Divergence(f"{weights}Training diverged: {what}. {self.hint}")


class Validation(Hook):
    """Add the validation loss and score of each epoch to its record.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(network) -> (loss, score)`` on the validation data.
    """

    def __init__(self, evaluate):
        self.evaluate = evaluate

    def on_epoch_end(self, loop, record):
        record["val_loss"], record["val_score"] = map(float, self.evaluate(loop.network))
        return False


class KeepBest(Hook):
    """Restore, at the end of training, the weights of the best epoch.

    Parameters
    ----------
    monitor : str, default="val_loss"
        Record key to minimise (or maximise, with ``mode="max"``).
    mode : {"min", "max"}, default="min"

    Attributes
    ----------
    best : float
        Best value seen; ``best_record`` is its record.
    """

    def __init__(self, monitor="val_loss", mode="min"):
        self.monitor = monitor
        self.mode = mode

    def on_fit_begin(self, loop):
        self.best, self.best_record, self._snapshot = None, None, None

    def on_epoch_end(self, loop, record):
        value = record[self.monitor]
        better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        if better and math.isfinite(value):
            self.best, self.best_record = value, record
            if self._snapshot is None:
                self._snapshot = loop.network.snapshot()
            else:
                np.copyto(self._snapshot[0], loop.network.params)
                np.copyto(self._snapshot[1], loop.network.state)
        return False

    def on_fit_end(self, loop):
        if self._snapshot is not None:
            loop.network.restore(self._snapshot)
            self.best_record["restored"] = True


class EarlyStopping(Hook):
    """Stop when the monitored value has not improved for ``patience`` epochs.

    An epoch improves when its value is below the best so far by more than
    ``tol + rtol * |best|`` (above, with ``mode="max"``). After more than
    ``patience`` epochs without improvement, the loop's schedule is asked to
    :meth:`reduce` (sklearn's ``"adaptive"`` rate); if it cannot, training
    stops.

    Parameters
    ----------
    monitor : str, default="loss"
    patience : int or inf, default=10
    tol : float, default=1e-4
        Absolute improvement that counts.
    mode : {"min", "max"}, default="min"
    best : float, default=None
        Best value of an earlier run (``warm_start`` continues it).
    count : int, default=0
        Epochs without improvement carried over from an earlier run.
    rtol : float, default=0.0
        Improvement that counts, relative to the best value: a loss that
        creeps down by a fraction of a percent per epoch is a plateau.
    """

    def __init__(
        self, monitor="loss", patience=10, tol=1e-4, mode="min", best=None, count=0, rtol=0.0
    ):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.mode = mode
        self.best = best
        self.count = count
        self.rtol = rtol

    def on_epoch_end(self, loop, record):
        value = record[self.monitor]
        sign = 1.0 if self.mode == "min" else -1.0
        margin = self.tol if self.best is None else self.tol + self.rtol * abs(self.best)
        if self.best is not None and sign * value > sign * self.best - margin:
            self.count += 1
        else:
            self.count = 0
        if self.best is None or sign * value < sign * self.best:
            self.best = value
        if self.count > self.patience:
            schedule = getattr(loop, "schedule", None)  # LbfgsLoop has none
            if schedule is not None and schedule.reduce():
                self.count = 0
                return False
            loop.stop_reason = (
                f"{self.monitor} did not improve by more than tol={self.tol}"
                + (f" and rtol={self.rtol}" if self.rtol else "")
                + " for "
                f"{self.patience} consecutive epochs. Stopping."
            )
            return True
        return False


class Verbose(Hook):
    """Print the epoch table: a header, then one line per epoch.

    The columns are the record's (those of ``history_``): ``Iteration``
    (the epoch), the training ``loss``, ``val_loss`` and ``val_score`` when
    a validation hook adds them, ``learning_rate`` (not for lbfgs) and
    ``seconds``. The header comes with the first epoch, whose record
    decides the columns; why training stopped is printed at the end.

    Parameters
    ----------
    print_function : callable, default=print
    first_epoch : int, default=1
        Number printed for the loop's first epoch (``partial_fit`` and
        ``warm_start`` continue the count).

    Examples
    --------
    >>> from skann.nn.hooks import Verbose
    >>> verbose = Verbose()
    >>> verbose.on_fit_begin(None)
    >>> _ = verbose.on_epoch_end(None, {"epoch": 1, "loss": 0.5, "learning_rate": 0.001, "seconds": 0.02})
    Iteration          loss  learning_rate   seconds
            1    0.50000000          0.001      0.02
    """

    # (record key, header, width, format) in print order.
    COLUMNS = (
        ("epoch", "Iteration", 9, "d"),
        ("loss", "loss", 12, ".8f"),
        ("val_loss", "val_loss", 12, ".8f"),
        ("val_score", "val_score", 10, ".6f"),
        ("learning_rate", "learning_rate", 13, ".3g"),
        ("seconds", "seconds", 8, ".2f"),
    )

    def __init__(self, print_function=print, first_epoch=1):
        self.print_function = print_function
        self.first_epoch = first_epoch

    def on_fit_begin(self, loop):
        self._columns = None

    def on_epoch_end(self, loop, record):
        if self._columns is None:
            self._columns = [
                column for column in self.COLUMNS if record.get(column[0]) is not None
            ]
            self.print_function("  ".join(f"{header:>{width}}" for _, header, width, _ in self._columns))
        values = dict(record, epoch=record["epoch"] + self.first_epoch - 1)
        self.print_function(
            "  ".join(f"{values[key]:>{width}{spec}}" for key, _, width, spec in self._columns)
        )
        return False

    def on_fit_end(self, loop):
        if loop.stop_reason:
            self.print_function(loop.stop_reason)


class EMA(Hook):
    """A mean teacher: an exponential moving average of the parameters.

    After step ``s`` of the teacher's life the average decays by
    ``min(decay, 1 - 1 / (s + 1))``, so the early average follows the
    student closely. The average lives in ``state["params"]`` (a flat
    buffer of the network's layout), which the caller keeps between runs.

    Parameters
    ----------
    state : dict
        ``{"params": ndarray or None, "steps": int}``; filled on first use.
    decay : float, default=0.99
    """

    def __init__(self, state, decay=0.99):
        self.state = state
        self.decay = decay

    def on_fit_begin(self, loop):
        if self.state.get("params") is None:
            self.state["params"] = loop.network.params.copy()
            self.state["steps"] = 0
        self._buffer = np.empty_like(self.state["params"])

    def on_step(self, loop, loss):
        self.state["steps"] += 1
        decay = min(self.decay, 1.0 - 1.0 / (self.state["steps"] + 1))
        teacher = self.state["params"]
        teacher *= decay
        teacher += np.multiply(loop.network.params, 1.0 - decay, out=self._buffer)

    def on_fit_end(self, loop):
        del self._buffer
