"""Training a built estimator: the engine's loop, set up from parameters.

The estimator validates and encodes; these functions build the engine's
plan, objective, optimizer, schedule and hooks from its parameters, run the
loop (or lbfgs), and store what the records say in the fitted attributes.
The loop itself never sees the estimator.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .nn import (
    Divergence,
    EarlyStopping,
    FiniteCheck,
    KeepBest,
    LbfgsLoop,
    MinibatchPlan,
    SupervisedObjective,
    TrainingLoop,
    Validation,
    Verbose,
)
from .nn.optimizers import SGD, Adam
from .nn.schedules import Adaptive, Constant, Cosine, InvScaling
from .nn.training import Batch
from ._early_stopping import split_validation
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


def make_optimizer(estimator, network):
    """The solver's optimizer, built for ``network``."""
    if estimator.solver == "sgd":
        optimizer = SGD(estimator.momentum, estimator.nesterovs_momentum)
    else:
        optimizer = Adam(estimator.beta_1, estimator.beta_2, estimator.epsilon)
    return optimizer.build(network.params.size, network.n_regularized, network.dtype)


def _continued(current, fresh):
    """``current`` (optimizer or schedule state carried over by warm_start
    and partial_fit) unless its configuration changed, else ``fresh``."""
    if current is None or type(current) is not type(fresh):
        return fresh
    if current.get_params() != fresh.get_params():
        return fresh
    return current


def make_schedule(estimator):
    """The learning-rate schedule of ``learning_rate`` (sgd only, as sklearn)."""
    rate = estimator.learning_rate_init
    if estimator.solver == "sgd" and estimator.learning_rate == "invscaling":
        return InvScaling(rate, estimator.power_t)
    if estimator.solver == "sgd" and estimator.learning_rate == "adaptive":
        return Adaptive(rate)
    return Constant(rate)


def fit_stochastic(estimator, X, Y, sample_weight, incremental, early_stopping, unlabelled):
    """Run sgd / adam epochs (one for ``partial_fit``) and record them."""
    network = estimator.network_
    continuing = incremental or estimator.warm_start
    estimator._optimizer = _continued(
        estimator._optimizer if continuing else None, make_optimizer(estimator, network)
    )
    estimator._schedule = _continued(
        estimator._schedule if continuing else None, make_schedule(estimator)
    )
    if not incremental:
        estimator._schedule.restart()
    hooks = [FiniteCheck(divergence_hint(estimator))]
    rows = np.arange(X.shape[0])
    if early_stopping:
        if estimator.validation_scores_ is None:  # after a fit without it
            estimator.validation_scores_ = []
        rows, validation = split_validation(
            X, Y, sample_weight, estimator.validation_fraction,
            estimator._stratification(Y), estimator._random_state,
        )
        keep_best = KeepBest("val_loss")
        stopping = EarlyStopping("val_loss", estimator.n_iter_no_change, estimator.tol)
        hooks += [Validation(lambda net: estimator._evaluate(net, *validation)), keep_best, stopping]
    elif unlabelled is None:
        # sklearn's rule: stop when the training loss has not improved by
        # tol for n_iter_no_change epochs, counting across warm starts.
        stopping = EarlyStopping(
            "loss", estimator.n_iter_no_change, estimator.tol,
            best=None if estimator.best_loss_ in (None, np.inf) else estimator.best_loss_,
            count=estimator._no_improvement_count,
        )
        hooks.append(stopping)
    plan = MinibatchPlan(
        X, Y, sample_weight, rows, estimator._batch_rows(max(len(rows), 1), warn=True),
        estimator.shuffle, estimator._random_state, network.dtype,
    )
    objective = SupervisedObjective(estimator._loss, estimator.alpha, estimator._input_noise())
    schedule = estimator._schedule
    if unlabelled is not None:
        plan, objective, extra_hooks = consistency_training(estimator, plan, *unlabelled)
        hooks += extra_hooks
        if not incremental and estimator.solver == "adam" and estimator.learning_rate == "constant":
            # Full rate, then a half cosine to zero over the last epochs of
            # this fit: the last pseudo-labels and the weights settle.
            schedule = Cosine(estimator.learning_rate_init, estimator.max_iter, hold=1 - ANNEAL_FRACTION)
    if estimator.verbose:
        hooks.append(Verbose())
    loop = TrainingLoop(network, objective, estimator._optimizer, schedule, hooks, interruptible=True)
    records = loop.run(plan, 1 if incremental else estimator.max_iter, rng=estimator._layer_rng())
    _store_records(estimator, records)
    if loop.interrupted:
        warnings.warn(loop.stop_reason + " The model is usable; call fit again to train it fully.")
    if early_stopping:
        estimator.validation_scores_ += [record["val_score"] for record in records]
        if keep_best.best_record is not None:
            estimator.best_validation_score_ = keep_best.best_record["val_score"]
    else:
        best = np.inf if estimator.best_loss_ is None else estimator.best_loss_
        estimator.best_loss_ = min([best] + [record["loss"] for record in records])
        if unlabelled is None:
            estimator._no_improvement_count = stopping.count
    converging = not incremental and unlabelled is None and not loop.interrupted
    if converging and estimator.n_iter_ == estimator.max_iter and not loop.stopped:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) "
            "reached and the optimization hasn't converged yet.",
            ConvergenceWarning,
        )


def fit_lbfgs(estimator, X, Y, sample_weight):
    """Minimise over all rows with L-BFGS-B, reporting to the same hooks."""
    network = estimator.network_
    X = X.astype(network.dtype, copy=False)
    noise = estimator._input_noise()
    if noise is not None:  # one corruption per fit: lbfgs needs a fixed objective
        X = noise(X)
    hooks = [FiniteCheck(divergence_hint(estimator))]
    if estimator.verbose:
        hooks.append(Verbose())
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
    if result.status != 0:
        warnings.warn(
            f"lbfgs failed to converge after {estimator.n_iter_} iterations "
            f"({result.message}). Increase max_iter or max_fun, or scale the data.",
            ConvergenceWarning,
        )


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
