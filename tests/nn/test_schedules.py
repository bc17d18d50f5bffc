"""Learning-rate schedules: rates epoch by epoch against their formulas,
plateaus, restarts, and their parameters."""


import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skann.nn import SCHEDULES, Adaptive, Constant, Cosine, InvScaling, Schedule


def _rates(schedule, n_epochs, samples=100):
    """The rate of each of ``n_epochs`` epochs of ``samples`` rows."""
    rates = []
    for _ in range(n_epochs):
        rates.append(schedule.rate())
        schedule.on_epoch_end({"epoch": len(rates), "samples": samples, "loss": 1.0})
    return rates


def test_registry():
    assert SCHEDULES == {"constant": Constant, "invscaling": InvScaling, "adaptive": Adaptive, "cosine": Cosine}
    assert all(issubclass(cls, Schedule) for cls in SCHEDULES.values())


def test_constant():
    schedule = Constant(0.05)
    assert _rates(schedule, 4) == [0.05] * 4
    assert schedule.reduce() is False
    schedule.restart()
    assert schedule.rate() == 0.05
    assert isinstance(schedule.rate(), float)
    assert Constant().rate() == 0.001


def test_invscaling_follows_the_samples_seen():
    schedule = InvScaling(0.5, power_t=0.25)
    samples = [100, 100, 50, 9750]
    rates = []
    for n in samples:
        rates.append(schedule.rate())
        schedule.on_epoch_end({"samples": n})
    rates.append(schedule.rate())
    seen = np.cumsum([0] + samples)
    # lr / (t + 1) ** power_t, always from the initial rate, never compounded.
    np.testing.assert_allclose(rates, 0.5 / (seen + 1.0) ** 0.25, rtol=1e-14)
    assert rates[0] == 0.5 and rates[-1] == pytest.approx(0.5 / 10001**0.25)
    assert schedule.reduce() is False  # a plateau stops invscaling training


def test_invscaling_as_sklearn_with_power_one_half():
    schedule = InvScaling(1.0, power_t=0.5)
    schedule.on_epoch_end({"samples": 3})
    assert schedule.rate() == 0.5


def test_adaptive_divides_by_five_until_min_rate():
    schedule = Adaptive(1e-4)
    assert _rates(schedule, 3) == [1e-4] * 3  # epochs alone change nothing
    rates = []
    while schedule.reduce():
        rates.append(schedule.rate())
        assert len(rates) < 20
    # Divided by 5 on each plateau until the rate falls to 1e-6 or below.
    np.testing.assert_allclose(rates, [2e-5, 4e-6, 8e-7], rtol=1e-12)
    assert schedule.rate() == pytest.approx(8e-7)
    assert schedule.reduce() is False  # refuses again, rate unchanged
    assert schedule.rate() == pytest.approx(8e-7)


def test_adaptive_factor_and_min_rate():
    schedule = Adaptive(1.0, factor=2.0, min_rate=0.25)
    assert [schedule.reduce() for _ in range(4)] == [True, True, False, False]
    assert schedule.rate() == 0.25
    at_minimum = Adaptive(1e-6)
    assert at_minimum.reduce() is False and at_minimum.rate() == 1e-6


def test_cosine_documented_example():
    assert [round(rate, 12) for rate in _rates(Cosine(1.0, n_epochs=3), 5)] == [1.0, 0.75, 0.25, 0.0, 0.0]


def test_cosine_with_warmup_hold_and_min_rate():
    peak, low = 1.0, 0.1
    schedule = Cosine(peak, n_epochs=10, warmup_epochs=2, hold=0.25, min_rate=low)
    rates = _rates(schedule, 13)
    # Warm-up: (e + 1) / (warmup + 1) of the peak.
    np.testing.assert_allclose(rates[:2], [1 / 3, 2 / 3], rtol=1e-14)
    # The decay starts at 2 + 0.25 * (10 - 2) = 4 and lasts 6 epochs; the peak until then.
    assert rates[2:5] == [1.0, 1.0, 1.0]
    decay = [low + (peak - low) * 0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(1, 7)]
    np.testing.assert_allclose(rates[5:11], decay, rtol=1e-14)
    assert rates[7] == pytest.approx(0.55)  # half-way
    assert rates[10:] == pytest.approx([low] * 3)  # min_rate after the cycle
    assert all(a >= b for a, b in zip(rates[2:], rates[3:]))


def test_cosine_restart_starts_a_new_cycle():
    schedule = Cosine(0.2, n_epochs=4, warmup_epochs=1)
    first = _rates(schedule, 6)
    assert first[-1] == 0.0
    schedule.restart()
    assert _rates(schedule, 6) == first
    assert schedule.reduce() is False


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_progress_survives_pickling(name):
    schedule = SCHEDULES[name](0.1)
    _rates(schedule, 3)
    schedule.reduce()
    restored = pickle.loads(pickle.dumps(schedule))
    assert _rates(restored, 4) == _rates(schedule, 4)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_clone_starts_afresh_with_the_same_parameters(name):
    schedule = SCHEDULES[name](0.1)
    schedule.set_params(learning_rate=0.3)
    fresh_rates = _rates(clone(schedule), 4)
    _rates(schedule, 3)
    schedule.reduce()
    copy = clone(schedule)
    assert copy is not schedule and copy.get_params() == schedule.get_params()
    assert not [key for key in vars(copy) if key.endswith("_")]  # no progress copied
    assert _rates(copy, 4) == fresh_rates
    assert fresh_rates[0] == 0.3


def test_get_params_and_repr():
    schedule = Cosine(0.01, n_epochs=50, warmup_epochs=5)
    assert schedule.get_params() == {
        "hold": 0.0,
        "learning_rate": 0.01,
        "min_rate": 0.0,
        "n_epochs": 50,
        "warmup_epochs": 5,
    }
    assert repr(schedule) == "Cosine(learning_rate=0.01, n_epochs=50, warmup_epochs=5)"
    assert repr(InvScaling()) == "InvScaling()"
    with pytest.raises(ValueError, match="Invalid parameter 'power'"):
        InvScaling().set_params(power=1.0)
