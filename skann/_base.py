"""BaseNetwork: parameters, validation, fit / partial_fit orchestration and
inference shared by the estimators."""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._architecture import (
    PREDICT_CHUNK_ROWS,
    STOCHASTIC_SOLVERS,
    architecture,
    check_layers,
    check_layers_alone,
    compute_dtype,
    describe,
    hidden_dense_layers,
    hidden_layer_sizes,
    network_layers,
    predict_chunk_rows,
)
from ._augment import AUGMENTATIONS, ShiftAugmentation
from ._callbacks import fit_task
from ._compat import (
    CALLBACK_ATTRIBUTES,
    CallbackSupportMixin,
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
)
from ._doc_links import DocLinkMixin
from ._fit_safety import all_or_nothing, check_finite_output, check_representable
from ._docstrings import FIT_VALIDATION_PARAMETERS, fill_doc
from ._early_stopping import paired_validation_data, validated_validation_data
from ._fitting import fit_lbfgs, fit_stochastic
from ._layers_param import LayerParamsMixin
from ._persistence import check_version, with_version
from ._threads import fit_blas_threads
from ._typing import ArrayLike, MatrixLike
from ._weights import FittedWeightsMixin
from .nn import ACTIVATIONS, Network, get_loss
from .nn.layers import Dropout
from .semi_supervised import CLASSIFICATION_METHODS, LABELLED_ONLY, fit_semi_supervised, split_labelled

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BaseNetwork", "PREDICT_CHUNK_ROWS"]

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


