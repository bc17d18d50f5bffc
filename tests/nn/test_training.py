"""The training loop, its hooks, plans and objective; L-BFGS reporting to
the same hooks. No estimator involved."""


import numpy as np
import pytest
import scipy.sparse as sp

from skann.nn import (
    EMA,
    SGD,
    Adam,
    Adaptive,
    Constant,
    Cosine,
    Dense,
    Divergence,
    EarlyStopping,
    FiniteCheck,
    Hook,
    InvScaling,
    KeepBest,
    LbfgsLoop,
    MinibatchPlan,
    Network,
    SupervisedObjective,
    TrainingLoop,
    Validation,
    Verbose,
    get_loss,
)
from skann.nn.schedules import Schedule
from skann.nn.optimizers import clip_by_global_norm
from skann.nn.training import Batch, row_indices

from ._gradcheck import numerical_gradient

N_SAMPLES, N_FEATURES = 200, 3


def _problem(seed=0, n_samples=N_SAMPLES):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, N_FEATURES))
    Y = np.tanh(X @ np.array([[1.0], [-2.0], [0.5]])) + 0.05 * rng.normal(size=(n_samples, 1))
    return X, Y


def _network(seed=0, dtype=np.float64, activation="tanh"):
    network = Network([Dense(8, activation), Dense(1, "identity")])
    network.build((N_FEATURES,), dtype, np.random.RandomState(seed))
    return network


def _plan(X, Y, batch_size=32, seed=0, dtype=np.float64, weight=None, shuffle=True):
    return MinibatchPlan(X, Y, weight, np.arange(X.shape[0]), batch_size, shuffle, np.random.RandomState(seed), dtype)


def _loop(network, objective=None, optimizer=None, schedule=None, hooks=(), **kwargs):
    objective = SupervisedObjective(get_loss("squared_error"), alpha=1e-4) if objective is None else objective
    optimizer = (Adam() if optimizer is None else optimizer).build(network.params.size, network.n_regularized, network.dtype)
    return TrainingLoop(network, objective, optimizer, Constant(0.01) if schedule is None else schedule, hooks, **kwargs)


class _OneBatchPlan:
    """A plan of one fixed batch per epoch (the plan protocol: ``n_samples``
    and ``batches()``)."""

    def __init__(self, n_rows=10):
        self.n_samples = n_rows
        self.batch = Batch(np.zeros((n_rows, N_FEATURES)), np.zeros((n_rows, 1)), None)

    def batches(self):
        yield self.batch


class _Sequence:
    """An objective whose loss is the next value of a list (one batch per
    epoch); the gradients are left as they are."""

    def __init__(self, values):
        self.values = list(values)
        self.calls = 0

    def __call__(self, network, batch, ctx):
        self.calls += 1
        return float(self.values[self.calls - 1])


class _Recorder(Hook):
    """Records the calls it receives and the parameters after each step."""

    def __init__(self):
        self.calls, self.params, self.epoch_params = [], [], []

    def on_fit_begin(self, loop):
        self.calls.append("begin")
        self.initial = loop.network.params.copy()

    def on_step(self, loop, loss):
        self.calls.append("step")
        self.params.append(loop.network.params.copy())

    def on_epoch_end(self, loop, record):
        self.calls.append("epoch")
        self.epoch_params.append(loop.network.params.copy())
        return False

    def on_fit_end(self, loop):
        self.calls.append("end")


def _full_loss(network, X, Y):
    return get_loss("squared_error").value(Y, network.output(X))


# ----------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------
def test_loss_decreases_on_a_toy_problem():
    X, Y = _problem()
    network = _network()
    before = _full_loss(network, X, Y)
    loop = _loop(network)
    records = loop.run(_plan(X, Y), max_epochs=40)
    assert len(records) == 40 and not loop.stopped and loop.stop_reason is None
    assert records[-1]["loss"] < 0.25 * records[0]["loss"]
    assert _full_loss(network, X, Y) < 0.25 * before
    assert loop.records is records


