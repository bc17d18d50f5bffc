"""Network: flat parameter and state buffers, whole-network gradient check
with an L2 penalty, per-call contexts (thread-safe inference), snapshots,
pickling, chunked output."""

import pickle
import threading
import tracemalloc
import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from skann.nn import Dense, Layer, Network, Weight, get_activation, get_loss, init_bound
from skann.nn.initializers import Constant

from ._gradcheck import numerical_gradient

N_SAMPLES, N_FEATURES = 11, 5
ALPHA = 0.3


def _network(activations=("tanh", "gelu", "softplus"), n_outputs=3, seed=0, dtype=np.float64):
    layers = [Dense(units, activation) for units, activation in zip((6, 4, 3), activations)]
    layers.append(Dense(n_outputs, "identity"))
    network = Network(layers)
    assert network.build((N_FEATURES,), dtype, np.random.RandomState(seed)) == (n_outputs,)
    return network


def _data(loss_name, n_outputs=3, seed=1, n_samples=N_SAMPLES):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, N_FEATURES))
    if loss_name == "log_loss":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    elif loss_name == "binary_log_loss":
        Y = rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    elif loss_name == "poisson":
        Y = rng.poisson(1.5, size=(n_samples, n_outputs)).astype(float)
    else:
        Y = rng.normal(size=(n_samples, n_outputs))
    weights = rng.uniform(0.5, 2.0, size=n_samples)
    return X, Y, weights


def _objective(network, loss, X, Y, weights):
    scores = network.forward(X, network.context())
    proba = loss.output(scores, np.empty_like(scores))
    return loss.value(Y, proba, weights) + 0.5 * ALPHA * network.penalty() / weights.sum()


def _gradient(network, loss, X, Y, weights):
    ctx = network.context(training=True)
    scores = network.forward(X, ctx)
    proba = loss.output(scores, out=scores)
    network.backward(loss.gradient(Y, proba, weights, out=proba), ctx)
    network.add_penalty_gradient(ALPHA / weights.sum(), ctx)
    return network.grads.copy()


class _Shift(Layer):
    """Test layer with non-trainable state: ``Y = X + shift + offset``.

    ``shift`` is trainable (not regularised); ``offset`` is state, which
    each training pass increases by 1 (as running statistics change).
    """

    def __init__(self, start=0.0):
        self.start = start

    def build(self, input_shape, dtype):
        weights = [
            Weight("shift", input_shape, Constant(0.25)),
            Weight("offset", input_shape, Constant(self.start), trainable=False),
        ]
        return weights, input_shape

    def forward(self, X, ctx):
        if ctx.training:
            ctx.state["offset"] += 1
        out = ctx.buffer("Y", X.shape, X.dtype)
        np.add(X, ctx.params["shift"], out=out)
        out += ctx.state["offset"]
        return out

    def backward(self, dY, ctx):
        dY.sum(axis=0, out=ctx.grads["shift"])
        return dY if ctx.input_grad else None


def _stateful_network(seed=0):
    network = Network([Dense(4, "tanh"), _Shift(2.0), Dense(2, "identity")])
    network.build((N_FEATURES,), np.float64, np.random.RandomState(seed))
    return network


# ----------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------
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


