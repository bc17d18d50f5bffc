"""BaseMLP: parameters, validation and training shared by the estimators."""

import functools
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import Interval, Options, StrOptions, _check_sample_weight, _fit_context
from ._semi_fit import fit_semi_supervised, split_labelled
from ._semi_supervised import CLASSIFICATION_METHODS, UnlabelledTraining
from ._threads import blas_threads_for
from ._training import StochasticTrainer
from .nn import ACTIVATIONS, Dense, Network, get_loss, minimize_lbfgs
from .nn.optimizers import SGD, Adam

STOCHASTIC_SOLVERS = ("sgd", "adam")

# With dtype="auto", stochastic solvers compute in float32 from this many
# weights on: there BLAS time dominates and float32 halves it. Smaller
# networks gain nothing from float32 and keep float64's exactness (their
# predictions do not depend on how rows are batched).
FLOAT32_MIN_WEIGHTS = 10_000

# Rows per forward pass in predict: large enough for efficient BLAS, small
# enough that the activations stay in cache-friendly, bounded buffers.
PREDICT_CHUNK_ROWS = 4096


def store_init_params(estimator, arguments):
    """Store every ``__init__`` argument under its own name, and nothing else.

    sklearn's rule for ``__init__``; called as
    ``store_init_params(self, locals())`` so that the estimators' long
    signatures are not followed by as many copied assignments.
    """
    for name in estimator._get_param_names():
        setattr(estimator, name, arguments[name])


