"""Graph-aware semi-supervised training: a batch plan and an objective of the one loop.

The ``semi_supervised="graph"`` method. Once per fit, the neighbour graph of the
training rows, LabelSpreading's soft targets and the radius of virtual
adversarial perturbations are read from the data (:mod:`._graph`). Each
step then takes labelled rows (cross-entropy) and unlabelled rows drawn
from all training rows, on which the network is pushed to be confident
(entropy), balanced (the batch's mean prediction near the labelled class
prior), close to the soft targets early on, consistent with a random
graph neighbour, and smooth against a virtual adversarial step
(:mod:`._vat`); the terms are in :mod:`._graph_objective`.
:func:`graph_training` builds the plan and the objective from plain arrays.
"""

import numpy as np
import scipy.sparse as sp

from ._graph import SPREADING_NEIGHBOURS, neighbour_graph, perturbation_radius, spreading_targets
from ._graph_objective import GraphObjective, class_prior
from ._vat import VirtualAdversarial

__all__ = ["GraphBatch", "GraphPlan", "TermWeights", "graph_training"]

# Rows of each kind per step. 128 labelled rows rather than the 64 of the
# first prototype: with 100 to 200 labels, +0.15 to +0.44 points on digits
# on the tuning seeds 0-4, within -0.3 to +0.3 on seeds 10-19 (noise);
# up to 64 labels, the same batches.
LABELLED_BATCH = 128
UNLABELLED_BATCH = 128
# Share of the steps over which the unsupervised weights ramp up, and over
# which the soft targets' weight decays linearly to 0.
RAMPUP_FRACTION = 0.2
TARGETS_FRACTION = 0.5


class TermWeights:
    """Weights of the unsupervised terms (before the ramp-up).

    Parameters
    ----------
    entropy, balance, neighbour, adversarial : float, default=1.0
        Entropy of the predictions; KL divergence of the batch's mean
        prediction from the labelled class prior; KL divergence of a
        neighbour's prediction from the row's; virtual adversarial KL.
    targets : float, default=0.3
        Cross-entropy to the soft targets (its start value: it decays to
        0). Below 1: LabelSpreading's targets help on digits and mislead on
        breast_cancer, where they score below the labelled rows alone; 0.3
        measured best on both (benchmarks/semi_supervised.py).
    """

    __slots__ = ("entropy", "balance", "targets", "neighbour", "adversarial")

    def __init__(self, entropy=1.0, balance=1.0, targets=0.3, neighbour=1.0, adversarial=1.0):
        self.entropy, self.balance, self.targets = float(entropy), float(balance), float(targets)
        self.neighbour, self.adversarial = float(neighbour), float(adversarial)

    def scaled(self, rampup, decay):
        """These weights times the ramp-up, the targets' also times ``decay``."""
        return TermWeights(
            self.entropy * rampup, self.balance * rampup, self.targets * rampup * decay,
            self.neighbour * rampup, self.adversarial * rampup,
        )


class GraphBatch:
    """One step's rows, stacked: labelled, unlabelled, then one neighbour of each unlabelled row.

    Weighs 1 in the epoch's mean loss.
    """

    __slots__ = ("X", "Y", "weight", "n_labelled", "n_unlabelled", "targets", "prior", "weights", "n_rows")

    def __init__(self, X, Y, weight, n_labelled, n_unlabelled, targets, prior, weights):
        self.X, self.Y, self.weight = X, Y, weight
        self.n_labelled, self.n_unlabelled = n_labelled, n_unlabelled
        self.targets, self.prior, self.weights = targets, prior, weights
        self.n_rows = 1


