"""BaseNetwork: parameters, validation, fit / partial_fit orchestration and
inference shared by the estimators."""

from __future__ import annotations

import inspect
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted, indexable

from ._architecture import (
    check_layers,
    check_layers_alone,
    hidden_dense_layers,
    hidden_layer_sizes,
    predict_chunk_rows,
)
from ._augment import AUGMENTATIONS
from ._callbacks import fit_task
from ._compat import (
    CALLBACK_ATTRIBUTES,
    CallbackSupportMixin,
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    _safe_indexing,
    check_array,
    feature_names,
    validate_data,
)
from ._doc_links import DocLinkMixin
from ._inputs import FLOAT_DTYPES, check_numeric_columns, inference_dtype, is_plain_rows, scores_dtype
from ._fit_safety import check_finite_output, check_representable, scale_safe_weights
from ._docstrings import FIT_VALIDATION_PARAMETERS, fill_doc
from ._early_stopping import paired_validation_data
from ._layers_param import LayerParamsMixin
from ._persistence import check_digest, check_version, with_version
from ._targets import plain_targets
from ._plan import FitData, TrainingState, evaluator, fit_plan
from ._solvers import STOCHASTIC_SOLVERS
from ._threads import fit_blas_threads
from ._typing import ArrayLike, MatrixLike
from ._weights import FittedWeightsMixin
from .nn import ACTIVATIONS
from .semi_supervised import (
    CLASSIFICATION_METHODS,
    LABELLED_ONLY,
    HeldOutJudge,
    check_labelled,
    guard_split,
    marking,
    transduction,
    unlabelled_mask,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BaseNetwork"]

# Fitted attributes a semi-supervised fit sets, which any new fit drops.
SEMI_SUPERVISED_ATTRIBUTES = ("transduction_", "used_unlabelled_", "guard_scores_")

_ACCEPT_SPARSE = ["csr", "csc"]


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

    A ``fit`` is four steps, each readable and testable alone::

        data = self._encode(X, y, sample_weight, validation, incremental)
        plan = fit_plan(params, data, previous, hidden_layers, loss, incremental)
        state = plan.start(previous)          # copies, never the fitted objects
        outcome = plan.run(state, data, task)
        self._commit(data, plan, state, outcome)   # the one write

    Subclasses define how targets are encoded (``_fit_encoder``,
    ``_encode_targets``), decoded (``_decode``) and the prediction methods.
    Everything else (validation, the plan, warm start, ``partial_fit``,
    the semi-supervised guard, inference) lives here, once.
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

    # Whether ``_commit`` reads the training targets as encoded (the tabular
    # blend): otherwise training keeps them only in the dtype it reads them in.
    _commit_reads_targets = False

    @abstractmethod
    def __init__(self):
        pass

    # ------------------------------------------------------------------
    # What subclasses define: targets in and out
    # ------------------------------------------------------------------
    @abstractmethod
    def _fit_encoder(self, y, classes, sample_weight):
        """The target encoder of a first pass, fitted on raw targets ``y``."""

    @abstractmethod
    def _encode_targets(self, encoder, y, sample_weight, first_pass, name="y"):
        """Raw targets ``y`` as the float matrix the network trains on."""

    @abstractmethod
    def _decode(self, encoder, loss, scores):
        """Predictions (``predict``'s) from raw output scores."""

    def _loss_name(self, encoder):
        """Registry name of the loss for targets encoded by ``encoder``."""
        return encoder.loss_name

    def _hidden_layer_sizes(self):
        return hidden_layer_sizes(self.hidden_layer_sizes)

    def _hidden_layers(self):
        """The hidden part of the network: ``layers``, or Dense (and Dropout)
        layers from ``hidden_layer_sizes``, ``activation`` and ``dropout``."""
        if self.layers is None:
            return hidden_dense_layers(self._hidden_layer_sizes(), self.activation, self.dropout)
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(type(self).__init__).parameters.items()
        }
        check_layers_alone(self.get_params(deep=False), defaults)
        return check_layers(self.layers)

    def _class_weighted(self, encoder, Y, sample_weight, incremental):
        """``(sample_weight with class weights, fitted class counts, factor table)``
        (classifier; the others have no class weights)."""
        return sample_weight, {}, None

    def _check_warm_start_targets(self, encoder, y):
        """Refuse targets a warm-started fit cannot continue on (classifier)."""

    def _encoded_attributes(self, encoder):
        """Fitted attributes users read from the target encoder."""
        return {}

    def _plan_attributes(self, plan):
        """Fitted attributes that depend on the plan (the autoencoder's code)."""
        return {}

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @fill_doc(validation=FIT_VALIDATION_PARAMETERS)
    @_fit_context(prefer_skip_nested_validation=True)
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

        A fit is all or nothing: one that raises (bad input, divergence, a
        callback's error, a ``KeyboardInterrupt`` before its first epoch
        completes) leaves a previously fitted model exactly as it was.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (and in the early-stopping
            split). With Dropout or BatchNorm layers, a weight of k is not
            the same as k repeated rows.
        {validation}

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = paired_validation_data(X_val, y_val, sample_weight_val)
        y = plain_targets(y)
        if self.semi_supervised is not None and y is not None:
            return self._fit_semi_supervised(X, y, sample_weight, validation)
        data = self._encode(X, y, sample_weight, validation, incremental=False)
        return self._fit_data(data, incremental=False)

    def _partial_fit(self, X, y, sample_weight, classes=None):
        """``partial_fit``: one epoch over the batch, continuing the model."""
        y = plain_targets(y)
        data = self._encode(X, y, sample_weight, None, incremental=True, classes=classes)
        if data.X.shape[0] == 0 and data.unlabelled is None:
            return self  # labelled_only, and no label in the batch: nothing to learn
        return self._fit_data(data, incremental=True)

    def _check_stochastic_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic solvers "
                f"{STOCHASTIC_SOLVERS}, not solver={self.solver!r}."
            )
        return True

    def _continues(self, incremental):
        """Whether this call continues the fitted model (warm_start, partial_fit)."""
        return hasattr(self, "network_") and (incremental or self.warm_start)

    def _previous(self, incremental):
        """The fitted state this call continues, or None (read, never changed)."""
        if not self._continues(incremental):
            return None
        state = TrainingState(
            self.network_, self._trained_architecture, self._random_state, self._optimizer,
            self._schedule, self._unlabelled_state,
            dict(
                best_loss=self.best_loss_, no_improvement_count=self._no_improvement_count,
                validation_scores=self.validation_scores_, best_validation_score=self.best_validation_score_,
            ),
            self.history_, self.loss_curve_, self.t_,
        )
        state.loss = getattr(self, "loss_", None)
        return state

    def _plan(self, data, previous, incremental, params=None):
        """The fit plan of ``data`` (every configuration error raised here)."""
        params = self.get_params(deep=False) if params is None else params
        hidden = self._hidden_layers()
        return fit_plan(params, data, previous, hidden, self._loss_name(data.encoder), incremental)

    def _train(self, plan, previous, data, task=None, judge=None, interruptible=True):
        """Start and run ``plan``: the trained state and the outcome (nothing written)."""
        state = plan.start(previous)
        if task is not None:
            # The model callbacks see at the end of an epoch: the fitted
            # attributes this fit would commit, with a copy of that epoch's
            # network.
            def epoch_attributes(network, epoch):
                attributes = self._fitted_attributes(data, plan, state)
                attributes.update(_inference=(network, plan.loss, data.encoder, plan.inference_shape), n_iter_=epoch)
                return attributes

            task.epoch_attributes = epoch_attributes
        check_representable(data.X, plan.dtype)
        if not self._commit_reads_targets:
            # The float64 targets go before the network's batch buffers come.
            data.Y = plan.training_targets(data.Y)
        # Overflow, 0/0 and x/0 (the Poisson loss of an output that
        # underflowed) end in a non-finite loss, which FiniteCheck reports.
        with (
            fit_blas_threads(plan.largest_product_flops(max(data.X.shape[0], 1))),
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            outcome = plan.run(state, data, task, judge, interruptible)
        return state, outcome

    def _max_epochs(self, plan):
        """Epochs a fit may report to callbacks (lbfgs: iterations, plus the
        one begun when scipy stops)."""
        return plan.max_epochs + 1 if plan.lbfgs else plan.max_epochs

    def _fit_data(self, data, incremental):
        """Plan, train and commit a supervised call."""
        previous = self._previous(incremental)
        plan = self._plan(data, previous, incremental)
        with self._reported(data, plan) as task:
            state, outcome = self._train(plan, previous, data, task)
            self._commit(data, plan, state, outcome)
        return self

    @contextmanager
    def _reported(self, data, plan, phases=1):
        """The callbacks' root task of a fit (None without callbacks).

        The task ends after the commit (callbacks see the fitted model); a
        callback that raises there undoes the commit, so the fit is still
        all or nothing. ``phases``: how many trainings may report epochs.
        """
        before = dict(self.__dict__)
        try:
            with fit_task(self, *data.given, phases * self._max_epochs(plan)) as task:
                yield task
        except BaseException:
            for name in set(self.__dict__) - set(before) - set(CALLBACK_ATTRIBUTES):
                del self.__dict__[name]
            self.__dict__.update({k: v for k, v in before.items() if k not in CALLBACK_ATTRIBUTES})
            raise

    def _fit_semi_supervised(self, X, y, sample_weight, validation):
        """``fit`` with ``semi_supervised``: the guarded semi-supervised fit.

        With ``supervised_fallback``, a supervised trial on 80% of the
        labelled rows sets the bar the semi-supervised network must reach
        on the other 20%, which it trains on as unlabelled rows; below the
        bar, the model is fitted on the labelled rows alone. A callback's
        stop ends the fit (no fallback); an interrupt in any phase ends the
        whole fit.
        """
        X, y = indexable(X, y)
        mask = unlabelled_mask(y, marking(self))
        check_labelled(y, mask, marking(self))
        data = self._encode(X, y, sample_weight, validation, incremental=False, mask=mask)
        previous = self._previous(incremental=False)
        plan = self._plan(data, previous, incremental=False)
        X_unlabelled = data.X_unlabelled
        judge = None
        if data.unlabelled is not None and self.supervised_fallback:
            judge = self._guard_judge(data, mask)
        # The fallback, when it runs, reports its epochs to the same task.
        with self._reported(data, plan, phases=1 if judge is None else 2) as task:
            state, outcome = self._train(plan, previous, data, task, judge)
            used = data.unlabelled is not None
            if judge is not None and judge.passed is False and not outcome.stopped_by_callback:
                data = data.labelled_only()
                plan = self._plan(data, previous, incremental=False)
                state, outcome = self._train(plan, previous, data, task)
                used = False
            predicted = None
            if mask.any():
                scores = state.network.output(X_unlabelled, chunk_rows=plan.chunk_rows, out_dtype=X_unlabelled.dtype)
                predicted = self._decode(data.encoder, plan.loss, scores)
            semi_supervised = {
                "used_unlabelled_": used,
                "guard_scores_": None if judge is None else judge.scores,
                "transduction_": transduction(y, mask, predicted),
            }
            self._commit(data, plan, state, outcome, semi_supervised)
        return self

    def _guard_judge(self, data, mask):
        """The guard's judge, after its supervised trial; None when too few
        labels to hold out.

        The trial trains the network, from scratch and without callbacks,
        on the labelled rows less 20% held out (stratified) and scores it
        (accuracy, or R²) on the held-out rows: the bar of
        :class:`~skann.semi_supervised.HeldOutJudge`. It gets ``fit``'s
        validation data, if any. An interrupt ends the whole fit.
        """
        params = self.get_params(deep=False)
        strata = data.encoder.stratification(data.Y)
        split = guard_split(data.X, data.Y, data.sample_weight, strata, check_random_state(params["random_state"]))
        if split is None:
            return None
        train, held_out = split
        trial_params = dict(params, semi_supervised=None, verbose=False)
        trial_data = data.labelled_rows(train)
        plan = self._plan(trial_data, None, incremental=False, params=trial_params)
        state, _ = self._train(plan, None, trial_data, interruptible=False)
        weight = None if data.sample_weight is None else data.sample_weight[held_out]
        evaluate = evaluator(plan.loss, data.encoder, data.X[held_out], data.Y[held_out], weight, plan.chunk_rows)
        labelled = np.flatnonzero(~mask)
        return HeldOutJudge(labelled[held_out], held_out, weight, float(evaluate(state.network)[1]))

    # ------------------------------------------------------------------
    # Step 1: validated, encoded data
    # ------------------------------------------------------------------
    def _encode(self, X, y, sample_weight, validation, incremental, classes=None, mask=None, first_pass=None):
        """``FitData`` of a call: validated X, encoded targets, weights.

        Reads the fitted encoders of a continued model; writes nothing.
        """
        if first_pass is None:
            first_pass = not self._continues(incremental)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        given = X, y, sample_weight  # what callbacks see, in the user's terms
        # Before anything indexes y or the weights by X's rows.
        check_consistent_length(X, y)
        X, fitted = self._validated_X(X, first_pass, sample_weight)
        if sample_weight is not None:
            # float64 whatever X's dtype: weights act as ratios, and a
            # float32 cast would turn finite weights above 3.4e38 into inf.
            sample_weight = scale_safe_weights(_check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            ))
        unlabelled = X_unlabelled = None
        n_labelled = X.shape[0]
        if self.semi_supervised is not None:
            if mask is None:
                mask = unlabelled_mask(y, marking(self))
                check_labelled(y, mask, marking(self), classes, incremental)
            if mask.any():
                labelled = np.flatnonzero(~mask)
                if self.semi_supervised != LABELLED_ONLY:
                    unlabelled = (X, np.flatnonzero(mask), sample_weight)
                if not incremental:  # transduction_ predicts them after the fit
                    X_unlabelled = X[np.flatnonzero(mask)]
                X, y = X[labelled], _safe_indexing(y, labelled)
                sample_weight = None if sample_weight is None else sample_weight[labelled]
                n_labelled = len(labelled)
        encoder = None if first_pass else self._target_encoder
        if n_labelled == 0:  # every row unlabelled: encoders need a placeholder target
            y = self._placeholder_target(encoder, y, classes)
        if not first_pass and not incremental:  # warm_start
            self._check_warm_start_targets(encoder, y)
        if first_pass:
            encoder = self._fit_encoder(y, classes, sample_weight)
        Y = self._encode_targets(encoder, y, sample_weight, first_pass)
        Y = Y[:n_labelled]
        if X.shape[0] != Y.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} samples but y has {Y.shape[0]}; they must match."
            )
        sample_weight, counts, table = self._class_weighted(encoder, Y, sample_weight, incremental)
        if table is not None:  # class factors can take the total out of range again
            sample_weight = scale_safe_weights(sample_weight, "class_weight times sample_weight")
        fitted.update(counts)
        if validation is not None:
            validation = self._encoded_validation(validation, encoder, table, X.shape[1], fitted)
        return FitData(X, Y, sample_weight, encoder, unlabelled, validation, given, fitted, X_unlabelled)

    def _validated_X(self, X, first_pass, sample_weight=None):
        """Validated X and, on a first pass, its ``n_features_in_`` and
        ``feature_names_in_`` (to commit; nothing is written here).
        ``sample_weight`` (as given) is for subclasses that fit a
        preprocessing step on X."""
        check_numeric_columns(X)
        if not first_pass:
            X = validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=FLOAT_DTYPES, reset=False)
            return X, {}
        names = feature_names(X)
        X = check_array(X, accept_sparse=_ACCEPT_SPARSE, dtype=FLOAT_DTYPES)
        return X, {"n_features_in_": X.shape[1], "feature_names_in_": names}

    def _encoded_validation(self, validation, encoder, table, n_features, fitted):
        """Validated ``(X, Y, weight)`` of the validation data, encoded as the
        training targets; with ``semi_supervised``, unlabelled rows dropped.

        Validation rows weigh their ``sample_weight_val`` times the training
        rows' class factors, by the same rule as training weights.
        """
        X_val, y_val, sample_weight_val = validation
        check_numeric_columns(X_val, "X_val")
        y_val = plain_targets(y_val)
        if fitted:  # first pass: X_val checked against the training X
            X_val = check_array(X_val, accept_sparse=_ACCEPT_SPARSE, dtype=FLOAT_DTYPES, input_name="X_val")
            if X_val.shape[1] != n_features:
                raise ValueError(
                    f"X_val has {X_val.shape[1]} features, but {type(self).__name__} is "
                    f"expecting {n_features} features as input."
                )
        else:
            X_val = validate_data(self, X_val, accept_sparse=_ACCEPT_SPARSE, dtype=FLOAT_DTYPES, reset=False)
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=np.float64, ensure_non_negative=True
            )
        n_targets = y_val.shape[0] if hasattr(y_val, "shape") else len(y_val)
        if n_targets != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {n_targets}; they must match."
            )
        if self.semi_supervised is not None:
            labelled = np.flatnonzero(~unlabelled_mask(y_val, marking(self)))
            if not len(labelled):
                raise ValueError(
                    "Every row of y_val is marked unlabelled; validation rows need labels."
                )
            X_val, y_val = X_val[labelled], _safe_indexing(y_val, labelled)
            if sample_weight_val is not None:
                sample_weight_val = sample_weight_val[labelled]
        Y_val = self._encode_targets(encoder, y_val, None, False, name="y_val")
        weight = self._validation_weights(encoder, Y_val, sample_weight_val, table)
        return X_val, Y_val, scale_safe_weights(weight, "sample_weight_val")

    def _validation_weights(self, encoder, Y, sample_weight, table):
        """Validation weights (the classifier multiplies class factors in)."""
        return sample_weight

    def _placeholder_target(self, encoder, y, classes):
        """A one-row target that only sets up the encoders (no row is labelled)."""
        shape = np.shape(y)
        return np.zeros((1, shape[1]) if len(shape) == 2 and shape[1] > 1 else 1)

    # ------------------------------------------------------------------
    # Step 5: the one write
    # ------------------------------------------------------------------
    def _commit(self, data, plan, state, outcome, semi_supervised=None):
        """Make ``state`` the fitted model: the one write of fitted attributes.

        An interrupt before the first completed epoch commits nothing and
        is raised again: the previous model stays as it was. Every
        attribute is replaced in one update of the instance's dict, and
        ``predict`` reads the model through one of them (``_inference``),
        so a concurrent ``predict`` sees the old model or the new one.
        """
        if outcome.interrupted and not outcome.records:
            raise KeyboardInterrupt(
                "Training was interrupted before its first epoch completed; the model "
                "was left as it was before this call."
            )
        attributes = self._fitted_attributes(data, plan, state, semi_supervised)
        dropped = [name for name in SEMI_SUPERVISED_ATTRIBUTES if semi_supervised is None]
        if attributes["feature_names_in_"] is None:
            del attributes["feature_names_in_"]
            dropped.append("feature_names_in_")
        self.__dict__.update(attributes)
        for name in dropped:
            self.__dict__.pop(name, None)
        outcome.warn()

    def _fitted_attributes(self, data, plan, state, semi_supervised=None):
        """Every fitted attribute of ``state`` as the model (nothing written)."""
        network, stopping, encoder = state.network, state.stopping, data.encoder
        attributes = {
            "_inference": (network, plan.loss, encoder, plan.inference_shape),
            "_loss": plan.loss,
            "_target_encoder": encoder,
            "_trained_architecture": state.architecture,
            "_random_state": state.random_state,
            "_optimizer": state.optimizer,
            "_schedule": state.schedule,
            "_unlabelled_state": state.unlabelled,
            "n_outputs_": int(network.output_shape[0]),
            "n_layers_": len(network.layers) + 1,
            "out_activation_": plan.loss.output_activation,
            "n_iter_": state.n_iter,
            "t_": state.t,
            "loss_curve_": state.loss_curve,
            "history_": state.history,
            "best_loss_": stopping["best_loss"],
            "_no_improvement_count": stopping["no_improvement_count"],
            "validation_scores_": stopping["validation_scores"],
            "best_validation_score_": stopping["best_validation_score"],
            **data.fitted,
            **self._encoded_attributes(encoder),
            **self._plan_attributes(plan),
            **(semi_supervised or {}),
        }
        attributes.setdefault("n_features_in_", self.__dict__.get("n_features_in_"))
        attributes.setdefault("feature_names_in_", self.__dict__.get("feature_names_in_"))
        if state.loss is not None:
            attributes["loss_"] = state.loss
        return attributes

    def _fit_unfitted(self, X, y, classes=None):
        """A new, untrained model for ``(X, y)``: ``(data, plan, state)``
        (nothing committed; see ``AutoEncoder.init_network``)."""
        data = self._encode(X, y, None, None, incremental=False, classes=classes, first_pass=True)
        plan = self._plan(data, None, incremental=False)
        return data, plan, plan.start(None)

    # ------------------------------------------------------------------
    # Inference: per-call buffers, safe from many threads at once
    # ------------------------------------------------------------------
    def _scores(self, X, start=0, stop=None, reduce=None):
        """Raw scores of layers ``start:stop`` for user X, and the model that
        gave them: ``(scores, (network, loss, encoder, inference_shape))``.

        With ``reduce(scores, inference)``, the scores of each chunk of rows
        are mapped through it and only the results kept (see
        ``_raw_scores``)."""
        X, inference = self._inference_input(X)
        return self._raw_scores(inference, X, start, stop, reduce), inference

    def _inference_input(self, X):
        """Validated X and the fitted model that will read it:
        ``(X, (network, loss, encoder, inference_shape))``.

        A plain float array of the fitted width (``is_plain_rows``) is
        what validation would return unchanged, so it is taken as it is;
        so is nothing else. Models fitted on a DataFrame always validate
        (sklearn warns when X has no column names).
        """
        fitted = self.__dict__
        inference = fitted.get("_inference")
        if (
            inference is not None
            and "feature_names_in_" not in fitted
            and is_plain_rows(X, fitted.get("n_features_in_"))
        ):
            return X, inference
        check_is_fitted(self, "network_")
        # Numeric X as it is: the network casts it chunk by chunk.
        X = validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=inference_dtype(X), reset=False)
        return X, self._inference

    @property
    def network_(self):
        """The fitted network of the engine (:class:`skann.nn.Network`): its
        layers, flat parameter buffers, and ``output(X, stop=k)``, the output
        of the first ``k`` layers, such as a Conv2D layer's feature maps."""
        try:
            return self.__dict__["_inference"][0]
        except KeyError:
            raise AttributeError(f"This {type(self).__name__} has no network_: it is not fitted.") from None

    @network_.setter
    def network_(self, network):
        # The network and what decodes its outputs are one attribute, so that
        # predict reads a whole model even while another thread refits.
        _, loss, encoder, shape = self._inference
        self._inference = (network, loss, encoder, shape)

    def _chunk_rows(self, dtype, inference=None):
        """Rows per inference chunk (fewer for image networks, within sklearn's
        ``working_memory`` of the call; see ``_architecture.predict_chunk_rows``)."""
        values_per_row, images = (self._inference if inference is None else inference)[3]
        itemsize = dtype.itemsize if isinstance(dtype, np.dtype) else np.dtype(dtype).itemsize
        return predict_chunk_rows(values_per_row, itemsize, images)

    def _raw_scores(self, inference, X, start=0, stop=None, reduce=None):
        """Raw scores of layers ``start:stop`` for validated X, in X's dtype
        (float64 for integer X).

        Rows stay rows: image outputs (an encoder's) are flattened. With
        ``reduce(scores, inference)``, each chunk's scores are mapped through
        it and the results concatenated: memory is bounded by the chunk.
        """
        network = inference[0]
        chunk_rows = self._chunk_rows(network.dtype, inference)

        def checked(scores):
            # Finite X can overflow inside the network (values near 1e154 and
            # above square past float64's range): refuse rather than warn and
            # return inf or NaN.
            check_finite_output(self, scores, X)
            scores = scores.reshape(scores.shape[0], -1) if scores.ndim > 2 else scores
            return scores if reduce is None else reduce(scores, inference)

        with np.errstate(over="ignore", invalid="ignore"):
            if reduce is None:
                return checked(network.output(X, start, stop, chunk_rows=chunk_rows, out_dtype=scores_dtype(X)))
            return network.output(X, start, stop, chunk_rows=chunk_rows, out_dtype=scores_dtype(X), reduce=checked)

    def _forward(self, X):
        """Output-activated predictions in the encoded target space, and the model."""
        scores, inference = self._scores(X)
        return inference[1].output(scores, out=scores), inference

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
        state = dict(state)
        check_digest(self, state)
        super().__setstate__(check_version(self, state))
