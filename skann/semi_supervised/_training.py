"""Semi-supervised training as a batch plan and an objective of the one loop.

:class:`MixedPlan` draws, for every step, a batch of unlabelled rows and a
batch of labelled rows (drawn cyclically, so that a handful of labels does
not limit the number of steps). :class:`ConsistencyObjective` forwards the
labelled rows and a perturbed view of the unlabelled rows together and
backpropagates once: the labelled rows' supervised gradient stacked on the
unlabelled rows' unsupervised one. The teacher is a mean teacher, the
loop's :class:`~skann.nn.hooks.EMA` hook over the flat parameter buffer.
"""

import numpy as np
import scipy.sparse as sp

from .._solvers import l2_strength
from ..nn.hooks import EMA
from ..nn.training import SupervisedObjective
from ._objectives import METHODS, rampup
from ._perturbations import ImagePerturbation, Perturbation, feature_statistics, mixup

__all__ = ["ConsistencyObjective", "MixedBatch", "MixedPlan", "consistency_training"]

# Largest decay of the mean teacher's moving average.
TEACHER_DECAY = 0.99

# Fraction of max_iter over which the unsupervised weight ramps up.
RAMPUP_FRACTION = 0.25
# Rows per batch of each kind with batch_size="auto": many small steps
# let the few labels and the unlabelled rows interact often.
AUTO_BATCH = 32
# Unlabelled rows per step with batch_size="auto": three per labelled row
# for tabular rows, one for images, whose perturbed views need more steps.
# What each costs and gains is measured by benchmarks/semi_supervised.py
# (docs/semi_supervised.rst).
AUTO_UNLABELLED_BATCH = 96
AUTO_IMAGE_UNLABELLED_BATCH = 32
# Distribution alignment (ReMixMatch): teacher predictions are rescaled
# so that their running mean matches the labelled rows' class frequencies.
ALIGNMENT_DECAY = 0.99


class MixedBatch:
    """One step's rows: a labelled :class:`~skann.nn.training.Batch` (or
    None) and the unlabelled inputs, with the epoch's unsupervised weight
    and the labelled class prior. Weighs 1 in the epoch's mean loss."""

    __slots__ = ("labelled", "X", "weight", "unsupervised_weight", "prior", "n_rows")

    def __init__(self, labelled, X, weight, unsupervised_weight, prior):
        self.labelled, self.X, self.weight = labelled, X, weight
        self.unsupervised_weight, self.prior = unsupervised_weight, prior
        self.n_rows = 1


