"""Learning-rate schedules: the rate an optimizer steps with, epoch by epoch.

A schedule is configured by its ``__init__`` arguments and keeps its own
progress (``*_`` attributes), so a model continued by ``warm_start`` or
``partial_fit`` continues its schedule. The training loop asks
:meth:`Schedule.rate` before each epoch, reports the epoch with
:meth:`Schedule.on_epoch_end`, and on a plateau asks :meth:`Schedule.reduce`
whether the schedule can go on at a lower rate (otherwise the loop's
stopping hook stops).
"""

import math

from ._params import Params

__all__ = ["Schedule", "Constant", "InvScaling", "Adaptive", "Cosine", "SCHEDULES"]


class Schedule(Params):
    """Base class of learning-rate schedules."""

    def rate(self):
        """Learning rate of the coming epoch."""
        raise NotImplementedError

    def on_epoch_end(self, record):
        """Advance by one epoch; ``record["samples"]`` rows were seen.

        Parameters
        ----------
        record : dict
            The epoch's record (see :class:`Hook`).
        """

    def reduce(self):
        """React to a plateau: lower the rate and return True, or return
        False to let training stop."""
        return False

    def restart(self):
        """Start a new cycle (a new ``fit`` with ``warm_start``)."""


class Constant(Schedule):
    """The same rate throughout.

    Parameters
    ----------
    learning_rate : float, default=0.001

    Examples
    --------
    >>> from skann.nn.schedules import Constant
    >>> Constant(0.01).rate()
    0.01
    """

    def __init__(self, learning_rate=0.001):
        self.learning_rate = learning_rate

    def rate(self):
        return float(self.learning_rate)


class InvScaling(Schedule):
    """``learning_rate / (t + 1) ** power_t`` with ``t`` the samples seen.

    As sklearn's ``learning_rate="invscaling"``: the rate is updated after
    each epoch from the samples seen so far.

    Parameters
    ----------
    learning_rate : float, default=0.001
        The initial rate.
    power_t : float, default=0.5

    Examples
    --------
    >>> from skann.nn.schedules import InvScaling
    >>> schedule = InvScaling(1.0, power_t=0.5)
    >>> schedule.on_epoch_end({"samples": 3})
    >>> schedule.rate()
    0.5
    """

    def __init__(self, learning_rate=0.001, power_t=0.5):
        self.learning_rate = learning_rate
        self.power_t = power_t

    def rate(self):
        seen = getattr(self, "samples_seen_", 0)
        if not seen:
            return float(self.learning_rate)
        try:
            return float(self.learning_rate) / float(seen + 1) ** float(self.power_t)
        except OverflowError:
            # (seen + 1) ** power_t beyond 1.8e308 (power_t=2000 after 60
            # samples): the rate is below 1e-308, that is 0.
            return 0.0

    def on_epoch_end(self, record):
        self.samples_seen_ = getattr(self, "samples_seen_", 0) + record["samples"]


class Adaptive(Schedule):
    """Constant until a plateau, then divided by ``factor``.

    As sklearn's ``learning_rate="adaptive"``: each plateau divides the rate
    by 5; once it falls to ``min_rate`` or below, a plateau stops training.

    Parameters
    ----------
    learning_rate : float, default=0.001
        The initial rate.
    factor : float, default=5.0
        What each plateau divides the rate by.
    min_rate : float, default=1e-6

    Examples
    --------
    >>> from skann.nn.schedules import Adaptive
    >>> schedule = Adaptive(0.01)
    >>> schedule.reduce(), round(schedule.rate(), 6)
    (True, 0.002)
    """

    def __init__(self, learning_rate=0.001, factor=5.0, min_rate=1e-6):
        self.learning_rate = learning_rate
        self.factor = factor
        self.min_rate = min_rate

    def rate(self):
        return float(getattr(self, "current_rate_", self.learning_rate))

    def reduce(self):
        current = self.rate()
        if current <= self.min_rate:
            return False
        self.current_rate_ = current / self.factor
        return True


class Cosine(Schedule):
    """Half-cosine decay over ``n_epochs``, after an optional linear warm-up.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Peak rate.
    n_epochs : int, default=200
        Length of one cycle, warm-up included.
    warmup_epochs : int, default=0
        Epochs of linear increase to the peak: epoch ``e`` (from 0) of the
        warm-up runs at ``learning_rate * (e + 1) / (warmup_epochs + 1)``.
    hold : float, default=0.0
        Share of the cycle after the warm-up held at the peak before the
        decay begins.
    min_rate : float, default=0.0
        Rate at the end of the cycle (and after it).

    Notes
    -----
    After warm-up and hold, epoch ``e`` runs at
    ``min_rate + (learning_rate - min_rate) * (1 + cos(pi * p)) / 2`` with
    ``p`` the fraction of the decay phase done before the epoch; the rate
    reaches ``min_rate`` after the cycle. :meth:`restart` starts a
    new cycle (a new ``fit`` with ``warm_start``); ``partial_fit`` calls
    count as epochs of the current cycle.

    Examples
    --------
    >>> from skann.nn.schedules import Cosine
    >>> schedule = Cosine(1.0, n_epochs=3)
    >>> rates = []
    >>> for _ in range(4):
    ...     rates.append(round(schedule.rate(), 3))
    ...     schedule.on_epoch_end({"samples": 10})
    >>> rates
    [1.0, 0.75, 0.25, 0.0]
    """

    def __init__(self, learning_rate=0.001, n_epochs=200, warmup_epochs=0, hold=0.0, min_rate=0.0):
        self.learning_rate = learning_rate
        self.n_epochs = n_epochs
        self.warmup_epochs = warmup_epochs
        self.hold = hold
        self.min_rate = min_rate

    def rate(self):
        epoch = getattr(self, "epoch_", 0)
        peak, warmup = float(self.learning_rate), int(self.warmup_epochs)
        if epoch < warmup:
            return peak * (epoch + 1) / (warmup + 1)
        start = warmup + self.hold * max(self.n_epochs - warmup, 0)
        length = max(self.n_epochs - start, 1)
        progress = min(max((epoch - start) / length, 0.0), 1.0)
        return self.min_rate + (peak - self.min_rate) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def on_epoch_end(self, record):
        self.epoch_ = getattr(self, "epoch_", 0) + 1

    def restart(self):
        self.epoch_ = 0


SCHEDULES = {
    "constant": Constant,
    "invscaling": InvScaling,
    "adaptive": Adaptive,
    "cosine": Cosine,
}
