"""The graph method's loss: its unsupervised terms and its objective.

:func:`graph_terms` are the terms on the predictions of unlabelled rows
(entropy, balance, soft targets, neighbour agreement) with their gradient;
:class:`GraphObjective` adds the labelled rows' loss and the virtual
adversarial term, for the multiclass and binary log-losses and the squared
error. :mod:`._graph_training` draws the batches they are computed on.
"""

import numpy as np

__all__ = ["GRAPH_LOSSES", "GraphObjective", "class_prior", "divergence", "graph_terms"]


def graph_terms(P, P_neighbours, targets, prior, weights):
    """The unsupervised terms on softmax predictions; their gradient overwrites ``P``.

    Parameters
    ----------
    P : ndarray of shape (n_rows, n_classes)
        Softmax predictions on the unlabelled rows.
    P_neighbours : ndarray of shape (n_rows, n_classes)
        Predictions on one graph neighbour of each row (held fixed: no
        gradient flows through them).
    targets : ndarray of shape (n_rows, n_classes)
        Soft targets of the rows.
    prior : ndarray of shape (n_classes,)
        Labelled class frequencies.
    weights : TermWeights

    Returns
    -------
    value : float
        ``w_e mean H(p) + w_b KL(mean p || prior) + w_t mean CE(Q, p)
        + w_n mean KL(p_j || p)``; ``P`` then holds its gradient with
        respect to the raw scores (the softmax's input).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.semi_supervised._graph_objective import graph_terms
    >>> from skann.semi_supervised._graph_training import TermWeights
    >>> P = np.array([[0.5, 0.5]])
    >>> value = graph_terms(P, P.copy(), P.copy(), np.array([0.5, 0.5]), TermWeights(targets=1.0))
    >>> round(value, 6), P.tolist()  # 2 log 2: entropy plus cross-entropy
    (1.386294, [[0.0, 0.0]])
    """
    n_rows = max(len(P), 1)
    eps = np.finfo(P.dtype).eps
    log_p = np.log(np.clip(P, eps, 1))
    entropy = -np.einsum("ij,ij->i", P, log_p)
    mean = P.mean(axis=0)
    log_ratio = np.log(np.clip(mean, eps, 1)) - np.log(np.clip(prior, eps, 1)).astype(P.dtype)
    log_neighbours = np.log(np.clip(P_neighbours, eps, 1))
    value = (
        weights.entropy * entropy.mean()
        + weights.balance * float(mean @ log_ratio)
        - weights.targets * np.einsum("ij,ij->", targets, log_p) / n_rows
        + weights.neighbour * np.einsum("ij,ij->", P_neighbours, log_neighbours - log_p) / n_rows
    )
    # d/dz of each term, per row (softmax Jacobian diag(p) - p p^T):
    # entropy -p (log p + H); balance p (g - <g, p>) / n with g = log(m / prior)
    # (summed over rows: the 1 / n of the mean cancels the n rows);
    # cross-entropy p sum(Q) - Q; neighbour KL p - p_j.
    grad = log_p
    grad += entropy[:, None]
    grad *= P
    grad *= -weights.entropy
    balance = P * (log_ratio - (P @ log_ratio)[:, None])
    grad += weights.balance * balance
    grad += (weights.targets + weights.neighbour) * P
    grad -= weights.targets * targets
    grad -= weights.neighbour * P_neighbours
    grad /= n_rows
    np.copyto(P, grad)
    return float(value)


def class_prior(Y):
    """Class frequencies of encoded targets: one-hot rows, or one 0 / 1 column (binary)."""
    mean = Y.mean(axis=0).astype(np.float64)
    return np.array([1 - mean[0], mean[0]]) if Y.shape[1] == 1 else mean


def _two_classes(P):
    """A binary model's probabilities of the positive class as two-class rows."""
    return np.hstack([1 - P, P])


def divergence(loss_name, P, Q):
    """Summed divergence of predictions ``Q`` from ``P``, whose gradient in ``Q``'s scores is ``Q - P``.

    KL(p || q) for the log-losses (softmax rows, or sigmoid columns of
    independent binary outputs), half the squared difference for the
    squared error.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.semi_supervised._graph_objective import divergence
    >>> divergence("squared_error", np.zeros((2, 1)), np.ones((2, 1)))
    1.0
    >>> round(divergence("binary_log_loss", np.array([[0.5]]), np.array([[0.5]])), 12)
    0.0
    """
    if loss_name == "squared_error":
        difference = Q - P
        return 0.5 * float(np.einsum("ij,ij->", difference, difference))
    if loss_name == "binary_log_loss":
        P, Q = _two_classes(P), _two_classes(Q)
    eps = np.finfo(P.dtype).eps
    return float(np.einsum("ij,ij->", P, np.log(np.clip(P, eps, 1)) - np.log(np.clip(Q, eps, 1))))


