"""BaseNetwork: parameters, validation, fit / partial_fit orchestration and
inference shared by the estimators."""

import copy
import functools
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._architecture import STOCHASTIC_SOLVERS, compute_dtype, dense_layers, hidden_layer_sizes
from ._compat import Interval, Options, StrOptions, _check_sample_weight, _fit_context
from ._docstrings import FIT_VALIDATION_PARAMETERS, fill_doc
from ._early_stopping import paired_validation_data, validated_validation_data
from ._fitting import fit_lbfgs, fit_stochastic
from ._threads import fit_blas_threads
from .nn import ACTIVATIONS, Network, get_loss
from .semi_supervised import CLASSIFICATION_METHODS, fit_semi_supervised, split_labelled

# Rows per forward pass in predict: large enough for efficient BLAS, small
# enough that the activations stay in cache-friendly, bounded buffers.
PREDICT_CHUNK_ROWS = 4096

# Fitted attributes a semi-supervised fit sets, which any new fit drops.
SEMI_SUPERVISED_ATTRIBUTES = ("transduction_", "used_unlabelled_", "guard_scores_")


def store_init_params(estimator, arguments):
    """Store every ``__init__`` argument under its own name, and nothing else.

    sklearn's rule for ``__init__``; called as
    ``store_init_params(self, locals())`` so that the estimators' long
    signatures are not followed by as many copied assignments.
    """
    for name in estimator._get_param_names():
        setattr(estimator, name, arguments[name])


def all_or_nothing(fit_method):
    """Leave the estimator exactly as it was when ``fit_method`` raises.

    Everything but the parameters is deep-copied first (the network's
    buffers, optimizer and schedule state, the training history) and put
    back on any exception, so a fit that fails on bad input, diverges or is
    interrupted never leaves a half-trained or half-reset model.
    """

    @functools.wraps(fit_method)
    def wrapper(self, *args, **kwargs):
        params = set(self._get_param_names())
        saved = {
            key: value if key in params else copy.deepcopy(value)
            for key, value in self.__dict__.items()
        }
        try:
            return fit_method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


