"""The fit plan: from parameters and encoded data to a trained state.

A fit of any estimator runs the same four steps (see ``BaseNetwork.fit``)::

    data    = estimator._encode(...)                  # plain arrays, encoded targets
    plan    = fit_plan(params, data, previous, ...)   # pure; configuration errors here
    state   = plan.start(previous)                    # copies: never the fitted objects
    outcome = plan.run(state, data, task)             # the engine's loop
    estimator._commit(data, state, outcome)           # the one write

Nothing here sees an estimator: the plan reads the parameters (a dict),
the data are arrays with their target encoder, and training changes only
the :class:`TrainingState` that :meth:`FitPlan.start` made, which becomes
the model's when the estimator commits it.
"""

import copy
import warnings

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._architecture import (
    NetworkPlan,
    architecture,
    check_training_options,
    compute_dtype,
    describe,
    predict_chunk_rows,
    resolve_input_shape,
)
from ._augment import ShiftAugmentation
from ._memory import check_fit_memory
from ._early_stopping import Monitoring, fresh_stopping, split_validation
from ._solvers import STOCHASTIC_SOLVERS, continued, l2_strength, make_optimizer, make_schedule
from .nn import Dense, Divergence, FiniteCheck, LbfgsLoop, MinibatchPlan, Network, SupervisedObjective
from .nn import TrainingLoop, Verbose, get_loss
from .nn.layers import Dropout
from .nn.schedules import Cosine
from .nn.training import Batch, row_indices
from .semi_supervised._methods import GRAPH, GRAPH_LEARNING_RATE_GAIN, graph_consistency, resolve_method
from .semi_supervised._training import consistency_training

__all__ = ["FitData", "FitPlan", "GaussianNoise", "Outcome", "TrainingState", "evaluator", "fit_plan"]

# Records ``history_`` keeps across ``partial_fit`` calls (the most recent):
# a stream of calls must not grow the model without bound.
PARTIAL_FIT_HISTORY = 10_000

# Final share of a semi-supervised fit's max_iter epochs over which adam's
# learning rate anneals to zero along a half cosine.
ANNEAL_FRACTION = 0.3


class FitData:
    """A fit's data, validated and encoded: what the plan trains on.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_labelled, n_features)
        The labelled rows.
    Y : ndarray of shape (n_labelled, n_outputs)
        Their encoded targets: float64, or one-hot ``uint8`` (classes).
    sample_weight : ndarray or None
        Their weights, class weights multiplied in.
    encoder : ClassEncoder or TargetScaler
        The target encoder (fitted by this call or a previous one).
    unlabelled : tuple or None
        ``(X, rows, sample_weight)``: every row of the call and the
        positions of the unlabelled ones (semi-supervised fits).
    validation : tuple or None
        Encoded ``(X_val, Y_val, sample_weight_val)``.
    given : tuple
        ``(X, y, sample_weight)`` as the user gave them (callbacks score
        in the user's terms).
    fitted : dict
        Fitted attributes the call learnt from the data (``n_features_in_``,
        ``feature_names_in_``, class counts), committed with the model.
    X_unlabelled : {ndarray, sparse matrix} or None
        The unlabelled rows of a semi-supervised ``fit``, which
        ``transduction_`` predicts.
    """

    def __init__(
        self, X, Y, sample_weight, encoder, unlabelled=None, validation=None, given=None, fitted=None,
        X_unlabelled=None,
    ):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.encoder = encoder
        self.unlabelled, self.validation = unlabelled, validation
        self.given = given
        self.fitted = {} if fitted is None else fitted
        self.X_unlabelled = X_unlabelled

    @property
    def n_features(self):
        return self.X.shape[1]

    def labelled_rows(self, rows):
        """The supervised data of labelled rows ``rows`` (positions in X)."""
        weight = None if self.sample_weight is None else self.sample_weight[rows]
        return FitData(
            self.X[rows], self.Y[rows], weight, self.encoder, None, self.validation, self.given, self.fitted,
        )

    def labelled_only(self):
        """The same data without the unlabelled rows (a supervised fit)."""
        return FitData(
            self.X, self.Y, self.sample_weight, self.encoder, None, self.validation, self.given, self.fitted,
        )