def test_gradient_with_state_and_unregularised_layer_matches_finite_differences():
    network = _stateful_network()
    loss = get_loss("squared_error")
    X, Y, weights = _data("squared_error", n_outputs=2)
    network.state[:] = 0.5
    analytic = _gradient(network, loss, X, Y, weights)  # runs with the offset moved to 1.5
    np.testing.assert_array_equal(network.state, 1.5)
    numeric = numerical_gradient(lambda: _objective(network, loss, X, Y, weights), network.params)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_gives_the_dense_gradients_and_output(fmt):
    network = _network()
    loss = get_loss("log_loss")
    X, Y, weights = _data("log_loss")
    X[X < 0.2] = 0.0
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    dense = _gradient(network, loss, X, Y, weights)
    np.testing.assert_allclose(_gradient(network, loss, X_sparse, Y, weights), dense, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(network.output(X_sparse), network.output(X), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------
# Flat buffers
# ----------------------------------------------------------------------
def test_flat_buffers_are_bound_regularised_first():
    network = _network()
    n_layers = len(network.layers)
    views = [network.weights(position) for position in range(n_layers)]
    weight_sizes = [view["W"].size for view in views]
    bias_sizes = [view["b"].size for view in views]
    assert weight_sizes == [5 * 6, 6 * 4, 4 * 3, 3 * 3] and bias_sizes == [6, 4, 3, 3]
    assert network.params.shape == network.grads.shape == (sum(weight_sizes) + sum(bias_sizes),)
    assert network.params.dtype == network.grads.dtype == network.state.dtype == np.float64
    assert network.state.shape == (0,)
    assert network.n_regularized == sum(weight_sizes)
    # Every weight first in layer order, then every bias.
    expected = np.concatenate([view["W"].ravel() for view in views] + [view["b"] for view in views])
    np.testing.assert_array_equal(network.params, expected)
    expected_penalty = sum(float(np.sum(view["W"] ** 2)) for view in views)
    assert network.penalty() == pytest.approx(expected_penalty, rel=1e-12)

    ctx = network.context(training=True)
    for position, layer_ctx in enumerate(ctx.layers):
        assert set(layer_ctx.params) == set(layer_ctx.grads) == {"W", "b"}
        assert layer_ctx.input_grad == (position > 0)
        for name in ("W", "b"):
            assert np.shares_memory(layer_ctx.params[name], network.params)
            assert np.shares_memory(layer_ctx.grads[name], network.grads)
    assert all(layer_ctx.grads == {} for layer_ctx in network.context().layers)
    # Writes to the flat buffer reach the views, and the other way round.
    network.params[:] = 0.5
    assert all(np.all(view["W"] == 0.5) and np.all(view["b"] == 0.5) for view in views)
    views[2]["b"][1] = 7.0
    assert network.params[sum(weight_sizes) + 6 + 4 + 1] == 7.0


def test_state_lives_in_its_own_flat_buffer():
    network = _stateful_network()
    n_weights = 5 * 4 + 4 * 2
    assert network.params.size == n_weights + 4 + 4 + 2  # W's, then b, shift, b
    assert network.n_regularized == n_weights
    assert network.state.size == 4
    np.testing.assert_array_equal(network.state, 2.0)
    np.testing.assert_array_equal(network.weights(1)["shift"], 0.25)
    assert np.shares_memory(network.weights(1, trainable=False)["offset"], network.state)
    X, _, _ = _data("squared_error")
    network.output(X)
    np.testing.assert_array_equal(network.state, 2.0)  # inference leaves the state alone
    network.forward(X, network.context(training=True))
    np.testing.assert_array_equal(network.state, 3.0)


def test_build_draws_each_layers_weights_in_order():
    # Layer by layer, W then b, each from U(-bound, bound): sklearn's order.
    network = Network([Dense(4, "tanh"), Dense(2, "logistic")])
    assert network.build(3, np.float64, np.random.RandomState(7)) == (2,)
    assert network.input_shape == (3,) and network.output_shape == (2,)
    reference = np.random.RandomState(7)
    for position, (n_in, units, name) in enumerate([(3, 4, "tanh"), (4, 2, "logistic")]):
        bound = init_bound(n_in, units, get_activation(name))
        np.testing.assert_array_equal(network.weights(position)["W"], reference.uniform(-bound, bound, (n_in, units)))
        np.testing.assert_array_equal(network.weights(position)["b"], reference.uniform(-bound, bound, units))


def test_penalty_gradient_only_touches_weights():
    network = _network()
    ctx = network.context(training=True)
    network.grads[:] = 0
    penalty = network.add_penalty_gradient(2.0, ctx)
    assert penalty == pytest.approx(network.penalty(), rel=1e-12)
    n = network.n_regularized
    np.testing.assert_allclose(network.grads[:n], 2.0 * network.params[:n], rtol=1e-15)
    assert np.all(network.grads[n:] == 0)
    network.add_penalty_gradient(1.0, ctx)  # adds to what is there
    np.testing.assert_allclose(network.grads[:n], 3.0 * network.params[:n], rtol=1e-15)


def test_penalty_gradient_over_several_blocks():
    network = Network([Dense(300, "relu"), Dense(2, "identity")])
    network.build(300, np.float32, np.random.RandomState(0))
    n = network.n_regularized
    assert n > 2**16  # more than one block of the penalty pass
    network.grads[:] = 1.0
    penalty = network.add_penalty_gradient(0.5, network.context(training=True))
    weights = network.params[:n].astype(np.float64)
    assert penalty == pytest.approx(float(weights @ weights), rel=1e-5)
    np.testing.assert_allclose(network.grads[:n], 1.0 + 0.5 * network.params[:n], rtol=1e-6)
    assert np.all(network.grads[n:] == 1.0)


def test_penalty_sums_by_block_through_a_small_scratch():
    # The norm sums float32 dots of BLOCK_SIZE // 4 entries (as it always
    # has: the reported loss stays bit-identical); the gradient goes through
    # a scratch of PENALTY_PART entries.
    from skann.nn._blocks import BLOCK_SIZE, blocks
    from skann.nn.network import PENALTY_PART

    network = Network([Dense(300, "relu"), Dense(250, "relu"), Dense(2, "identity")])
    network.build(500, np.float32, np.random.RandomState(0))
    n = network.n_regularized
    assert n > BLOCK_SIZE // 4 and n % PENALTY_PART  # several blocks, a partial last part
    network.grads[:] = np.random.RandomState(1).normal(size=network.grads.size)
    expected_grads, expected = network.grads.copy(), 0.0
    for block in blocks(n, BLOCK_SIZE // 4):
        weights = network.params[block]
        expected += float(np.dot(weights, weights))
        expected_grads[block] += weights * np.float32(0.37)
    ctx = network.context(training=True)
    assert network.add_penalty_gradient(0.37, ctx) == expected
    np.testing.assert_array_equal(network.grads, expected_grads)
    assert ctx.buffers.get("penalty", 1, np.float32).base.size == PENALTY_PART


def test_is_finite_allocates_nothing_parameter_sized():
    network = Network([Dense(300, "relu"), Dense(2, "identity")])
    network.build(300, np.float32, np.random.RandomState(0))
    tracemalloc.start()
    try:
        assert network.is_finite()
        assert tracemalloc.get_traced_memory()[1] < network.params.size // 10  # a bool per parameter before
    finally:
        tracemalloc.stop()
    network.params[5] = np.inf
    assert not network.is_finite()
    network.params[5] = 0.0
    if network.state.size:
        network.state[0] = np.nan
        assert not network.is_finite()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_buffers_and_outputs_use_the_compute_dtype(dtype):
    network = _network(dtype=dtype)
    assert network.dtype == dtype
    assert network.params.dtype == network.grads.dtype == network.state.dtype == dtype
    X, Y, weights = _data("squared_error")
    assert network.output(X).dtype == dtype
    ctx = network.context(training=True)
    scores = network.forward(X.astype(dtype), ctx)
    assert scores.dtype == dtype
    network.backward(np.ones_like(scores), ctx)
    assert network.grads.dtype == dtype and np.all(np.isfinite(network.grads))


# ----------------------------------------------------------------------
# Construction does not touch the caller's layers
# ----------------------------------------------------------------------
def test_network_does_not_mutate_the_layers_passed_in():
    layers = [Dense(6, "tanh"), _Shift(1.0), Dense(3, "identity", init="he_uniform")]
    before = [(layer.get_params(), dict(vars(layer))) for layer in layers]
    network = Network(layers)
    network.build((N_FEATURES,), np.float64, np.random.RandomState(0))
    X, Y, weights = _data("squared_error")
    ctx = network.context(training=True)
    network.backward(network.forward(X, ctx).copy(), ctx)
    network.output(X)
    assert [(layer.get_params(), dict(vars(layer))) for layer in layers] == before
    assert all(mine is not theirs for mine, theirs in zip(network.layers, layers))
    assert [type(layer) for layer in network.layers] == [type(layer) for layer in layers]
    assert [layer.get_params() for layer in network.layers] == [params for params, _ in before]
    # The network's own copies are built, and building wrote nothing on them.
    assert [dict(vars(layer)) for layer in network.layers] == [state for _, state in before]
    layers.append(Dense(1))
    assert len(network.layers) == 3


def test_two_networks_from_one_layer_list_are_independent():
    layers = [Dense(4, "tanh"), Dense(1, "identity")]
    first, second = Network(layers), Network(layers)
    first.build(3, np.float64, np.random.RandomState(0))
    second.build(5, np.float32, np.random.RandomState(1))
    assert first.params.size == 3 * 4 + 4 * 1 + 4 + 1
    assert second.params.size == 5 * 4 + 4 * 1 + 4 + 1 and second.dtype == np.float32
    assert first.output(np.ones((2, 3))).shape == (2, 1)


# ----------------------------------------------------------------------
# Per-call contexts
# ----------------------------------------------------------------------
def _arrays_reachable(root):
    """Every ndarray reachable from ``root`` through attributes (dicts and
    slots), lists, tuples, sets and dict values."""
    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType, str, bytes)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            found.append(obj)
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
            continue
        if hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name):
                    stack.append(getattr(obj, name))
    return found


def test_network_keeps_no_batch_sized_arrays():
    network = _stateful_network()
    X, Y, weights = _data("squared_error", n_outputs=2, n_samples=777)
    loss = get_loss("squared_error")
    _gradient(network, loss, X, Y, weights)
    network.output(X, chunk_rows=100)
    network.output(sp.csr_matrix(X))
    ctx = network.context()
    network.forward(X, ctx)
    allowed = {network.params.size, network.state.size}
    arrays = _arrays_reachable(network)
    assert any(array is network.params for array in arrays)  # the walk does reach the buffers
    assert any(array is network.grads for array in arrays)
    # Views of the buffers (the layers' weights, bound once) are the buffers.
    own = [array for array in arrays if array.base is network.params or array.base is network.state]
    assert own  # the bound views are reached, and allowed as views
    sizes = sorted(
        array.size for array in arrays if array.size not in allowed and not any(array is view for view in own)
    )
    assert sizes == [], f"arrays of sizes {sizes} kept on the network or its layers"
    # The context, by contrast, holds the batch's arrays.
    assert any(array.size >= 777 for array in _arrays_reachable(ctx))


def test_output_is_thread_safe_and_bit_identical():
    from threadpoolctl import threadpool_limits

    network = Network([Dense(256, "relu"), Dense(256, "tanh"), Dense(3, "identity")])
    network.build(20, np.float64, np.random.RandomState(0))
    rng = np.random.RandomState(1)
    # Different inputs (and sizes) per thread: shared buffers would mix them.
    inputs = [rng.normal(size=(37 + 11 * thread, 20)) for thread in range(8)]
    with threadpool_limits(limits=1):
        expected = [network.output(X, chunk_rows=32) for X in inputs]
        assert not np.array_equal(expected[0][:37], expected[1][:37])
        barrier = threading.Barrier(8)

        def rounds(thread):
            barrier.wait()
            return [
                np.array_equal(network.output(inputs[thread], chunk_rows=32), expected[thread])
                for _ in range(50)
            ]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(rounds, range(8)))
    mismatches = {thread: result.count(False) for thread, result in enumerate(results) if not all(result)}
    assert mismatches == {}, f"rounds that differed from the sequential output, per thread: {mismatches}"


