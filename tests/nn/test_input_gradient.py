"""Network.input_gradient: the gradient at the input rows, no weight gradients.

For a network of each layer kind, the input gradient of ``sum(R * Y)``
(``R`` fixed random weights of the outputs) is checked against central
finite differences in float64; ``grads`` and ``state`` are left as they
were, and concurrent calls on one network agree with serial ones.
"""

import threading

import numpy as np
import pytest

from skann.nn import Network
from skann.nn import layers as nn

from ._gradcheck import numerical_gradient

N_ROWS = 5
CASES = {
    "dense": ([nn.Dense(6, "tanh"), nn.Dense(4, "relu"), nn.Dense(3, "identity")], (4,)),
    "dense-logistic": ([nn.Dense(5, "logistic"), nn.Dense(2, "identity")], (3,)),
    "conv-pool-flatten": (
        [nn.Conv2D(3, 3, padding="same", activation="tanh"), nn.MaxPool2D(2),
         nn.Conv2D(2, 1, activation="tanh"), nn.AvgPool2D(2, strides=1), nn.Flatten(),
         nn.Dense(3, "identity")],
        (4, 4, 2),
    ),
    "conv-global-pool": (
        [nn.Conv2D(3, 2, activation="tanh"), nn.GlobalAvgPool2D(), nn.Dense(2, "identity")], (3, 3, 1)
    ),
    "batchnorm-training": ([nn.Dense(6, "tanh"), nn.BatchNorm(), nn.Dense(3, "identity")], (4,)),
    "batchnorm-inference": ([nn.Dense(6, "tanh"), nn.BatchNorm(), nn.Dense(3, "identity")], (4,)),
    "batchnorm-first": ([nn.BatchNorm(), nn.Dense(3, "tanh")], (4,)),
    "layernorm": ([nn.Dense(6, "tanh"), nn.LayerNorm(), nn.Dense(3, "identity")], (4,)),
    "dropout": ([nn.Dense(6, "tanh"), nn.Dropout(0.4), nn.Dense(3, "identity")], (4,)),
}
FROZEN = {"batchnorm-inference"}


def _built(name):
    stack, input_shape = CASES[name]
    net = Network(stack)
    net.build(input_shape, np.float64, np.random.RandomState(0))
    rng = np.random.RandomState(1)
    net.params += 0.3 * rng.normal(size=net.params.shape)  # off trivial initial values
    if net.state.size:  # BatchNorm: running statistics away from 0 and 1
        net.state[...] = rng.uniform(0.5, 1.5, net.state.shape)
    return net


def _pass(net, name, X):
    """A training-mode forward in a fresh context; the same dropout mask every call."""
    ctx = net.context(training=True, rng=np.random.default_rng(3), frozen_state=name in FROZEN)
    return net.forward(X, ctx), ctx


def _data(net, seed=2):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_ROWS, net.n_features))
    R = rng.normal(size=(N_ROWS, *net.output_shape))
    return X, R


@pytest.mark.parametrize("name", CASES)
def test_input_gradient_matches_finite_differences(name):
    net = _built(name)
    X, R = _data(net)
    Y, ctx = _pass(net, name, X)
    dX = net.input_gradient(R.copy(), ctx).copy()

    def objective():
        return float(np.sum(R * _pass(net, name, X)[0]))

    expected = numerical_gradient(objective, X)
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX, expected, rtol=1e-5, atol=1e-7)


def test_frozen_state_uses_running_statistics():
    """With frozen_state, BatchNorm computes the inference output and keeps its state."""
    net = _built("batchnorm-inference")
    X, _ = _data(net)
    state = net.state.copy()
    Y, _ = _pass(net, "batchnorm-inference", X)
    np.testing.assert_allclose(Y, net.output(X), rtol=1e-12)
    np.testing.assert_array_equal(net.state, state)


@pytest.mark.parametrize("name", CASES)
def test_weight_gradients_and_state_untouched(name):
    net = _built(name)
    X, R = _data(net)
    _, ctx = _pass(net, name, X)
    net.grads[...] = 7.0
    params, state = net.params.copy(), net.state.copy()
    net.input_gradient(R.copy(), ctx)
    assert np.all(net.grads == 7.0)
    np.testing.assert_array_equal(net.params, params)
    np.testing.assert_array_equal(net.state, state)


def test_backward_after_input_gradient_is_the_usual_one():
    """The context's flags come back: a later backward writes grads and returns no dX."""
    net = _built("dense")
    X, R = _data(net)
    reference = net.context(training=True)
    net.forward(X, reference)
    net.backward(R.copy(), reference)
    expected = net.grads.copy()
    net.grads[...] = 0.0
    ctx = net.context(training=True)
    net.forward(X, ctx)
    net.input_gradient(R.copy(), ctx)
    net.backward(R.copy(), ctx)
    np.testing.assert_allclose(net.grads, expected, rtol=1e-12)
    assert not ctx.layers[0].input_grad and ctx.layers[0].grads


def test_input_gradient_refuses_an_inference_context():
    net = _built("dense")
    X, R = _data(net)
    ctx = net.context(training=False)
    net.forward(X, ctx)
    with pytest.raises(ValueError, match="training=True"):
        net.input_gradient(R, ctx)


def test_frozen_batchnorm_has_no_weight_gradients():
    net = _built("batchnorm-inference")
    X, R = _data(net)
    _, ctx = _pass(net, "batchnorm-inference", X)
    with pytest.raises(ValueError, match="frozen_state"):
        net.backward(R.copy(), ctx)


def test_concurrent_input_gradients_agree_with_serial_ones():
    """No state on the network: 8 threads, each with its own context, get the serial result."""
    net = _built("conv-pool-flatten")
    rng = np.random.RandomState(4)
    batches = [rng.normal(size=(N_ROWS, net.n_features)) for _ in range(8)]
    R = rng.normal(size=(N_ROWS, *net.output_shape))
    attributes = set(vars(net))

    def gradient(X):
        ctx = net.context(training=True)
        net.forward(X, ctx)
        return net.input_gradient(R.copy(), ctx).copy()

    serial = [gradient(X) for X in batches]
    results = [None] * len(batches)

    def work(index):
        for _ in range(20):
            results[index] = gradient(batches[index])

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, expected in zip(results, serial):
        np.testing.assert_array_equal(got, expected)
    assert set(vars(net)) == attributes
    assert not np.any(net.grads)
