"""Optimizer steps against closed forms and straightforward numpy
references; scipy's L-BFGS-B over a flat buffer."""


import pickle

import numpy as np
import pytest

from skann.nn import OPTIMIZERS, SGD, Adam, AdamW, RMSprop, minimize_lbfgs
from skann.nn._blocks import BLOCK_SIZE

P0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.5, -1.0, 2.0])
G2 = np.array([-0.25, 0.75, 1.0])
LR, MU = 0.1, 0.9


def _steps(optimizer, gradients, rates=LR, start=P0, n_regularized=None):
    """Build ``optimizer`` and step it; the parameters after each step."""
    rates = [rates] * len(gradients) if np.isscalar(rates) else rates
    # Parameters as a view into a larger buffer, as a network may hand them.
    buffer = np.zeros(len(start) + 2, dtype=start.dtype)
    params = buffer[1:-1]
    params[:] = start
    n_regularized = len(start) if n_regularized is None else n_regularized
    assert optimizer.build(len(start), n_regularized, start.dtype) is optimizer
    history = []
    for grad, rate in zip(gradients, rates):
        grad = grad.astype(start.dtype)
        before = grad.copy()
        assert optimizer.step(params, grad, rate) is None
        np.testing.assert_array_equal(grad, before)  # gradients are read only
        history.append(params.copy())
    assert buffer[0] == 0 and buffer[-1] == 0
    assert optimizer.n_steps_ == len(gradients)
    return history


def _gradients(n_steps, size=3, seed=0):
    return list(np.random.RandomState(seed).normal(size=(n_steps, size)))


# Straightforward references: one formula per line, whole arrays, float64.
def _sgd_reference(start, gradients, rates, momentum, nesterov):
    params, velocity, history = start.copy(), np.zeros_like(start), []
    for grad, rate in zip(gradients, rates):
        if momentum:
            velocity = momentum * velocity - rate * grad
            params = params + (momentum * velocity - rate * grad if nesterov else velocity)
        else:
            params = params - rate * grad
        history.append(params)
    return history


def _adam_textbook(start, gradients, rates, beta_1, beta_2, epsilon, n_regularized=0, weight_decay=0.0):
    """Kingma & Ba's Algorithm 1 (bias-corrected m and v, epsilon added to
    sqrt(v_hat)), after AdamW's decoupled decay of the first entries."""
    params, m, v, history = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, (grad, rate) in enumerate(zip(gradients, rates), start=1):
        decay = np.where(np.arange(params.size) < n_regularized, 1 - rate * weight_decay, 1.0)
        params = params * decay
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
        params = params - rate * m_hat / (np.sqrt(v_hat) + epsilon)
        history.append(params)
    return history


def _adam_documented(start, gradients, rates, beta_1, beta_2, epsilon):
    """The form in Adam's docstring (and sklearn's): epsilon is added to
    sqrt(v), not to the bias-corrected sqrt(v_hat)."""
    params, m, v, history = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, (grad, rate) in enumerate(zip(gradients, rates), start=1):
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        params = params - rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (np.sqrt(v) + epsilon)
        history.append(params)
    return history


def _rmsprop_reference(start, gradients, rates, rho, epsilon):
    params, mean_square, history = start.copy(), np.zeros_like(start), []
    for grad, rate in zip(gradients, rates):
        mean_square = rho * mean_square + (1 - rho) * grad**2
        params = params - rate * grad / (np.sqrt(mean_square) + epsilon)
        history.append(params)
    return history