class MixedPlan:
    """Epochs over labelled and unlabelled rows.

    An epoch is one pass over the unlabelled rows (or the labelled ones,
    whichever takes more batches).

    Parameters
    ----------
    labelled : MinibatchPlan
        The labelled rows (its ``batch_size`` and ``shuffle`` apply).
    X : {ndarray, sparse matrix}
        Every row of the fit.
    unlabelled_rows : ndarray of int
    sample_weight : ndarray or None
    batch_size : int or "auto"
        The estimator's ``batch_size`` ("auto": 32 labelled rows per step,
        and ``auto_unlabelled`` unlabelled ones).
    progress : dict
        ``{"epochs": int}``, the epochs done so far (ramp-up), kept by the
        caller between calls.
    rampup_epochs : float
    gain : float
        The unsupervised weight at the end of the ramp-up.
    alignment : dict, optional
        Kept between calls: the labelled class prior (``"prior"``).
    auto_unlabelled : int, default=AUTO_UNLABELLED_BATCH
        Unlabelled rows per step with ``batch_size="auto"``.
    """

    def __init__(
        self, labelled, X, unlabelled_rows, sample_weight, batch_size, progress,
        rampup_epochs, gain, alignment=None, auto_unlabelled=AUTO_UNLABELLED_BATCH,
    ):
        self.labelled, self.X, self.rows = labelled, X, unlabelled_rows
        self.sample_weight, self.progress = sample_weight, progress
        self.alignment = {} if alignment is None else alignment
        self.rampup_epochs, self.gain = rampup_epochs, gain
        auto = batch_size == "auto"
        n_labelled, n_unlabelled = len(labelled.rows), len(unlabelled_rows)
        self.labelled_batch = (min(labelled.batch_size, AUTO_BATCH) if auto else labelled.batch_size) if n_labelled else 0
        self.unlabelled_batch = min(n_unlabelled, auto_unlabelled if auto else batch_size) if n_unlabelled else 0
        self.n_steps = max(
            -(-n_labelled // max(self.labelled_batch, 1)),
            -(-n_unlabelled // max(self.unlabelled_batch, 1)),
        )

    @property
    def n_samples(self):
        return len(self.labelled.rows) + self.n_steps * self.unlabelled_batch

    def batches(self):
        labelled = self.labelled
        order = labelled.rows
        if labelled.shuffle:
            order = order.copy()
            labelled.random_state.shuffle(order)
        unlabelled = self.rows.copy()
        labelled.random_state.shuffle(unlabelled)
        unlabelled = np.resize(unlabelled, self.n_steps * self.unlabelled_batch)
        labelled_rows = np.resize(order, self.n_steps * self.labelled_batch)
        weight = self.gain * rampup(self.progress["epochs"], self.rampup_epochs)
        # A batch without labels (partial_fit on a stream of unlabelled
        # rows) aligns to the last labelled rows' prior: without it, the
        # pseudo-labels drift towards the classes the network favours.
        if len(order):
            prior = self.alignment["prior"] = self._prior(order)
        else:
            prior = self.alignment.get("prior")
        for step in range(self.n_steps):
            rows = labelled_rows[step * self.labelled_batch : (step + 1) * self.labelled_batch]
            batch = labelled.gather(rows) if len(rows) else None
            rows = unlabelled[step * self.unlabelled_batch : (step + 1) * self.unlabelled_batch]
            X = self.X[rows]
            X = X.toarray() if sp.issparse(X) else X
            row_weight = None if self.sample_weight is None else self.sample_weight[rows]
            yield MixedBatch(batch, X.astype(labelled.dtype, copy=False), row_weight, weight, prior)
        self.progress["epochs"] += 1

    def _prior(self, order):
        """Weighted mean of the labelled rows' encoded targets."""
        Y = self.labelled.Y[order]
        if self.labelled.sample_weight is None:
            return Y.mean(axis=0).astype(np.float64)
        weight = self.labelled.sample_weight[order]
        total = weight.sum()
        return (weight @ Y / total if total > 0 else Y.mean(axis=0)).astype(np.float64)


class ConsistencyObjective(SupervisedObjective):
    """Supervised loss on labelled rows plus a method's unsupervised term.

    Parameters
    ----------
    loss : Loss
    alpha : float
    method : UnlabelledLoss
    perturb : Perturbation
    teacher : dict
        The :class:`~skann.nn.hooks.EMA` hook's state; its ``"params"``
        is the mean teacher's flat parameter buffer.
    alignment : dict
        Running mean of the teacher's predictions (``"mean"``), kept
        between calls.
    """

    def __init__(self, loss, alpha, method, perturb, teacher, alignment):
        super().__init__(loss, alpha)
        self.method, self.perturb = method, perturb
        self.teacher, self.alignment = teacher, alignment
        self._teacher_ctx = None

    def __call__(self, network, batch, ctx):
        loss, method, perturb = self.loss, self.method, self.perturb
        teacher = None
        if method.needs_teacher:
            teacher = self._teacher_output(network, perturb(batch.X, strong=False))
            if method.aligned and batch.prior is not None:
                teacher = self._align(teacher, batch.prior)
        student = perturb(batch.X, strong=method.student_view == "strong")
        labelled = batch.labelled
        n_labelled = 0 if labelled is None else labelled.X.shape[0]
        if n_labelled:
            X_labelled = labelled.X.toarray() if sp.issparse(labelled.X) else labelled.X
            X_labelled = perturb(X_labelled, strong=False)
            Y_labelled, labelled_weight = labelled.Y, labelled.weight
            if method.mixup:
                X_labelled, Y_labelled, labelled_weight = mixup(
                    X_labelled, Y_labelled, labelled_weight, perturb.rng
                )
            student = np.concatenate([X_labelled, student])
        scores = network.forward(student, ctx)
        P = loss.output(scores, out=ctx.buffers.get("proba", scores.shape, scores.dtype))
        value = 0.0
        if n_labelled:
            value = loss.value(Y_labelled, P[:n_labelled], labelled_weight)
            loss.gradient(Y_labelled, P[:n_labelled], labelled_weight, out=P[:n_labelled])
        unlabelled_P = P[n_labelled:]
        weight = batch.unsupervised_weight
        value += weight * method.term(unlabelled_P, teacher, batch.weight)
        unlabelled_P *= np.asarray(weight, dtype=P.dtype)
        network.backward(P, ctx)
        return value + self.penalty(network, ctx, _n_effective(labelled, batch))

    def _teacher_output(self, network, X):
        """Output of the mean teacher on ``X`` (in the teacher's buffers)."""
        if self._teacher_ctx is None:
            self._teacher_ctx = network.context(training=False, params=self.teacher["params"])
        scores = network.forward(X, self._teacher_ctx)
        return self.loss.output(scores, out=scores)

    def _align(self, teacher, prior):
        """Teacher predictions rescaled towards the labelled class frequencies."""
        mean = teacher.mean(axis=0)
        running = self.alignment.get("mean")
        if running is None:
            running = self.alignment["mean"] = mean.astype(np.float64)
        else:
            running *= ALIGNMENT_DECAY
            running += (1 - ALIGNMENT_DECAY) * mean
        eps = np.finfo(teacher.dtype).eps
        ratio = (prior / np.maximum(running, eps)).astype(teacher.dtype)
        if self.method.multiclass:
            teacher *= ratio
            teacher /= np.maximum(teacher.sum(axis=1, keepdims=True), eps)
            return teacher
        ratio_0 = ((1 - prior) / np.maximum(1 - running, eps)).astype(teacher.dtype)
        positive = teacher * ratio
        return positive / np.maximum(positive + (1 - teacher) * ratio_0, eps)


def _n_effective(labelled, batch):
    """Samples the L2 penalty is divided by: the labelled ones if any."""
    if labelled is not None and labelled.X.shape[0]:
        weight = labelled.weight
        return labelled.X.shape[0] if weight is None else max(float(weight.sum()), 1e-12)
    if batch.weight is not None:
        return max(float(batch.weight.sum()), 1e-12)
    return max(batch.X.shape[0], 1)


def consistency_training(
    params, network, loss, state, labelled_plan, X, unlabelled_rows, sample_weight, image_shape,
    random_state, judge=None, judge_evaluate=None,
):
    """The plan, objective and hooks of a semi-supervised fit or partial_fit.

    State that successive calls continue (feature statistics, the mean
    teacher, the ramp-up's epoch count, the alignment's running mean) lives
    in ``state``, created on the first call and returned: the caller keeps
    it with the training state it commits.

    With the guard's ``judge`` (a :class:`~skann.semi_supervised._guard.HeldOutJudge`),
    its held-out labelled rows train as unlabelled rows, and it judges the
    network on their labels (with ``judge_evaluate``) at the end.

    Parameters
    ----------
    params : dict
        The estimator's parameters.
    network : Network
    loss : Loss
    state : dict or None
        The semi-supervised state of the previous calls.
    labelled_plan : MinibatchPlan
    X : {ndarray, sparse matrix}
        Every row of the call.
    unlabelled_rows : ndarray of int
    sample_weight : ndarray or None
        Weights of every row.
    image_shape : tuple
        Shape of one sample (``(h, w, c)`` for images).
    random_state : RandomState
    judge : HeldOutJudge, default=None
    judge_evaluate : callable, default=None
        ``evaluate(network) -> (loss, score)`` on the judge's rows.

    Returns
    -------
    plan : MixedPlan
    objective : ConsistencyObjective
    hooks : list of Hook
        The mean teacher's :class:`~skann.nn.hooks.EMA`, then the judge.
    state : dict
    """
    if state is None or "center" not in state:  # a first call, or one after the graph method's
        center, spread = feature_statistics(X, network.dtype)
        state = dict(
            state or {}, center=center, spread=spread, teacher={"params": None},
            progress={"epochs": 0}, alignment={},
        )
    method = METHODS[params["semi_supervised"]](loss, params["confidence_threshold"])
    images = len(image_shape) == 3  # input_shape gave images
    if images:
        perturb = ImagePerturbation(image_shape, random_state)
    else:
        perturb = Perturbation(state["center"], state["spread"], params["perturbation_scale"], random_state)
    hooks = [EMA(state["teacher"], TEACHER_DECAY)]
    if judge is not None:
        judge.evaluate = judge_evaluate
        labelled_plan.rows = np.setdiff1d(labelled_plan.rows, judge.positions)
        unlabelled_rows = np.union1d(unlabelled_rows, judge.rows)
        hooks.append(judge)
    plan = MixedPlan(
        labelled_plan, X, unlabelled_rows, sample_weight, params["batch_size"],
        state["progress"], RAMPUP_FRACTION * params["max_iter"],
        params["unsupervised_weight"] * method.gain, state["alignment"],
        AUTO_IMAGE_UNLABELLED_BATCH if images else AUTO_UNLABELLED_BATCH,
    )
    objective = ConsistencyObjective(
        loss, l2_strength(params), method, perturb, state["teacher"], state["alignment"]
    )
    return plan, objective, hooks, state
