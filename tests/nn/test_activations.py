"""Activations: forward against reference formulas, backward against
central finite differences of forward, in float64."""

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import norm

from skann.nn import ACTIVATIONS, Activation, get_activation

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


def _inputs(seed=0, shape=(7, 5)):
    # Keep away from the kinks of relu / leaky_relu / elu at 0, where the
    # derivative is not defined and central differences straddle it.
    rng = np.random.RandomState(seed)
    Z = rng.uniform(-3, 3, size=shape)
    Z[np.abs(Z) < 0.05] += 0.2
    return Z


def _forward(activation, Z):
    """f(Z) into a fresh buffer (Z untouched)."""
    return activation.forward(Z, np.empty_like(Z)).copy()


def _backward(activation, Z, dA):
    """f'(Z) * dA through the in-place protocol the Dense layer uses.

    Activations that do not need Z may overwrite it in forward, so they
    get the output buffer in place of Z, exactly as Dense passes it.
    """
    Z = Z.copy()
    if activation.needs_input:
        A = activation.forward(Z, np.empty_like(Z))
    else:
        A = activation.forward(Z, Z)
        assert A is Z
    dA = dA.copy()
    result = activation.backward(dA, Z, A)
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
    result = activation.forward(buffer, buffer)
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
def test_float32_forward_backward_keep_dtype(name):
    activation = get_activation(name)
    Z = _inputs().astype(np.float32)
    A = activation.forward(Z.copy(), np.empty_like(Z))
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
    with pytest.raises(ValueError, match="Unknown activation 'bogus'.*relu"):
        get_activation("bogus")