def _restores_state_on_error(fit_method):
    """Leave the estimator as it was when ``fit_method`` raises.

    Validation stores encoders and ``n_features_in_`` as it goes; a fit that
    fails on bad input must not leave a previously fitted model half-reset.
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        state = self.__dict__.copy()
        try:
            return fit_method(self, *args, **kwargs)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return wrapper


class BaseMLP(BaseEstimator, metaclass=ABCMeta):
    """Base class of skann's multi-layer perceptrons; not for direct use.

    Subclasses define ``_loss_name``, ``_validate_targets`` (labels to a float
    target matrix), ``_score_encoded`` and the prediction
    methods. Everything else (validation, network construction, solvers,
    early stopping, warm start, ``partial_fit``) lives here, once.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"auto", "float32", "float64"})],
        "semi_supervised": [StrOptions(set(CLASSIFICATION_METHODS)), None],
        "unlabelled_marker": [str, Real],
        "unsupervised_weight": [Interval(Real, 0, None, closed="left")],
        "confidence_threshold": [Interval(Real, 0, 1, closed="both")],
        "perturbation_scale": [Interval(Real, 0, None, closed="left")],
        "supervised_fallback": ["boolean"],
    }

    @abstractmethod
    def __init__(self):
        pass

    # ------------------------------------------------------------------
    # Hooks for subclasses
    # ------------------------------------------------------------------
    @property
    @abstractmethod
    def _loss_name(self):
        """Registry name of the loss for the fitted targets."""

    @abstractmethod
    def _validate_targets(self, y, incremental, classes=None, sample_weight=None):
        """Check ``y``; fit target encoders on a first pass; return ``Y``.

        ``Y`` is a float matrix of shape (n_samples, n_outputs).
        """

    @abstractmethod
    def _score_encoded(self, Y, P, sample_weight):
        """``score`` of predictions ``P`` against targets ``Y``, both encoded."""

    def _validation_loss_and_score(self, X, Y, sample_weight):
        """Loss (no penalty) and score of the network on validated data."""
        P = self._forward(X, validate=False)
        return self._loss.value(Y, P, sample_weight), self._score_encoded(Y, P, sample_weight)

    # ------------------------------------------------------------------
    # Public fitted attributes backed by the network
    # ------------------------------------------------------------------
    @property
    def coefs_(self):
        check_is_fitted(self, "network_")
        return [layer.params[0] for layer in self.network_.layers]

    @coefs_.setter
    def coefs_(self, values):
        self._assign_params(0, values, "coefs_")

    @property
    def intercepts_(self):
        check_is_fitted(self, "network_")
        return [layer.params[1] for layer in self.network_.layers]

    @intercepts_.setter
    def intercepts_(self, values):
        self._assign_params(1, values, "intercepts_")

    def _assign_params(self, index, values, name):
        current = getattr(self, name)
        if len(values) != len(current) or any(
            np.shape(new) != old.shape for new, old in zip(values, current)
        ):
            raise ValueError(
                f"{name} must be a list of {len(current)} arrays of shapes "
                f"{[old.shape for old in current]}."
            )
        for new, old in zip(values, current):
            old[...] = new

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample; integer weights act like repeated rows.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if self.semi_supervised is not None:
            return fit_semi_supervised(self, X, y, sample_weight)
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_stochastic_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic solvers "
                f"{STOCHASTIC_SOLVERS}, not solver={self.solver!r}."
            )
        return True

    @_restores_state_on_error
    def _fit(self, X, y, sample_weight, incremental, classes=None, train=True):
        hidden_layer_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "network_") or (
            not self.warm_start and not incremental
        )
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=first_pass,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        unlabelled = None
        if self.semi_supervised is not None:
            (X, y, sample_weight), unlabelled = self._split_unlabelled(
                X, y, sample_weight, incremental, classes
            )
        Y = self._validate_targets(
            y, incremental=not first_pass, classes=classes, sample_weight=sample_weight
        )
        if X.shape[0] == 0:  # every row unlabelled: y was a placeholder
            Y = Y[:0]
        if X.shape[0] != Y.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} samples but y has {Y.shape[0]}; they must match."
            )
        layer_sizes = [X.shape[1], *hidden_layer_sizes, Y.shape[1]]
        # partial_fit has no epochs to monitor: it ignores early_stopping.
        early_stopping = self.early_stopping and not incremental
        if first_pass:
            self._random_state = check_random_state(self.random_state)
            self._initialize(layer_sizes, early_stopping)
        else:
            self._check_architecture(layer_sizes)
        if not train:  # validated and built only (AutoEncoder.init_network)
            return self
        Y = Y.astype(self.network_.dtype, copy=False)
        batch_rows = X.shape[0] if self.solver == "lbfgs" else self._batch_rows(X.shape[0])
        with blas_threads_for(layer_sizes, batch_rows):
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, sample_weight)
            else:
                self._fit_stochastic(
                    X, Y, sample_weight, incremental, early_stopping, unlabelled
                )
        return self

    def _split_unlabelled(self, X, y, sample_weight, incremental, classes):
        """``((X, y, weight) of the labelled rows, unlabelled training)``.

        The unlabelled part is ``(X, rows, sample_weight)`` over all rows,
        or None when every row is labelled.
        """
        if self.solver not in STOCHASTIC_SOLVERS:
            raise ValueError(
                f"semi_supervised={self.semi_supervised!r} trains with the stochastic "
                f"solvers {STOCHASTIC_SOLVERS}, not solver={self.solver!r}. Set "
                "solver='adam' (or 'sgd'), or semi_supervised=None."
            )
        X_labelled, y_labelled, weight, rows = split_labelled(
            self, X, y, sample_weight, incremental, classes
        )
        unlabelled = (X, rows, sample_weight) if len(rows) else None
        return (X_labelled, y_labelled, weight), unlabelled

    def _batch_rows(self, n_samples, warn=False):
        """Minibatch size for ``n_samples`` training rows."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        if warn and self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} "
                "training samples; it is clipped to the sample count."
            )
        return int(min(self.batch_size, n_samples))

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
        if any(not isinstance(size, Integral) or size <= 0 for size in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes}."
            )
        return [int(size) for size in sizes]

    def _compute_dtype(self, layer_sizes):
        """The dtype the network computes in (see the ``dtype`` parameter)."""
        if self.dtype != "auto":
            return np.dtype(self.dtype).type
        n_weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
        if self.solver in STOCHASTIC_SOLVERS and n_weights >= FLOAT32_MIN_WEIGHTS:
            return np.float32
        return np.float64

    def _architecture(self, layer_sizes):
        return (tuple(layer_sizes), self.activation, self._loss_name)

    def _initialize(self, layer_sizes, early_stopping):
        """Build a fresh network and reset the training state."""
        loss = get_loss(self._loss_name)
        layers = [Dense(units, self.activation) for units in layer_sizes[1:-1]]
        layers.append(Dense(layer_sizes[-1], "identity"))
        network = Network(layers)
        network.build(layer_sizes[0], self._random_state, self._compute_dtype(layer_sizes))
        self.network_ = network
        self._loss = loss
        self._trained_architecture = self._architecture(layer_sizes)
        self.n_outputs_ = layer_sizes[-1]
        self.n_layers_ = len(layer_sizes)
        self.out_activation_ = loss.output_activation
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf
        self._optimizer = None
        self._unlabelled_state = None

    def _check_architecture(self, layer_sizes):
        wanted = self._architecture(layer_sizes)
        if wanted != self._trained_architecture:
            raise ValueError(
                "warm_start and partial_fit continue training the same network, "
                "but its architecture (layer sizes from input to output, "
                f"activation, loss) changed from {self._trained_architecture} to "
                f"{wanted}. Set warm_start=False (or call fit) to train a new network."
            )
        if self.network_.dtype != self._compute_dtype(layer_sizes):
            raise ValueError(
                f"The network was trained in {self.network_.dtype.name}; a changed "
                "dtype or solver cannot continue it. Set warm_start=False."
            )

    def _make_optimizer(self):
        if self.solver == "sgd":
            return SGD(
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        return Adam(self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)

    # ------------------------------------------------------------------
    # Loss and gradient over a batch (shared by every solver)
    # ------------------------------------------------------------------
    def _loss_and_gradient(self, X, Y, sample_weight):
        """Forward and backward over one batch; fills ``network_.grads``.

        Returns the batch loss including the L2 penalty, which is scaled by
        the batch's (weighted) sample count as in sklearn.
        """
        network = self.network_
        scores = network.forward(X, training=True)
        proba = self._loss.output(scores, out=scores)
        loss = self._loss.value(Y, proba, sample_weight)
        network.backward(self._loss.gradient(Y, proba, sample_weight, out=proba))
        n_effective = X.shape[0] if sample_weight is None else sample_weight.sum()
        # One cache-blocked pass adds the penalty's gradient and returns ||W||².
        penalty = network.add_penalty_gradient(self.alpha / n_effective)
        loss += 0.5 * self.alpha * penalty / n_effective
        return float(loss)

    def _fit_lbfgs(self, X, Y, sample_weight):
        X = _as_compute_dtype(X, self.network_.dtype)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(self.network_.dtype, copy=False)
        self.loss_curve_ = []

        def loss_and_gradient():
            return self._loss_and_gradient(X, Y, sample_weight), self.network_.grads

        result = minimize_lbfgs(
            loss_and_gradient,
            self.network_.params,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            verbose=self.verbose,
        )
        self.n_iter_ = int(result.nit)
        self.loss_ = float(result.fun)
        self.loss_curve_.append(self.loss_)
        self.best_loss_ = self.loss_
        self.t_ += X.shape[0] * self.n_iter_
        if result.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iterations "
                f"({result.message}). Increase max_iter or max_fun, or scale "
                "the data.",
                ConvergenceWarning,
            )

    def _fit_stochastic(self, X, Y, sample_weight, incremental, early_stopping, unlabelled=None):
        if self._optimizer is None or not (incremental or self.warm_start):
            self._optimizer = self._make_optimizer()
        if unlabelled is not None:
            unlabelled = UnlabelledTraining(self, *unlabelled)
        trainer = StochasticTrainer(self, X, Y, sample_weight, early_stopping, unlabelled)
        trainer.run(max_epochs=1 if incremental else self.max_iter)
        converging = not incremental and unlabelled is None  # see UnlabelledTraining
        if converging and self.n_iter_ == self.max_iter and not trainer.stopped:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _scores(self, X):
        """Raw output scores (before the output activation) for user X."""
        check_is_fitted(self, "network_")
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        return self._raw_scores(X)

    def _raw_scores(self, X):
        """Raw scores for already validated X, in X's float dtype."""
        out = np.empty((X.shape[0], self.n_outputs_), dtype=X.dtype)
        layer_sizes = self._trained_architecture[0]
        with blas_threads_for(layer_sizes, min(X.shape[0], PREDICT_CHUNK_ROWS)):
            return self.network_.predict(X, out, batch_size=PREDICT_CHUNK_ROWS)

    def _forward(self, X, validate=True):
        """Output-activated predictions in the encoded target space."""
        scores = self._scores(X) if validate else self._raw_scores(X)
        return self._loss.output(scores, out=scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _as_compute_dtype(X, dtype):
    """X in the compute dtype (a copy only when the dtype differs)."""
    return X.astype(dtype, copy=False)