class BaseNetwork(
    DocLinkMixin,
    LayerParamsMixin,
    FittedWeightsMixin,
    CallbackSupportMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
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
        "layers": [list, tuple, None],
        "input_shape": [tuple, list, None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "augment": [StrOptions(set(AUGMENTATIONS)), None],
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

    def _hidden_layers(self):
        """The hidden part of the network: ``layers``, or Dense (and Dropout)
        layers from ``hidden_layer_sizes``, ``activation`` and ``dropout``."""
        if self.layers is None:
            return hidden_dense_layers(self._hidden_layer_sizes(), self.activation, self.dropout)
        check_layers_alone(self)
        return check_layers(self.layers)

    def _class_weighted(self, Y, sample_weight, incremental, validation=False):
        """Sample weights with the class weights multiplied in (classifier)."""
        return sample_weight

    def _check_warm_start_targets(self, y):
        """Refuse targets a warm-started fit cannot continue on (classifier)."""

    def _validate_validation_targets(self, y):
        """Encoded validation targets, with the training encoders."""
        return self._validate_targets(y, incremental=True)

    def _input_noise(self):
        """Corruption of the inputs of each training batch, or None."""
        if self.augment is None:
            return None
        seed = self._random_state.randint(np.iinfo(np.int32).max)
        return ShiftAugmentation(self._image_shape, np.random.default_rng(seed))

    def _evaluate(self, network, X, Y, sample_weight):
        """Loss (no penalty) and score of ``network`` on validated data."""
        P = network.output(X, chunk_rows=self._chunk_rows(network.dtype))
        P = self._loss.output(P, out=P)
        return self._loss.value(Y, P, sample_weight), self._score_encoded(Y, P, sample_weight)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @fill_doc(validation=FIT_VALIDATION_PARAMETERS)
    @_fit_context(prefer_skip_nested_validation=True)
    @all_or_nothing
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        X_val: MatrixLike | None = None,
        y_val: ArrayLike | None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> Self:
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

    def _fit(
        self, X, y, sample_weight, incremental, classes=None, train=True, validation=None, judge=None,
    ):
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        given = X, y, sample_weight  # what callbacks see, in the user's terms
        X, Y, sample_weight, unlabelled = self._validate_training_data(
            X, y, sample_weight, first_pass, incremental, classes
        )
        if validation is not None:
            validation = validated_validation_data(self, *validation)
        layers, plan = self._plan(X.shape[1], Y.shape[1])
        # partial_fit has no epochs to monitor: it ignores early_stopping.
        early_stopping = self.early_stopping and not incremental
        if first_pass:
            self._random_state = check_random_state(self.random_state)
            self._initialize(layers, plan, early_stopping, X.dtype)
        else:
            self._check_architecture(layers, plan)
        if not train:  # validated and built only (AutoEncoder.init_network)
            return self
        if X.shape[0] == 0 and unlabelled is None:  # labelled_only, no label in the batch
            return self
        check_representable(X, self.network_.dtype)
        Y = Y.astype(self.network_.dtype, copy=False)
        batch_rows = X.shape[0] if self.solver == "lbfgs" else self._batch_rows(X.shape[0])
        flops = plan.largest_product_flops(batch_rows)
        # Overflow, 0/0 and x/0 (the Poisson loss of an output that
        # underflowed) end in a non-finite loss, which FiniteCheck reports.
        with (
            fit_task(self, *given, self._max_epochs(incremental)) as task,
            fit_blas_threads(flops),
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            if self.solver == "lbfgs":
                fit_lbfgs(self, X, Y, sample_weight, validation, task)
            else:
                fit_stochastic(
                    self, X, Y, sample_weight, incremental, early_stopping, unlabelled,
                    validation, task, judge,
                )
        return self

    def _max_epochs(self, incremental):
        """Epochs a fit may report to callbacks (lbfgs: iterations, plus the
        one begun when scipy stops)."""
        if self.solver == "lbfgs":
            return self.max_iter + 1
        return 1 if incremental else self.max_iter

    def _validate_training_data(self, X, y, sample_weight, first_pass, incremental, classes):
        """Validated X, encoded Y, weights, and the unlabelled part (or None)."""
        # Before anything indexes y or the weights by X's rows.
        check_consistent_length(X, y)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=first_pass
        )
        if sample_weight is not None:
            # float64 whatever X's dtype: weights act as ratios, and a
            # float32 cast would turn finite weights above 3.4e38 into inf.
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        unlabelled = None
        if self.semi_supervised is not None:
            (X, y, sample_weight), unlabelled = self._split_unlabelled(
                X, y, sample_weight, incremental, classes
            )
        if not first_pass and not incremental:  # warm_start
            self._check_warm_start_targets(y)
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
        labelled_only = self.semi_supervised == LABELLED_ONLY
        if self.solver not in STOCHASTIC_SOLVERS and not labelled_only:
            raise ValueError(
                f"semi_supervised={self.semi_supervised!r} trains with the stochastic "
                f"solvers {STOCHASTIC_SOLVERS}, not solver={self.solver!r}. Set "
                "solver='adam' (or 'sgd'), or semi_supervised=None."
            )
        X_labelled, y_labelled, weight, rows = split_labelled(
            self, X, y, sample_weight, incremental, classes
        )
        unlabelled = (X, rows, sample_weight) if len(rows) and not labelled_only else None
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

    def _plan(self, n_features, n_outputs):
        """The network's layers (hidden and output) and their plan."""
        layers, plan, self._image_shape = network_layers(self, n_features, n_outputs)
        return layers, plan

    def _architecture(self, layers, plan):
        return architecture(layers, plan, self._loss_name)

    def _initialize(self, layers, plan, early_stopping, input_dtype=None):
        """Build a fresh network and reset the training state."""
        loss = get_loss(self._loss_name)
        network = Network(layers)
        network.build(
            plan.shapes[0], compute_dtype(self.dtype, self.solver, plan, input_dtype),
            self._random_state,
        )
        self.network_ = network
        self._loss = loss
        self._trained_architecture = self._architecture(layers, plan)
        self._inference_plan = (plan.values_per_row(), plan.images)
        self.n_outputs_ = int(plan.shapes[-1][0])
        self.n_layers_ = len(layers) + 1
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

    def _check_architecture(self, layers, plan):
        wanted = self._architecture(layers, plan)
        if wanted != self._trained_architecture:
            raise ValueError(
                "warm_start and partial_fit continue training the same network, "
                "but its architecture (input shape, layers and their parameters, "
                f"loss) changed from {describe(self._trained_architecture)} to "
                f"{describe(wanted)}. Set warm_start=False (or call fit) to train "
                "a new network."
            )
        if self.dtype != "auto" and self.network_.dtype != compute_dtype(
            self.dtype, self.solver, plan
        ):
            raise ValueError(
                f"The network was trained in {self.network_.dtype.name}; a changed "
                "dtype or solver cannot continue it. Set warm_start=False."
            )

    def _layer_rng(self):
        """Random draws of stochastic layers (Dropout), or None without them.

        A seed is drawn from the fit's random state only when the network
        has a Dropout layer, so that networks without one make exactly the
        draws they always made.
        """
        if not any(isinstance(layer, Dropout) for layer in self.network_.layers):
            return None
        return np.random.default_rng(self._random_state.randint(np.iinfo(np.int32).max))

    def _chunk_rows(self, dtype):
        """Rows per inference chunk (fewer for image networks; see _architecture)."""
        values_per_row, images = self._inference_plan
        return predict_chunk_rows(values_per_row, np.dtype(dtype).itemsize, images)

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
        """Raw scores of layers ``start:stop`` for validated X, in X's dtype.

        Rows stay rows: image outputs (an encoder's) are flattened.
        """
        # Finite X can overflow inside the network (values near 1e154 and
        # above square past float64's range): refuse rather than warn and
        # return inf or NaN.
        with np.errstate(over="ignore", invalid="ignore"):
            scores = self.network_.output(
                X, start, stop, chunk_rows=self._chunk_rows(self.network_.dtype),
                out_dtype=X.dtype,
            )
        check_finite_output(self, scores, X)
        return scores.reshape(scores.shape[0], -1) if scores.ndim > 2 else scores

    def _forward(self, X):
        """Output-activated predictions in the encoded target space."""
        scores = self._scores(X)
        return self._loss.output(scores, out=scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # Pickles, joblib and skops files name the skann version that saved
    # them, and carry no callbacks (they belong to the session that set them).
    def __getstate__(self):
        state = super().__getstate__()
        state = {key: value for key, value in state.items() if key not in CALLBACK_ATTRIBUTES}
        return with_version(state)

    def __setstate__(self, state):
        super().__setstate__(check_version(self, state))
