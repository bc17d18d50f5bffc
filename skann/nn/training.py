"""The one training loop, its batch plans and the supervised objective.

:class:`TrainingLoop` runs epochs: for each batch of a *plan* it asks the
*objective* for the loss (which fills the network's gradients), lets the
optimizer step with the *schedule*'s rate, and tells its *hooks*. Hooks
decide everything else: validation metrics, early stopping, keeping the
best weights, divergence checks, printing, a mean teacher. Supervised,
semi-supervised and autoencoder training differ only in their plan and
objective; the loop knows no estimator.
"""

import time
from math import isfinite

import numpy as np

from .hooks import History, Hook
from .layers.dense import Dense
from .schedules import Constant
from .workspace import Buffers

__all__ = ["Batch", "MinibatchPlan", "SupervisedObjective", "TrainingLoop", "row_indices"]


class Batch:
    """One minibatch: inputs, encoded targets and sample weights.

    ``n_rows`` weighs the batch's loss in the epoch's mean loss.
    """

    __slots__ = ("X", "Y", "weight", "n_rows")

    def __init__(self, X, Y, weight, n_rows=None):
        self.X, self.Y, self.weight = X, Y, weight
        self.n_rows = X.shape[0] if n_rows is None else n_rows


# ----------------------------------------------------------------------
# Plans: which rows form the batches of an epoch
# ----------------------------------------------------------------------
def row_indices(n_rows):
    """``arange(n_rows)`` in the smallest unsigned type that holds it.

    uint16 up to 65,536 rows: a quarter of int64's memory. A shuffle draws
    the same permutation whatever the integer type.

    Parameters
    ----------
    n_rows : int

    Returns
    -------
    rows : ndarray of shape (n_rows,)

    Examples
    --------
    >>> from skann.nn.training import row_indices
    >>> row_indices(300).dtype.name, row_indices(70_000).dtype.name
    ('uint16', 'uint32')
    """
    return np.arange(n_rows, dtype=np.min_scalar_type(max(n_rows - 1, 0)))


class MinibatchPlan:
    """Minibatches over ``rows`` of (X, Y, weight), shuffled each epoch.

    Each batch is gathered from X and Y once into buffers reused from
    batch to batch (owned by the plan, which lives for one fit) and cast to
    the compute dtype there; X and Y are never copied whole.

    With ``batch_size > 1`` no batch has a single row: a last batch of one
    row joins the one before (33 rows in batches of 32 make one batch of
    33). Batch statistics of one row are meaningless (BatchNorm refuses
    them in training).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets, in any dtype that holds them exactly (one-hot
        classes in ``uint8``): each batch is cast to the compute dtype.
    sample_weight : ndarray of shape (n_samples,) or None
    rows : ndarray of int or None
        The training rows; None for all of them, with no index array kept
        between epochs (each epoch's order is made anew, by
        :func:`row_indices`).
    batch_size : int
    shuffle : bool
    random_state : RandomState
        Shuffles the rows (in place of a copy) each epoch.
    dtype : dtype
        Compute dtype.
    """

    def __init__(self, X, Y, sample_weight, rows, batch_size, shuffle, random_state, dtype):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.rows = rows
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.random_state = random_state
        self.dtype = np.dtype(dtype)
        # The batches' arrays, their shaped views reused from batch to batch.
        self._buffers = Buffers()

    @property
    def n_samples(self):
        """Rows seen per epoch."""
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def batches(self):
        """Yield the epoch's :class:`Batch` objects (buffers reused)."""
        if self.rows is None:
            order = row_indices(self.X.shape[0])
        else:
            order = self.rows.copy() if self.shuffle else self.rows
        if self.shuffle:
            self.random_state.shuffle(order)
        n_rows, size = len(order), self.batch_size
        for start in range(0, n_rows, size):
            stop = start + size
            if size > 1 and n_rows - stop == 1:  # the last row would be alone
                stop = n_rows
            yield self.gather(order[start:stop])
            if stop == n_rows:
                break

    def gather(self, rows):
        """The :class:`Batch` of ``rows``, in reused buffers.

        Parameters
        ----------
        rows : ndarray of int
            Row indices into the plan's data.
        """
        # Weights stay in their own dtype (float64 from the estimators): the
        # loss uses them as ratios, which float32 could overflow.
        weight = None if self.sample_weight is None else self.sample_weight[rows]
        n_rows, X, Y, buffers = len(rows), self.X, self.Y, self._buffers
        # ndarray.take: np.take without its Python wrapper (called per batch).
        Y = Y.take(rows, axis=0, out=buffers.get("Y", (n_rows, Y.shape[1]), Y.dtype), mode="clip")
        Y = self._cast(Y, "Y_cast")
        if not isinstance(X, np.ndarray):  # sparse
            return Batch(X[rows].astype(self.dtype), Y, weight, n_rows)
        X = X.take(rows, axis=0, out=buffers.get("X", (n_rows, X.shape[1]), X.dtype), mode="clip")
        return Batch(self._cast(X, "X_cast"), Y, weight, n_rows)

    def _cast(self, array, key):
        """``array`` in the compute dtype, in the reused buffer ``key``."""
        if array.dtype == self.dtype:
            return array
        cast = self._buffers.get(key, array.shape, self.dtype)
        np.copyto(cast, array)
        return cast