def test_records_describe_each_epoch():
    X, Y = _problem()
    schedule = Cosine(0.05, n_epochs=4)
    loop = _loop(_network(), schedule=schedule)
    records = loop.run(_plan(X[:150], Y[:150], batch_size=64), max_epochs=5)
    assert [record["epoch"] for record in records] == [1, 2, 3, 4, 5]
    for record in records:
        assert set(record) == {"epoch", "loss", "learning_rate", "samples", "seconds"}
        assert record["samples"] == 150
        assert isinstance(record["seconds"], float) and record["seconds"] >= 0
        assert np.isfinite(record["loss"])
    expected_rates = [0.05, 0.05 * 0.5 * (1 + np.cos(np.pi / 4)), 0.025, 0.05 * 0.5 * (1 + np.cos(3 * np.pi / 4)), 0.0]
    np.testing.assert_allclose([record["learning_rate"] for record in records], expected_rates, atol=1e-15)


def test_epoch_loss_is_the_row_weighted_mean_of_the_batch_losses():
    X, Y = _problem()
    loop = _loop(_network(), objective=lambda network, batch, ctx: float(batch.n_rows))
    (record,) = loop.run(_plan(X, Y, batch_size=64), max_epochs=1)
    # Batches of 64, 64, 64 and 8 rows.
    assert record["loss"] == pytest.approx((3 * 64**2 + 8**2) / 200)


def test_the_schedule_sees_every_epoch():
    X, Y = _problem()
    schedule = InvScaling(0.1, power_t=0.5)
    records = _loop(_network(), optimizer=SGD(), schedule=schedule).run(_plan(X, Y), max_epochs=3)
    np.testing.assert_allclose(
        [record["learning_rate"] for record in records], [0.1, 0.1 / 201**0.5, 0.1 / 401**0.5], rtol=1e-14
    )
    assert schedule.samples_seen_ == 600


def test_hooks_are_called_in_order_and_the_rng_reaches_the_layers():
    X, Y = _problem()
    recorder = _Recorder()
    seen = []
    objective = SupervisedObjective(get_loss("squared_error"), alpha=0.0)

    def spy(network, batch, ctx):
        seen.append(all(layer.rng is generator for layer in ctx.layers) and ctx.training)
        return objective(network, batch, ctx)

    generator = np.random.default_rng(0)
    loop = _loop(_network(), objective=spy, hooks=[recorder])
    loop.run(_plan(X[:100], Y[:100], batch_size=40), max_epochs=2, rng=generator)
    assert recorder.calls == ["begin"] + (["step"] * 3 + ["epoch"]) * 2 + ["end"]
    assert seen == [True] * 6
    assert loop.ctx is None  # the per-call workspace goes with the call


def test_training_leaves_no_batch_sized_arrays_on_the_network():
    X, Y = _problem(n_samples=777)
    network = _network()
    _loop(network, hooks=[FiniteCheck()]).run(_plan(X, Y, batch_size=300), max_epochs=2)
    sizes = {
        value.size
        for holder in [network, *network.layers]
        for value in vars(holder).values()
        if isinstance(value, np.ndarray)
    }
    assert sizes <= {network.params.size, network.state.size}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_keeps_the_compute_dtype(dtype):
    X, Y = _problem()
    network = _network(dtype=dtype)
    params = network.params
    records = _loop(network).run(_plan(X, Y.astype(dtype), dtype=dtype), max_epochs=3)
    assert network.params is params and params.dtype == dtype and network.grads.dtype == dtype
    assert records[-1]["loss"] < records[0]["loss"]