# Losses the graph method trains with: what its unsupervised terms are.
GRAPH_LOSSES = ("log_loss", "binary_log_loss", "squared_error")


class GraphObjective:
    """The labelled rows' loss plus the graph method's unsupervised terms.

    Fills the network's gradients; called by :class:`~skann.nn.training.TrainingLoop`
    with the batches of a :class:`GraphPlan`.

    Parameters
    ----------
    loss : Loss
        The multiclass log-loss (softmax output), the binary log-loss with
        one output (a sigmoid: its two-class distribution is used), or the
        squared error (regression: the neighbour and adversarial terms only).
    weight_decay : float
        L2 strength: ``weight_decay / 2 * ||W||^2`` is added to every
        step's loss (``weight_decay * W`` to its gradient), whatever the
        batch size.
    adversarial : VirtualAdversarial

    Notes
    -----
    One forward pass of the stacked rows (labelled, unlabelled, their
    neighbours) and one backward pass give the labelled loss and the terms
    of :func:`graph_terms` (regression: ``w_n / 2 mean ||f(x) - f(x_j)||^2``).
    The virtual adversarial term ``D(p || q(x + r))`` (``p`` held fixed,
    :func:`divergence`) needs a probe pass to the input, then a forward and
    backward pass of the perturbed rows in a context of its own; its weight
    gradients are added to the first ones.
    """

    def __init__(self, loss, weight_decay, adversarial):
        if loss.name not in GRAPH_LOSSES:
            raise ValueError(
                f"semi_supervised='graph' trains with the losses {GRAPH_LOSSES}, not {loss.name!r}."
            )
        self.loss, self.weight_decay, self.adversarial = loss, float(weight_decay), adversarial
        self._network = self._ctx = None

    def __call__(self, network, batch, ctx):
        loss, n_labelled, n_unlabelled = self.loss, batch.n_labelled, batch.n_unlabelled
        weights = batch.weights
        scores = network.forward(batch.X, ctx)
        P = loss.output(scores, out=ctx.buffers.get("proba", scores.shape, scores.dtype))
        value = loss.value(batch.Y, P[:n_labelled], batch.weight)
        loss.gradient(batch.Y, P[:n_labelled], batch.weight, out=P[:n_labelled])
        unlabelled = P[n_labelled : n_labelled + n_unlabelled]
        clean = ctx.buffers.get("clean", unlabelled.shape, unlabelled.dtype)
        np.copyto(clean, unlabelled)
        neighbours = P[n_labelled + n_unlabelled :]
        value += self._terms(unlabelled, neighbours, batch)
        neighbours[...] = 0
        network.backward(P, ctx)
        if weights.adversarial > 0:
            rows = batch.X[n_labelled : n_labelled + n_unlabelled]
            value += self._adversarial_step(network, rows, clean, weights.adversarial, ctx)
        if self.weight_decay:
            value += 0.5 * self.weight_decay * network.add_penalty_gradient(self.weight_decay, ctx)
        return value

    def _terms(self, P, P_neighbours, batch):
        """The unsupervised terms of the loss; their gradient overwrites ``P``."""
        weights, name = batch.weights, self.loss.name
        if name == "squared_error":
            P -= P_neighbours
            value = 0.5 * weights.neighbour * float(np.einsum("ij,ij->", P, P)) / max(len(P), 1)
            P *= P.dtype.type(weights.neighbour / max(len(P), 1))
            return value
        if name == "log_loss":
            return graph_terms(P, P_neighbours, batch.targets, batch.prior, weights)
        # One sigmoid output: the terms of its two-class distribution, whose
        # gradient in the logits (0, z) is the second column's.
        two = _two_classes(P)
        value = graph_terms(two, _two_classes(P_neighbours), batch.targets, batch.prior, weights)
        np.copyto(P, two[:, 1:])
        return value

    def _adversarial_step(self, network, X, P, weight, ctx):
        """Add the virtual adversarial term's gradient to ``grads``; return its value."""
        first = ctx.buffers.get("first_grads", network.grads.shape, network.grads.dtype)
        np.copyto(first, network.grads)
        if self._network is not network:  # the perturbed rows' own context, reused
            self._network, self._ctx = network, network.context(training=True, rng=ctx.rng)
        X_adv = self.adversarial(network, X, P)
        scores = network.forward(X_adv, self._ctx)
        Q = self.loss.output(scores, out=self._ctx.buffers.get("proba", scores.shape, scores.dtype))
        n_rows = max(len(Q), 1)
        value = weight * divergence(self.loss.name, P, Q) / n_rows
        Q -= P
        Q *= Q.dtype.type(weight / n_rows)
        network.backward(Q, self._ctx)
        network.grads += first
        return value
