"""The stochastic training loop: epochs of minibatches and early stopping.

Kept apart from the estimator so that the loop is one small object with
its own buffers: per-batch arrays are allocated once and reused, X is never
copied as a whole (each batch is gathered from it once, then cast to the
compute dtype in place), and the early-stopping split is a split of row
indices, not of the data.
"""

import numpy as np
import scipy.sparse as sp

from .nn._blocks import scratch


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
    projection = np.asarray(X @ random_state.uniform(-1, 1, X.shape[1])).ravel()
    projection = projection + Y @ random_state.uniform(-1, 1, Y.shape[1])
    # The fractional part of a large multiple scatters the projection into a
    # pseudo-random key in [0, 1): held-out rows are a random sample, not a
    # corner of the data, and identical rows still share a key.
    keys = np.modf(np.abs(projection) * 9973.0)[0]
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


def _n_samples_held(weight, rows):
    """Samples in ``rows``, a row of weight ``w > 0`` counting ``max(w, 1)``."""
    held = weight[rows]
    return float(np.maximum(held[held > 0], 1).sum())


class StochasticTrainer:
    """Runs sgd/adam epochs for one call of ``fit`` or ``partial_fit``.

    Parameters
    ----------
    estimator : BaseMLP
        The estimator being trained; its ``network_``, ``_optimizer`` and
        training attributes (``loss_curve_``, ``t_``, ...) are updated.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets in the compute dtype.
    sample_weight : ndarray of shape (n_samples,) or None
    early_stopping : bool
    unlabelled : UnlabelledTraining or None, default=None
        Semi-supervised training: it runs each epoch, drawing unlabelled
        rows alongside the labelled batches gathered here.
    """

    def __init__(self, estimator, X, Y, sample_weight, early_stopping, unlabelled=None):
        self.estimator = estimator
        self.unlabelled = unlabelled
        self.early_stopping = early_stopping
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.dtype = estimator.network_.dtype
        self.stopped = False
        indices = np.arange(X.shape[0])
        if early_stopping:
            indices, self.validation = self._split(indices)
            if estimator.validation_scores_ is None:  # after a partial_fit
                estimator.validation_scores_ = []
                estimator.best_validation_score_ = -np.inf
            self._best_validation_loss = np.inf
            self._best_params = estimator.network_.params.copy()
        elif estimator.best_loss_ is None:  # after an early-stopped fit
            estimator.best_loss_ = np.inf
        self.train_indices = indices
        self.batch_size = estimator._batch_rows(max(len(indices), 1), warn=True)

    def _split(self, indices):
        """Row indices for training, and the held-out (X, Y, weight)."""
        estimator = self.estimator
        if estimator.validation_fraction == 0:
            raise ValueError("early_stopping=True needs validation_fraction > 0.")
        held_out = held_out_rows(
            self.X,
            self.Y,
            self.sample_weight,
            estimator.validation_fraction,
            estimator._stratification(self.Y),
            estimator._random_state,
        )
        train = np.setdiff1d(indices, held_out, assume_unique=True)
        weight = np.ones(len(indices)) if self.sample_weight is None else self.sample_weight
        if _n_samples_held(weight, held_out) < 2 or len(train) < 1:
            raise ValueError(
                f"{len(indices)} samples are too few for early stopping, which "
                "needs at least 2 held-out samples and 1 training sample. "
                "Provide more samples or set early_stopping=False."
            )
        weight = None if self.sample_weight is None else self.sample_weight[held_out]
        return train, (self.X[held_out], self.Y[held_out], weight)

    def run(self, max_epochs):
        """Train for at most ``max_epochs`` epochs."""
        estimator = self.estimator
        estimator.n_iter_ = 0
        for _ in range(max_epochs):
            estimator.loss_ = self._epoch()
            estimator.n_iter_ += 1
            estimator.t_ += len(self.train_indices)
            estimator.loss_curve_.append(estimator.loss_)
            if estimator.verbose:
                print(f"Iteration {estimator.n_iter_}, loss = {estimator.loss_:.8f}")
            plateau = self._plateau()
            if estimator._optimizer.end_epoch(estimator.t_, plateau):
                self.stopped = True
                if estimator.verbose:
                    print(f"No improvement by tol={estimator.tol} for "
                          f"{estimator.n_iter_no_change} epochs; stopping.")
                break
            if plateau:
                estimator._no_improvement_count = 0
        if self.early_stopping:
            estimator.network_.params[...] = self._best_params

    def _epoch(self):
        """One pass over the training rows; returns the mean batch loss."""
        estimator = self.estimator
        order = self.train_indices
        if estimator.shuffle:
            order = order.copy()
            estimator._random_state.shuffle(order)
        if self.unlabelled is not None:
            return self.unlabelled.epoch(self, order)
        total = 0.0
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            X_batch, Y_batch, weight = self._gather(rows)
            total += estimator._loss_and_gradient(X_batch, Y_batch, weight) * len(rows)
            estimator._optimizer.update(estimator.network_.params, estimator.network_.grads)
        return total / len(order)

    def _gather(self, rows):
        """The batch's rows of X, Y and weights, in reused buffers."""
        weight = None
        if self.sample_weight is not None:
            weight = self.sample_weight[rows].astype(self.dtype, copy=False)
        Y_out = scratch(self, "Y", (len(rows), self.Y.shape[1]), self.Y.dtype)
        Y_batch = np.take(self.Y, rows, axis=0, out=Y_out, mode="clip")
        if sp.issparse(self.X):
            return self.X[rows].astype(self.dtype), Y_batch, weight
        X_out = scratch(self, "X", (len(rows), self.X.shape[1]), self.X.dtype)
        gathered = np.take(self.X, rows, axis=0, out=X_out, mode="clip")
        if gathered.dtype != self.dtype:
            cast = scratch(self, "X_cast", (len(rows), self.X.shape[1]), self.dtype)
            np.copyto(cast, gathered)
            gathered = cast
        return gathered, Y_batch, weight

    def _plateau(self):
        """Update the no-improvement count; True once it passes the limit."""
        estimator = self.estimator
        if self.early_stopping:
            # Stop on the validation loss, which keeps improving while the
            # accuracy of a small held-out set sits on a plateau; report the
            # score (accuracy or R²) as sklearn does.
            loss, score = estimator._validation_loss_and_score(*self.validation)
            estimator.validation_scores_.append(score)
            if loss > self._best_validation_loss - estimator.tol:
                estimator._no_improvement_count += 1
            else:
                estimator._no_improvement_count = 0
            if loss < self._best_validation_loss:
                self._best_validation_loss = loss
                estimator.best_validation_score_ = score
                np.copyto(self._best_params, estimator.network_.params)
        else:
            if estimator.loss_ > estimator.best_loss_ - estimator.tol:
                estimator._no_improvement_count += 1
            else:
                estimator._no_improvement_count = 0
            estimator.best_loss_ = min(estimator.best_loss_, estimator.loss_)
        return estimator._no_improvement_count > estimator.n_iter_no_change
