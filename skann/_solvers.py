"""From the estimator's parameters to the engine's optimizer and schedule.

Every stochastic solver (``sgd``, ``adam``, ``adamw``, ``rmsprop``) steps
with the rate of the schedule named by ``learning_rate``; optimizer and
schedule objects whose configuration did not change are carried over by
``warm_start`` and ``partial_fit``, so their state (moments, samples seen,
a reduced rate, the epoch of a cosine cycle) continues.
"""

from .nn.optimizers import SGD, Adam, AdamW, RMSprop
from .nn.schedules import Adaptive, Constant, Cosine, InvScaling


def make_optimizer(estimator, network):
    """The solver's optimizer, built for ``network``."""
    solver = estimator.solver
    if solver == "sgd":
        optimizer = SGD(estimator.momentum, estimator.nesterovs_momentum)
    elif solver == "adamw":
        optimizer = AdamW(
            estimator.weight_decay, estimator.beta_1, estimator.beta_2, estimator.epsilon
        )
    elif solver == "rmsprop":
        optimizer = RMSprop(estimator.beta_2, estimator.epsilon)
    else:
        optimizer = Adam(estimator.beta_1, estimator.beta_2, estimator.epsilon)
    return optimizer.build(network.params.size, network.n_regularized, network.dtype)


def make_schedule(estimator):
    """The learning-rate schedule named by ``learning_rate``, for any solver."""
    rate, name = estimator.learning_rate_init, estimator.learning_rate
    if name == "invscaling":
        return InvScaling(rate, estimator.power_t)
    if name == "adaptive":
        return Adaptive(rate)
    if name == "cosine":
        return Cosine(rate, estimator.max_iter, estimator.warmup_epochs)
    return Constant(rate)


def l2_strength(estimator):
    """The ``alpha`` the loss is penalised with: adamw replaces the L2
    penalty by its decoupled weight decay."""
    return 0.0 if estimator.solver == "adamw" else estimator.alpha


def continued(current, fresh):
    """``current`` (optimizer or schedule state carried over by warm_start
    and partial_fit) unless its configuration changed, else ``fresh``."""
    if current is None or type(current) is not type(fresh):
        return fresh
    if current.get_params() != fresh.get_params():
        return fresh
    return current


def optimizer_and_schedule(estimator, incremental):
    """The optimizer and schedule of this call, continued where they can be.

    A new ``fit`` (with ``warm_start``) restarts a cosine cycle; the other
    schedules, and ``partial_fit`` calls, continue where they were.
    """
    continuing = incremental or estimator.warm_start
    estimator._optimizer = continued(
        estimator._optimizer if continuing else None,
        make_optimizer(estimator, estimator.network_),
    )
    estimator._schedule = continued(
        estimator._schedule if continuing else None, make_schedule(estimator)
    )
    if not incremental:
        estimator._schedule.restart()
    return estimator._optimizer, estimator._schedule