class TrainingState:
    """What training changes and a later fit continues.

    Parameters
    ----------
    network : Network
    architecture : tuple
        What ``warm_start`` and ``partial_fit`` must find unchanged.
    random_state : RandomState
        Draws of training (shuffles, splits, noise, dropout seeds).
    optimizer, schedule : Optimizer, Schedule or None
        The stochastic solver's (None before the first epoch and for lbfgs).
    unlabelled : dict or None
        Semi-supervised state (feature statistics, mean teacher, ramp-up
        progress, alignment).
    stopping : dict
        ``best_loss``, ``no_improvement_count``, ``validation_scores``,
        ``best_validation_score``.
    history : list of dict
        One record per epoch of every call so far.
    loss_curve : list of float
    t : int
        Training samples seen.
    """

    def __init__(
        self, network, architecture, random_state, optimizer=None, schedule=None, unlabelled=None,
        stopping=None, history=(), loss_curve=(), t=0,
    ):
        self.network, self.architecture, self.random_state = network, architecture, random_state
        self.optimizer, self.schedule, self.unlabelled = optimizer, schedule, unlabelled
        self.stopping = fresh_stopping(False) if stopping is None else stopping
        self.history, self.loss_curve, self.t = list(history), list(loss_curve), t
        self.n_iter = 0
        self.loss = None

    def copy(self):
        """An independent copy: training it leaves this state as it is."""
        random_state = copy_random_state(self.random_state)
        copied = TrainingState(
            copy.deepcopy(self.network), self.architecture, random_state,
            copy.deepcopy(self.optimizer), copy.deepcopy(self.schedule), copy.deepcopy(self.unlabelled),
            copy.deepcopy(self.stopping), self.history, self.loss_curve, self.t,
        )
        copied.n_iter, copied.loss = self.n_iter, self.loss
        return copied


class _NoSeed(ISeedSequence):
    """Initial words of a bit generator whose state is set next (no entropy
    drawn, no seed hashed)."""

    def generate_state(self, n_words, dtype=np.uint32):
        words = np.zeros(n_words, dtype)
        words[0] = 1  # MT19937 refuses an all-zero state
        return words


def copy_random_state(random_state):
    """An independent copy of a ``RandomState``: the same draws to come
    (the Gaussian cache included), at 75 µs against 125 µs for a
    ``RandomState()`` seeded from entropy then overwritten, which every
    ``partial_fit`` call paid."""
    state = random_state.get_state(legacy=False)
    if state.get("bit_generator") != "MT19937":  # another bit generator: the generic copy
        return copy.deepcopy(random_state)
    copied = np.random.RandomState(np.random.MT19937(_NoSeed()))
    copied.set_state(state)
    return copied


class Outcome:
    """How a run ended: its records and why it stopped.

    Attributes
    ----------
    records : list of dict
        This call's epochs.
    interrupted : bool
        A ``KeyboardInterrupt`` ended it (the weights are the last completed
        epoch's).
    stopped : bool
        A hook (early stopping, a callback) ended it before ``max_iter``.
    stopped_by_callback : bool
    warnings : list of (str, type)
        Warnings to give once the result is committed.
    """

    def __init__(self, records, interrupted=False, stopped=False, stopped_by_callback=False):
        self.records, self.interrupted, self.stopped = records, interrupted, stopped
        self.stopped_by_callback = stopped_by_callback
        self.warnings = []

    def warn(self):
        for message, category in self.warnings:
            warnings.warn(message, category, stacklevel=4)


def evaluator(loss, encoder, X, Y, sample_weight, chunk_rows):
    """``evaluate(network) -> (loss, score)`` on encoded data, no penalty.

    Integer targets (the classifier's one-hot ``uint8``) are read as
    float64, the dtype the loss and the score are computed in.
    """
    if Y.dtype.kind != "f":
        Y = Y.astype(np.float64)

    def evaluate(network):
        P = network.output(X, chunk_rows=chunk_rows)
        P = loss.output(P, out=P)
        return loss.value(Y, P, sample_weight), encoder.score(Y, P, sample_weight)

    return evaluate


