"""Which semi-supervised method a fit runs, and the graph method's training.

``semi_supervised="auto"`` names no method: :func:`resolve_method` picks
the one the library recommends for the data at hand. :func:`graph_consistency`
turns the estimator's parameters and encoded rows into the graph method's
plan and objective (:mod:`._graph_training`), as
:func:`~skann.semi_supervised._training.consistency_training` does for the
consistency methods.
"""

import numpy as np
import scipy.sparse as sp

from ._graph_objective import GRAPH_LOSSES
from ._graph_training import UNLABELLED_BATCH, TermWeights, graph_training
from ._objectives import AUTO, GRAPH

__all__ = ["AUTO", "GRAPH", "GRAPH_LEARNING_RATE_GAIN", "GRAPH_STEPS", "graph_consistency", "resolve_method"]

# Length of a graph-aware fit: about GRAPH_STEPS steps, at most GRAPH_PASSES
# passes over the rows as unlabelled rows (epochs), at most max_iter epochs.
# On digits' 1,257 training rows both give 1,000 steps; on smaller tables
# (breast_cancer, wine, moons: 100 to 420 rows) the passes bound the fit,
# at half the time of 1,000 steps and the same accuracy
# (benchmarks/semi_supervised.py).
GRAPH_STEPS = 1_000
GRAPH_PASSES = 100
# The graph method runs adam at this multiple of learning_rate_init (with
# a cosine decay to 0 over the fit): its unsupervised terms keep the steps
# small, and the fit has a fixed number of them.
GRAPH_LEARNING_RATE_GAIN = 5.0
# Share of a graph fit's epochs after which the guard judges the network;
# its held-out labels then train as labels for the rest of the fit.
GUARD_JUDGE_FRACTION = 0.25
# semi_supervised="auto", by what measured best (benchmarks/semi_supervised.py,
# seeds 0-9 and 10-19 alike): the graph method for classes from
# AUTO_GRAPH_MIN_ROWS rows on (digits: 1,257 rows, +2.3 points over
# pseudo-labels at L=50; a neighbour graph of a few hundred rows is too
# coarse: on breast_cancer, wine and moons, 100 to 420 rows, pseudo-labels
# score 0.7 to 1.5 points higher); pi_model for regression (diabetes: R²
# 0.37 against the graph method's 0.34); pseudo-labels for multilabel
# targets, which the graph method cannot learn.
AUTO_GRAPH_MIN_ROWS = 1_000
AUTO_SMALL_METHOD = "pseudo_label"
AUTO_REGRESSION_METHOD = "pi_model"
AUTO_MULTILABEL_METHOD = "pseudo_label"


def resolve_method(name, loss_name, n_outputs, n_rows):
    """The method ``semi_supervised=name`` runs; raises for a graph fit it cannot run.

    Parameters
    ----------
    name : str
        The estimator's ``semi_supervised`` (not None).
    loss_name : str
    n_outputs : int
        Columns of the encoded targets.
    n_rows : int
        Rows of the call, labelled and unlabelled.

    Returns
    -------
    method : str

    Examples
    --------
    >>> from skann.semi_supervised._methods import resolve_method
    >>> resolve_method("auto", "log_loss", 10, n_rows=1257)
    'graph'
    >>> resolve_method("auto", "binary_log_loss", 1, n_rows=398)
    'pseudo_label'
    >>> resolve_method("auto", "squared_error", 1, n_rows=1257)
    'pi_model'
    """
    multilabel = loss_name == "binary_log_loss" and n_outputs > 1
    if name == AUTO:
        if multilabel:
            return AUTO_MULTILABEL_METHOD
        if loss_name not in ("log_loss", "binary_log_loss"):
            return AUTO_REGRESSION_METHOD
        return GRAPH if n_rows >= AUTO_GRAPH_MIN_ROWS else AUTO_SMALL_METHOD
    if name == GRAPH:
        if multilabel:
            raise ValueError(
                "semi_supervised='graph' learns one class per row; multilabel targets need "
                "another method (e.g. semi_supervised='pseudo_label' or 'auto')."
            )
        if loss_name not in GRAPH_LOSSES:
            raise ValueError(
                f"semi_supervised='graph' trains with the losses {GRAPH_LOSSES}, not "
                f"loss={loss_name!r}."
            )
    return name


