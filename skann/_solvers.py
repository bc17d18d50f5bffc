"""From the estimators' parameters to the engine's optimizer and schedule.

Every stochastic solver (``sgd``, ``adam``, ``adamw``, ``rmsprop``) steps
with the rate of the schedule named by ``learning_rate``; both are built
from the engine's registries (:data:`~skann.nn.optimizers.OPTIMIZERS`,
:data:`~skann.nn.schedules.SCHEDULES`) with the arguments each takes from
the parameters below. Optimizer and schedule objects whose configuration
did not change are carried over by ``warm_start`` and ``partial_fit``, so
their state (moments, samples seen, a reduced rate, the epoch of a cosine
cycle) continues.
"""

from .nn.optimizers import OPTIMIZERS
from .nn.schedules import SCHEDULES

__all__ = ["STOCHASTIC_SOLVERS", "continued", "l2_strength", "make_optimizer", "make_schedule"]

STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)


def _optimizer_arguments(params):
    """Each solver's arguments, from the estimator's parameters."""
    clip = params["clip_grad_norm"]
    return {
        "sgd": dict(momentum=params["momentum"], nesterov=params["nesterovs_momentum"], clip_norm=clip),
        "adam": dict(beta_1=params["beta_1"], beta_2=params["beta_2"], epsilon=params["epsilon"], clip_norm=clip),
        "adamw": dict(
            weight_decay=params["weight_decay"], beta_1=params["beta_1"], beta_2=params["beta_2"],
            epsilon=params["epsilon"], clip_norm=clip,
        ),
        "rmsprop": dict(rho=params["beta_2"], epsilon=params["epsilon"], clip_norm=clip),
    }[params["solver"]]


def _schedule_arguments(params):
    """Each schedule's arguments, from the estimator's parameters."""
    rate = params["learning_rate_init"]
    return {
        "constant": dict(learning_rate=rate),
        "invscaling": dict(learning_rate=rate, power_t=params["power_t"]),
        "adaptive": dict(learning_rate=rate),
        "cosine": dict(learning_rate=rate, n_epochs=params["max_iter"], warmup_epochs=params["warmup_epochs"]),
    }[params["learning_rate"]]


def make_optimizer(params, network):
    """The solver's optimizer, built for ``network``."""
    optimizer = OPTIMIZERS[params["solver"]](**_optimizer_arguments(params))
    return optimizer.build(network.params.size, network.n_regularized, network.dtype)


def make_schedule(params):
    """The learning-rate schedule named by ``learning_rate``, for any solver."""
    return SCHEDULES[params["learning_rate"]](**_schedule_arguments(params))


def l2_strength(params):
    """The ``alpha`` the loss is penalised with: adamw replaces the L2
    penalty by its decoupled weight decay."""
    return 0.0 if params["solver"] == "adamw" else params["alpha"]


def continued(current, fresh):
    """``current`` (optimizer or schedule state carried over by warm_start
    and partial_fit) unless its configuration changed, else ``fresh``."""
    if current is None or type(current) is not type(fresh):
        return fresh
    if current.get_params() != fresh.get_params():
        return fresh
    return current
