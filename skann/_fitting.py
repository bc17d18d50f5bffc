"""Training a built estimator: the engine's loop, set up from parameters.

The estimator validates and encodes; these functions build the engine's
plan, objective, optimizer, schedule and hooks from its parameters, run the
loop (or lbfgs), and store what the records say in the fitted attributes.
The loop itself never sees the estimator.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .nn import Divergence, FiniteCheck, LbfgsLoop, MinibatchPlan, SupervisedObjective, TrainingLoop, Verbose
from .nn.schedules import Cosine
from .nn.training import Batch
from ._early_stopping import Monitoring, split_validation
from ._solvers import l2_strength, optimizer_and_schedule
from .semi_supervised._training import consistency_training

# Final share of a semi-supervised fit's max_iter epochs over which adam's
# learning rate anneals to zero along a half cosine.
ANNEAL_FRACTION = 0.3


def divergence_hint(estimator):
    """What a divergence error advises, in the estimator's own terms."""
    return (
        f"Lower learning_rate_init (now {estimator.learning_rate_init:g}), scale the "
        "input features (e.g. with StandardScaler) or, for targets of large "
        "magnitude, keep scale_target=True. The model was left as it was "
        "before this call."
    )


def fit_stochastic(
    estimator, X, Y, sample_weight, incremental, early_stopping, unlabelled, validation=None,
    task=None, judge=None,
):
    """Run stochastic epochs (one for ``partial_fit``) and record them.

    ``validation`` is the validated ``(X, Y, weight)`` given to ``fit``, or
    None (early stopping then holds out ``validation_fraction`` of X).
    ``task`` is the fit's callback task (see ``_callbacks.fit_task``), or
    None; each epoch is reported to it. ``judge`` is the semi-supervised
    guard's hook, or None.
    """
    network = estimator.network_
    optimizer, schedule = optimizer_and_schedule(estimator, incremental)
    rows = np.arange(X.shape[0])
    if early_stopping and validation is None:
        rows, validation = split_validation(
            X, Y, sample_weight, estimator.validation_fraction,
            estimator._stratification(Y), estimator._random_state,
        )
    monitoring = Monitoring(estimator, validation, early_stopping, supervised=unlabelled is None)
    hooks = [FiniteCheck(divergence_hint(estimator)), *monitoring.hooks]
    plan = MinibatchPlan(
        X, Y, sample_weight, rows, estimator._batch_rows(max(len(rows), 1), warn=len(rows) > 0),
        estimator.shuffle, estimator._random_state, network.dtype,
    )
    objective = SupervisedObjective(estimator._loss, l2_strength(estimator), estimator._input_noise())
    if unlabelled is not None:
        plan, objective, extra_hooks = consistency_training(estimator, plan, *unlabelled, judge)
        hooks += extra_hooks
        if not incremental and estimator.solver == "adam" and estimator.learning_rate == "constant":
            # Full rate, then a half cosine to zero over the last epochs of
            # this fit: the last pseudo-labels and the weights settle.
            schedule = Cosine(estimator.learning_rate_init, estimator.max_iter, hold=1 - ANNEAL_FRACTION)
    hooks += _reporting_hooks(estimator, task, "epoch")
    loop = TrainingLoop(
        network, objective, optimizer, schedule, hooks, estimator.clip_grad_norm,
        # partial_fit is one epoch: an interrupt there propagates, and the
        # all-or-nothing call restores the model as it was before the call.
        interruptible=not incremental,
    )
    records = loop.run(plan, 1 if incremental else estimator.max_iter, rng=estimator._layer_rng())
    _store_records(estimator, records)
    if loop.interrupted:
        warnings.warn(loop.stop_reason + " The model is usable; call fit again to train it fully.")
    monitoring.store(estimator, records)
    converging = not incremental and unlabelled is None and not loop.interrupted
    if converging and estimator.n_iter_ == estimator.max_iter and not loop.stopped:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) "
            "reached and the optimization hasn't converged yet.",
            ConvergenceWarning,
        )


def fit_lbfgs(estimator, X, Y, sample_weight, validation=None, task=None):
    """Minimise over all rows with L-BFGS-B, reporting to the same hooks.

    With ``validation`` data, every iteration records their loss and score
    (lbfgs does not stop early, as in sklearn, unless a callback asks).
    """
    network = estimator.network_
    X = X.astype(network.dtype, copy=False)
    noise = estimator._input_noise()
    if noise is not None:  # one corruption per fit: lbfgs needs a fixed objective
        X = noise(X)
    hooks = [FiniteCheck(divergence_hint(estimator))]
    hooks += Monitoring(estimator, validation, early_stopping=False, supervised=False).hooks
    hooks += _reporting_hooks(estimator, task, "iteration")
    loop = LbfgsLoop(network, SupervisedObjective(estimator._loss, estimator.alpha), hooks)
    records = loop.run(Batch(X, Y, sample_weight), estimator.max_iter, estimator.max_fun, estimator.tol)
    result = loop.result
    final_loss = float(result.fun)
    if not (np.isfinite(final_loss) and network.is_finite()):
        raise Divergence(
            f"Training diverged: the loss became {final_loss}. {divergence_hint(estimator)}"
        )
    _store_records(estimator, records)
    estimator.n_iter_ = int(result.nit)
    estimator.loss_ = final_loss
    estimator.loss_curve_ = [final_loss]
    estimator.best_loss_ = final_loss
    if result.status != 0 and not loop.stopped:
        warnings.warn(
            f"lbfgs failed to converge after {estimator.n_iter_} iterations "
            f"({result.message}). Increase max_iter or max_fun, or scale the data.",
            ConvergenceWarning,
        )


def _reporting_hooks(estimator, task, task_name):
    """The hooks that report epochs: the verbose table, then callbacks.

    Last of the hooks, they see each record complete (validation metrics
    included) and a callback's stop request ends training like early
    stopping does.
    """
    hooks = []
    if estimator.verbose:
        hooks.append(Verbose(first_epoch=len(estimator.history_) + 1))
    if task is not None:
        hooks.append(task.bridge(task_name))
    return hooks


def _store_records(estimator, records):
    """Fitted attributes from the loop's records (``history_`` and the rest)."""
    start = len(estimator.history_)
    for offset, record in enumerate(records, start=1):
        record["epoch"] = start + offset
    estimator.history_ += records
    estimator.n_iter_ = len(records)
    estimator.t_ += sum(record["samples"] for record in records)
    if records:
        estimator.loss_ = records[-1]["loss"]
        estimator.loss_curve_ += [record["loss"] for record in records]
