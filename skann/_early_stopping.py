"""Validation data and the hooks that watch them.

Validation data are ``fit``'s ``X_val`` / ``y_val`` when given, otherwise
the early-stopping split of the training rows: a split of row indices,
chosen by content (see :func:`held_out_rows`), gathered once per fit.
:class:`Monitoring` builds the loop's hooks that evaluate them, stop and
restore the best epoch, and says what they saw.
"""

import numpy as np

from .nn import EarlyStopping, KeepBest, Validation

# Relative improvement of the validation loss that counts for early stopping
# (monitor="val_loss"); its effect is measured by
# python benchmarks/training_controls.py early_stopping.
VAL_LOSS_RTOL = 0.01


def held_out_rows(X, Y, sample_weight, fraction, strata, random_state):
    """Rows to hold out for early stopping, chosen by content.

    Each row gets a pseudo-random key that depends only on its values (the
    scrambled random projection of X and Y); within each stratum, rows are taken in
    key order until they carry ``fraction`` of the stratum's weight, and at
    least 2 rows are held out. Identical rows share a key, so they always
    land on the same side: duplicates never leak from training into
    validation, and a sample of integer weight ``k`` is split exactly as
    ``k`` repeated copies of it would be.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    fraction : float
    strata : ndarray of shape (n_samples,) or None
        Class of each row, to stratify by; None for one stratum.
    random_state : RandomState

    Returns
    -------
    held_out : ndarray of int
        Sorted row indices.
    """
    n_samples = X.shape[0]
    weight = np.ones(n_samples) if sample_weight is None else sample_weight
    keys = content_keys(X, Y, random_state)
    strata = np.zeros(n_samples) if strata is None else strata
    held_out = []
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        rows = rows[np.argsort(keys[rows], kind="stable")]
        cumulative = np.cumsum(weight[rows])
        target = fraction * cumulative[-1]
        if target <= 0:
            continue
        last = min(np.searchsorted(cumulative, target, side="left"), len(rows) - 1)
        # Rows tied with the last one taken (duplicates) go along with it.
        cut = np.searchsorted(keys[rows], keys[rows[last]], side="right")
        held_out.append(rows[:cut])
    held_out = np.sort(np.concatenate(held_out)) if held_out else np.array([], np.intp)
    # At least 2 samples, a row of integer weight k counting as k samples.
    if 0 < _n_samples_held(weight, held_out) < 2:
        for row in np.argsort(keys, kind="stable"):
            if row not in held_out and weight[row] > 0:
                held_out = np.sort(np.append(held_out, row))
                break
    return held_out.astype(np.intp)


def content_keys(X, Y, random_state):
    """A pseudo-random key in [0, 1) of each row that depends only on its
    values (identical rows share a key): see :func:`held_out_rows`."""
    projection = np.asarray(X @ random_state.uniform(-1, 1, X.shape[1])).ravel()
    projection = projection + Y @ random_state.uniform(-1, 1, Y.shape[1])
    # The fractional part of a large multiple scatters the projection into a
    # pseudo-random key in [0, 1): held-out rows are a random sample, not a
    # corner of the data, and identical rows still share a key.
    return np.modf(np.abs(projection) * 9973.0)[0]


def _n_samples_held(weight, rows):
    """Samples in ``rows``, a row of weight ``w > 0`` counting ``max(w, 1)``."""
    held = weight[rows]
    return float(np.maximum(held[held > 0], 1).sum())


def split_validation(X, Y, sample_weight, fraction, strata, random_state):
    """Training rows and held-out ``(X, Y, weight)`` for early stopping.

    Raises a ``ValueError`` naming the fix when the data are too few to
    hold out at least 2 samples and keep 1 for training.
    """
    rows = np.arange(X.shape[0])
    if fraction == 0:
        raise ValueError("early_stopping=True needs validation_fraction > 0.")
    held_out = held_out_rows(X, Y, sample_weight, fraction, strata, random_state)
    train = np.setdiff1d(rows, held_out, assume_unique=True)
    weight = np.ones(len(rows)) if sample_weight is None else sample_weight
    if _n_samples_held(weight, held_out) < 2 or len(train) < 1:
        raise ValueError(
            f"The validation set is too small: {len(rows)} samples are too few for "
            "early stopping, which needs at least 2 held-out samples and 1 "
            "training sample. Provide more samples, increase "
            "validation_fraction, or set early_stopping=False."
        )
    weight = None if sample_weight is None else sample_weight[held_out]
    return train, (X[held_out], Y[held_out], weight)