# ----------------------------------------------------------------------
# Gradient clipping
# ----------------------------------------------------------------------
def test_clip_by_global_norm():
    grads = np.array([3.0, 4.0, 0.0])
    assert clip_by_global_norm(grads, 1.0) == 5.0
    np.testing.assert_allclose(grads, [0.6, 0.8, 0.0], rtol=1e-15)
    small = np.array([0.3, 0.4], dtype=np.float32)
    assert clip_by_global_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small, np.array([0.3, 0.4], dtype=np.float32))
    assert small.dtype == np.float32


@pytest.mark.parametrize("max_norm", [0.5, 2.0, None])
def test_the_optimizers_clip_norm_limits_the_step(max_norm):
    network = _network()
    direction = np.random.RandomState(0).normal(size=network.params.size)
    direction *= 1.5 / np.linalg.norm(direction)  # gradient of norm 1.5

    def objective(network, batch, ctx):
        network.grads[:] = direction
        return 0.0

    loop = _loop(network, objective=objective, optimizer=SGD(momentum=0.0, clip_norm=max_norm), schedule=Constant(1.0))
    before = network.params.copy()
    loop.run(_OneBatchPlan(), max_epochs=1)
    step = before - network.params
    expected_norm = 1.5 if max_norm is None else min(max_norm, 1.5)
    np.testing.assert_allclose(step, direction * (expected_norm / 1.5), rtol=1e-12)
    assert np.linalg.norm(step) == pytest.approx(expected_norm, rel=1e-12)


# ----------------------------------------------------------------------
# Early stopping
# ----------------------------------------------------------------------
def test_early_stopping_stops_after_patience():
    loop = _loop(_network(), objective=_Sequence([1.0] * 20), hooks=[EarlyStopping(patience=2, tol=1e-4)])
    records = loop.run(_OneBatchPlan(), max_epochs=20)
    # Epoch 1 sets the best; epochs 2, 3, 4 do not improve; after the third, stop.
    assert len(records) == 4
    assert loop.stopped
    assert loop.stop_reason == "loss did not improve by more than tol=0.0001 for 2 consecutive epochs. Stopping."


def test_early_stopping_counts_from_the_last_improvement():
    losses = [5.0, 4.0, 4.5, 4.2, 3.0, 3.5, 3.5, 3.5, 0.0, 0.0]
    loop = _loop(_network(), objective=_Sequence(losses), hooks=[EarlyStopping(patience=2, tol=0.0)])
    assert len(loop.run(_OneBatchPlan(), max_epochs=10)) == 8


def test_early_stopping_ignores_improvements_within_tol():
    losses = 1.0 - 1e-5 * np.arange(20)
    stopping = EarlyStopping(patience=3, tol=1e-4)
    loop = _loop(_network(), objective=_Sequence(losses), hooks=[stopping])
    assert len(loop.run(_OneBatchPlan(), max_epochs=20)) == 5
    assert stopping.best == pytest.approx(losses[4])


def test_early_stopping_on_a_maximised_score():
    scores = iter([0.5, 0.6, 0.6, 0.59, 0.61, 0.7, 0.7, 0.7, 0.7, 0.9])
    validation = Validation(lambda network: (0.0, next(scores)))
    hooks = [validation, EarlyStopping(monitor="val_score", mode="max", patience=1, tol=0.01)]
    records = _loop(_network(), objective=_Sequence([1.0] * 10), hooks=hooks).run(_OneBatchPlan(), max_epochs=10)
    # 0.6 (no gain of more than tol), 0.59: stop after epoch 4.
    assert [record["val_score"] for record in records] == [0.5, 0.6, 0.6, 0.59]


class _AlwaysReduce(Schedule):
    def __init__(self):
        pass

    def rate(self):
        return 0.01

    def reduce(self):
        self.reductions_ = getattr(self, "reductions_", 0) + 1
        return True