def divergence_hint(params):
    """What a divergence error advises, in the estimator's own terms."""
    if params["solver"] == "lbfgs":
        advice = "Scale the input features (e.g. with StandardScaler) or raise alpha."
    else:
        advice = (
            f"Lower learning_rate_init (now {params['learning_rate_init']:g}) or scale "
            "the input features (e.g. with StandardScaler)."
        )
    return f"{advice} The model was left as it was before this call."


def fit_plan(params, data, previous, hidden_layers, loss_name, incremental):
    """The plan of one ``fit`` / ``partial_fit`` call; raises every
    configuration error before any work.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params(deep=False)``).
    data : FitData
    previous : TrainingState or None
        The fitted state the call continues (``warm_start``, ``partial_fit``).
    hidden_layers : list of Layer
        The hidden part of the network (the output layer is added here).
    loss_name : str
    incremental : bool
        ``partial_fit``: one epoch, no early stopping.

    Returns
    -------
    plan : FitPlan
    """
    n_features, n_outputs = data.n_features, data.Y.shape[1]
    layers = [*hidden_layers, Dense(n_outputs, "identity")]
    check_training_options(params, layers)
    image_shape = resolve_input_shape(params["input_shape"], n_features)
    network_input = image_shape if params["layers"] is not None else (n_features,)
    network_plan = NetworkPlan(layers, network_input)
    wanted = architecture(layers, network_plan, loss_name)
    if previous is not None:
        if wanted != previous.architecture:
            raise ValueError(
                "warm_start and partial_fit continue training the same network, "
                "but its architecture (input shape, layers and their parameters, "
                f"loss) changed from {describe(previous.architecture)} to "
                f"{describe(wanted)}. Set warm_start=False (or call fit) to train "
                "a new network."
            )
        dtype = previous.network.dtype
        if params["dtype"] != "auto" and dtype != compute_dtype(params["dtype"], params["solver"], network_plan):
            raise ValueError(
                f"The network was trained in {dtype.name}; a changed "
                "dtype or solver cannot continue it. Set warm_start=False."
            )
    else:
        dtype = np.dtype(compute_dtype(params["dtype"], params["solver"], network_plan, data.X.dtype))
    if data.unlabelled is not None and params["solver"] not in STOCHASTIC_SOLVERS:
        raise ValueError(
            f"semi_supervised={params['semi_supervised']!r} trains with the stochastic "
            f"solvers {STOCHASTIC_SOLVERS}, not solver={params['solver']!r}. Set "
            "solver='adam' (or 'sgd'), or semi_supervised=None."
        )
    plan = FitPlan(params, layers, network_plan, wanted, image_shape, np.dtype(dtype), loss_name, incremental)
    if data.unlabelled is not None:
        plan.method = resolve_method(params["semi_supervised"], loss_name, n_outputs, data.unlabelled[0].shape[0])
    check_fit_memory(network_plan, plan.dtype.itemsize, plan.rows_per_batch(max(data.X.shape[0], 1)), plan.lbfgs)
    return plan


def batch_rows(batch_size, n_samples, warn=False):
    """Minibatch size for ``n_samples`` training rows."""
    if batch_size == "auto":
        return min(200, n_samples)
    if warn and batch_size > n_samples:
        warnings.warn(
            f"batch_size={batch_size} is larger than the {n_samples} "
            "training samples; it is clipped to the sample count."
        )
    return int(min(batch_size, n_samples))