def test_registry():
    assert OPTIMIZERS == {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


# ----------------------------------------------------------------------
# SGD
# ----------------------------------------------------------------------
def test_sgd_plain():
    first, second = _steps(SGD(momentum=0.0), [G1, G2])
    np.testing.assert_allclose(first, P0 - LR * G1, rtol=1e-15)
    np.testing.assert_allclose(second, P0 - LR * G1 - LR * G2, rtol=1e-15)


def test_sgd_momentum():
    first, second = _steps(SGD(momentum=MU, nesterov=False), [G1, G2])
    v1 = -LR * G1
    v2 = MU * v1 - LR * G2
    np.testing.assert_allclose(first, P0 + v1, rtol=1e-15)
    np.testing.assert_allclose(second, P0 + v1 + v2, rtol=1e-15)


def test_sgd_nesterov():
    # sklearn's form: v = mu * v - lr * g; p += mu * v - lr * g.
    first, second = _steps(SGD(momentum=MU, nesterov=True), [G1, G2])
    v1 = -LR * G1
    p1 = P0 + MU * v1 - LR * G1
    v2 = MU * v1 - LR * G2
    p2 = p1 + MU * v2 - LR * G2
    np.testing.assert_allclose(first, p1, rtol=1e-15)
    np.testing.assert_allclose(second, p2, rtol=1e-15)


@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.0, True), (0.5, False), (0.9, False), (0.9, True)]
)
def test_sgd_several_steps_with_changing_rates_match_reference(momentum, nesterov):
    gradients, rates = _gradients(6), [0.1, 0.1, 0.05, 0.02, 0.02, 0.3]
    got = _steps(SGD(momentum=momentum, nesterov=nesterov), gradients, rates)
    expected = _sgd_reference(P0, gradients, rates, momentum, nesterov)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_sgd_without_momentum_keeps_no_velocity():
    optimizer = SGD(momentum=0.0).build(3, 3, np.float64)
    assert optimizer.velocity_ is None
    assert SGD().build(3, 3, np.float64).velocity_.shape == (3,)


# ----------------------------------------------------------------------
# Adam, AdamW
# ----------------------------------------------------------------------
def test_adam_first_steps_by_hand():
    beta_1, beta_2, eps = 0.9, 0.999, 1e-8
    optimizer = Adam(beta_1=beta_1, beta_2=beta_2, epsilon=eps)
    history = _steps(optimizer, [G1, G2])
    np.testing.assert_allclose(history, _adam_documented(P0, [G1, G2], [LR, LR], beta_1, beta_2, eps), rtol=1e-13)
    # The very first Adam step has size lr in every coordinate (sign of g).
    np.testing.assert_allclose(history[0], P0 - LR * np.sign(G1), rtol=1e-6)


