"""Optimizer steps against closed forms computed by hand."""

import numpy as np
import pytest

from skann.nn import OPTIMIZERS, SGD, Adam, minimize_lbfgs

P0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.5, -1.0, 2.0])
G2 = np.array([-0.25, 0.75, 1.0])
LR, MU = 0.1, 0.9


def _steps(optimizer, gradients, start=P0):
    # Parameters as a view into a larger buffer, as the Network hands them.
    buffer = np.zeros(len(start) + 2)
    params = buffer[1:-1]
    params[:] = start
    history = []
    for grad in gradients:
        optimizer.update(params, grad.copy())
        history.append(params.copy())
    assert buffer[0] == 0 and buffer[-1] == 0
    return history


def test_registry():
    assert OPTIMIZERS == {"sgd": SGD, "adam": Adam}


def test_sgd_plain():
    first, second = _steps(SGD(learning_rate=LR, momentum=0.0), [G1, G2])
    np.testing.assert_allclose(first, P0 - LR * G1, rtol=1e-15)
    np.testing.assert_allclose(second, P0 - LR * G1 - LR * G2, rtol=1e-15)


def test_sgd_momentum():
    first, second = _steps(SGD(learning_rate=LR, momentum=MU, nesterov=False), [G1, G2])
    v1 = -LR * G1
    v2 = MU * v1 - LR * G2
    np.testing.assert_allclose(first, P0 + v1, rtol=1e-15)
    np.testing.assert_allclose(second, P0 + v1 + v2, rtol=1e-15)


def test_sgd_nesterov():
    # sklearn's form: v = mu * v - lr * g; p += mu * v - lr * g.
    first, second = _steps(SGD(learning_rate=LR, momentum=MU, nesterov=True), [G1, G2])
    v1 = -LR * G1
    p1 = P0 + MU * v1 - LR * G1
    v2 = MU * v1 - LR * G2
    p2 = p1 + MU * v2 - LR * G2
    np.testing.assert_allclose(first, p1, rtol=1e-15)
    np.testing.assert_allclose(second, p2, rtol=1e-15)


def test_sgd_invscaling_schedule():
    optimizer = SGD(learning_rate=0.5, schedule="invscaling", power_t=0.25)
    assert optimizer.end_epoch(99, plateau=False) is False
    assert optimizer.learning_rate == pytest.approx(0.5 / 100**0.25)
    assert optimizer.end_epoch(9999, plateau=False) is False
    # Always from the initial rate, never compounded.
    assert optimizer.learning_rate == pytest.approx(0.5 / 10000**0.25)
    # Before the first epoch ends, the step uses the initial rate.
    np.testing.assert_allclose(
        _steps(SGD(learning_rate=0.5, schedule="invscaling", power_t=0.25, momentum=0.0), [G1])[0],
        P0 - 0.5 * G1,
    )
    # A plateau stops invscaling training.
    assert optimizer.end_epoch(10000, plateau=True) is True


def test_sgd_invscaling_step_uses_scheduled_rate():
    optimizer = SGD(learning_rate=0.5, schedule="invscaling", power_t=0.5, momentum=0.0)
    optimizer.end_epoch(3, plateau=False)
    (first,) = _steps(optimizer, [G1])
    np.testing.assert_allclose(first, P0 - 0.5 / 2.0 * G1, rtol=1e-15)


def test_sgd_constant_schedule():
    optimizer = SGD(learning_rate=LR)
    assert optimizer.end_epoch(1000, plateau=False) is False
    assert optimizer.learning_rate == LR
    assert optimizer.end_epoch(2000, plateau=True) is True


def test_sgd_adaptive_schedule():
    optimizer = SGD(learning_rate=1e-4, schedule="adaptive")
    assert optimizer.end_epoch(100, plateau=False) is False
    assert optimizer.learning_rate == 1e-4
    rates = []
    while not optimizer.end_epoch(100, plateau=True):
        rates.append(optimizer.learning_rate)
        assert len(rates) < 20
    # Divided by 5 on each plateau until the rate falls to 1e-6 or below.
    np.testing.assert_allclose(rates, [2e-5, 4e-6, 8e-7])
    assert optimizer.learning_rate == pytest.approx(8e-7)


def test_adam_first_steps_by_hand():
    beta_1, beta_2, eps = 0.9, 0.999, 1e-8
    optimizer = Adam(learning_rate=LR, beta_1=beta_1, beta_2=beta_2, epsilon=eps)
    history = _steps(optimizer, [G1, G2])
    params, m, v = P0.copy(), np.zeros(3), np.zeros(3)
    for t, (grad, got) in enumerate(zip([G1, G2], history), start=1):
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        step = LR * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        params = params - step * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(got, params, rtol=1e-13)
    # The very first Adam step has size lr in every coordinate (sign of g).
    np.testing.assert_allclose(history[0], P0 - LR * np.sign(G1), rtol=1e-6)
    assert optimizer.n_steps == 2


def test_adam_schedule_stops_on_plateau():
    optimizer = Adam()
    assert optimizer.end_epoch(10, plateau=False) is False
    assert optimizer.end_epoch(20, plateau=True) is True


@pytest.mark.parametrize("make", [lambda: SGD(LR, momentum=MU), lambda: Adam(LR)], ids=["sgd", "adam"])
def test_float32_updates_stay_float32(make):
    params = P0.astype(np.float32)
    make().update(params, G1.astype(np.float32))
    assert params.dtype == np.float32


def test_minimize_lbfgs_updates_flat_buffer_in_place():
    target = np.array([1.0, -3.0, 2.0])
    scale = np.array([1.0, 10.0, 0.5])
    params = np.zeros(3)
    seen = []
    grads = np.empty(3)

    def loss_and_gradient():
        seen.append(params.copy())
        residual = params - target
        np.multiply(scale, residual, out=grads)  # reused buffer, like Network.grads
        return 0.5 * float(np.dot(scale * residual, residual)), grads

    result = minimize_lbfgs(loss_and_gradient, params, max_iter=200, max_fun=1000, tol=1e-12)
    assert result.success
    np.testing.assert_allclose(params, target, atol=1e-6)
    assert len(seen) == result.nfev
    assert result.nit <= 200


def test_minimize_lbfgs_respects_max_iter():
    params = np.full(5, 10.0)
    curvature = np.arange(1.0, 6.0) ** 3

    def loss_and_gradient():
        return 0.5 * float(np.sum(curvature * params**2)), curvature * params

    result = minimize_lbfgs(loss_and_gradient, params, max_iter=2, max_fun=1000, tol=0.0)
    assert result.nit == 2
    assert not result.success
