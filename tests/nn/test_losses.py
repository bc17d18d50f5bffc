"""Losses fused with their output activation: value against reference
formulas, gradient w.r.t. the raw scores Z against finite differences."""


import numpy as np
import pytest
from scipy.special import expit, softmax, xlogy

from skann.nn import LOSSES, Loss, get_loss

from ._gradcheck import numerical_gradient

N_SAMPLES, N_OUTPUTS = 9, 3


def _targets(name, rng):
    if name == "log_loss":
        Y = np.zeros((N_SAMPLES, N_OUTPUTS))
        Y[np.arange(N_SAMPLES), rng.randint(N_OUTPUTS, size=N_SAMPLES)] = 1
        return Y
    if name == "binary_log_loss":
        return rng.randint(2, size=(N_SAMPLES, N_OUTPUTS)).astype(float)
    if name == "poisson":
        Y = rng.poisson(2.0, size=(N_SAMPLES, N_OUTPUTS)).astype(float)
        Y[0, 0] = 0.0  # the y = 0 branch of the deviance
        return Y
    return rng.normal(size=(N_SAMPLES, N_OUTPUTS))


def _reference_per_sample(name, Y, Z):
    if name == "log_loss":
        return -(Y * np.log(softmax(Z, axis=1))).sum(axis=1)
    if name == "binary_log_loss":
        P = expit(Z)
        return -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).sum(axis=1)
    if name == "poisson":
        P = np.exp(Z)
        return (xlogy(Y, Y) - Y * Z - Y + P).sum(axis=1)
    return 0.5 * ((Z - Y) ** 2).sum(axis=1)


def _problem(name, seed=0):
    rng = np.random.RandomState(seed)
    Y = _targets(name, rng)
    Z = rng.uniform(-2, 2, size=(N_SAMPLES, N_OUTPUTS))
    weights = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    return Y, Z, weights


def _value(loss, Y, Z, sample_weight):
    P = loss.output(Z.copy(), np.empty_like(Z))
    return loss.value(Y, P, sample_weight)


def test_registry_names_and_output_activations():
    expected = {
        "log_loss": "softmax",
        "binary_log_loss": "logistic",
        "squared_error": "identity",
        "poisson": "exp",
    }
    assert {name: cls.output_activation for name, cls in LOSSES.items()} == expected


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_value_matches_reference(name, weighted):
    loss = get_loss(name)
    Y, Z, weights = _problem(name)
    sample_weight = weights if weighted else None
    expected = np.average(_reference_per_sample(name, Y, Z), weights=sample_weight)
    assert _value(loss, Y, Z, sample_weight) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gradient_wrt_scores_matches_finite_differences(name, weighted):
    loss = get_loss(name)
    Y, Z, weights = _problem(name, seed=1)
    sample_weight = weights if weighted else None

    P = loss.output(Z.copy(), np.empty_like(Z))
    analytic = loss.gradient(Y, P.copy(), sample_weight)
    probe = Z.copy()
    numeric = numerical_gradient(lambda: _value(loss, Y, probe, sample_weight), probe)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_into_output_buffer(name):
    loss = get_loss(name)
    Y, Z, weights = _problem(name)
    P = loss.output(Z.copy(), np.empty_like(Z))
    expected = loss.gradient(Y, P.copy(), weights)
    result = loss.gradient(Y, P, weights, out=P)
    assert result is P
    np.testing.assert_allclose(result, expected, rtol=1e-15)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_output_in_place_equals_out_of_place(name):
    loss = get_loss(name)
    _, Z, _ = _problem(name)
    expected = loss.output(Z.copy(), np.empty_like(Z))
    buffer = Z.copy()
    assert loss.output(buffer, buffer) is buffer
    np.testing.assert_allclose(buffer, expected, rtol=1e-15)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_output_without_buffer_returns_a_new_array(name):
    loss = get_loss(name)
    _, Z, _ = _problem(name)
    original = Z.copy()
    result = loss.output(Z, None)
    assert not np.shares_memory(result, Z)
    np.testing.assert_array_equal(Z, original)
    np.testing.assert_allclose(result, loss.output(Z.copy(), np.empty_like(Z)), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_integer_weights_equal_repeated_rows(name):
    loss = get_loss(name)
    Y, Z, _ = _problem(name)
    counts = np.random.RandomState(3).randint(0, 4, size=N_SAMPLES)
    counts[0] = 1
    repeated = np.repeat(np.arange(N_SAMPLES), counts)
    P = loss.output(Z.copy(), np.empty_like(Z))
    assert loss.value(Y, P, counts.astype(float)) == pytest.approx(
        loss.value(Y[repeated], P[repeated]), rel=1e-12
    )
    weighted_grad = loss.gradient(Y, P.copy(), counts.astype(float))
    repeated_grad = loss.gradient(Y[repeated], P[repeated].copy())
    summed = np.zeros_like(weighted_grad)
    np.add.at(summed, repeated, repeated_grad)
    np.testing.assert_allclose(weighted_grad, summed, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["log_loss", "binary_log_loss"])
def test_log_losses_are_stable_for_large_scores(name):
    loss = get_loss(name)
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    Y = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        P = loss.output(Z.copy(), np.empty_like(Z))
        value = loss.value(Y, P)
        grad = loss.gradient(Y, P.copy())
    assert np.all(np.isfinite(P)) and np.isfinite(value) and np.all(np.isfinite(grad))
    if name == "log_loss":
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # The second sample is confidently wrong: a large, finite loss.
    assert value > 10


def test_get_loss_accepts_instance_and_rejects_unknown():
    loss = get_loss("poisson")
    assert isinstance(loss, Loss)
    assert get_loss(loss) is loss
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        get_loss("hinge")
