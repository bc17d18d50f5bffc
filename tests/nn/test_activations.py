"""Activations: forward against reference formulas, backward against
central finite differences of forward, in float64."""


import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import norm

from skann.nn import ACTIVATIONS, Activation, get_activation
from skann.nn.workspace import Buffers, LayerContext

from ._gradcheck import numerical_gradient

REFERENCE = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "gelu": lambda z: z * norm.cdf(z),
    "softplus": lambda z: np.log1p(np.exp(z)),
}


def _ctx():
    """The per-call workspace a layer hands its activation."""
    return LayerContext(False, None, {}, {}, {}, input_grad=False)


class _BufferOnly:
    """The smallest ctx an activation may rely on: ``.buffer`` only."""

    def __init__(self):
        self._buffers = Buffers()

    def buffer(self, key, shape, dtype):
        return self._buffers.get(key, shape, dtype)


def _inputs(seed=0, shape=(7, 5)):
    # Keep away from the kinks of relu / leaky_relu / elu at 0, where the
    # derivative is not defined and central differences straddle it.
    rng = np.random.RandomState(seed)
    Z = rng.uniform(-3, 3, size=shape)
    Z[np.abs(Z) < 0.05] += 0.2
    return Z


def _forward(activation, Z, ctx=None):
    """f(Z) into a fresh buffer (Z untouched)."""
    return activation.forward(Z, np.empty_like(Z), _ctx() if ctx is None else ctx).copy()


def _backward(activation, Z, dA, ctx=None):
    """f'(Z) * dA through the in-place protocol the Dense layer uses.

    Activations that do not need Z may overwrite it in forward, so they
    get the output buffer in place of Z, exactly as Dense passes it; the
    same ctx serves forward and backward, as in a layer's pass.
    """
    ctx = _ctx() if ctx is None else ctx
    Z = Z.copy()
    if activation.needs_input:
        A = activation.forward(Z, np.empty_like(Z), ctx)
    else:
        A = activation.forward(Z, Z, ctx)
        assert A is Z
    dA = dA.copy()
    result = activation.backward(dA, Z, A, ctx)
    assert result is dA, "backward must work in place on dA"
    return result


def test_registry_has_the_issue_activations():
    assert set(ACTIVATIONS) >= set(REFERENCE)
    assert set(REFERENCE) >= set(ACTIVATIONS), "add new activations to REFERENCE"


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_reference(name):
    activation = get_activation(name)
    Z = _inputs()
    np.testing.assert_allclose(_forward(activation, Z), REFERENCE[name](Z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_in_place_equals_out_of_place(name):
    activation = get_activation(name)
    Z = _inputs()
    expected = _forward(activation, Z)
    buffer = Z.copy()
    result = activation.forward(buffer, buffer, _ctx())
    assert result is buffer
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_backward_matches_finite_differences(name):
    activation = get_activation(name)
    Z = _inputs(seed=1)
    upstream = np.random.RandomState(2).normal(size=Z.shape)
    analytic = _backward(activation, Z, upstream)

    probe = Z.copy()
    numeric = numerical_gradient(lambda: float(np.sum(upstream * _forward(activation, probe))), probe)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_a_ctx_with_only_buffer_is_enough(name):
    # The documented minimum: activations ask ctx for scratch buffers only.
    activation = get_activation(name)
    Z = _inputs(seed=3)
    upstream = np.random.RandomState(4).normal(size=Z.shape)
    np.testing.assert_array_equal(_forward(activation, Z, _BufferOnly()), _forward(activation, Z))
    np.testing.assert_array_equal(
        _backward(activation, Z, upstream, _BufferOnly()), _backward(activation, Z, upstream)
    )


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_no_state_between_calls(name):
    # One activation object serves every thread: scratch comes from ctx.
    activation = get_activation(name)
    before = dict(vars(activation))
    Z = _inputs()
    _backward(activation, Z, np.ones_like(Z))
    _backward(activation, Z[:2], np.ones_like(Z[:2]))
    assert vars(activation) == before
    assert not any(isinstance(value, np.ndarray) for value in vars(activation).values())


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_interleaved_contexts_do_not_interfere(name):
    # Two passes in flight at once (two threads), each with its own ctx.
    activation = get_activation(name)
    Z1, Z2 = _inputs(seed=5), _inputs(seed=6)
    up1, up2 = np.random.RandomState(7).normal(size=Z1.shape), np.random.RandomState(8).normal(size=Z2.shape)
    expected1, expected2 = _backward(activation, Z1, up1), _backward(activation, Z2, up2)
    ctx1, ctx2 = _ctx(), _ctx()
    A1 = activation.forward(Z1.copy(), np.empty_like(Z1), ctx1)
    A2 = activation.forward(Z2.copy(), np.empty_like(Z2), ctx2)
    grad1 = activation.backward(up1.copy(), Z1, A1, ctx1)
    grad2 = activation.backward(up2.copy(), Z2, A2, ctx2)
    np.testing.assert_array_equal(grad1, expected1)
    np.testing.assert_array_equal(grad2, expected2)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_forward_backward_keep_dtype(name):
    activation = get_activation(name)
    Z = _inputs().astype(np.float32)
    A = activation.forward(Z.copy(), np.empty_like(Z), _ctx())
    assert A.dtype == np.float32
    grad = _backward(activation, Z, np.ones_like(Z))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(
        grad, _backward(activation, Z.astype(np.float64), np.ones(Z.shape)), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_extreme_inputs_stay_finite(name):
    activation = get_activation(name)
    Z = np.array([[-800.0, -50.0, 50.0, 800.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = _forward(activation, Z)
        grad = _backward(activation, Z, np.ones_like(Z))
    assert np.all(np.isfinite(A)) and np.all(np.isfinite(grad))


def test_softplus_is_exact_for_large_inputs():
    softplus = get_activation("softplus")
    np.testing.assert_allclose(_forward(softplus, np.array([[800.0, -800.0]])), [[800.0, 0.0]])


def test_get_activation_accepts_instance_and_rejects_unknown():
    tanh = get_activation("tanh")
    assert isinstance(tanh, Activation)
    assert get_activation(tanh) is tanh
    assert get_activation("tanh") is not tanh  # a new object per call
    with pytest.raises(ValueError, match="Unknown activation 'bogus'.*relu"):
        get_activation("bogus")