# ----------------------------------------------------------------------
# Objectives: the loss of a batch, and its gradient into network.grads
# ----------------------------------------------------------------------
class SupervisedObjective:
    """Loss of a batch with the L2 penalty; fills the network's gradients.

    Parameters
    ----------
    loss : Loss
        The loss fused with the output activation.
    alpha : float
        L2 strength; the penalty ``alpha / 2 * ||W||^2`` is divided by the
        batch's (weighted) sample count, as in sklearn.
    noise : callable, default=None
        ``noise(X) -> X`` applied to the inputs of each batch (a denoising
        autoencoder's corruption), or None.
    """

    def __init__(self, loss, alpha, noise=None):
        self.loss = loss
        self.alpha = float(alpha)
        self.noise = noise
        self._in_place = None  # (network, whether its output may be overwritten)

    def __call__(self, network, batch, ctx):
        loss = self.loss
        X = batch.X if self.noise is None else self.noise(batch.X)
        scores = network.forward(X, ctx)
        # In place only after a Dense layer of identity activation, whose
        # backward reads neither its output nor its pre-activation (one copy
        # less per batch for a regressor); otherwise ``scores`` is the last
        # layer's output, which its backward may still need.
        in_place = self._in_place
        if in_place is None or in_place[0] is not network:
            in_place = self._in_place = (network, _output_in_place(network))
        if not in_place[1]:
            scores = loss.output(scores, out=ctx.buffers.get("proba", scores.shape, scores.dtype))
        else:
            scores = loss.output(scores, out=scores)
        proba = scores
        value = loss.value(batch.Y, proba, batch.weight)
        network.backward(loss.gradient(batch.Y, proba, batch.weight, out=proba), ctx)
        return value + self.penalty(network, ctx, batch.n_rows if batch.weight is None else batch.weight.sum())

    def penalty(self, network, ctx, n_effective):
        """Add the L2 gradient for ``n_effective`` samples; return the penalty.

        A batch of total weight 0 stands for no samples at all: no penalty.

        Parameters
        ----------
        network : Network
        ctx : Context
            The per-call context (``network.context(...)``) that holds the
            gradients.
        n_effective : float
            The batch's total sample weight.
        """
        n_effective = float(n_effective)
        if not self.alpha or n_effective <= 0:
            return 0.0
        # One cache-blocked pass adds the penalty's gradient and returns ||W||².
        squared_norm = network.add_penalty_gradient(self.alpha / n_effective, ctx)
        return 0.5 * self.alpha * squared_norm / n_effective


def _output_in_place(network):
    """Whether the loss may overwrite the network's output (see
    :meth:`SupervisedObjective.__call__`)."""
    last = network.layers[-1] if network.layers else None
    return type(last) is Dense and last.activation == "identity"


