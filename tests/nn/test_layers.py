"""Dense layer: the weights it declares, initialisation bounds and
finite-difference checks of the weight, bias and input gradients, for every
activation, through the ``ctx`` a network hands it."""


import numpy as np
import pytest
import scipy.sparse as sp

from skann.nn import ACTIVATIONS, Dense, Weight, get_activation, init_bound
from skann.nn.workspace import LayerContext

from ._gradcheck import numerical_gradient

N_SAMPLES, N_IN, N_UNITS = 6, 4, 3


class _Bound:
    """A built Dense with its weights in arrays of its own, as a network
    would hand them (views in ``ctx.params`` / ``ctx.grads``)."""

    def __init__(self, activation="relu", seed=0, dtype=np.float64, n_in=N_IN, units=N_UNITS, init="auto"):
        self.layer = Dense(units, activation=activation, init=init)
        self.declared, self.output_shape = self.layer.build((n_in,), np.dtype(dtype))
        rng = np.random.RandomState(seed)
        self.params = {w.name: w.init(rng, w.shape, np.dtype(dtype)) for w in self.declared}
        self.grads = {w.name: np.zeros(w.shape, dtype) for w in self.declared}

    def ctx(self, training, input_grad=True):
        return LayerContext(training, None, self.params, self.grads if training else {}, {}, input_grad)

    def forward(self, X, ctx=None):
        return self.layer.forward(X, self.ctx(False) if ctx is None else ctx)

    def analytic(self, X, upstream, input_grad=True):
        """Weight gradients and dX of ``sum(upstream * layer(X))``."""
        ctx = self.ctx(True, input_grad)
        self.layer.forward(X, ctx)
        dX = self.layer.backward(upstream.copy(), ctx)
        grads = {name: grad.copy() for name, grad in self.grads.items()}
        return grads, None if dX is None else dX.copy()


def _objective(bound, X, upstream):
    """sum(upstream * layer(X)): its gradient at the output is ``upstream``."""
    return float(np.sum(upstream * bound.forward(X)))


def _inputs(seed=1):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(N_SAMPLES, N_IN)), rng.normal(size=(N_SAMPLES, N_UNITS))


def test_dense_declares_regularised_weights_and_plain_biases():
    bound = _Bound("tanh")
    assert bound.output_shape == (N_UNITS,)
    assert [(w.name, w.shape, w.trainable, w.regularized) for w in bound.declared] == [
        ("W", (N_IN, N_UNITS), True, True),
        ("b", (N_UNITS,), True, False),
    ]
    assert [w.size for w in bound.declared] == [N_IN * N_UNITS, N_UNITS]
    assert all(isinstance(w, Weight) for w in bound.declared)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dense_gradients_match_finite_differences(activation):
    bound = _Bound(activation)
    X, upstream = _inputs()
    grads, dX = bound.analytic(X, upstream)

    objective = lambda: _objective(bound, X, upstream)  # noqa: E731
    for name in ("W", "b"):
        numeric = numerical_gradient(objective, bound.params[name])
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8)
    X_probe = X.copy()
    numeric_dX = numerical_gradient(lambda: _objective(bound, X_probe, upstream), X_probe)
    np.testing.assert_allclose(dX, numeric_dX, rtol=1e-5, atol=1e-8)


def test_dense_forward_is_affine_then_activation():
    bound = _Bound("tanh")
    X, _ = _inputs()
    expected = np.tanh(X @ bound.params["W"] + bound.params["b"])
    np.testing.assert_allclose(bound.forward(X), expected, rtol=1e-13)


def test_forward_reads_the_weights_from_ctx():
    # Another parameter set of the same layout (a teacher's) through ctx.
    bound, other = _Bound("identity", seed=0), _Bound("identity", seed=5)
    X, _ = _inputs()
    ctx = LayerContext(False, None, other.params, {}, {}, True)
    np.testing.assert_allclose(
        bound.layer.forward(X, ctx), X @ other.params["W"] + other.params["b"], rtol=1e-13
    )


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_dense_sparse_input_gives_dense_results(fmt):
    bound = _Bound("relu")
    X, upstream = _inputs()
    X[X < 0.3] = 0.0
    dense_grads, dense_dX = bound.analytic(X, upstream)
    dense_out = bound.forward(X).copy()
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    sparse_out = bound.forward(X_sparse)
    assert isinstance(sparse_out, np.ndarray)
    np.testing.assert_allclose(sparse_out, dense_out, rtol=1e-13)
    sparse_grads, sparse_dX = bound.analytic(X_sparse, upstream)
    for name in ("W", "b"):
        np.testing.assert_allclose(sparse_grads[name], dense_grads[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sparse_dX, dense_dX, rtol=1e-12, atol=1e-14)


def test_backward_without_input_gradient_still_fills_grads():
    bound = _Bound("logistic")
    X, upstream = _inputs()
    expected, _ = bound.analytic(X, upstream)
    for grad in bound.grads.values():
        grad[...] = 0
    grads, dX = bound.analytic(X, upstream, input_grad=False)
    assert dX is None
    for name in ("W", "b"):
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-14)


def test_forward_reuses_buffers_across_batch_sizes():
    # A smaller batch after a larger one, in one ctx, must not see stale rows.
    bound = _Bound("relu")
    X, _ = _inputs()
    ctx = bound.ctx(False)
    full = bound.forward(X, ctx).copy()
    part = bound.forward(X[:2], ctx)
    assert part.shape == (2, N_UNITS)
    np.testing.assert_allclose(part, full[:2], rtol=1e-14)


def test_dense_keeps_no_arrays_on_itself():
    bound = _Bound("gelu")  # needs_input: the most buffers
    X, upstream = _inputs()
    bound.analytic(X, upstream)
    bound.forward(X)
    assert not any(isinstance(value, np.ndarray) for value in vars(bound.layer).values())
    assert bound.layer.get_params() == {"activation": "gelu", "init": "auto", "units": N_UNITS}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_build_uses_dtype_and_bounds(dtype):
    bound = _Bound("tanh", dtype=dtype)
    limit = init_bound(N_IN, N_UNITS, get_activation("tanh"))
    for param in bound.params.values():
        assert param.dtype == dtype
        assert np.all(np.abs(param) <= limit)
    X, upstream = _inputs()
    assert bound.forward(X.astype(dtype)).dtype == dtype
    grads, dX = bound.analytic(X.astype(dtype), upstream.astype(dtype))
    assert dX.dtype == dtype and all(grad.dtype == dtype for grad in grads.values())


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
    bound = _Bound("relu", n_in=50, units=200, init=init)
    limit = init_bound(50, 200, get_activation("relu"), init)
    for param in bound.params.values():
        assert np.abs(param).max() <= limit
    assert np.abs(bound.params["W"]).max() > 0.95 * limit  # uses the whole range


def test_initialisation_is_seeded():
    first, second, other = _Bound("relu", seed=3), _Bound("relu", seed=3), _Bound("relu", seed=4)
    np.testing.assert_array_equal(first.params["W"], second.params["W"])
    assert not np.array_equal(first.params["W"], other.params["W"])


def test_build_rejects_non_flat_inputs_and_bad_units():
    with pytest.raises(ValueError, match="Flatten"):
        Dense(3).build((4, 4, 1), np.dtype(np.float64))
    for units in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match="units"):
            Dense(units).build((4,), np.dtype(np.float64))
    with pytest.raises(ValueError, match="Unknown activation"):
        Dense(3, activation="bogus").build((4,), np.dtype(np.float64))