def test_context_with_another_parameter_buffer():
    network = _stateful_network(seed=0)
    other = _stateful_network(seed=5)
    other.state[:] = -1.0  # ignored: the state stays the network's own
    buffer = other.params.copy()
    X, Y, weights = _data("squared_error", n_outputs=2)
    own = network.output(X)

    reference = pickle.loads(pickle.dumps(network))
    reference.params[:] = buffer
    expected = reference.output(X)
    assert not np.allclose(expected, own)

    got = network.forward(X, network.context(params=buffer)).copy()
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(network.output(X), own)  # own parameters untouched

    # Training with the other buffer: the gradient at that point, into grads.
    loss = get_loss("squared_error")
    for net, ctx in ((network, network.context(training=True, params=buffer)), (reference, reference.context(training=True))):
        scores = net.forward(X, ctx)
        net.backward(loss.gradient(Y, loss.output(scores, out=scores), weights), ctx)
    assert np.abs(reference.grads).max() > 0
    np.testing.assert_allclose(network.grads, reference.grads, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(buffer, other.params)


# ----------------------------------------------------------------------
# Snapshots and pickling
# ----------------------------------------------------------------------
def test_snapshot_and_restore():
    network = _stateful_network()
    X, _, _ = _data("squared_error")
    expected = network.output(X)
    snapshot = network.snapshot()
    params, state, view = network.params, network.state, network.weights(0)["W"]
    assert not np.shares_memory(snapshot[0], params) and not np.shares_memory(snapshot[1], state)

    network.params += 0.5
    network.forward(X, network.context(training=True))  # moves the state
    assert not np.array_equal(network.state, snapshot[1])
    changed = network.output(X)
    assert not np.allclose(changed, expected)
    np.testing.assert_array_equal(snapshot[0] + 0.5, network.params)  # the snapshot did not follow

    network.restore(snapshot)
    assert network.params is params and network.state is state  # in place
    assert np.shares_memory(view, network.params)
    np.testing.assert_array_equal(network.params, snapshot[0])
    np.testing.assert_array_equal(network.state, snapshot[1])
    np.testing.assert_array_equal(network.output(X), expected)
    assert network.is_finite()
    network.state[0] = np.nan
    assert not network.is_finite()


def test_pickle_round_trip_keeps_params_and_rebinds_views():
    network = _stateful_network()
    X, Y, weights = _data("squared_error", n_outputs=2)
    loss = get_loss("squared_error")
    expected_out = network.output(X)
    expected_grads = _gradient(network, loss, X, Y, weights)
    network.state[:] = 1.5

    restored = pickle.loads(pickle.dumps(network))
    np.testing.assert_array_equal(restored.params, network.params)
    np.testing.assert_array_equal(restored.state, network.state)
    np.testing.assert_array_equal(restored.grads, 0)
    assert restored.grads.shape == network.grads.shape and restored.grads.dtype == network.grads.dtype
    restored.state[:] = network.state[:] = 0.5
    np.testing.assert_allclose(restored.output(X), network.output(X), rtol=1e-14)
    network.state[:] = restored.state[:] = 2.0
    np.testing.assert_allclose(restored.output(X), expected_out, rtol=1e-14)
    np.testing.assert_allclose(_gradient(restored, loss, X, Y, weights), expected_grads, rtol=1e-12, atol=1e-15)
    for position in range(len(restored.layers)):
        for trainable, buffer, original in ((True, restored.params, network.params), (False, restored.state, network.state)):
            for view in restored.weights(position, trainable).values():
                assert np.shares_memory(view, buffer)
                assert not np.shares_memory(view, original)
    ctx = restored.context(training=True)
    assert all(np.shares_memory(grad, restored.grads) for layer in ctx.layers for grad in layer.grads.values())
    # In-place updates of the flat buffer reach the layers.
    restored.params *= 0
    restored.state *= 0
    assert np.all(restored.output(X) == 0)
    np.testing.assert_allclose(network.output(X), expected_out, rtol=1e-14)


def test_pickle_does_not_store_parameters_twice():
    network = Network([Dense(200, "tanh"), Dense(3, "identity")])
    network.build(50, np.float64, np.random.RandomState(0))
    network.grads[:] = 1.0  # training scratch: not pickled
    size = len(pickle.dumps(network))
    assert network.params.nbytes <= size < 1.2 * network.params.nbytes + 4096


def test_pickled_float32_network_stays_float32():
    network = _network(dtype=np.float32)
    restored = pickle.loads(pickle.dumps(network))
    assert restored.params.dtype == restored.grads.dtype == restored.state.dtype == np.float32
    X, _, _ = _data("squared_error")
    np.testing.assert_array_equal(restored.output(X), network.output(X))


# ----------------------------------------------------------------------
# Chunked output
# ----------------------------------------------------------------------
@pytest.mark.parametrize("chunk_rows", [1, 4, 11, 100])
def test_output_in_chunks_equals_one_forward(chunk_rows):
    network = _network()
    X, _, _ = _data("squared_error")
    expected = network.forward(X, network.context()).copy()
    result = network.output(X, chunk_rows=chunk_rows)
    assert result.shape == (N_SAMPLES, 3)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-14)
    assert network.output(X, chunk_rows=chunk_rows) is not result  # a new array per call