class FitPlan:
    """Everything one call decided before training: layers, shapes, dtype,
    epochs, and how to build the loop.

    Made by :func:`fit_plan`; :meth:`start` makes the state to train and
    :meth:`run` trains it.
    """

    def __init__(self, params, layers, network_plan, architecture, image_shape, dtype, loss_name, incremental):
        self.params, self.layers, self.network_plan = params, layers, network_plan
        self.architecture, self.image_shape, self.dtype = architecture, image_shape, dtype
        self.loss = get_loss(loss_name)
        self.incremental = incremental
        # The semi-supervised method a call with unlabelled rows runs ("auto" resolved).
        self.method = None
        self.lbfgs = params["solver"] == "lbfgs"
        self.early_stopping = params["early_stopping"] and not incremental
        self.max_epochs = 1 if incremental else params["max_iter"]
        # What inference chunk sizes depend on; the rows per chunk follow
        # sklearn's working_memory when each call runs.
        self.inference_shape = (network_plan.values_per_row(), network_plan.images)
        self.chunk_rows = predict_chunk_rows(self.inference_shape[0], dtype.itemsize, self.inference_shape[1])

    # ------------------------------------------------------------------
    def start(self, previous):
        """The state to train: a new network, or copies of ``previous``.

        Parameters
        ----------
        previous : TrainingState or None
            The fitted state, never changed.
        """
        params = self.params
        if previous is None:
            random_state = check_random_state(params["random_state"])
            network = Network(self.layers)
            network.build(self.network_plan.shapes[0], self.dtype, random_state)
            state = TrainingState(
                network, self.architecture, random_state, stopping=fresh_stopping(self.early_stopping),
            )
        else:
            state = previous.copy()
        if not self.lbfgs:
            state.optimizer = continued(state.optimizer, make_optimizer(params, state.network))
            state.schedule = continued(state.schedule, make_schedule(params))
            if not self.incremental:
                state.schedule.restart()
        return state

    def training_targets(self, Y):
        """``Y`` as training reads it: float targets in the compute dtype
        (a float32 copy, half of float64's memory, once nothing else needs
        the float64 ones); others (the classes' ``uint8``) as they are.

        Parameters
        ----------
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_outputs)
        """
        return Y.astype(self.dtype, copy=False) if Y.dtype.kind == "f" else Y

    def rows_per_batch(self, n_rows):
        """Minibatch size of this plan for ``n_rows`` training rows."""
        return n_rows if self.lbfgs else batch_rows(self.params["batch_size"], n_rows)

    def largest_product_flops(self, n_rows):
        """Flops of the largest matrix product of a training step (BLAS threads)."""
        return self.network_plan.largest_product_flops(self.rows_per_batch(n_rows))

    # ------------------------------------------------------------------
    def run(self, state, data, task=None, judge=None, interruptible=True):
        """Train ``state`` on ``data``; return the :class:`Outcome`.

        Parameters
        ----------
        state : TrainingState
            From :meth:`start`; changed in place.
        data : FitData
        task : FitTask, default=None
            The callbacks' root task; every epoch is reported to it.
        judge : HeldOutJudge, default=None
            The semi-supervised guard's hook.
        interruptible : bool, default=True
            A ``fit`` whose ``KeyboardInterrupt`` keeps the completed epochs
            (see :class:`~skann.nn.training.TrainingLoop`); otherwise (and
            always for ``partial_fit`` and lbfgs) the interrupt propagates.
        """
        if self.lbfgs:
            return self._run_lbfgs(state, data, task)
        return self._run_stochastic(state, data, task, judge, interruptible and not self.incremental)

    def _input_noise(self, random_state):
        """Corruption of each training batch's inputs (augment, a denoising
        autoencoder's ``noise``), or None."""
        params = self.params
        if params.get("augment") is not None:
            seed = random_state.randint(np.iinfo(np.int32).max)
            return ShiftAugmentation(self.image_shape, np.random.default_rng(seed))
        if params.get("noise", 0) > 0:
            return GaussianNoise(params["noise"], random_state, self.dtype)
        return None

    def _reporting_hooks(self, state, task, task_name):
        """The hooks that report epochs: the verbose table, then callbacks.

        Last of the hooks, they see each record complete (validation metrics
        included), and a callback's stop request ends training like early
        stopping does.
        """
        hooks = []
        if self.params["verbose"]:
            hooks.append(Verbose(first_epoch=_epochs_so_far(state) + 1))
        if task is not None:
            hooks.append(task.bridge(task_name))
        return hooks

    def _evaluate(self, data, validation):
        return evaluator(self.loss, data.encoder, *validation, self.chunk_rows)

    def _run_stochastic(self, state, data, task, judge, interruptible):
        params, network, random_state = self.params, state.network, state.random_state
        X, Y, weight = data.X, data.Y, data.sample_weight
        supervised = data.unlabelled is None
        if not supervised:  # the semi-supervised plans read and extend plan.Y
            Y = Y.astype(self.dtype, copy=False)
        # All rows (None: the plan keeps no index array), or explicit rows
        # where an early-stopping split or a semi-supervised plan needs them.
        rows = None if supervised else row_indices(X.shape[0])
        validation = data.validation
        if self.early_stopping and validation is None:
            # The split reads the targets in the compute dtype (a copy that
            # lives only for the split; batches are cast one by one).
            cast = Y.astype(self.dtype, copy=False)
            rows, validation = split_validation(
                X, cast, weight, params["validation_fraction"], data.encoder.stratification(cast), random_state,
            )
            del cast
        n_rows = X.shape[0] if rows is None else len(rows)
        evaluate = None if validation is None else self._evaluate(data, validation)
        monitoring = Monitoring(params, evaluate, self.early_stopping, state.stopping, supervised)
        hooks = [FiniteCheck(divergence_hint(params)), *monitoring.hooks]
        plan = MinibatchPlan(
            X, Y, weight, rows, batch_rows(params["batch_size"], max(n_rows, 1), warn=n_rows > 0),
            params["shuffle"], random_state, self.dtype,
        )
        objective = SupervisedObjective(self.loss, l2_strength(params), self._input_noise(random_state))
        schedule = state.schedule
        max_epochs = self.max_epochs
        if not supervised:
            judge_evaluate = None
            if judge is not None:
                held = (plan.X[judge.positions], plan.Y[judge.positions], judge.weight)
                judge_evaluate = self._evaluate(data, held)
            X_all, unlabelled_rows, weight_all = data.unlabelled
            if self.method == GRAPH:
                plan, objective, extra_hooks, state.unlabelled, max_epochs = graph_consistency(
                    params, network, self.loss, state.unlabelled, plan, X_all, unlabelled_rows,
                    random_state, judge, judge_evaluate, self.incremental,
                )
            else:
                plan, objective, extra_hooks, state.unlabelled = consistency_training(
                    dict(params, semi_supervised=self.method), network, self.loss, state.unlabelled, plan,
                    X_all, unlabelled_rows, weight_all, self.image_shape, random_state, judge, judge_evaluate,
                )
            hooks += extra_hooks
            if not self.incremental and params["solver"] == "adam" and params["learning_rate"] == "constant":
                if self.method == GRAPH:  # a cosine decay to zero over the fit's fixed steps
                    schedule = Cosine(params["learning_rate_init"] * GRAPH_LEARNING_RATE_GAIN, max_epochs)
                else:
                    # Full rate, then a half cosine to zero over the last epochs of
                    # this fit: the last pseudo-labels and the weights settle.
                    schedule = Cosine(params["learning_rate_init"], params["max_iter"], hold=1 - ANNEAL_FRACTION)
        hooks += self._reporting_hooks(state, task, "epoch")
        loop = TrainingLoop(
            network, objective, state.optimizer, schedule, hooks, interruptible=interruptible,
        )
        records = loop.run(plan, max_epochs, rng=_layer_rng(network, random_state))
        self._record(state, records)
        state.stopping = monitoring.updated(state.stopping, records)
        outcome = Outcome(records, loop.interrupted, loop.stopped, _stopped_by_callback(loop, task))
        if loop.interrupted and records:
            outcome.warnings.append((loop.stop_reason + " The model is usable; call fit again to train it fully.", UserWarning))
        if (
            not self.incremental and supervised and not loop.interrupted
            and len(records) == params["max_iter"] and not loop.stopped
        ):
            outcome.warnings.append((
                f"Stochastic Optimizer: Maximum iterations ({params['max_iter']}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            ))
        return outcome

    def _run_lbfgs(self, state, data, task):
        """Minimise over all rows with L-BFGS-B, reporting to the same hooks.

        With validation data, every iteration records their loss and score
        (lbfgs does not stop early, as in sklearn, unless a callback asks).
        """
        params, network = self.params, state.network
        X = data.X.astype(network.dtype, copy=False)
        noise = self._input_noise(state.random_state)
        if noise is not None:  # one corruption per fit: lbfgs needs a fixed objective
            X = noise(X)
        hooks = [FiniteCheck(divergence_hint(params))]
        evaluate = None if data.validation is None else self._evaluate(data, data.validation)
        hooks += Monitoring(params, evaluate, False, state.stopping, supervised=False).hooks
        hooks += self._reporting_hooks(state, task, "iteration")
        loop = LbfgsLoop(network, SupervisedObjective(self.loss, params["alpha"]), hooks)
        Y = data.Y.astype(network.dtype, copy=False)
        records = loop.run(Batch(X, Y, data.sample_weight), params["max_iter"], params["max_fun"], params["tol"])
        result = loop.result
        final_loss = float(result.fun)
        if not (np.isfinite(final_loss) and network.is_finite()):
            raise Divergence(f"Training diverged: the loss became {final_loss}. {divergence_hint(params)}")
        self._record(state, records)
        state.n_iter, state.loss = int(result.nit), final_loss
        state.loss_curve = [final_loss]
        state.stopping = dict(state.stopping, best_loss=final_loss)
        outcome = Outcome(records, stopped=loop.stopped, stopped_by_callback=_stopped_by_callback(loop, task))
        if result.status != 0 and not loop.stopped:
            outcome.warnings.append((
                f"lbfgs failed to converge after {state.n_iter} iterations "
                f"({result.message}). Increase max_iter or max_fun, or scale the data.",
                ConvergenceWarning,
            ))
        return outcome

    def _record(self, state, records):
        """Number this call's records after the previous ones; count them.

        ``partial_fit`` keeps the last ``PARTIAL_FIT_HISTORY`` records.
        """
        start = _epochs_so_far(state)
        for offset, record in enumerate(records, start=1):
            record["epoch"] = start + offset
        state.history = state.history + records
        if self.incremental:
            state.history = state.history[-PARTIAL_FIT_HISTORY:]
        state.n_iter = len(records)
        state.t += sum(record["samples"] for record in records)
        if records:
            state.loss = records[-1]["loss"]
            state.loss_curve = state.loss_curve + [record["loss"] for record in records]


def _epochs_so_far(state):
    """Epochs recorded by earlier calls (the history of a stream of
    ``partial_fit`` calls keeps only its latest records)."""
    return state.history[-1]["epoch"] if state.history else 0


def _stopped_by_callback(loop, task):
    return task is not None and bool(loop.stop_reason) and loop.stop_reason.startswith("A callback")


def _layer_rng(network, random_state):
    """Random draws of stochastic layers (Dropout), or None without them.

    A seed is drawn from the fit's random state only when the network
    has a Dropout layer, so that networks without one make exactly the
    draws they always made.
    """
    if not any(isinstance(layer, Dropout) for layer in network.layers):
        return None
    return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))


class GaussianNoise:
    """A dense copy of a batch with Gaussian noise of std ``std`` added
    (the denoising autoencoder's corruption).

    Parameters
    ----------
    std : float
    random_state : RandomState
    dtype : dtype
        The compute dtype of the result.
    """

    def __init__(self, std, random_state, dtype):
        self.std, self.random_state, self.dtype = std, random_state, dtype

    def __call__(self, X):
        X = X.toarray() if hasattr(X, "toarray") else X
        noise = self.random_state.standard_normal(X.shape)
        return (X + self.std * noise).astype(self.dtype, copy=False)

