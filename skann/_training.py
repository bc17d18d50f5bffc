"""The stochastic training loop: epochs of minibatches and early stopping.

Kept apart from the estimator so that the loop is one small object with
its own buffers: per-batch arrays are allocated once and reused, X is never
copied as a whole (each batch is gathered from it once, then cast to the
compute dtype in place), and the early-stopping split is a split of row
indices, not of the data.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split


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
    """

    def __init__(self, estimator, X, Y, sample_weight):
        self.estimator = estimator
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.dtype = estimator.network_.dtype
        self.stopped = False
        indices = np.arange(X.shape[0])
        if estimator.early_stopping:
            indices, self.validation = self._split(indices)
        self.train_indices = indices
        n_train = len(indices)
        if estimator.batch_size == "auto":
            self.batch_size = min(200, n_train)
        else:
            self.batch_size = int(np.clip(estimator.batch_size, 1, n_train))
        self._buffers = {}

    def _split(self, indices):
        estimator = self.estimator
        stratify = estimator._stratification(self.Y)
        try:
            train, held_out = train_test_split(
                indices,
                test_size=estimator.validation_fraction,
                random_state=estimator._random_state,
                stratify=stratify,
            )
        except ValueError:
            if stratify is None:
                raise
            # Too few members of some class to stratify: split at random.
            train, held_out = train_test_split(
                indices,
                test_size=estimator.validation_fraction,
                random_state=estimator._random_state,
            )
        if len(held_out) < 2:
            raise ValueError(
                "The validation set is too small for early stopping "
                f"({len(held_out)} sample). Increase validation_fraction or "
                "provide more samples."
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
        if estimator.early_stopping:
            estimator.network_.params[...] = self._best_params

    def _epoch(self):
        """One pass over the training rows; returns the mean batch loss."""
        estimator = self.estimator
        order = self.train_indices
        if estimator.shuffle:
            order = order.copy()
            estimator._random_state.shuffle(order)
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
        Y_batch = np.take(self.Y, rows, axis=0, out=self._buffer("Y", self.Y, len(rows)), mode="clip")
        if sp.issparse(self.X):
            return self.X[rows].astype(self.dtype), Y_batch, weight
        gathered = np.take(
            self.X, rows, axis=0, out=self._buffer("X", self.X, len(rows)), mode="clip"
        )
        if gathered.dtype != self.dtype:
            cast = self._buffer("X_cast", self.X, len(rows), self.dtype)
            np.copyto(cast, gathered)
            gathered = cast
        return gathered, Y_batch, weight

    def _buffer(self, name, like, n_rows, dtype=None):
        dtype = like.dtype if dtype is None else dtype
        buf = self._buffers.get(name)
        if buf is None:
            buf = self._buffers[name] = np.empty((self.batch_size, like.shape[1]), dtype)
        return buf[:n_rows]

    def _plateau(self):
        """Update the no-improvement count; True once it passes the limit."""
        estimator = self.estimator
        if estimator.early_stopping:
            score = estimator._score_for_early_stopping(*self.validation)
            estimator.validation_scores_.append(score)
            if score < estimator.best_validation_score_ + estimator.tol:
                estimator._no_improvement_count += 1
            else:
                estimator._no_improvement_count = 0
            if score > estimator.best_validation_score_ or not hasattr(self, "_best_params"):
                estimator.best_validation_score_ = max(score, estimator.best_validation_score_)
                self._best_params = estimator.network_.params.copy()
        else:
            if estimator.loss_ > estimator.best_loss_ - estimator.tol:
                estimator._no_improvement_count += 1
            else:
                estimator._no_improvement_count = 0
            estimator.best_loss_ = min(estimator.best_loss_, estimator.loss_)
        return estimator._no_improvement_count > estimator.n_iter_no_change
