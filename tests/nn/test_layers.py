"""Dense layer: initialisation bounds and finite-difference checks of the
weight, bias and input gradients, for every activation."""

import numpy as np
import pytest
import scipy.sparse as sp

from skann.nn import ACTIVATIONS, Dense, get_activation, init_bound

from ._gradcheck import numerical_gradient

N_SAMPLES, N_IN, N_UNITS = 6, 4, 3


def _layer(activation, seed=0, dtype=np.float64):
    layer = Dense(N_UNITS, activation=activation)
    assert layer.build(N_IN, np.random.RandomState(seed), dtype) == N_UNITS
    return layer


def _objective(layer, X, upstream):
    """sum(upstream * layer(X)): its gradient at the output is ``upstream``."""
    return float(np.sum(upstream * layer.forward(X, training=False)))


def _inputs(seed=1):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(N_SAMPLES, N_IN)), rng.normal(size=(N_SAMPLES, N_UNITS))


def _analytic(layer, X, upstream):
    layer.forward(X, training=True)
    dX = layer.backward(upstream.copy())
    return [grad.copy() for grad in layer.grads], dX.copy()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dense_gradients_match_finite_differences(activation):
    layer = _layer(activation)
    X, upstream = _inputs()
    (grad_W, grad_b), dX = _analytic(layer, X, upstream)

    weights, bias = layer.params
    objective = lambda: _objective(layer, X, upstream)  # noqa: E731
    np.testing.assert_allclose(grad_W, numerical_gradient(objective, weights), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(grad_b, numerical_gradient(objective, bias), rtol=1e-5, atol=1e-8)
    X_probe = X.copy()
    numeric_dX = numerical_gradient(lambda: _objective(layer, X_probe, upstream), X_probe)
    np.testing.assert_allclose(dX, numeric_dX, rtol=1e-5, atol=1e-8)


def test_dense_forward_is_affine_then_activation():
    layer = _layer("tanh")
    X, _ = _inputs()
    weights, bias = layer.params
    np.testing.assert_allclose(layer.forward(X, training=False), np.tanh(X @ weights + bias), rtol=1e-13)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_dense_sparse_input_gives_dense_results(fmt):
    layer = _layer("relu")
    X, upstream = _inputs()
    X[X < 0.3] = 0.0
    dense_grads, dense_dX = _analytic(layer, X, upstream)
    dense_out = layer.forward(X, training=False).copy()
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    np.testing.assert_allclose(layer.forward(X_sparse, training=False), dense_out, rtol=1e-13)
    sparse_grads, sparse_dX = _analytic(layer, X_sparse, upstream)
    for dense, sparse in zip(dense_grads, sparse_grads):
        np.testing.assert_allclose(sparse, dense, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sparse_dX, dense_dX, rtol=1e-12, atol=1e-14)


def test_backward_without_input_gradient_still_fills_grads():
    layer = _layer("logistic")
    X, upstream = _inputs()
    expected, _ = _analytic(layer, X, upstream)
    layer.grads[0][...] = 0
    layer.grads[1][...] = 0
    layer.forward(X, training=True)
    assert layer.backward(upstream.copy(), input_grad=False) is None
    for grad, want in zip(layer.grads, expected):
        np.testing.assert_allclose(grad, want, rtol=1e-14)


def test_forward_reuses_buffers_across_batch_sizes():
    # A smaller batch after a larger one must not see stale rows.
    layer = _layer("relu")
    X, _ = _inputs()
    full = layer.forward(X, training=False).copy()
    part = layer.forward(X[:2], training=False)
    assert part.shape == (2, N_UNITS)
    np.testing.assert_allclose(part, full[:2], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_build_uses_dtype_and_bounds(dtype):
    layer = _layer("tanh", dtype=dtype)
    bound = init_bound(N_IN, N_UNITS, get_activation("tanh"))
    for param in layer.params:
        assert param.dtype == dtype
        assert np.all(np.abs(param) <= bound)
    assert [grad.shape for grad in layer.grads] == [(N_IN, N_UNITS), (N_UNITS,)]
    X, _ = _inputs()
    assert layer.forward(X.astype(dtype), training=False).dtype == dtype


def test_init_bound_glorot_and_he():
    # sklearn's Glorot-uniform: sqrt(6 / (fan_in + fan_out)), gain 2 for logistic.
    tanh, logistic, relu = (get_activation(name) for name in ("tanh", "logistic", "relu"))
    assert init_bound(10, 5, tanh, "glorot_uniform") == pytest.approx(np.sqrt(6 / 15))
    assert init_bound(10, 5, logistic, "glorot_uniform") == pytest.approx(np.sqrt(2 / 15))
    assert init_bound(10, 5, relu, "glorot_uniform") == pytest.approx(np.sqrt(6 / 15))
    assert init_bound(10, 5, relu, "he_uniform") == pytest.approx(np.sqrt(6 / 10))
    with pytest.raises(ValueError, match="init"):
        init_bound(10, 5, relu, "bogus")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_auto_init_follows_the_activation(name):
    activation = get_activation(name)
    assert activation.init in ("glorot_uniform", "he_uniform")
    assert init_bound(10, 5, activation) == init_bound(10, 5, activation, activation.init)


@pytest.mark.parametrize("init", ["glorot_uniform", "he_uniform"])
def test_dense_init_parameter_sets_the_bound(init):
    layer = Dense(200, activation="relu", init=init)
    layer.build(50, np.random.RandomState(0), np.float64)
    bound = init_bound(50, 200, get_activation("relu"), init)
    weights = layer.params[0]
    assert np.abs(weights).max() <= bound
    assert np.abs(weights).max() > 0.95 * bound  # uses the whole range


def test_initialisation_is_seeded():
    first, second, other = _layer("relu", seed=3), _layer("relu", seed=3), _layer("relu", seed=4)
    np.testing.assert_array_equal(first.params[0], second.params[0])
    assert not np.array_equal(first.params[0], other.params[0])