class GraphPlan:
    """Steps of labelled rows and of unlabelled rows with a neighbour each.

    An epoch is ``ceil(n_samples / unlabelled_batch)`` steps: one pass over
    the training rows as unlabelled rows (every row, labelled or not, is
    one). Labelled rows are all taken when there are at most
    ``labelled_batch`` of them, else drawn in shuffled passes.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The training rows.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (read on the labelled rows only): one-hot classes,
        one column of 0 / 1 for binary targets, or regression targets.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the labelled rows' loss (read on the labelled rows only).
    labelled_rows : ndarray of int
    neighbours : ndarray of int of shape (n_samples, n_neighbors)
        From :func:`~skann.semi_supervised._graph.neighbour_graph`.
    targets : ndarray of shape (n_samples, n_classes) or None
        Soft targets, from :func:`~skann.semi_supervised._graph.spreading_targets`
        (None for regression).
    total_epochs : int
        Epochs of the whole fit (``max_iter``): the ramp-up and the
        targets' decay are shares of its steps.
    weights : TermWeights
    progress : dict
        ``{"steps": int}``, steps done so far, kept by the caller between calls.
    random_state : RandomState
    dtype : dtype
        Compute dtype.
    labelled_batch, unlabelled_batch : int, default=128, 128
    late_rows : ndarray of int, default=None
        Labelled rows that join ``labelled_rows`` from epoch
        ``join_epoch + 1`` on (the guard's held-out rows, once judged).
    join_epoch : int, default=None
    retarget : callable, default=None
        ``retarget(labelled_rows) -> targets``: the soft targets spread from
        the labelled rows once the late rows have joined.
    """

    def __init__(
        self, X, Y, sample_weight, labelled_rows, neighbours, targets, total_epochs, weights, progress,
        random_state, dtype, labelled_batch=LABELLED_BATCH, unlabelled_batch=UNLABELLED_BATCH,
        late_rows=None, join_epoch=None, retarget=None,
    ):
        if len(labelled_rows) == 0:
            raise ValueError(
                "semi_supervised='graph' needs labelled rows in every call; every row of this "
                "one is unlabelled."
            )
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.labelled_rows = np.asarray(labelled_rows)
        self.neighbours, self.targets = neighbours, targets
        self.weights, self.progress = weights, progress
        self.random_state, self.dtype = random_state, np.dtype(dtype)
        self.max_labelled_batch = int(labelled_batch)
        self.unlabelled_batch = min(int(unlabelled_batch), X.shape[0])
        self.steps_per_epoch = -(-X.shape[0] // self.unlabelled_batch)
        self.total_steps = max(int(total_epochs), 1) * self.steps_per_epoch
        self.late_rows, self.join_epoch, self.retarget, self.epochs = late_rows, join_epoch, retarget, 0
        self._labelled(self.labelled_rows)

    def _labelled(self, rows):
        """Train on labelled rows ``rows`` from now on."""
        self.labelled_rows = np.asarray(rows)
        self.labelled_batch = min(self.max_labelled_batch, len(self.labelled_rows))
        self.prior = None if self.targets is None else class_prior(self.Y[self.labelled_rows])

    @property
    def n_samples(self):
        """Rows forwarded per epoch (labelled and unlabelled, neighbours not counted)."""
        return self.steps_per_epoch * (self.labelled_batch + self.unlabelled_batch)

    def step_weights(self, step):
        """The term weights of step ``step`` (from 0): ramped up, targets decayed."""
        ramp = min(1.0, step / (RAMPUP_FRACTION * self.total_steps))
        decay = max(0.0, 1.0 - step / (TARGETS_FRACTION * self.total_steps))
        return self.weights.scaled(float(np.exp(-5.0 * (1.0 - ramp) ** 2)), decay)

    def batches(self):
        """Yield the epoch's :class:`GraphBatch` objects."""
        if self.late_rows is not None and self.epochs == self.join_epoch:
            self._labelled(np.union1d(self.labelled_rows, self.late_rows))
            if self.retarget is not None and self.targets is not None:
                self.targets = self.retarget(self.labelled_rows)
        self.epochs += 1
        rng, n_steps = self.random_state, self.steps_per_epoch
        n_labelled, n_unlabelled = self.labelled_batch, self.unlabelled_batch
        unlabelled = np.resize(rng.permutation(self.X.shape[0]), n_steps * n_unlabelled)
        labelled = np.concatenate(
            [rng.permutation(self.labelled_rows) for _ in range(-(-n_steps * n_labelled // len(self.labelled_rows)))]
        )
        for step in range(n_steps):
            rows = unlabelled[step * n_unlabelled : (step + 1) * n_unlabelled]
            partners = self.neighbours[rows, rng.randint(self.neighbours.shape[1], size=len(rows))]
            taken = labelled[step * n_labelled : (step + 1) * n_labelled]
            X = self.X[np.concatenate([taken, rows, partners])]
            X = (X.toarray() if sp.issparse(X) else X).astype(self.dtype, copy=False)
            yield GraphBatch(
                X, self.Y[taken].astype(self.dtype, copy=False),
                None if self.sample_weight is None else self.sample_weight[taken],
                n_labelled, len(rows),
                None if self.targets is None else self.targets[rows].astype(self.dtype, copy=False),
                self.prior, self.step_weights(self.progress["steps"]),
            )
            self.progress["steps"] += 1


def graph_training(
    X, Y, labelled_rows, loss, max_epochs, random_state, dtype, weight_decay=1e-4,
    weights=None, progress=None, sample_weight=None, late_rows=None, join_epoch=None,
):
    """The plan and objective of a graph-aware fit, from plain arrays.

    Computes the neighbour graph, the soft targets (classification) and the
    perturbation radius once (about 0.1 s on digits' 1,257 training rows).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Every training row, labelled or not, as the network sees it.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (one-hot, one binary column, or regression
        targets); the rows of ``labelled_rows`` are read.
    labelled_rows : ndarray of int
    loss : Loss
        One of :data:`GRAPH_LOSSES`.
    max_epochs : int
        Epochs of the fit, each of the plan's ``steps_per_epoch`` steps
        (one pass over the rows as unlabelled rows).
    random_state : RandomState
        Draws the batches and seeds the perturbations.
    dtype : dtype
        The network's compute dtype.
    weight_decay : float, default=1e-4
    weights : TermWeights, default=None
        ``TermWeights()`` by default; regression uses only the neighbour
        and adversarial weights.
    progress : dict, default=None
        Steps done, kept between calls (a new fit: None).
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the labelled rows' loss.
    late_rows, join_epoch : default=None
        Labelled rows that train as labelled rows only after ``join_epoch``
        epochs (unlabelled ones until then; the soft targets never see
        their labels); see :class:`GraphPlan`.

    Returns
    -------
    plan : GraphPlan
    objective : GraphObjective
    """
    objective = GraphObjective(loss, weight_decay, None)  # refuses other losses first
    if loss.name == "binary_log_loss" and Y.shape[1] != 1:
        raise ValueError(
            "semi_supervised='graph' learns one class per row; multilabel targets need "
            "another method (e.g. semi_supervised='pseudo_label')."
        )
    labelled_rows = np.asarray(labelled_rows)
    neighbours, distances, connectivity = neighbour_graph(X, connectivity_neighbors=SPREADING_NEIGHBOURS)
    targets = retarget = None
    if loss.name != "squared_error":

        def retarget(rows):
            labels = np.full(X.shape[0], -1)
            labelled_Y = Y[rows]
            labels[rows] = labelled_Y[:, 0] > 0.5 if Y.shape[1] == 1 else labelled_Y.argmax(axis=1)
            return spreading_targets(X, labels, max(Y.shape[1], 2), connectivity=connectivity)

        targets = retarget(labelled_rows)
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    objective.adversarial = VirtualAdversarial(perturbation_radius(distances), loss.output, rng)
    plan = GraphPlan(
        X, Y, sample_weight, labelled_rows, neighbours, targets, max_epochs, weights or TermWeights(),
        {"steps": 0} if progress is None else progress, random_state, dtype,
        late_rows=late_rows, join_epoch=join_epoch, retarget=retarget,
    )
    return plan, objective
