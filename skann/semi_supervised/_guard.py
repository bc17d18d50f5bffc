"""Semi-supervised ``fit``: the supervised fallback guard and ``transduction_``.

The loss terms live in :mod:`skann.semi_supervised._objectives` and the
training steps in :mod:`skann.semi_supervised._training`; this module
decides whether the unlabelled rows helped.
"""

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import indexable

from .._compat import _safe_indexing
from .._fit_safety import restore_state, save_state
from ..nn.hooks import Hook
from ._markers import check_labelled, unlabelled_mask
from ._objectives import LABELLED_ONLY

__all__ = ["HeldOutJudge", "fit_semi_supervised", "held_out_judge", "transduction"]

# Share of the labelled rows held out (per class) to check the unlabelled
# rows help, and the fewest held-out rows that make the check worth it.
GUARD_FRACTION = 0.2
GUARD_MIN_ROWS = 4


def _guard_split(estimator, y, labelled_rows):
    """Held-out labelled rows for the guard (stratified), or None."""
    rng = check_random_state(estimator.random_state)
    y_labelled = _safe_indexing(y, labelled_rows)
    y_labelled = np.asarray(y_labelled)
    if is_classifier(estimator) and y_labelled.ndim == 1:
        strata = y_labelled
    else:
        strata = np.zeros(len(labelled_rows))
    held_out = []
    for stratum in np.unique(strata):
        rows = rng.permutation(labelled_rows[strata == stratum])
        n_held = int(GUARD_FRACTION * len(rows))
        held_out.extend(rows[:n_held])
    held_out = np.sort(np.asarray(held_out, dtype=np.intp))
    train = np.setdiff1d(labelled_rows, held_out)
    if len(held_out) < GUARD_MIN_ROWS:
        return None
    if is_classifier(estimator) and len(np.unique(strata[np.isin(labelled_rows, train)])) < 2:
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

    Notes
    -----
    The held-out labels cost accuracy: the ConvNet of
    ``benchmarks/semi_supervised.py`` scores 0.967 / 0.974 at L = 100 / 200
    (seeds 0-9) guarded, 0.973 / 0.978 unguarded. Judging after 70% of the
    epochs and training on the held-out labels after that recovered part
    of it (L = 50: 0.955 against 0.951), but then nothing judges the final
    network: a warm start wrecked after a good judgement scored 0.39 on
    test while still fitting the held-out rows it had trained on.
    """

    def __init__(self, rows, positions, weight, supervised_score):
        self.rows, self.positions, self.weight = rows, positions, weight
        self.scores = {"supervised": supervised_score}
        self.margin = 1.0 / len(rows) + 1e-12
        self.passed = self.evaluate = None

    def on_fit_end(self, loop):
        if loop.interrupted:
            return
        score = float(self.evaluate(loop.network)[1])
        self.scores["semi_supervised"] = score
        self.passed = score >= self.scores["supervised"] - self.margin


def held_out_judge(estimator, X, y, sample_weight, mask, validation=None):
    """The guard's judge, after its supervised trial fit; None when too few
    labels to hold out.

    Trains the network on the labelled rows less 20% held out (stratified)
    and scores it (accuracy, or R²) on the held-out rows: the score the
    semi-supervised network, trained without their labels, must reach (see
    :class:`HeldOutJudge`). The trial fit gets ``fit``'s validation data,
    if any.
    """
    labelled = np.flatnonzero(~mask)
    split = _guard_split(estimator, y, labelled)
    if split is None:
        return None
    train, held_out = split
    weight = None if sample_weight is None else np.asarray(sample_weight)
    model = clone(estimator).set_params(semi_supervised=None, verbose=False)
    if hasattr(model, "set_callbacks"):  # the trial fit: callbacks see the final fit only
        model.set_callbacks()
    model.fit(
        _safe_indexing(X, train),
        _safe_indexing(y, train),
        sample_weight=None if weight is None else weight[train],
        **validation_kwargs(validation),
    )
    held_weight = None if weight is None else weight[held_out]
    score = model.score(_safe_indexing(X, held_out), _safe_indexing(y, held_out), sample_weight=held_weight)
    return HeldOutJudge(held_out, np.searchsorted(labelled, held_out), held_weight, score)


def validation_kwargs(validation):
    """``fit``'s keyword arguments for validation data (or None)."""
    if validation is None:
        return {}
    return dict(zip(("X_val", "y_val", "sample_weight_val"), validation))


def fit_semi_supervised(estimator, X, y, sample_weight, validation=None):
    """``fit`` of an estimator with ``semi_supervised`` set."""
    if y is None:  # the estimator's own error
        return estimator._fit(X, y, sample_weight, incremental=False)
    X, y = indexable(X, y)
    mask = unlabelled_mask(estimator, y)
    check_labelled(estimator, y, mask)
    use_unlabelled = bool(mask.any()) and estimator.semi_supervised != LABELLED_ONLY
    judge = None
    if use_unlabelled and estimator.supervised_fallback:
        judge = held_out_judge(estimator, X, y, sample_weight, mask, validation)
    if use_unlabelled or not mask.any():
        before = None if judge is None else save_state(estimator)
        estimator._fit(X, y, sample_weight, incremental=False, validation=validation, judge=judge)
        if judge is not None and judge.passed is False:
            restore_state(estimator, before)  # the fallback below starts from there
            use_unlabelled = False
    if not use_unlabelled and mask.any():
        labelled = np.flatnonzero(~mask)
        weight = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        estimator._fit(
            _safe_indexing(X, labelled), _safe_indexing(y, labelled), weight,
            incremental=False, validation=validation,
        )
    estimator.used_unlabelled_ = use_unlabelled
    estimator.guard_scores_ = None if judge is None else judge.scores
    estimator.transduction_ = transduction(estimator, X, y, mask)
    return estimator


def transduction(estimator, X, y, mask):
    """Given labels for labelled rows, predictions for unlabelled ones."""
    y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if not mask.any():
        return y.copy()
    predicted = estimator.predict(_safe_indexing(X, np.flatnonzero(mask)))
    dtype = np.result_type(y.dtype, predicted.dtype) if y.dtype.kind != "O" else object
    assigned = y.astype(dtype, copy=True)
    # A column-vector y (n, 1) gets its predictions as a column too.
    assigned[mask] = predicted.reshape(assigned[mask].shape)
    return assigned