def test_early_stopping_asks_the_schedule_to_reduce_first():
    schedule = _AlwaysReduce()
    loop = _loop(_network(), objective=_Sequence([1.0] * 10), schedule=schedule, hooks=[EarlyStopping(patience=2)])
    assert len(loop.run(_OneBatchPlan(), max_epochs=10)) == 10
    assert not loop.stopped
    assert schedule.reductions_ == 3  # after epochs 4, 7 and 10: the count restarts each time


def test_early_stopping_with_the_adaptive_schedule():
    loop = _loop(
        _network(), objective=_Sequence([1.0] * 30), schedule=Adaptive(1e-4), hooks=[EarlyStopping(patience=2)]
    )
    records = loop.run(_OneBatchPlan(), max_epochs=30)
    rates = [record["learning_rate"] for record in records]
    np.testing.assert_allclose(rates, [1e-4] * 4 + [2e-5] * 3 + [4e-6] * 3 + [8e-7] * 3, rtol=1e-12)
    assert loop.stopped


def test_early_stopping_continues_a_previous_run():
    stopping = EarlyStopping(patience=2, best=0.5, count=2)
    loop = _loop(_network(), objective=_Sequence([1.0] * 5), hooks=[stopping])
    assert len(loop.run(_OneBatchPlan(), max_epochs=5)) == 1


# ----------------------------------------------------------------------
# Validation, KeepBest
# ----------------------------------------------------------------------
def test_validation_adds_its_metrics_to_the_records():
    X, Y = _problem()
    X_val, Y_val = _problem(seed=1, n_samples=50)

    def evaluate(network):
        return _full_loss(network, X_val, Y_val), np.float32(0.5)

    records = _loop(_network(), hooks=[Validation(evaluate)]).run(_plan(X, Y), max_epochs=3)
    assert all(type(record["val_loss"]) is float and record["val_score"] == 0.5 for record in records)
    assert records[-1]["val_loss"] < records[0]["val_loss"]


@pytest.mark.parametrize("mode", ["min", "max"])
def test_keep_best_restores_the_best_epoch(mode):
    X, Y = _problem()
    values = iter([5.0, 3.0, 4.0, 1.0, 2.0, 6.0, 1.5])
    validation = Validation(lambda network: (next(values), 0.0))
    recorder, keep = _Recorder(), KeepBest(monitor="val_loss", mode=mode)
    network = _network()
    loop = _loop(network, hooks=[validation, recorder, keep])
    records = loop.run(_plan(X, Y), max_epochs=7)
    best = 3 if mode == "min" else 5  # epochs 4 (1.0) and 6 (6.0)
    assert keep.best_record is records[best] and keep.best == records[best]["val_loss"]
    assert records[best]["restored"] is True
    assert sum("restored" in record for record in records) == 1
    np.testing.assert_array_equal(network.params, recorder.epoch_params[best])
    assert not np.allclose(recorder.epoch_params[-1], recorder.epoch_params[best])


def test_keep_best_ignores_non_finite_values():
    values = iter([np.nan, 2.0, np.inf, 3.0])
    recorder, keep = _Recorder(), KeepBest()
    network = _network()
    loop = _loop(network, hooks=[Validation(lambda network: (next(values), 0.0)), recorder, keep])
    X, Y = _problem()
    loop.run(_plan(X, Y), max_epochs=4)
    assert keep.best == 2.0
    np.testing.assert_array_equal(network.params, recorder.epoch_params[1])


# ----------------------------------------------------------------------
# FiniteCheck
# ----------------------------------------------------------------------
def test_finite_check_raises_divergence_on_a_huge_learning_rate():
    X, Y = _problem()
    network = _network(activation="relu")
    hint = "Try a learning_rate below 1e6."
    loop = _loop(network, optimizer=SGD(momentum=0.0), schedule=Constant(1e12), hooks=[FiniteCheck(hint=hint)])
    with np.errstate(all="ignore"), pytest.raises(Divergence, match="Training diverged: .*Try a learning_rate below 1e6") as info:
        loop.run(_plan(X, Y * 1e3), max_epochs=200)
    assert isinstance(info.value, ValueError)
    assert len(loop.records) < 200