# ----------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------
class TrainingLoop:
    """Epochs of minibatch steps, with hooks.

    Parameters
    ----------
    network : Network
    objective : callable
        ``objective(network, batch, ctx) -> loss``; fills ``network.grads``.
    optimizer : Optimizer
        Built (``optimizer.build``) for the network's parameters.
    schedule : Schedule, default=None
        Learning rates; ``Constant(0.001)`` by default.
    hooks : list of Hook, default=()
    interruptible : bool, default=False
        Catch a ``KeyboardInterrupt`` raised during an epoch: the network's
        weights go back to where that epoch started (one copy of
        ``params`` and ``state``, refreshed at each epoch's start; the
        optimizer's moments keep the interrupted epoch's steps),
        ``interrupted`` is set and ``run`` returns the records of the
        completed epochs. Otherwise the interrupt propagates.

    Attributes
    ----------
    records : list of dict
        One per epoch run: ``epoch`` (from 1), ``loss`` (mean over the
        epoch's batches), ``learning_rate``, ``samples``, ``seconds``, and
        what hooks add (``val_loss``, ``val_score``).
    stopped : bool
        Whether a hook stopped training before ``max_epochs``.
    stop_reason : str or None
    interrupted : bool
        Whether a ``KeyboardInterrupt`` ended training (``interruptible``).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Dense, Network, get_loss
    >>> from skann.nn.optimizers import Adam
    >>> from skann.nn.schedules import Constant
    >>> from skann.nn.training import MinibatchPlan, SupervisedObjective, TrainingLoop
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)); Y = (X.sum(axis=1, keepdims=True) > 0) * 1.0
    >>> net = Network([Dense(8, "tanh"), Dense(1, "identity")])
    >>> _ = net.build((2,), np.float64, rng)
    >>> loss = get_loss("binary_log_loss")
    >>> loop = TrainingLoop(net, SupervisedObjective(loss, alpha=1e-4),
    ...                     Adam().build(net.params.size, net.n_regularized, net.dtype),
    ...                     Constant(0.01))
    >>> plan = MinibatchPlan(X, Y, None, np.arange(200), 32, True, rng, np.float64)
    >>> records = loop.run(plan, max_epochs=30)
    >>> records[-1]["loss"] < records[0]["loss"]
    True
    """

    def __init__(
        self, network, objective, optimizer, schedule=None, hooks=(), interruptible=False,
    ):
        self.network = network
        self.objective = objective
        self.optimizer = optimizer
        self.schedule = Constant() if schedule is None else schedule
        self.history = History()
        self.hooks = [*hooks, self.history]
        self.interruptible = interruptible

    def run(self, plan, max_epochs, rng=None):
        """Train for at most ``max_epochs`` epochs of ``plan``; return the records.

        Parameters
        ----------
        plan : MinibatchPlan
            The minibatches of every epoch.
        max_epochs : int
        rng : numpy.random.Generator, default=None
            Handed to the layers (dropout masks).

        Returns
        -------
        records : list of dict
            One per epoch run.
        """
        self.ctx = self.network.context(training=True, rng=rng)
        self._start = None
        self.stopped, self.stop_reason = False, None
        self.interrupted = False
        try:
            for hook in self.hooks:
                hook.on_fit_begin(self)
            # Hooks whose on_step acts only on a non-finite loss (FiniteCheck)
            # are called only then: a scalar test per step instead of a call.
            step_hooks, non_finite_hooks = [], []
            for hook in self.hooks:
                if type(hook).on_step is not Hook.on_step:
                    (non_finite_hooks if hook.steps_non_finite_only else step_hooks).append(hook)
            step_hooks = (step_hooks, non_finite_hooks)
            for epoch in range(1, max_epochs + 1):
                for hook in self.hooks:
                    hook.on_epoch_begin(self, epoch)
                record = self._interruptible_epoch(plan, epoch, step_hooks)
                if record is None:
                    break
                self.schedule.on_epoch_end(record)
                stop = [hook.on_epoch_end(self, record) for hook in self.hooks]
                if any(stop):
                    self.stopped = True
                    break
            for hook in self.hooks:
                hook.on_fit_end(self)
        finally:
            self.ctx = self._start = None  # per-call buffers go with the call, even on error
        return self.records

    @property
    def records(self):
        """The epochs run so far (the :class:`~skann.nn.hooks.History` hook's)."""
        return getattr(self.history, "records", [])

    def _interruptible_epoch(self, plan, epoch, step_hooks):
        """:meth:`_epoch`, rolled back to its start on a ``KeyboardInterrupt``
        when ``interruptible`` (then returns None)."""
        if not self.interruptible:
            return self._epoch(plan, epoch, step_hooks)
        # The weights at the epoch's start, in one copy reused epoch to epoch.
        if self._start is None:
            self._start = self.network.snapshot()
        else:
            np.copyto(self._start[0], self.network.params)
            np.copyto(self._start[1], self.network.state)
        try:
            return self._epoch(plan, epoch, step_hooks)
        except KeyboardInterrupt:
            self.network.restore(self._start)
            self.interrupted = self.stopped = True
            self.stop_reason = (
                f"Training interrupted (KeyboardInterrupt) during epoch {epoch}: the "
                f"weights are those of the last completed epoch ({epoch - 1})."
            )
            return None

    def _epoch(self, plan, epoch, step_hooks):
        """One pass over ``plan``; returns the epoch's record."""
        network, objective, optimizer, ctx = self.network, self.objective, self.optimizer, self.ctx
        params, grads, step = network.params, network.grads, optimizer.step
        step_hooks, non_finite_hooks = step_hooks
        started = time.perf_counter()
        rate = self.schedule.rate()
        total = weight = 0.0
        for batch in plan.batches():
            loss = objective(network, batch, ctx)
            step(params, grads, rate, consume_grads=True)  # the next batch recomputes them
            n_rows = batch.n_rows
            total += loss * n_rows
            weight += n_rows
            if not isfinite(loss):
                for hook in non_finite_hooks:
                    hook.on_step(self, loss)
            for hook in step_hooks:
                hook.on_step(self, loss)
        return {
            "epoch": epoch,
            "loss": total / weight if weight else float("nan"),
            "learning_rate": rate,
            "samples": plan.n_samples,
            "seconds": time.perf_counter() - started,
        }
