"""The unsupervised loss terms of the semi-supervised methods.

Each method is one small class with one job: from the network's output on
an unlabelled batch (and, for the methods that need one, a teacher's output
on another view of the same rows) it returns the unsupervised loss and its
gradient with respect to the raw output scores.
"""

import numpy as np

__all__ = [
    "CLASSIFICATION_METHODS",
    "LABELLED_ONLY",
    "METHODS",
    "REGRESSION_METHODS",
    "EntropyMinimisation",
    "PiModel",
    "PseudoLabel",
    "UnlabelledLoss",
    "rampup",
]

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
        eps = np.finfo(P.dtype).eps
        scale = _row_scale(weight, len(P), P.dtype)
        if self.multiclass:
            rows, predicted = np.arange(len(P)), teacher.argmax(axis=1)
            confident = (teacher[rows, predicted] >= self.threshold)[:, None]
            scale *= confident  # rows below the threshold add nothing
            # The log-loss of a one-hot target: minus the log of its class.
            value = -float(np.log(np.clip(P[rows, predicted], eps, 1)) @ scale[:, 0])
            P[rows, predicted] -= 1
            P *= scale
            return value
        # Independent logistic outputs, each its own decision.
        confident = np.maximum(teacher, 1 - teacher) >= self.threshold
        target = (teacher >= 0.5).astype(P.dtype)
        per_element = -np.log(np.clip(np.where(target > 0, P, 1 - P), eps, 1))
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
# The baseline among the methods: train on the labelled rows only, the
# unlabelled rows accepted and ignored (what the others must beat).
LABELLED_ONLY = "labelled_only"
# The graph-aware method (._graph_training) and the library's choice for
# the data at hand (._methods.resolve_method).
GRAPH, AUTO = "graph", "auto"
CLASSIFICATION_METHODS = (AUTO, GRAPH, LABELLED_ONLY, *METHODS)
REGRESSION_METHODS = (AUTO, GRAPH, LABELLED_ONLY, *(name for name, cls in METHODS.items() if cls.regression))


def rampup(epochs_done, rampup_epochs):
    """Sigmoid-shaped ramp from about 0 to 1 (Laine & Aila, 2017).

    Examples
    --------
    >>> from skann.semi_supervised._objectives import rampup
    >>> round(rampup(0, 10), 4), rampup(10, 10)
    (0.0067, 1.0)
    """
    progress = min(1.0, epochs_done / max(rampup_epochs, 1))
    return float(np.exp(-5.0 * (1.0 - progress) ** 2))
