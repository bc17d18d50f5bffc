"""The data's neighbour graph, computed once per fit, and what it gives.

The graph-aware method (``semi_supervised="graph"``) reads three things
from the training rows before its first step: each row's nearest
neighbours (:func:`neighbour_graph`), LabelSpreading's soft targets
(:func:`spreading_targets`) and the radius of its virtual adversarial
perturbations (:func:`perturbation_radius`). All take and return plain
arrays.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors
from sklearn.semi_supervised import LabelSpreading

__all__ = ["neighbour_graph", "perturbation_radius", "spreading_targets"]

# Neighbours of each row in the graph the consistency term samples from.
N_NEIGHBOURS = 5
# LabelSpreading's graph and clamping for the soft targets (the method's
# prototype; its defaults too, but stated here so sklearn cannot move them).
SPREADING_NEIGHBOURS = 7
SPREADING_ALPHA = 0.2
# Radius of the virtual adversarial perturbation as a fraction of the
# median nearest-neighbour distance: half the way to the nearest row.
RADIUS_FRACTION = 0.5


def neighbour_graph(X, n_neighbors=N_NEIGHBOURS, connectivity_neighbors=None):
    """Each row's nearest other rows, by Euclidean distance.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    n_neighbors : int, default=5
        Neighbours per row; at most ``n_samples - 1``.

    Returns
    -------
    connectivity_neighbors : int, default=None
        Also return the connectivity matrix of each row's
        ``connectivity_neighbors`` nearest rows, the row itself among them
        (what ``LabelSpreading(kernel="knn")`` builds), from the same search.

    Returns
    -------
    indices : ndarray of shape (n_samples, n_neighbors)
        Row indices of the neighbours, nearest first; never the row itself.
    distances : ndarray of shape (n_samples, n_neighbors)
    connectivity : sparse matrix of shape (n_samples, n_samples)
        Only with ``connectivity_neighbors``: 1 where a row's search found
        another (or itself), 0 elsewhere.

    Notes
    -----
    ``NearestNeighbors(algorithm="auto")`` picks a tree or brute force for
    the data. A row's duplicates are its neighbours at distance 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.semi_supervised._graph import neighbour_graph
    >>> indices, distances = neighbour_graph(np.array([[0.0], [1.0], [3.0]]), n_neighbors=1)
    >>> indices.ravel().tolist(), distances.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 2.0])
    """
    n_samples = X.shape[0]
    if n_samples < 2:
        raise ValueError(
            f"The neighbour graph needs at least 2 training rows, got {n_samples}. "
            "Fit on more rows, or choose another semi_supervised method."
        )
    n_neighbors = min(int(n_neighbors), n_samples - 1)
    n_search = min(max(n_neighbors + 1, connectivity_neighbors or 0), n_samples)
    distances, indices = NearestNeighbors(n_neighbors=n_search).fit(X).kneighbors(X)
    # Each row's own entry goes last (with duplicates it need not come
    # first, or at all), then the columns beyond n_neighbors are dropped.
    own = indices == np.arange(n_samples)[:, None]
    order = np.argsort(own, axis=1, kind="stable")[:, :n_neighbors]
    graph = np.take_along_axis(indices, order, axis=1), np.take_along_axis(distances, order, axis=1)
    if connectivity_neighbors is None:
        return graph
    found = indices[:, : min(int(connectivity_neighbors), n_samples)]
    connectivity = sp.csr_matrix(
        (np.ones(found.size), found.ravel(), np.arange(0, found.size + 1, found.shape[1])),
        shape=(n_samples, n_samples),
    )
    return (*graph, connectivity)


def spreading_targets(
    X, labels, n_classes, n_neighbors=SPREADING_NEIGHBOURS, alpha=SPREADING_ALPHA, connectivity=None
):
    """LabelSpreading's class distribution of every row, as soft targets.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The fit's rows, labelled and unlabelled.
    labels : ndarray of int of shape (n_samples,)
        Encoded class of each labelled row (``0 .. n_classes - 1``), -1 for
        the unlabelled ones.
    n_classes : int
    n_neighbors : int, default=7
    alpha : float, default=0.2
        As ``LabelSpreading(kernel="knn")``.
    connectivity : sparse matrix of shape (n_samples, n_samples), default=None
        The kNN connectivity of the rows, if already searched (from
        :func:`neighbour_graph`): LabelSpreading then spreads over it
        instead of searching the neighbours again.

    Returns
    -------
    targets : ndarray of shape (n_samples, n_classes)
        Rows sum to 1; a class without labelled rows has 0 everywhere, and
        a row the spreading does not reach gets the labelled class prior.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.semi_supervised._graph import spreading_targets
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> labels = np.array([0, -1, -1, 1, -1, -1])
    >>> spreading_targets(X, labels, 2, n_neighbors=2).argmax(axis=1).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    labels = np.asarray(labels)
    labelled = labels >= 0
    if not labelled.any():
        raise ValueError("spreading_targets needs at least one labelled row (label >= 0).")
    prior = np.bincount(labels[labelled], minlength=n_classes) / labelled.sum()
    if connectivity is None:
        spreading = LabelSpreading(kernel="knn", n_neighbors=min(int(n_neighbors), X.shape[0] - 1), alpha=alpha)
    else:
        spreading = LabelSpreading(kernel=_Precomputed(connectivity), alpha=alpha)
    with warnings.catch_warnings():
        # Rows the graph does not reach divide 0 by 0: mended below.
        warnings.simplefilter("ignore", RuntimeWarning)
        spreading.fit(X, labels)
    targets = np.zeros((X.shape[0], n_classes))
    targets[:, spreading.classes_[spreading.classes_ >= 0]] = spreading.label_distributions_
    total = targets.sum(axis=1)
    unreached = ~np.isfinite(total) | (total <= 0)
    targets[unreached] = prior
    targets[~unreached] /= total[~unreached, None]
    return targets


def perturbation_radius(distances, fraction=RADIUS_FRACTION):
    """Radius of the virtual adversarial perturbation: a share of the data's spacing.

    Parameters
    ----------
    distances : ndarray of shape (n_samples, n_neighbors)
        From :func:`neighbour_graph`, nearest first.
    fraction : float, default=0.5

    Returns
    -------
    radius : float
        ``fraction`` times the median distance of a row to its nearest
        other row (rows with a duplicate left out).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.semi_supervised._graph import perturbation_radius
    >>> perturbation_radius(np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]]))
    1.0
    """
    nearest = distances[:, 0]
    nearest = nearest[nearest > 0]
    if not nearest.size:
        raise ValueError(
            "Every training row has a duplicate: the perturbation radius, half the "
            "median distance between neighbouring rows, would be 0. Remove duplicate rows."
        )
    return float(fraction * np.median(nearest))


class _Precomputed:
    """A LabelSpreading kernel that returns an affinity matrix computed beforehand."""

    def __init__(self, affinity):
        self.affinity = affinity

    def __call__(self, X, Y):
        return self.affinity
