"""Semi-supervised ``fit``: the supervised fallback guard and ``transduction_``.

The loss terms live in :mod:`skann.semi_supervised._objectives` and the
training steps in :mod:`skann.semi_supervised._training`; this module
decides whether the unlabelled rows helped.
"""

import numpy as np

from .._early_stopping import held_out_rows
from ..nn.hooks import Hook

__all__ = ["GUARD_FRACTION", "HeldOutJudge", "guard_split", "transduction"]

# Share of the labelled rows held out (per class) to check the unlabelled
# rows help, and the fewest held-out rows that make the check worth it.
GUARD_FRACTION = 0.2
GUARD_MIN_ROWS = 4


def guard_split(X, Y, sample_weight, strata, random_state):
    """Labelled positions to train the trial on, and to hold out; or None.

    20% of the labelled rows per class (by
    :func:`~skann._early_stopping.held_out_rows`, the splitter early
    stopping uses), or None when 20% of each class, in whole rows, makes
    fewer than ``GUARD_MIN_ROWS`` or the rest would have a single class.

    Parameters
    ----------
    X, Y : the labelled rows and their encoded targets
    sample_weight : ndarray or None
    strata : ndarray or None
        Class of each row (classifiers), or None.
    random_state : RandomState
    """
    # Worth it only when whole rows make 20% of each class: with 7 and 13
    # labels (breast_cancer, L = 20), 1 + 2 rows are too few to judge, and
    # holding them out costs the fit (0.953 -> 0.946 over seeds 0-19 of
    # benchmarks/semi_supervised.py).
    counts = np.unique(np.zeros(X.shape[0]) if strata is None else strata, return_counts=True)[1]
    if int(np.floor(GUARD_FRACTION * counts).sum()) < GUARD_MIN_ROWS:
        return None
    held_out = held_out_rows(X, Y, sample_weight, GUARD_FRACTION, strata, random_state)
    train = np.setdiff1d(np.arange(X.shape[0]), held_out)
    if len(held_out) < GUARD_MIN_ROWS or not len(train):
        return None
    if strata is not None and len(np.unique(strata[train])) < 2:
        return None
    return train, held_out


class HeldOutJudge(Hook):
    """The guard inside the semi-supervised fit: a hook of its loop.

    The held-out labelled rows train as unlabelled rows; at the end of the
    fit the network is scored on their labels, and fails (``passed``
    False: the caller falls back to a supervised fit) when it scores lower
    than the supervised trial network by more than one held-out sample's
    worth (a few held-out labels are a noisy judge; a collapse loses many).

    Parameters
    ----------
    rows : ndarray of int
        The held-out rows, as indices into ``fit``'s X.
    positions : ndarray of int
        The same rows, as indices into the labelled rows.
    weight : ndarray or None
        Their sample weights.
    supervised_score : float
        The supervised trial network's score on them.

    Attributes
    ----------
    passed : bool or None
        None until judged (an interrupted fit is not).
    scores : dict
        ``{"supervised": ..., "semi_supervised": ...}``.
    evaluate : callable
        ``evaluate(network) -> (loss, score)`` on the held-out rows, set by
        the semi-supervised training that runs the loop.
    at_epoch : int or None
        Set by a training that judges early: the network is judged after
        this many epochs (a failing one stops the loop), after which the
        held-out labels may train as labels. None: judged at the end.

    Notes
    -----
    Judged at the end, the held-out labels cost accuracy (the final network
    never trains on them as labels); the graph method judges after a
    quarter of its epochs (``at_epoch``) and then trains on them, so that
    the final network has every label (``docs/semi_supervised.rst`` gives
    the cost measured by ``benchmarks/semi_supervised.py --no-guard``). The
    judged network is then the quarter-way one: a method that collapses
    shows it by then.
    """

    def __init__(self, rows, positions, weight, supervised_score):
        self.rows, self.positions, self.weight = rows, positions, weight
        self.scores = {"supervised": supervised_score}
        self.margin = 1.0 / len(rows) + 1e-12
        self.passed = self.evaluate = self.at_epoch = None
        self._epochs = 0

    def on_fit_begin(self, loop):
        self._epochs = 0

    def on_epoch_end(self, loop, record):
        self._epochs += 1
        if self.passed is None and self._epochs == self.at_epoch:
            return not self._judge(loop.network)
        return False

    def on_fit_end(self, loop):
        if loop.interrupted or self.passed is not None:
            return
        self._judge(loop.network)

    def _judge(self, network):
        """Score ``network`` on the held-out labels; whether it passed."""
        score = float(self.evaluate(network)[1])
        self.scores["semi_supervised"] = score
        self.passed = score >= self.scores["supervised"] - self.margin
        return self.passed


def transduction(y, mask, predicted):
    """Given labels for labelled rows, ``predicted`` ones for unlabelled rows.

    Parameters
    ----------
    y : array-like
        The targets given to ``fit``.
    mask : ndarray of bool
        The unlabelled rows.
    predicted : ndarray or None
        Predictions for the unlabelled rows (None when there are none).
    """
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if not mask.any():
        return y.copy()
    dtype = np.result_type(y.dtype, predicted.dtype) if y.dtype.kind != "O" else object
    assigned = y.astype(dtype, copy=True)
    # A column-vector y (n, 1) gets its predictions as a column too.
    assigned[mask] = predicted.reshape(assigned[mask].shape)
    return assigned
