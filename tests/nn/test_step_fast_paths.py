"""The cheap paths of a training step give the results of the general ones.

Each minibatch step takes shortcuts (one-block optimizer and penalty passes,
the log-loss value without wrappers, finite
checks by a scalar test, one-hot targets by comparison, a cheap copy of the
random state). These tests hold them to the same bits as the general paths,
and check that hooks only observe: a fit is the same with or without them.
"""

import math
import warnings

import numpy as np
import pytest

import skann
import skann.nn.network as network_module
import skann.nn.optimizers as optimizers_module
from skann._plan import copy_random_state
from skann._targets import ClassEncoder, _known_one_hot
from skann.nn import SGD, Adam, Dense, Divergence, FiniteCheck, Hook, Network, get_loss
from skann.nn._blocks import blocks
from skann.nn.losses import _sample_mean
from skann.nn.training import Batch, SupervisedObjective

from .test_training import _Sequence, _loop, _network, _OneBatchPlan, _plan, _problem


def _bits(array):
    array = np.ascontiguousarray(array)
    return array.view(np.uint8).tobytes()


# ----------------------------------------------------------------------
# Optimizers and the L2 penalty: one block or many, the same bits
# ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [Adam, lambda: SGD(momentum=0.9), lambda: SGD(momentum=0.9, nesterov=False),
                                  lambda: SGD(momentum=0.0), lambda: Adam(weight_decay=0.1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_block_step_equals_the_blocked_step(monkeypatch, make, dtype):
    rng = np.random.RandomState(0)
    start = rng.normal(size=37).astype(dtype)
    grads = [rng.normal(size=37).astype(dtype) for _ in range(5)]

    def run():
        params = start.copy()
        optimizer = make().build(params.size, 20, dtype)
        for grad in grads:
            optimizer.step(params, grad.copy(), 0.01)
        return params

    one_block = run()
    # Blocks of 4 values: the sliced path, block by block.
    monkeypatch.setattr(optimizers_module, "BLOCK_SIZE", 4)
    monkeypatch.setattr(optimizers_module, "blocks", lambda n: blocks(n, 4))
    assert _bits(run()) == _bits(one_block)


def test_one_block_penalty_gradient_equals_the_blocked_one(monkeypatch):
    network = _network(activation="relu")
    network.grads[:] = np.random.RandomState(1).normal(size=network.grads.size)
    start = network.grads.copy()
    penalty = network.add_penalty_gradient(0.3, network.context(training=True))
    one_block = network.grads.copy()
    network.grads[:] = start
    monkeypatch.setattr(network_module, "BLOCK_SIZE", 16)  # blocks of 4 values
    blocked_penalty = network.add_penalty_gradient(0.3, network.context(training=True))
    assert _bits(network.grads) == _bits(one_block)
    # Sums of per-block dot products: the same up to their order.
    assert penalty == pytest.approx(blocked_penalty, rel=1e-12)
    assert penalty == pytest.approx(network.penalty(), rel=1e-12)


# ----------------------------------------------------------------------
# Losses and activations
# ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 7, 32, 200])
def test_log_loss_value_equals_the_mean_of_per_sample_losses(dtype, n_rows):
    loss = get_loss("log_loss")
    rng = np.random.RandomState(n_rows)
    P = loss.output(rng.normal(scale=5, size=(n_rows, 4)).astype(dtype), out=None)
    P[0, 0] = 0.0  # clipped to eps
    Y = np.eye(4, dtype=dtype)[rng.randint(0, 4, n_rows)]
    expected = _sample_mean(loss.per_sample(Y, P), None)
    assert _bits(np.float64(loss.value(Y, P))) == _bits(np.float64(expected))


@pytest.mark.parametrize("width", [2, 3, 10, 16, 17])
def test_softmax_of_column_maxima_equals_numpys_row_maximum(width):
    rng = np.random.RandomState(width)
    Z = rng.normal(scale=3, size=(64, width))
    Z[0, :2] = [-0.0, 0.0]
    expected = np.exp(Z - Z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True) if width >= 8 else np.add.reduce(expected, axis=1, keepdims=True)
    P = get_loss("log_loss").output(Z, out=np.empty_like(Z))
    assert _bits(P) == _bits(expected)


# ----------------------------------------------------------------------
# The loop: finite checks and hooks
# ----------------------------------------------------------------------
class _CountingObjective:
    """Losses from a list, one per call; counts the calls."""

    def __init__(self, values):
        self.values, self.calls = list(values), 0

    def __call__(self, network, batch, ctx):
        self.calls += 1
        return self.values[self.calls - 1]


class _ThreePlan:
    n_samples = 30

    def batches(self):
        for _ in range(3):
            yield Batch(np.zeros((10, 3)), np.zeros((10, 1)), None)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_minibatch_loss_stops_the_epoch_at_once(bad):
    objective = _CountingObjective([0.5, bad, 0.5, 0.5])
    loop = _loop(_network(), objective=objective, hooks=[FiniteCheck()])
    with pytest.raises(Divergence, match=f"loss of a minibatch became {bad}"):
        loop.run(_ThreePlan(), max_epochs=2)
    assert objective.calls == 2  # no step after the non-finite one
    assert loop.records == []


class _Steps(Hook):
    def __init__(self):
        self.losses = []

    def on_step(self, loop, loss):
        self.losses.append(loss)


class _NonFiniteSteps(_Steps):
    steps_non_finite_only = True


def test_hooks_that_act_on_non_finite_losses_only_are_called_only_then():
    every, non_finite = _Steps(), _NonFiniteSteps()
    loop = _loop(_network(), objective=_Sequence([1.0, float("nan"), 2.0]), hooks=[every, non_finite])
    loop.run(_OneBatchPlan(), max_epochs=3)
    assert every.losses[0] == 1.0 and math.isnan(every.losses[1]) and every.losses[2] == 2.0
    assert len(non_finite.losses) == 1 and math.isnan(non_finite.losses[0])


def test_step_hooks_only_observe_the_training():
    X, Y = _problem()

    def train(hooks):
        network = _network(activation="relu")
        loop = _loop(network, hooks=hooks)
        records = loop.run(_plan(X, Y, batch_size=16), max_epochs=4)
        return network.params.copy(), [record["loss"] for record in records]

    params, losses = train([])
    for hooks in ([FiniteCheck()], [_Steps(), FiniteCheck(), _NonFiniteSteps()]):
        other_params, other_losses = train(hooks)
        assert _bits(other_params) == _bits(params)
        assert other_losses == losses


def test_identity_output_is_overwritten_in_place_with_the_same_gradients():
    X, Y = _problem()
    network = _network()
    objective = SupervisedObjective(get_loss("squared_error"), alpha=1e-3)
    batch = Batch(X[:20], Y[:20], None)
    loss = objective(network, batch, network.context(training=True))
    grads = network.grads.copy()
    # The general path: the loss's output in its own buffer.
    network.grads[:] = 0
    ctx = network.context(training=True)
    scores = network.forward(batch.X, ctx)
    proba = objective.loss.output(scores, out=np.empty_like(scores))
    value = objective.loss.value(batch.Y, proba)
    network.backward(objective.loss.gradient(batch.Y, proba, out=proba), ctx)
    expected = value + objective.penalty(network, ctx, 20)
    assert _bits(network.grads) == _bits(grads)
    assert loss == expected


# ----------------------------------------------------------------------
# Estimators: hooks, targets, random states
# ----------------------------------------------------------------------
def _data(n_classes=3):
    from sklearn.datasets import make_classification

    return make_classification(300, 8, n_informative=5, n_classes=n_classes, random_state=0)


@pytest.mark.parametrize("params", [{}, {"solver": "sgd"}, {"early_stopping": True}, {"dropout": 0.2}])
def test_verbose_and_callbacks_leave_the_fit_unchanged(params, capsys):
    X, y = _data()
    fits = []
    for extra in ({}, {"verbose": True}):
        model = skann.MLPClassifier(hidden_layer_sizes=(16,), max_iter=8, random_state=0, **params, **extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
            model.partial_fit(X, y)
        fits.append(model)
    capsys.readouterr()
    quiet, verbose = fits
    assert quiet.loss_curve_ == verbose.loss_curve_
    for a, b in zip(quiet.coefs_ + quiet.intercepts_, verbose.coefs_ + verbose.intercepts_):
        assert _bits(a) == _bits(b)


def test_divergence_in_partial_fit_leaves_the_model_unchanged():
    X, y = _data()
    model = skann.MLPRegressor(hidden_layer_sizes=(8,), random_state=0, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y.astype(float))
    coefs = [c.copy() for c in model.coefs_]
    curve = list(model.loss_curve_)
    with pytest.raises(ValueError, match="diverged"):
        model.partial_fit(X * 1e200, y.astype(float) * 1e200)
    assert model.loss_curve_ == curve
    for a, b in zip(model.coefs_, coefs):
        assert _bits(a) == _bits(b)


@pytest.mark.parametrize("labels", [
    np.array([0, 1, 2, 1, 0, 2, 2]), np.array([3, 7, 7, 3]), np.array(["b", "a", "c", "a"]),
    np.array([1.0, 2.0, 1.0]), np.array([True, False, True]),
])
def test_one_hot_targets_equal_the_label_binarizer(labels):
    encoder = ClassEncoder.fit(labels)
    for y in (labels, labels[:2], labels[labels == labels[0]]):
        expected = encoder.binarizer.transform(y)
        for dtype in (np.uint8, np.float64):
            got = _known_one_hot(encoder.binarizer, y, dtype)
            assert got.dtype == dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(encoder.encode(y), expected)


def test_a_copied_random_state_draws_what_the_original_draws():
    original = np.random.RandomState(3)
    original.standard_normal()  # a cached second Gaussian
    copied = copy_random_state(original)
    assert copied is not original
    assert copied.standard_normal() == original.standard_normal()
    np.testing.assert_array_equal(copied.permutation(50), original.permutation(50))
    copied.random(10)  # independent: drawing from the copy leaves the original alone
    assert copy_random_state(original).random() == original.random()
    other = np.random.RandomState(np.random.PCG64(1))
    assert copy_random_state(other).randint(10**9) == other.randint(10**9)
