"""Semi-supervised learning: loss terms on unlabelled samples.

Each method is one small class with one job: from the network's output on
an unlabelled batch (and, for the methods that need one, a teacher's output
on another view of the same rows) it returns the unsupervised loss and its
gradient with respect to the raw output scores. :class:`UnlabelledTraining`
draws unlabelled batches alongside the trainer's labelled batches and runs
one combined forward and backward pass per step, so the engine's
``Network.backward`` (which overwrites the gradients) sees a single output
gradient: the labelled rows' supervised gradient stacked on the unlabelled
rows' unsupervised one.

The teacher is a mean teacher: an exponential moving average of the
student's weights, which gives steadier targets than the student itself.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["METHODS", "UnlabelledLoss", "PseudoLabel", "EntropyMinimisation", "PiModel"]

# Fraction of max_iter over which the unsupervised weight ramps up.
RAMPUP_FRACTION = 0.25
# Largest decay of the mean teacher's moving average.
TEACHER_DECAY = 0.99
# Share of features hidden (set to their mean) in a strongly perturbed view.
FEATURE_DROPOUT = 0.1
# Noise of the weakly perturbed view, relative to the strong view's.
WEAK_NOISE = 0.5
# Gaussian draws pooled by a perturbation (see Perturbation._gaussian).
NOISE_POOL = 1 << 18
# Rows per batch of each kind with batch_size="auto": many small steps
# let the few labels and the unlabelled rows interact often.
AUTO_BATCH = 32
# Distribution alignment (ReMixMatch): teacher predictions are rescaled
# so that their running mean matches the labelled rows' class frequencies.
DISTRIBUTION_ALIGNMENT = True
# Decay of the running mean of the teacher's predictions.
ALIGNMENT_DECAY = 0.99
# Beta(MIXUP, MIXUP) draws the mixing weight of mixup on labelled rows.
MIXUP = 0.75
# Final share of a fit's max_iter epochs over which adam's learning rate
# anneals to zero along a half cosine (sgd keeps its own schedules).
ANNEAL_FRACTION = 0.3
# Factor of unsupervised_weight for the pseudo-label term: its targets are
# thresholded, so rows below the threshold add nothing and the term's mean
# over the batch runs low.
PSEUDO_LABEL_WEIGHT = 2.0


def _row_scale(weight, n_rows, dtype):
    """Per-row factor of a weighted mean, as a column."""
    if weight is None:
        return np.full((n_rows, 1), 1.0 / max(n_rows, 1), dtype=dtype)
    total = weight.sum()
    scale = weight / total if total > 0 else np.zeros_like(weight)
    return scale.astype(dtype, copy=False)[:, None]


class UnlabelledLoss:
    """Base class of the unsupervised loss terms.

    Parameters
    ----------
    loss : skann.nn.losses.Loss
        The supervised loss, which names the output activation.
    threshold : float
        Confidence a teacher prediction needs to become a target (methods
        that use one).

    Attributes
    ----------
    regression : bool
        Whether the method also applies to regression losses.
    needs_teacher : bool
        Whether :meth:`term` needs the teacher's output.
    student_view : {"weak", "strong"}
        Perturbation of the view the gradient flows through.
    """

    name = None
    regression = False
    needs_teacher = True
    student_view = "strong"
    aligned = False
    mixup = False
    gain = 1.0

    def __init__(self, loss, threshold):
        self.loss = loss
        self.threshold = threshold
        self.multiclass = loss.name == "log_loss"

    def term(self, P, teacher, weight):
        """Unsupervised loss of output ``P``; its gradient overwrites ``P``.

        Parameters
        ----------
        P : ndarray of shape (n_rows, n_outputs)
            Output-activated predictions on the student view.
        teacher : ndarray of shape (n_rows, n_outputs) or None
            The teacher's predictions on the weak view.
        weight : ndarray of shape (n_rows,) or None
            Sample weights of the rows.

        Returns
        -------
        value : float
            Weighted mean loss over the rows.
        """
        raise NotImplementedError


class PseudoLabel(UnlabelledLoss):
    """Confidence-thresholded pseudo-labels with consistency (FixMatch).

    The teacher's prediction on a weakly perturbed view becomes a hard
    target for the strongly perturbed view when its confidence reaches the
    threshold; the loss is the supervised log-loss against that target.
    """

    name = "pseudo_label"
    aligned = True
    mixup = True
    gain = PSEUDO_LABEL_WEIGHT

    def term(self, P, teacher, weight):
        if self.multiclass:
            confident = (teacher.max(axis=1) >= self.threshold)[:, None]
            target = np.zeros_like(P)
            target[np.arange(len(P)), teacher.argmax(axis=1)] = 1
        else:  # independent logistic outputs, each its own decision
            confident = np.maximum(teacher, 1 - teacher) >= self.threshold
            target = (teacher >= 0.5).astype(P.dtype)
        eps = np.finfo(P.dtype).eps
        if self.multiclass:
            per_element = -np.log(np.clip(P, eps, 1)) * target
        else:
            per_element = -np.log(np.clip(np.where(target > 0, P, 1 - P), eps, 1))
        scale = _row_scale(weight, len(P), P.dtype)
        value = float((per_element * confident * scale).sum())
        np.subtract(P, target, out=P)
        P *= confident
        P *= scale
        return value


class EntropyMinimisation(UnlabelledLoss):
    """Entropy minimisation: push unlabelled predictions to be confident."""

    name = "entropy"
    needs_teacher = False
    student_view = "weak"

    def term(self, P, teacher, weight):
        eps = np.finfo(P.dtype).eps
        scale = _row_scale(weight, len(P), P.dtype)
        if self.multiclass:
            log_p = np.log(np.clip(P, eps, 1))
            entropy = -(P * log_p).sum(axis=1, keepdims=True)
            value = float((entropy * scale).sum())
            # dH/dz_k = -p_k (log p_k + H)
            log_p += entropy
            np.multiply(P, log_p, out=P)
            P *= -scale
            return value
        clipped = np.clip(P, eps, 1 - eps)
        logit = np.log(clipped) - np.log1p(-clipped)
        entropy = -(clipped * np.log(clipped) + (1 - clipped) * np.log1p(-clipped))
        value = float((entropy * scale).sum())
        # dH/dz = -p (1 - p) z for each logistic output
        np.multiply(clipped * (1 - clipped), logit, out=P)
        P *= -scale
        return value


class PiModel(UnlabelledLoss):
    """Π-model consistency: two perturbed views must agree.

    The target is the teacher's prediction on another perturbed view, kept
    soft; the loss is the supervised loss against it, less its value at
    the target itself (a KL divergence for the log-losses, half the squared
    difference for regression), so its gradient is ``P - teacher``.
    """

    name = "pi_model"
    regression = True

    def term(self, P, teacher, weight):
        value = self.loss.value(teacher, P, weight) - self.loss.value(teacher, teacher, weight)
        np.subtract(P, teacher, out=P)
        P *= _row_scale(weight, len(P), P.dtype)
        return float(value)


METHODS = {cls.name: cls for cls in (PseudoLabel, EntropyMinimisation, PiModel)}
CLASSIFICATION_METHODS = tuple(METHODS)
REGRESSION_METHODS = tuple(name for name, cls in METHODS.items() if cls.regression)


def rampup(epochs_done, rampup_epochs):
    """Sigmoid-shaped ramp from about 0 to 1 (Laine & Aila, 2017).

    Examples
    --------
    >>> from skann._semi_supervised import rampup
    >>> round(rampup(0, 10), 4), rampup(10, 10)
    (0.0067, 1.0)
    """
    progress = min(1.0, epochs_done / max(rampup_epochs, 1))
    return float(np.exp(-5.0 * (1.0 - progress) ** 2))


class Perturbation:
    """Gaussian feature noise and feature dropout, scaled to the data.

    Parameters
    ----------
    center, spread : ndarray of shape (n_features,)
        Mean and standard deviation of each feature on the training data.
    scale : float
        Noise standard deviation as a fraction of each feature's.
    random_state : RandomState
        Seeds the (faster) generator the perturbations are drawn from.
    """

    def __init__(self, center, spread, scale, random_state):
        self.center, self.spread = center, spread
        self.noise = scale * spread
        self.rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        # Gaussian draws dominate a step's time: windows at random offsets
        # of one pool of them are as good as fresh draws, at copy cost.
        self.pool = self.rng.standard_normal(NOISE_POOL, dtype=center.dtype)

    def _gaussian(self, shape):
        size = shape[0] * shape[1]
        if size > len(self.pool) // 2:
            return self.rng.standard_normal(shape, dtype=self.pool.dtype)
        start = self.rng.integers(len(self.pool) - size)
        return self.pool[start : start + size].reshape(shape) * 1

    def __call__(self, X, strong):
        """A perturbed copy of the dense batch ``X``."""
        rng = self.rng
        noise = self._gaussian(X.shape)
        noise *= self.noise if strong else WEAK_NOISE * self.noise
        noise += X
        if strong and FEATURE_DROPOUT > 0:
            hidden = rng.random(X.shape, dtype=X.dtype) < FEATURE_DROPOUT
            np.copyto(noise, np.broadcast_to(self.center, X.shape), where=hidden)
        return noise


def feature_statistics(X, dtype):
    """Mean and standard deviation of each column of dense or sparse ``X``."""
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        mean_sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(mean_sq - mean**2, 0))
    else:
        mean, std = X.mean(axis=0), X.std(axis=0)
    return mean.astype(dtype), std.astype(dtype)


class UnlabelledTraining:
    """Epochs over labelled and unlabelled rows for the stochastic trainer.

    An epoch is one pass over the unlabelled rows (or the labelled ones,
    whichever takes more batches); labelled batches are drawn cyclically
    alongside, so that a handful of labels does not limit the number of
    steps. Each step forwards the labelled rows and a perturbed view of
    the unlabelled rows together and backpropagates once.

    Parameters
    ----------
    estimator : BaseMLP
        The estimator being trained (semi-supervised parameters, network,
        optimizer and random state).
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Every row of the fit (labelled ones included, which lets the
        feature statistics cover all the data).
    rows : ndarray of int
        Indices of the unlabelled rows of ``X``.
    sample_weight : ndarray of shape (n_samples,) or None
    """

    def __init__(self, estimator, X, rows, sample_weight):
        self.estimator = estimator
        self.X, self.rows, self.sample_weight = X, rows, sample_weight
        network = estimator.network_
        self.dtype = network.dtype
        self.method = METHODS[estimator.semi_supervised](
            estimator._loss, estimator.confidence_threshold
        )
        state = getattr(estimator, "_unlabelled_state", None)
        if state is None:
            center, spread = feature_statistics(X, self.dtype)
            state = {"epochs": 0, "steps": 0, "teacher": network.params.copy(),
                     "center": center, "spread": spread}
            estimator._unlabelled_state = state
        self.state = state
        self.prior = None  # set by epoch() from the labelled targets
        self.perturb = Perturbation(
            state["center"], state["spread"], estimator.perturbation_scale,
            estimator._random_state,
        )

    def weight(self):
        """Unsupervised weight of the current epoch (after ramp-up)."""
        estimator = self.estimator
        rampup_epochs = RAMPUP_FRACTION * estimator.max_iter
        gain = estimator.unsupervised_weight * self.method.gain
        return gain * rampup(self.state["epochs"], rampup_epochs)

    def epoch(self, trainer, order):
        """One epoch; ``order`` holds the labelled rows in this epoch's order.

        Returns the mean loss (supervised plus weighted unsupervised) per step.
        """
        estimator = self.estimator
        n_unlabelled = len(self.rows)
        labelled_batch = unlabelled_batch = 0
        auto = estimator.batch_size == "auto"
        if len(order):
            labelled_batch = min(trainer.batch_size, AUTO_BATCH) if auto else trainer.batch_size
        if n_unlabelled:
            unlabelled_batch = min(n_unlabelled, AUTO_BATCH if auto else estimator.batch_size)
        n_steps = max(
            -(-len(order) // max(labelled_batch, 1)),
            -(-n_unlabelled // max(unlabelled_batch, 1)),
        )
        unlabelled = self.rows.copy()
        estimator._random_state.shuffle(unlabelled)
        unlabelled = np.resize(unlabelled, n_steps * unlabelled_batch)
        labelled = np.resize(order, n_steps * labelled_batch)
        weight = self.weight()
        self._anneal()
        if len(order) and self.method.aligned:
            self.prior = self._labelled_prior(trainer, order)
        total = 0.0
        for step in range(n_steps):
            rows = labelled[step * labelled_batch : (step + 1) * labelled_batch]
            batch = trainer._gather(rows) if len(rows) else None
            rows = unlabelled[step * unlabelled_batch : (step + 1) * unlabelled_batch]
            total += self.step(batch, rows, weight)
            estimator._optimizer.update(estimator.network_.params, estimator.network_.grads)
            self._update_teacher()
        self.state["epochs"] += 1
        estimator.t_ += n_steps * unlabelled_batch
        if not trainer.early_stopping:
            # The loss is no stopping signal: it grows with the ramp-up and
            # as pseudo-labels appear. Run max_iter epochs (early_stopping
            # stops on the labelled validation rows instead).
            estimator.best_loss_ = np.inf
        return total / max(n_steps, 1)

    @staticmethod
    def _labelled_prior(trainer, order):
        """Weighted mean of the labelled rows' encoded targets."""
        Y = trainer.Y[order]
        if trainer.sample_weight is None:
            return Y.mean(axis=0).astype(np.float64)
        weight = trainer.sample_weight[order]
        total = weight.sum()
        return (weight @ Y / total if total > 0 else Y.mean(axis=0)).astype(np.float64)

    def _anneal(self):
        """Set adam's learning rate for this epoch of a ``fit``.

        Full rate, then a half cosine to zero over the last
        ``ANNEAL_FRACTION`` of ``max_iter`` epochs: the last pseudo-labels
        and the weights settle. ``n_iter_`` counts the epochs of this call,
        so a ``partial_fit`` (one epoch per call) keeps the full rate.
        """
        estimator = self.estimator
        optimizer = estimator._optimizer
        if estimator.solver != "adam" or ANNEAL_FRACTION <= 0:
            return
        start = (1.0 - ANNEAL_FRACTION) * estimator.max_iter
        progress = (estimator.n_iter_ - start) / max(ANNEAL_FRACTION * estimator.max_iter, 1)
        factor = 0.5 * (1.0 + np.cos(np.pi * min(max(progress, 0.0), 1.0)))
        optimizer.learning_rate = estimator.learning_rate_init * factor

    def _unlabelled_batch(self, rows):
        X = self.X[rows]
        X = X.toarray() if sp.issparse(X) else X
        weight = None if self.sample_weight is None else self.sample_weight[rows]
        return X.astype(self.dtype, copy=False), weight

    def step(self, batch, rows, weight):
        """Loss of one step; fills the network's gradients."""
        estimator, network, loss = self.estimator, self.estimator.network_, self.estimator._loss
        X_unlabelled, unlabelled_weight = self._unlabelled_batch(rows)
        teacher = None
        if self.method.needs_teacher:
            teacher = self._teacher_output(self.perturb(X_unlabelled, strong=False))
            if self.method.aligned and DISTRIBUTION_ALIGNMENT and self.prior is not None:
                teacher = self._align(teacher)
        student = self.perturb(X_unlabelled, strong=self.method.student_view == "strong")
        n_labelled = 0 if batch is None else batch[0].shape[0]
        if n_labelled:
            X_labelled = batch[0].toarray() if sp.issparse(batch[0]) else batch[0]
            X_labelled = self.perturb(X_labelled, strong=False)
            if self.method.mixup:
                X_labelled, batch = _mixup(X_labelled, batch, self.perturb.rng)
            student = np.concatenate([X_labelled, student])
        scores = network.forward(student, training=True)
        P = loss.output(scores, out=scores)
        value = 0.0
        if n_labelled:
            _, Y_labelled, labelled_weight = batch
            value = loss.value(Y_labelled, P[:n_labelled], labelled_weight)
            loss.gradient(Y_labelled, P[:n_labelled], labelled_weight, out=P[:n_labelled])
        unlabelled_P = P[n_labelled:]
        value += weight * self.method.term(unlabelled_P, teacher, unlabelled_weight)
        unlabelled_P *= np.asarray(weight, dtype=P.dtype)
        network.backward(P)
        n_effective = _n_effective(batch, unlabelled_weight, len(rows))
        penalty = network.add_penalty_gradient(estimator.alpha / n_effective)
        return value + 0.5 * estimator.alpha * penalty / n_effective

    def _align(self, teacher):
        """Teacher predictions rescaled towards the labelled class frequencies."""
        mean = teacher.mean(axis=0)
        running = self.state.get("teacher_mean")
        if running is None:
            running = self.state["teacher_mean"] = mean.astype(np.float64)
        else:
            running *= ALIGNMENT_DECAY
            running += (1 - ALIGNMENT_DECAY) * mean
        eps = np.finfo(teacher.dtype).eps
        ratio = (self.prior / np.maximum(running, eps)).astype(teacher.dtype)
        if self.method.multiclass:
            teacher *= ratio
            teacher /= np.maximum(teacher.sum(axis=1, keepdims=True), eps)
            return teacher
        ratio_0 = ((1 - self.prior) / np.maximum(1 - running, eps)).astype(teacher.dtype)
        positive = teacher * ratio
        return positive / np.maximum(positive + (1 - teacher) * ratio_0, eps)

    def _teacher_output(self, X):
        """Output of the mean teacher on ``X`` (a fresh array)."""
        network = self.estimator.network_
        student = network.params.copy()
        network.params[...] = self.state["teacher"]
        scores = network.forward(X, training=False)
        output = self.estimator._loss.output(scores, out=scores.copy())
        network.params[...] = student
        return output

    def _update_teacher(self):
        self.state["steps"] += 1
        decay = min(TEACHER_DECAY, 1.0 - 1.0 / (self.state["steps"] + 1))
        teacher = self.state["teacher"]
        teacher *= decay
        teacher += (1.0 - decay) * self.estimator.network_.params


