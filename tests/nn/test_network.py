"""Network: flat parameter buffers, whole-network gradient check with an L2
penalty, pickling, chunked prediction."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from skann.nn import Dense, Network, get_loss

from ._gradcheck import numerical_gradient

N_SAMPLES, N_FEATURES = 11, 5
ALPHA = 0.3


def _network(activations=("tanh", "gelu", "softplus"), n_outputs=3, seed=0, dtype=np.float64):
    layers = [Dense(units, activation) for units, activation in zip((6, 4, 3), activations)]
    layers.append(Dense(n_outputs, "identity"))
    network = Network(layers)
    assert network.build(N_FEATURES, np.random.RandomState(seed), dtype) == n_outputs
    return network


def _data(loss_name, n_outputs=3, seed=1):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    if loss_name == "log_loss":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=N_SAMPLES)]
    elif loss_name == "binary_log_loss":
        Y = rng.randint(2, size=(N_SAMPLES, n_outputs)).astype(float)
    elif loss_name == "poisson":
        Y = rng.poisson(1.5, size=(N_SAMPLES, n_outputs)).astype(float)
    else:
        Y = rng.normal(size=(N_SAMPLES, n_outputs))
    weights = rng.uniform(0.5, 2.0, size=N_SAMPLES)
    return X, Y, weights


def _objective(network, loss, X, Y, weights):
    scores = network.forward(X, training=False)
    proba = loss.output(scores, np.empty_like(scores))
    return loss.value(Y, proba, weights) + 0.5 * ALPHA * network.penalty() / weights.sum()


def _gradient(network, loss, X, Y, weights):
    scores = network.forward(X, training=True)
    proba = loss.output(scores, out=scores)
    network.backward(loss.gradient(Y, proba, weights, out=proba))
    network.add_penalty_gradient(ALPHA / weights.sum())
    return network.grads.copy()


@pytest.mark.parametrize("loss_name", ["log_loss", "binary_log_loss", "squared_error", "poisson"])
@pytest.mark.parametrize(
    "activations", [("tanh", "gelu", "softplus"), ("relu", "elu", "leaky_relu"), ("logistic", "identity", "tanh")]
)
def test_whole_network_gradient_matches_finite_differences(loss_name, activations):
    network = _network(activations)
    loss = get_loss(loss_name)
    X, Y, weights = _data(loss_name)
    if "relu" in activations:
        # Move pre-activations away from the kinks so that central
        # differences are valid: a net with wide margins, fixed seed.
        X *= 0.7
    analytic = _gradient(network, loss, X, Y, weights)
    numeric = numerical_gradient(lambda: _objective(network, loss, X, Y, weights), network.params)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_flat_buffers_are_bound_to_layers():
    network = _network()
    weight_sizes = [layer.params[0].size for layer in network.layers]
    bias_sizes = [layer.params[1].size for layer in network.layers]
    assert network.params.shape == network.grads.shape == (sum(weight_sizes) + sum(bias_sizes),)
    assert network.n_decay == sum(weight_sizes)
    for layer in network.layers:
        for param, grad in zip(layer.params, layer.grads):
            assert np.shares_memory(param, network.params)
            assert np.shares_memory(grad, network.grads)
    # Weights (decayed) first, then biases.
    expected_penalty = sum(float(np.sum(layer.params[0] ** 2)) for layer in network.layers)
    assert network.penalty() == pytest.approx(expected_penalty, rel=1e-12)
    network.params[:] = 0.5
    assert all(np.all(layer.params[0] == 0.5) for layer in network.layers)


def test_build_keeps_each_layers_initialisation():
    layers = [Dense(4, "tanh"), Dense(2)]
    reference_rng = np.random.RandomState(7)
    expected = []
    n_in = 3
    for layer in (Dense(4, "tanh"), Dense(2)):
        n_in = layer.build(n_in, reference_rng, np.float64)
        expected.append([param.copy() for param in layer.params])
    network = Network(layers)
    network.build(3, np.random.RandomState(7), np.float64)
    for layer, params in zip(network.layers, expected):
        for got, want in zip(layer.params, params):
            np.testing.assert_array_equal(got, want)


def test_penalty_gradient_only_touches_weights():
    network = _network()
    network.grads[:] = 0
    network.add_penalty_gradient(2.0)
    np.testing.assert_allclose(network.grads[: network.n_decay], 2.0 * network.params[: network.n_decay])
    assert np.all(network.grads[network.n_decay :] == 0)


def test_pickle_round_trip_keeps_params_and_rebinds_views():
    network = _network()
    X, Y, weights = _data("log_loss")
    loss = get_loss("log_loss")
    expected_out = network.forward(X).copy()
    expected_grads = _gradient(network, loss, X, Y, weights)

    restored = pickle.loads(pickle.dumps(network))
    np.testing.assert_array_equal(restored.params, network.params)
    np.testing.assert_array_equal(restored.forward(X), expected_out)
    np.testing.assert_allclose(_gradient(restored, loss, X, Y, weights), expected_grads, rtol=1e-14)
    for layer in restored.layers:
        for param, grad in zip(layer.params, layer.grads):
            assert np.shares_memory(param, restored.params)
            assert np.shares_memory(grad, restored.grads)
            assert not np.shares_memory(param, network.params)
    # In-place updates of the flat buffer reach the layers.
    restored.params *= 0
    assert np.all(restored.forward(X) == 0)
    np.testing.assert_array_equal(network.forward(X), expected_out)


def test_pickle_does_not_store_parameters_twice():
    network = _network()
    size = len(pickle.dumps(network))
    assert size < 1.5 * network.params.nbytes + 4096


@pytest.mark.parametrize("batch_size", [1, 4, 11, 100])
def test_predict_in_chunks_equals_one_forward(batch_size):
    network = _network()
    X, _, _ = _data("squared_error")
    expected = network.forward(X).copy()
    out = np.empty((N_SAMPLES, 3))
    result = network.predict(X, out, batch_size=batch_size)
    assert result is out
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-15)


def test_predict_casts_chunks_to_network_dtype():
    network = _network(dtype=np.float32)
    X, _, _ = _data("squared_error")
    expected = network.forward(X.astype(np.float32)).copy()
    out = np.empty((N_SAMPLES, 3), dtype=np.float64)
    network.predict(X, out, batch_size=4)
    np.testing.assert_array_equal(out, expected)
    out_sparse = np.empty_like(out)
    network.predict(sp.csr_matrix(X), out_sparse, batch_size=4)
    np.testing.assert_allclose(out_sparse, expected, rtol=1e-5)