def test_finite_check_default_hint_and_non_finite_weights():
    assert issubclass(Divergence, ValueError)

    def objective(network, batch, ctx):
        network.params[0] = np.nan  # a finite loss, but the weights are gone
        return 1.0

    loop = _loop(_network(), objective=objective, hooks=[FiniteCheck()])
    with pytest.raises(ValueError, match="weights became non-finite. Lower the learning rate"):
        loop.run(_OneBatchPlan(), max_epochs=3)
    assert loop.records == []  # raised at the end of the first epoch


def test_finite_check_sees_each_step():
    loop = _loop(_network(), objective=_Sequence([1.0, float("inf")]), hooks=[FiniteCheck()])
    with pytest.raises(Divergence, match="loss of a minibatch became inf"):
        loop.run(_OneBatchPlan(), max_epochs=3)
    assert len(loop.records) == 1


# ----------------------------------------------------------------------
# Verbose
# ----------------------------------------------------------------------
def test_verbose_prints_each_epoch_and_the_stop_reason():
    lines = []
    hooks = [Validation(lambda network: (0.25, 0.75)), EarlyStopping(patience=0), Verbose(lines.append)]
    _loop(_network(), objective=_Sequence([2.0, 3.0]), hooks=hooks).run(_OneBatchPlan(), max_epochs=5)
    assert len(lines) == 4  # header, two epochs, why it stopped
    assert lines[0].split() == ["Iteration", "loss", "val_loss", "val_score", "learning_rate", "seconds"]
    assert lines[1].split()[:5] == ["1", "2.00000000", "0.25000000", "0.750000", "0.01"]
    assert lines[2].split()[:2] == ["2", "3.00000000"]
    assert lines[3] == "loss did not improve by more than tol=0.0001 for 0 consecutive epochs. Stopping."


# ----------------------------------------------------------------------
# EMA teacher
# ----------------------------------------------------------------------
def test_ema_teacher_follows_the_documented_formula():
    X, Y = _problem()
    network = _network()
    state = {"params": None}
    recorder, ema = _Recorder(), EMA(state, decay=0.9)
    loop = _loop(network, hooks=[recorder, ema])
    loop.run(_plan(X, Y, batch_size=50), max_epochs=2)
    teacher = recorder.initial.copy()
    for step, params in enumerate(recorder.params, start=1):
        decay = min(0.9, 1.0 - 1.0 / (step + 1))
        teacher = decay * teacher + (1 - decay) * params
    assert state["steps"] == 8
    np.testing.assert_allclose(state["params"], teacher, rtol=1e-12, atol=1e-15)
    assert not np.allclose(state["params"], network.params, rtol=1e-3)

    # A second run continues the same average (the caller keeps ``state``).
    recorder = _Recorder()
    _loop(network, hooks=[recorder, EMA(state, decay=0.9)]).run(_plan(X, Y, batch_size=100), max_epochs=1)
    for step, params in enumerate(recorder.params, start=9):
        decay = min(0.9, 1.0 - 1.0 / (step + 1))
        teacher = decay * teacher + (1 - decay) * params
    assert state["steps"] == 10
    np.testing.assert_allclose(state["params"], teacher, rtol=1e-12, atol=1e-15)
    # The teacher runs through the network's layers with its own buffer.
    teacher_out = network.forward(X, network.context(params=state["params"]))
    assert teacher_out.shape == (N_SAMPLES, 1)