def _mixup(X, batch, rng):
    """Mixup of a labelled batch with a shuffled copy of itself.

    Inputs, targets and weights are mixed with one weight ``lam >= 0.5``
    drawn from Beta(MIXUP, MIXUP): the few labels are seen between
    classes too, which keeps the network from memorising them.
    """
    if MIXUP <= 0 or X.shape[0] < 2:
        return X, batch
    lam = rng.beta(MIXUP, MIXUP)
    lam = max(lam, 1.0 - lam)
    other = rng.permutation(X.shape[0])
    _, Y, weight = batch
    dtype = X.dtype
    X = (lam * X + (1.0 - lam) * X[other]).astype(dtype, copy=False)
    Y = (lam * Y + (1.0 - lam) * Y[other]).astype(Y.dtype, copy=False)
    if weight is not None:
        weight = (lam * weight + (1.0 - lam) * weight[other]).astype(weight.dtype, copy=False)
    return X, (X, Y, weight)


def _n_effective(batch, unlabelled_weight, n_unlabelled):
    """Samples the L2 penalty is divided by: the labelled ones if any."""
    if batch is not None and batch[0].shape[0]:
        weight = batch[2]
        return batch[0].shape[0] if weight is None else max(float(weight.sum()), 1e-12)
    if unlabelled_weight is not None:
        return max(float(unlabelled_weight.sum()), 1e-12)
    return max(n_unlabelled, 1)