def test_output_of_a_range_of_layers():
    network = _network()
    X, _, _ = _data("squared_error")
    hidden = network.output(X, stop=2, chunk_rows=4)
    assert hidden.shape == (N_SAMPLES, 4)
    ctx = network.context()
    np.testing.assert_allclose(hidden, network.forward(X, ctx, 0, 2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(network.output(hidden, start=2), network.output(X), rtol=1e-12, atol=1e-14)


def test_output_casts_chunks_to_network_dtype():
    network = _network(dtype=np.float32)
    X, _, _ = _data("squared_error")
    expected = network.forward(X.astype(np.float32), network.context()).copy()
    got = network.output(X, chunk_rows=4)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    wide = network.output(X, chunk_rows=4, out_dtype=np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, got)
    sparse = network.output(sp.csr_matrix(X), chunk_rows=4)
    assert sparse.dtype == np.float32
    np.testing.assert_allclose(sparse, expected, rtol=1e-5, atol=1e-6)
    integers = np.arange(3 * N_FEATURES).reshape(3, N_FEATURES) % 4
    np.testing.assert_allclose(
        network.output(integers, chunk_rows=2), network.output(integers.astype(np.float32)), rtol=1e-6
    )


def test_output_of_no_rows():
    network = _network()
    assert network.output(np.zeros((0, N_FEATURES))).shape == (0, 3)
    assert network.output(np.zeros((0, N_FEATURES)), stop=1).shape == (0, 6)