# ----------------------------------------------------------------------
# Objective and plan
# ----------------------------------------------------------------------
@pytest.mark.parametrize("last", ["identity", "tanh"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_supervised_objective_matches_finite_differences(weighted, last):
    # A last layer with an activation of its own (tanh) needs its output
    # intact in backward: the loss must not overwrite it.
    alpha = 0.3
    rng = np.random.RandomState(3)
    X, Y = rng.normal(size=(9, N_FEATURES)), rng.randint(2, size=(9, 2)).astype(float)
    weight = rng.uniform(0.5, 2.0, size=9) if weighted else None
    network = Network([Dense(5, "gelu"), Dense(2, last)])
    network.build(N_FEATURES, np.float64, np.random.RandomState(0))
    loss = get_loss("binary_log_loss")
    objective = SupervisedObjective(loss, alpha=alpha)
    n_effective = weight.sum() if weighted else 9

    def reference():
        P = loss.output(network.output(X), None)
        W = network.params[: network.n_regularized]
        return loss.value(Y, P, weight) + 0.5 * alpha * float(W @ W) / n_effective

    value = objective(network, Batch(X, Y, weight), network.context(training=True))
    assert value == pytest.approx(reference(), rel=1e-12)
    analytic = network.grads.copy()
    np.testing.assert_allclose(analytic, numerical_gradient(reference, network.params), rtol=1e-6, atol=1e-9)


def test_supervised_objective_applies_the_noise_to_the_inputs():
    network = _network()
    X, Y = _problem(n_samples=20)
    noisy = X + 1.0
    objective = SupervisedObjective(get_loss("squared_error"), alpha=0.0, noise=lambda X_batch: X_batch + 1.0)
    value = objective(network, Batch(X, Y, None), network.context(training=True))
    assert value == pytest.approx(_full_loss(network, noisy, Y), rel=1e-12)
    assert value != pytest.approx(_full_loss(network, X, Y), rel=1e-3)


@pytest.mark.parametrize("sparse", [False, True])
def test_minibatch_plan_covers_the_rows_once_per_epoch(sparse):
    X, Y = _problem(n_samples=50)
    rows = np.arange(5, 50)
    weight = np.arange(50, dtype=np.float64)
    X_in = sp.csr_matrix(X) if sparse else X
    plan = MinibatchPlan(X_in, Y, weight, rows, 16, True, np.random.RandomState(0), np.float32)
    assert plan.n_samples == 45
    orders = []
    for _ in range(2):
        batches = [(b.X.toarray() if sparse else b.X.copy(), b.Y.copy(), b.weight.copy(), b.n_rows) for b in plan.batches()]
        assert [n_rows for *_, n_rows in batches] == [16, 16, 13]
        # Inputs and targets in the compute dtype; weights keep theirs (they
        # are ratios, which float32 could overflow).
        assert all(
            batch[0].dtype == batch[1].dtype == np.float32 and batch[2].dtype == np.float64 for batch in batches
        )
        order = np.concatenate([batch[2] for batch in batches]).astype(int)  # weight = row index
        assert sorted(order) == list(rows)
        for X_batch, Y_batch, weight_batch, _ in batches:
            np.testing.assert_allclose(X_batch, X[weight_batch.astype(int)].astype(np.float32), rtol=1e-7)
            np.testing.assert_array_equal(Y_batch, Y[weight_batch.astype(int)].astype(np.float32))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])  # shuffled anew each epoch
    np.testing.assert_array_equal(rows, np.arange(5, 50))  # the caller's rows stay as given


@pytest.mark.parametrize(
    "n_rows, batch_size, sizes",
    [
        (33, 32, [33]),  # a lone last row joins the batch before
        (65, 32, [32, 33]),
        (66, 32, [32, 32, 2]),
        (64, 32, [32, 32]),
        (3, 2, [3]),
        (1, 32, [1]),  # one row in all: nothing to join
        (3, 1, [1, 1, 1]),  # batch_size=1 asked for rows one by one
    ],
)
def test_minibatch_plan_never_ends_on_a_lone_row(n_rows, batch_size, sizes):
    X, Y = _problem(n_samples=n_rows)
    plan = _plan(X, Y, batch_size=batch_size, shuffle=True)
    batches = [(batch.n_rows, batch.X.copy()) for batch in plan.batches()]
    assert [n for n, _ in batches] == sizes
    seen = np.concatenate([X_batch for _, X_batch in batches])
    np.testing.assert_array_equal(np.sort(seen, axis=0), np.sort(X, axis=0))  # every row once