def graph_epochs(max_iter, steps_per_epoch):
    """Epochs of a graph-aware fit: about ``GRAPH_STEPS`` steps, at most
    ``GRAPH_PASSES`` and ``max_iter`` epochs."""
    return int(min(max_iter, GRAPH_PASSES, max(1, -(-GRAPH_STEPS // max(steps_per_epoch, 1)))))


def graph_consistency(
    params, network, loss, state, labelled_plan, X, unlabelled_rows, random_state,
    judge=None, judge_evaluate=None, incremental=False,
):
    """The plan, objective, hooks and epochs of a graph-aware fit or partial_fit.

    The neighbour graph, the soft targets and the perturbation radius are
    read from the call's rows: every row of a ``fit``, or the batch's own
    rows in ``partial_fit`` (a stream has no global graph). Steps done so far
    (the ramp-up) live in ``state``, which successive ``partial_fit`` calls
    continue and a ``fit`` starts anew.

    Parameters
    ----------
    params : dict
        The estimator's parameters.
    network : Network
    loss : Loss
    state : dict or None
        The semi-supervised state of the previous calls.
    labelled_plan : MinibatchPlan
        The labelled rows (positions in the labelled rows; targets encoded,
        class weights in ``sample_weight``).
    X : {ndarray, sparse matrix}
        Every row of the call.
    unlabelled_rows : ndarray of int
        Positions of the unlabelled rows in ``X``; the graph takes them
        after ``labelled_plan``'s rows.
    random_state : RandomState
    judge : HeldOutJudge, default=None
        Its held-out labelled rows train as unlabelled rows until it has
        judged the network on their labels (with ``judge_evaluate``), after
        ``GUARD_JUDGE_FRACTION`` of the epochs; then as labelled rows.
    judge_evaluate : callable, default=None
    incremental : bool, default=False
        ``partial_fit``: one epoch, the ramp-up spread over ``max_iter`` calls.

    Returns
    -------
    plan : GraphPlan
    objective : GraphObjective
    hooks : list of Hook
    state : dict
    n_epochs : int
    """
    if len(labelled_plan.rows) == 0:
        raise ValueError(
            "semi_supervised='graph' needs labelled rows in every call; every row of this one is "
            "unlabelled. Streams with batches of unlabelled rows only can use "
            "semi_supervised='pseudo_label'."
        )
    if state is None or not incremental or "graph_steps" not in state:
        state = dict(state or {}, graph_steps={"steps": 0})
    # The graph's rows: the labelled rows as the labelled plan has them (its
    # positions, and the judge's, index them), then the unlabelled rows.
    X_labelled = labelled_plan.X
    n_labelled = X_labelled.shape[0]
    X_unlabelled = X[unlabelled_rows]
    stack = sp.vstack if sp.issparse(X_labelled) or sp.issparse(X_unlabelled) else np.vstack
    X = stack([X_labelled, X_unlabelled]) if len(unlabelled_rows) else X_labelled
    positions = labelled_plan.rows
    steps_per_epoch = -(-X.shape[0] // min(UNLABELLED_BATCH, X.shape[0]))
    n_epochs = 1 if incremental else graph_epochs(params["max_iter"], steps_per_epoch)
    hooks, late_rows, join_epoch = [], None, None
    if judge is not None:
        # Judged a quarter of the way, then the held-out labels train as labels.
        judge.evaluate = judge_evaluate
        judge.at_epoch = join_epoch = max(1, int(GUARD_JUDGE_FRACTION * n_epochs))
        positions = np.setdiff1d(positions, judge.positions)
        late_rows = np.asarray(judge.positions)
        hooks.append(judge)
    Y = np.zeros((X.shape[0], labelled_plan.Y.shape[1]), dtype=labelled_plan.Y.dtype)
    Y[:n_labelled] = labelled_plan.Y
    weight = None
    if labelled_plan.sample_weight is not None:
        weight = np.ones(X.shape[0])
        weight[:n_labelled] = labelled_plan.sample_weight
    plan, objective = graph_training(
        X, Y, positions, loss, params["max_iter"] if incremental else n_epochs,
        random_state, network.dtype, weight_decay=params["alpha"],
        weights=TermWeights().scaled(params["unsupervised_weight"], 1.0), progress=state["graph_steps"],
        sample_weight=weight, late_rows=late_rows, join_epoch=join_epoch,
    )
    return plan, objective, hooks, state, n_epochs