class BaseNetwork(BaseEstimator, metaclass=ABCMeta):
    """Base class of skann's estimators; not for direct use.

    Subclasses define ``_loss_name``, ``_validate_targets`` (labels to a float
    target matrix), ``_score_encoded`` and the prediction methods.
    Everything else (validation, network construction, solvers, early
    stopping, warm start, ``partial_fit``, inference) lives here, once.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
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
        "monitor": [StrOptions({"val_loss", "val_score"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
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

    def _hidden_layer_sizes(self):
        return hidden_layer_sizes(self.hidden_layer_sizes)

    def _class_weighted(self, Y, sample_weight, incremental, validation=False):
        """Sample weights with the class weights multiplied in (classifier)."""
        return sample_weight

    def _validate_validation_targets(self, y):
        """Encoded validation targets, with the training encoders."""
        return self._validate_targets(y, incremental=True)

    def _input_noise(self):
        """Corruption of the inputs of each training batch, or None."""
        return None

    def _evaluate(self, network, X, Y, sample_weight):
        """Loss (no penalty) and score of ``network`` on validated data."""
        P = network.output(X, chunk_rows=PREDICT_CHUNK_ROWS)
        P = self._loss.output(P, out=P)
        return self._loss.value(Y, P, sample_weight), self._score_encoded(Y, P, sample_weight)

    # ------------------------------------------------------------------
    # Public fitted attributes backed by the network
    # ------------------------------------------------------------------
    def _dense_weights(self, name):
        check_is_fitted(self, "network_")
        network = self.network_
        return [network.weights(position)[name] for position in range(len(network.layers))]

    @property
    def coefs_(self):
        return self._dense_weights("W")

    @coefs_.setter
    def coefs_(self, values):
        self._assign_weights("W", values, "coefs_")

    @property
    def intercepts_(self):
        return self._dense_weights("b")

    @intercepts_.setter
    def intercepts_(self, values):
        self._assign_weights("b", values, "intercepts_")

    def _assign_weights(self, key, values, name):
        current = self._dense_weights(key)
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
    @fill_doc(validation=FIT_VALIDATION_PARAMETERS)
    @_fit_context(prefer_skip_nested_validation=True)
    @all_or_nothing
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample; integer weights act like repeated rows.
        {validation}

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = paired_validation_data(X_val, y_val, sample_weight_val)
        if self.semi_supervised is not None:
            return fit_semi_supervised(self, X, y, sample_weight, validation)
        self._fit(X, y, sample_weight, incremental=False, validation=validation)
        for name in SEMI_SUPERVISED_ATTRIBUTES:
            self.__dict__.pop(name, None)
        return self

    def _check_stochastic_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic solvers "
                f"{STOCHASTIC_SOLVERS}, not solver={self.solver!r}."
            )
        return True

    def _fit(self, X, y, sample_weight, incremental, classes=None, train=True, validation=None):
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X, Y, sample_weight, unlabelled = self._validate_training_data(
            X, y, sample_weight, first_pass, incremental, classes
        )
        if validation is not None:
            validation = validated_validation_data(self, *validation)
        layer_sizes = [X.shape[1], *self._hidden_layer_sizes(), Y.shape[1]]
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
        with fit_blas_threads(layer_sizes, batch_rows), np.errstate(over="ignore", invalid="ignore"):
            if self.solver == "lbfgs":
                fit_lbfgs(self, X, Y, sample_weight, validation)
            else:
                fit_stochastic(
                    self, X, Y, sample_weight, incremental, early_stopping, unlabelled, validation
                )
        return self

    def _validate_training_data(self, X, y, sample_weight, first_pass, incremental, classes):
        """Validated X, encoded Y, weights, and the unlabelled part (or None)."""
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=first_pass
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
        sample_weight = self._class_weighted(Y, sample_weight, incremental)
        return X, Y, sample_weight, unlabelled

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

    def _architecture(self, layer_sizes):
        return (tuple(layer_sizes), self.activation, self._loss_name)

    def _initialize(self, layer_sizes, early_stopping):
        """Build a fresh network and reset the training state."""
        loss = get_loss(self._loss_name)
        network = Network(dense_layers(layer_sizes, self.activation))
        network.build(
            (layer_sizes[0],),
            compute_dtype(self.dtype, self.solver, layer_sizes),
            self._random_state,
        )
        self.network_ = network
        self._loss = loss
        self._trained_architecture = self._architecture(layer_sizes)
        self.n_outputs_ = layer_sizes[-1]
        self.n_layers_ = len(layer_sizes)
        self.out_activation_ = loss.output_activation
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.history_ = []
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
        self._schedule = None
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
        if self.network_.dtype != compute_dtype(self.dtype, self.solver, layer_sizes):
            raise ValueError(
                f"The network was trained in {self.network_.dtype.name}; a changed "
                "dtype or solver cannot continue it. Set warm_start=False."
            )

    def _layer_rng(self):
        """Random draws of stochastic layers (none in dense networks)."""
        return None

    # ------------------------------------------------------------------
    # Inference: per-call buffers, safe from many threads at once
    # ------------------------------------------------------------------
    def _scores(self, X):
        """Raw output scores (before the output activation) for user X."""
        check_is_fitted(self, "network_")
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )
        return self._raw_scores(X)

    def _raw_scores(self, X, start=0, stop=None):
        """Raw scores of layers ``start:stop`` for validated X, in X's dtype."""
        return self.network_.output(
            X, start, stop, chunk_rows=PREDICT_CHUNK_ROWS, out_dtype=X.dtype
        )

    def _forward(self, X):
        """Output-activated predictions in the encoded target space."""
        scores = self._scores(X)
        return self._loss.output(scores, out=scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