@pytest.mark.parametrize("beta_1, beta_2", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_adam_matches_the_textbook_bias_corrected_formula(beta_1, beta_2):
    # With epsilon = 0 the textbook form and the documented one coincide.
    gradients, rates = _gradients(8, seed=1), [0.01] * 4 + [0.003] * 4
    got = _steps(Adam(beta_1=beta_1, beta_2=beta_2, epsilon=0.0), gradients, rates)
    np.testing.assert_allclose(got, _adam_textbook(P0, gradients, rates, beta_1, beta_2, 0.0), rtol=1e-12)


def test_adam_epsilon_is_added_to_the_uncorrected_root():
    # As documented (and as sklearn): lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps),
    # which differs from the textbook's m_hat / (sqrt(v_hat) + eps) for a large epsilon.
    gradients, rates = _gradients(5, seed=2), [0.05] * 5
    got = _steps(Adam(epsilon=0.1), gradients, rates)
    np.testing.assert_allclose(got, _adam_documented(P0, gradients, rates, 0.9, 0.999, 0.1), rtol=1e-12)
    textbook = _adam_textbook(P0, gradients, rates, 0.9, 0.999, 0.1)
    assert not np.allclose(got[-1], textbook[-1], rtol=1e-3)


def test_adamw_decays_the_regularised_entries_then_steps_as_adam():
    gradients, rates = _gradients(6, seed=3), [0.1, 0.1, 0.05, 0.05, 0.2, 0.2]
    got = _steps(AdamW(weight_decay=0.3), gradients, rates, n_regularized=2)
    expected = _adam_textbook(P0, gradients, rates, 0.9, 0.999, 0.0, n_regularized=2, weight_decay=0.3)
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # epsilon=1e-8 vs 0: within 1e-6
    with_epsilon_zero = _steps(AdamW(weight_decay=0.3, epsilon=0.0), gradients, rates, n_regularized=2)
    np.testing.assert_allclose(with_epsilon_zero, expected, rtol=1e-12)


def test_adamw_decay_is_decoupled_from_the_gradient():
    # Zero gradients: Adam's step is 0, only the decay of the weights remains.
    zeros = [np.zeros(3)] * 3
    got = _steps(AdamW(weight_decay=0.5), zeros, [0.1, 0.2, 0.1], n_regularized=1)
    np.testing.assert_allclose(got[-1], [P0[0] * 0.95 * 0.9 * 0.95, P0[1], P0[2]], rtol=1e-15)
    np.testing.assert_array_equal([step[1:] for step in got], [P0[1:]] * 3)


def test_adamw_without_decay_is_adam():
    gradients = _gradients(4, seed=4)
    np.testing.assert_array_equal(
        _steps(AdamW(weight_decay=0.0), gradients, n_regularized=2), _steps(Adam(), gradients)
    )


# ----------------------------------------------------------------------
# RMSprop
# ----------------------------------------------------------------------
@pytest.mark.parametrize("rho, epsilon", [(0.9, 1e-8), (0.5, 0.1), (0.0, 0.0)])
def test_rmsprop_matches_its_formula(rho, epsilon):
    gradients, rates = _gradients(6, seed=5), [0.01, 0.02, 0.02, 0.005, 0.01, 0.01]
    got = _steps(RMSprop(rho=rho, epsilon=epsilon), gradients, rates)
    np.testing.assert_allclose(got, _rmsprop_reference(P0, gradients, rates, rho, epsilon), rtol=1e-13)


# ----------------------------------------------------------------------
# Every optimizer
# ----------------------------------------------------------------------
def _reference(name, start, gradients, rates, n_regularized):
    if name == "sgd":
        return _sgd_reference(start, gradients, rates, 0.9, True)
    if name == "adam":
        return _adam_documented(start, gradients, rates, 0.9, 0.999, 1e-8)
    if name == "adamw":
        return _adam_textbook(start, gradients, rates, 0.9, 0.999, 0.0, n_regularized, 0.01)
    return _rmsprop_reference(start, gradients, rates, 0.9, 1e-8)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_steps_over_several_blocks_match_reference(name):
    # Steps run block by block: every block must be stepped, once.
    size = BLOCK_SIZE + 3
    rng = np.random.RandomState(6)
    start = rng.normal(size=size)
    gradients, rates = list(rng.normal(size=(3, size))), [0.01, 0.02, 0.01]
    optimizer = OPTIMIZERS[name]() if name != "adamw" else AdamW(epsilon=0.0)
    n_regularized = BLOCK_SIZE + 1
    got = _steps(optimizer, gradients, rates, start=start, n_regularized=n_regularized)
    expected = _reference(name, start, gradients, rates, n_regularized)
    for step_got, step_expected in zip(got, expected):
        np.testing.assert_allclose(step_got, step_expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_survives_pickling(name):
    gradients = _gradients(6, seed=7)
    optimizer = OPTIMIZERS[name]().build(3, 2, np.float64)
    params = P0.copy()
    for grad in gradients[:3]:
        optimizer.step(params, grad, LR)
    restored = pickle.loads(pickle.dumps(optimizer))
    assert restored.n_steps_ == 3
    assert "_step_buffer" not in restored.__dict__  # scratch is not state
    restored_params = params.copy()
    for grad in gradients[3:]:
        optimizer.step(params, grad, LR)
        restored.step(restored_params, grad, LR)
    np.testing.assert_array_equal(restored_params, params)
    # ... and the state matters: a fresh optimizer would step differently.
    fresh, fresh_params = OPTIMIZERS[name]().build(3, 2, np.float64), P0.copy()
    for grad in gradients[:3]:
        fresh.step(fresh_params, grad, LR)
    fresh = OPTIMIZERS[name]().build(3, 2, np.float64)
    for grad in gradients[3:]:
        fresh.step(fresh_params, grad, LR)
    assert not np.allclose(fresh_params, params, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_steps_stay_float32(name):
    gradients, rates = _gradients(4, seed=8), [0.1, 0.05, 0.05, 0.1]
    optimizer = OPTIMIZERS[name]()
    got = _steps(optimizer, gradients, rates, start=P0.astype(np.float32), n_regularized=2)
    assert all(step.dtype == np.float32 for step in got)
    state = [value for key, value in vars(optimizer).items() if isinstance(value, np.ndarray)]
    assert state and all(array.dtype == np.float32 for array in state)
    expected = _steps(OPTIMIZERS[name](), gradients, rates, n_regularized=2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_build_resets_the_state(name):
    optimizer = OPTIMIZERS[name]()
    gradients = _gradients(3, seed=9)
    first = _steps(optimizer, gradients)
    np.testing.assert_array_equal(_steps(optimizer, gradients), first)  # _steps builds again


# ----------------------------------------------------------------------
# L-BFGS-B
# ----------------------------------------------------------------------
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


def test_minimize_lbfgs_calls_back_at_each_iterate_and_can_stop():
    params = np.full(4, 3.0, dtype=np.float32)
    seen = []

    def loss_and_gradient():
        return float(np.sum((params - 1.0) ** 2)), 2 * (params - 1.0)

    def callback(loss):
        # params holds the iterate whose loss is reported
        assert loss == pytest.approx(float(np.sum((params.astype(np.float64) - 1.0) ** 2)), rel=1e-6)
        seen.append(loss)
        if len(seen) == 1:
            raise StopIteration

    minimize_lbfgs(loss_and_gradient, params, max_iter=100, max_fun=100, tol=1e-12, callback=callback)
    assert len(seen) == 1
    assert params.dtype == np.float32


# ----------------------------------------------------------------------
# The step pipeline every optimizer shares: clip -> decay -> update
# ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_clips_then_decays_then_updates(name):
    rng = np.random.RandomState(0)
    params, grads = rng.normal(size=10), rng.normal(size=10) * 10
    n_regularized, rate, decay, clip = 6, 0.1, 0.5, 1.0
    optimizer = OPTIMIZERS[name](weight_decay=decay, clip_norm=clip).build(10, n_regularized, params.dtype)
    reference = OPTIMIZERS[name](weight_decay=0.0).build(10, n_regularized, params.dtype)
    # By hand: the gradient scaled to norm 1, the weights (not the biases)
    # shrunk by rate * decay, then the plain update.
    expected, clipped = params.copy(), grads / np.linalg.norm(grads) * clip
    expected[:n_regularized] *= 1 - rate * decay
    reference.step(expected, clipped.copy(), rate)
    optimizer.step(params, grads, rate)
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(grads), clip, rtol=1e-12)  # clipped in place


def test_a_small_gradient_is_not_clipped():
    params, grads = np.zeros(3), np.array([0.3, 0.4, 0.0])
    SGD(momentum=0.0, clip_norm=1.0).build(3, 3, params.dtype).step(params, grads, 1.0)
    np.testing.assert_allclose(params, [-0.3, -0.4, 0.0])


@pytest.mark.parametrize("make", [lambda: SGD(momentum=0.0), lambda: SGD(momentum=MU), Adam, AdamW, RMSprop])
@pytest.mark.parametrize("size", [3, BLOCK_SIZE + 5])
def test_consume_grads_takes_the_same_steps_without_a_scratch_buffer(make, size):
    # The training loop lets a step use the gradient as its scratch (the
    # next backward pass overwrites it): bit-identical steps, and Adam and
    # SGD then allocate no buffer (RMSprop still reads the gradient after
    # its square, so it keeps its scratch).
    rng = np.random.RandomState(0)
    start, gradients = rng.normal(size=size), list(rng.normal(size=(3, size)))
    reading, consuming = make().build(size, size // 2, start.dtype), make().build(size, size // 2, start.dtype)
    params_read, params_consumed = start.copy(), start.copy()
    for grad in gradients:
        reading.step(params_read, grad, LR)
        consuming.step(params_consumed, grad.copy(), LR, consume_grads=True)
        np.testing.assert_array_equal(params_consumed, params_read)
    assert ("_step_buffer" in consuming.__dict__) == isinstance(consuming, RMSprop)
    # The permission is the step's own: nothing of it stays on the optimizer.
    assert "_consume_grads" not in consuming.__dict__
    assert "_consume_grads" not in pickle.loads(pickle.dumps(consuming)).__dict__