def test_minibatch_plan_without_shuffle_keeps_the_order():
    X, Y = _problem(n_samples=10)
    plan = _plan(X, Y, batch_size=4, shuffle=False)
    first = [batch.X.copy() for batch in plan.batches()]
    np.testing.assert_array_equal(np.concatenate(first), X)
    assert all(batch.weight is None for batch in plan.batches())


# ----------------------------------------------------------------------
# L-BFGS with the same hooks
# ----------------------------------------------------------------------
class _StopAt(Hook):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, loop, record):
        return record["epoch"] == self.epoch


def _lbfgs_problem():
    X, Y = _problem(n_samples=100)
    network = _network()
    objective = SupervisedObjective(get_loss("squared_error"), alpha=1e-3)
    return network, objective, Batch(X, Y, None)


def test_lbfgs_loop_records_one_record_per_iteration():
    network, objective, batch = _lbfgs_problem()
    recorder = _Recorder()
    loop = LbfgsLoop(network, objective, hooks=[recorder])
    records = loop.run(batch, max_iter=15, max_fun=1000, tol=1e-12)
    assert len(records) == loop.result.nit == 15
    assert not loop.stopped
    assert [record["epoch"] for record in records] == list(range(1, 16))
    assert all(record["learning_rate"] is None and record["samples"] == 100 for record in records)
    losses = [record["loss"] for record in records]
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))
    assert recorder.calls == ["begin"] + ["epoch"] * 15 + ["end"]
    # Each record's loss is the objective at the parameters the hooks saw.
    for record, params in zip(records, recorder.epoch_params):
        probe = _network()
        probe.params[:] = params
        assert record["loss"] == pytest.approx(objective(probe, batch, probe.context(training=True)), rel=1e-10)


def test_lbfgs_loop_stops_when_a_hook_says_so():
    network, objective, batch = _lbfgs_problem()
    loop = LbfgsLoop(network, objective, hooks=[_StopAt(3)])
    records = loop.run(batch, max_iter=100, max_fun=1000, tol=1e-12)
    assert len(records) == 3 and loop.stopped
    # The network holds the iterate of the last record.
    assert objective(network, batch, network.context(training=True)) == pytest.approx(records[-1]["loss"], rel=1e-10)


def test_lbfgs_loop_with_early_stopping_verbose_and_finite_check():
    network, objective, batch = _lbfgs_problem()
    lines = []
    hooks = [FiniteCheck(), EarlyStopping(patience=1, tol=1e9), Verbose(lines.append)]
    loop = LbfgsLoop(network, objective, hooks=hooks)
    records = loop.run(batch, max_iter=100, max_fun=1000, tol=1e-12)
    assert len(records) == 3 and loop.stopped
    assert lines[0].split() == ["Iteration", "loss", "seconds"]  # lbfgs has no rate
    assert lines[1].split()[0] == "1"
    assert lines[-1] == loop.stop_reason


def test_lbfgs_loop_keep_best():
    network, objective, batch = _lbfgs_problem()
    values = iter([3.0, 1.0, 2.0, 4.0])
    recorder, keep = _Recorder(), KeepBest()
    hooks = [Validation(lambda network: (next(values), 0.0)), recorder, keep, _StopAt(4)]
    LbfgsLoop(network, objective, hooks=hooks).run(batch, max_iter=100, max_fun=1000, tol=1e-12)
    np.testing.assert_array_equal(network.params, recorder.epoch_params[1])


