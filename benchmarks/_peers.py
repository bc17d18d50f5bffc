"""The three libraries compared, behind one small interface.

:func:`make_model` returns an object with ``fit(X, y)`` and ``predict(X)``
for "skann", "sklearn" or "torch", built with the same layers, optimizer,
learning rate and batch size. skann and PyTorch are optional: they are
imported lazily, and a missing one is skipped with a printed message.
"""

import functools
import pathlib
import sys

import numpy as np

from _common import RANDOM_STATE, optional_torch, record_problem

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
NEVER_STOP = 10**9  # n_iter_no_change that no benchmark run can reach


@functools.lru_cache(maxsize=None)
def optional_skann():
    """Return the ``skann`` package of this checkout, or None if it fails.

    The checkout's root goes first on ``sys.path`` so that the working tree
    is measured even when another skann is installed.
    """
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        import skann
    except Exception as error:  # noqa: BLE001 - any import failure skips it
        record_problem("import skann (skann columns skipped)", error)
        return None
    return skann


def available_libraries(wanted=("skann", "sklearn", "torch")):
    """Return the libraries of ``wanted`` that can be imported.

    Parameters
    ----------
    wanted : tuple of str, default=("skann", "sklearn", "torch")

    Returns
    -------
    libraries : list of str
    """
    found = []
    for library in wanted:
        if library == "skann" and optional_skann() is None:
            continue
        if library == "torch" and optional_torch() is None:
            record_problem("import torch", "not installed, torch columns "
                           "skipped (pip install torch to include them)")
            continue
        found.append(library)
    return found


def estimator_params(config, max_iter):
    """Return the parameters shared by the skann and sklearn estimators.

    Everything not listed keeps its default (adam, lr 1e-3, relu, alpha).
    ``tol=0`` and a huge ``n_iter_no_change`` make every fit run exactly
    ``max_iter`` epochs.

    Parameters
    ----------
    config : Config
    max_iter : int

    Returns
    -------
    params : dict
    """
    return dict(hidden_layer_sizes=config.hidden_layer_sizes,
                batch_size=config.batch_size, max_iter=max_iter, tol=0.0,
                n_iter_no_change=NEVER_STOP, random_state=RANDOM_STATE)


def make_model(library, task, config, max_iter):
    """Return an unfitted model of one library for one config.

    Parameters
    ----------
    library : {"skann", "sklearn", "torch"}
    task : {"classification", "regression"}
    config : Config
    max_iter : int
        Training epochs of one ``fit``.

    Returns
    -------
    model : object with ``fit(X, y)`` and ``predict(X)``
    """
    if library == "torch":
        return TorchMLP(task, config.hidden_layer_sizes, config.batch_size,
                        max_iter)
    return estimator_class(library, task)(**estimator_params(config, max_iter))


def estimator_class(library, task):
    """Return ``MLPClassifier`` or ``MLPRegressor`` of skann or sklearn."""
    if library == "skann":
        module = optional_skann()
    else:
        import sklearn.neural_network as module
    name = "MLPClassifier" if task == "classification" else "MLPRegressor"
    return getattr(module, name)


def library_input(library, X, y=None):
    """Return the data in the form each library is fed.

    scikit-learn and skann get the float64 arrays users usually pass;
    PyTorch gets float32 (converted here, outside any timing).

    Parameters
    ----------
    library : str
    X : ndarray
    y : ndarray, default=None

    Returns
    -------
    X, y : ndarray
    """
    if library != "torch":
        return X, y
    X = np.ascontiguousarray(X, dtype=np.float32)
    if y is not None and y.dtype.kind == "f":
        y = y.astype(np.float32)
    return X, y


class TorchMLP:
    """A plain hand-written PyTorch CPU training loop, as a user writes it.

    ReLU hidden layers, Adam with learning rate 1e-3, shuffled minibatches
    gathered by index; cross-entropy for classes, mean squared error for
    regression. No weight decay (sklearn's ``alpha=1e-4`` L2 term is a
    negligible cost).

    Parameters
    ----------
    task : {"classification", "regression"}
    hidden_layer_sizes : tuple of int
    batch_size : int
    max_iter : int
        Epochs of one ``fit``.
    """

    def __init__(self, task, hidden_layer_sizes, batch_size, max_iter):
        self.task = task
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_iter = max_iter

    def _build(self, n_features, n_outputs):
        torch = optional_torch()
        torch.manual_seed(RANDOM_STATE)
        layers, n_in = [], n_features
        for width in self.hidden_layer_sizes:
            layers += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
            n_in = width
        layers.append(torch.nn.Linear(n_in, n_outputs))
        return torch.nn.Sequential(*layers)

    def fit(self, X, y):
        """Train a new model for ``max_iter`` epochs on float32 ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32
        y : ndarray of shape (n_samples,)

        Returns
        -------
        self : TorchMLP
        """
        torch = optional_torch()
        n_outputs = int(y.max()) + 1 if self.task == "classification" else 1
        self.model_ = self._build(X.shape[1], n_outputs)
        self.optimizer_ = torch.optim.Adam(self.model_.parameters(), lr=1e-3)
        for _ in range(self.max_iter):
            self.partial_fit(X, y)
        return self

    def partial_fit(self, X, y):
        """Train the fitted model for one more epoch (as sklearn's).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32
        y : ndarray of shape (n_samples,)

        Returns
        -------
        self : TorchMLP
        """
        torch = optional_torch()
        X = torch.from_numpy(X)
        if self.task == "classification":
            y = torch.from_numpy(y.astype(np.int64))
            loss_function = torch.nn.functional.cross_entropy
        else:
            y = torch.from_numpy(y).reshape(-1, 1)
            loss_function = torch.nn.functional.mse_loss
        order = torch.randperm(X.shape[0])
        for start in range(0, X.shape[0], self.batch_size):
            batch = order[start:start + self.batch_size]
            self.optimizer_.zero_grad(set_to_none=True)
            loss_function(self.model_(X[batch]), y[batch]).backward()
            self.optimizer_.step()
        return self

    def predict(self, X):
        """Return class indices or regression values for float32 ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        torch = optional_torch()
        with torch.inference_mode():
            output = self.model_(torch.from_numpy(X))
            if self.task == "classification":
                return output.argmax(dim=1).numpy()
            return output[:, 0].numpy()