# ----------------------------------------------------------------------
# Validation data given to fit
# ----------------------------------------------------------------------
def paired_validation_data(X_val, y_val, sample_weight_val):
    """``(X_val, y_val, sample_weight_val)``, or None when none are given.

    Raises a ``ValueError`` when only some of them are given.
    """
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val was given without X_val and y_val.")
        return None
    if X_val is None or y_val is None:
        given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(
            f"{given} was given without {missing}: validation data need both X_val "
            "and y_val (or neither)."
        )
    return X_val, y_val, sample_weight_val


# ----------------------------------------------------------------------
# The hooks of a fit, and what they leave on the estimator
# ----------------------------------------------------------------------
class Monitoring:
    """Validation, early-stopping and best-weight hooks of one fit.

    With validation data, every epoch records ``val_loss`` and
    ``val_score``. With early stopping, training stops when the
    ``monitor``-ed value has not improved by ``tol`` for
    ``n_iter_no_change`` epochs, and the best epoch's weights are restored.
    Without it, sklearn's rule stops when the training loss has not
    improved (``supervised`` fits only), counting across warm starts.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``monitor``, ``n_iter_no_change``, ``tol``).
    evaluate : callable or None
        ``evaluate(network) -> (loss, score)`` on the validation data.
    early_stopping : bool
    stopping : dict
        What sklearn's rule counts across calls: ``best_loss`` and
        ``no_improvement_count``.
    supervised : bool, default=True
        False for semi-supervised fits, which never stop on the training
        loss (it mixes in a ramped-up unsupervised term).
    """

    def __init__(self, params, evaluate, early_stopping, stopping, supervised=True):
        self.early_stopping = early_stopping
        self.supervised = supervised
        self.keep_best = self.stopping = None
        self.hooks = []
        if evaluate is not None:
            self.hooks.append(Validation(evaluate))
        monitor = params["monitor"]
        if early_stopping:
            mode = "min" if monitor == "val_loss" else "max"
            self.keep_best = KeepBest(monitor, mode)
            # A validation loss that creeps down by less than 1% per epoch
            # is a plateau: by tol alone (1e-4) digits and wine ran about as
            # many epochs as without early stopping.
            rtol = VAL_LOSS_RTOL if monitor == "val_loss" else 0.0
            self.stopping = EarlyStopping(monitor, params["n_iter_no_change"], params["tol"], mode, rtol=rtol)
            self.hooks += [self.keep_best, self.stopping]
        elif supervised:
            best = stopping["best_loss"]
            self.stopping = EarlyStopping(
                "loss", params["n_iter_no_change"], params["tol"],
                best=None if best in (None, np.inf) else best,
                count=stopping["no_improvement_count"],
            )
            self.hooks.append(self.stopping)

    def updated(self, stopping, records):
        """``stopping`` after ``records``: sklearn's fitted values and counters."""
        stopping = dict(stopping)
        if self.early_stopping:
            scores = stopping["validation_scores"] or []
            stopping["validation_scores"] = scores + [record["val_score"] for record in records]
            if self.keep_best.best_record is not None:
                stopping["best_validation_score"] = self.keep_best.best_record["val_score"]
            return stopping
        best = np.inf if stopping["best_loss"] is None else stopping["best_loss"]
        stopping["best_loss"] = min([best] + [record["loss"] for record in records])
        if self.supervised:
            stopping["no_improvement_count"] = self.stopping.count
        return stopping


def fresh_stopping(early_stopping):
    """The stopping values of a new network (sklearn's initial fitted values)."""
    if early_stopping:
        return dict(
            validation_scores=[], best_validation_score=-np.inf, best_loss=None, no_improvement_count=0,
        )
    return dict(validation_scores=None, best_validation_score=None, best_loss=np.inf, no_improvement_count=0)