# ----------------------------------------------------------------------
# on_epoch_begin
# ----------------------------------------------------------------------
class _EpochBegins(Hook):
    def __init__(self):
        self.calls = []

    def on_epoch_begin(self, loop, epoch):
        self.calls.append(("begin", epoch))

    def on_epoch_end(self, loop, record):
        self.calls.append(("end", record["epoch"]))
        return False


def test_loop_begins_each_epoch_before_it_runs():
    hook = _EpochBegins()
    _loop(_network(), objective=_Sequence([1.0, 2.0, 3.0]), hooks=[hook]).run(_OneBatchPlan(), max_epochs=3)
    assert hook.calls == [("begin", 1), ("end", 1), ("begin", 2), ("end", 2), ("begin", 3), ("end", 3)]


def test_lbfgs_loop_begins_the_next_iteration_before_scipy_decides():
    network, objective, batch = _lbfgs_problem()
    hook = _EpochBegins()
    LbfgsLoop(network, objective, hooks=[hook]).run(batch, max_iter=2, max_fun=1000, tol=1e-12)
    # The third iteration begins, and scipy stops at max_iter: it never ends.
    assert hook.calls == [("begin", 1), ("end", 1), ("begin", 2), ("end", 2), ("begin", 3)]


def test_early_stopping_rtol_treats_a_creeping_loss_as_a_plateau():
    # The loss falls by 0.5% per epoch: an improvement by tol=1e-4, not by
    # rtol=1%.
    losses = [1.0 * 0.995**epoch for epoch in range(40)]
    by_tol = _loop(_network(), objective=_Sequence(losses), hooks=[EarlyStopping(patience=3)])
    by_tol.run(_OneBatchPlan(), max_epochs=40)
    relative = EarlyStopping(patience=3, rtol=0.01)
    by_rtol = _loop(_network(), objective=_Sequence(losses), hooks=[relative])
    by_rtol.run(_OneBatchPlan(), max_epochs=40)
    assert len(by_tol.records) == 40
    assert len(by_rtol.records) == 5  # 1 best + 4 epochs without a 1% gain
    assert "rtol=0.01" in by_rtol.stop_reason


@pytest.mark.parametrize("shuffle", [True, False])
def test_minibatch_plan_of_all_rows_keeps_no_index_array(shuffle):
    # rows=None: the same batches as rows=arange(n), epoch after epoch,
    # with each epoch's order made anew (uint16 indices below 65,537 rows).
    X, Y = _problem(n_samples=50)
    weight = np.arange(50, dtype=np.float64)  # weight = row index
    plans = [
        MinibatchPlan(X, Y, weight, rows, 16, shuffle, np.random.RandomState(0), np.float32)
        for rows in (None, np.arange(50))
    ]
    assert plans[0].n_samples == plans[1].n_samples == 50
    for _ in range(2):
        epochs = [[batch.weight.copy() for batch in plan.batches()] for plan in plans]
        assert len(epochs[0]) == len(epochs[1]) == 4  # 16, 16, 16, 2
        for ours, theirs in zip(*epochs):
            np.testing.assert_array_equal(ours, theirs)
    assert row_indices(50).dtype == np.uint8 and row_indices(65_536).dtype == np.uint16
    np.testing.assert_array_equal(row_indices(70_000), np.arange(70_000))


def test_minibatch_plan_casts_integer_targets_per_batch():
    # One-hot classes kept in uint8 train as the compute dtype's 0s and 1s.
    X, _ = _problem(n_samples=50)
    Y = np.eye(3, dtype=np.uint8)[np.arange(50) % 3]
    plan = MinibatchPlan(X, Y, None, None, 16, True, np.random.RandomState(0), np.float32)
    reference = MinibatchPlan(X, Y.astype(np.float32), None, None, 16, True, np.random.RandomState(0), np.float32)
    for batch, expected in zip(plan.batches(), reference.batches()):
        assert batch.Y.dtype == np.float32
        np.testing.assert_array_equal(batch.Y, expected.Y)
        np.testing.assert_array_equal(batch.X, expected.X)
