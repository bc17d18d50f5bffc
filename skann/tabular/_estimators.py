"""TabularClassifier and TabularRegressor: MLPs for tables, with a recipe
measured on real data as their defaults.

They are :class:`~skann.MLPClassifier` and :class:`~skann.MLPRegressor`
with one more step in front of the fit: a :class:`TabularPreprocessor`
fitted on the training table, whose fitted state the network's input
layers (category and numeric embeddings) are built from. Everything else
(the fit plan, early stopping and the restore of the best epoch,
``class_weight``, ``X_val``, callbacks, semi-supervised methods) is the
MLPs' own code.
"""

from numbers import Integral, Real

from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._base import store_init_params
from .._classifier import MLPClassifier
from .._compat import Interval, StrOptions
from .._plan import fit_plan
from .._regressor import MLPRegressor
from ..nn.layers import CategoryEmbedding, NumericEmbedding, Scale
from ._blend import blend_kind, blended_scores, fit_blend
from ._preprocessing import TabularPreprocessor, validated_table
from ._split import split_by_weight

__all__ = ["TabularClassifier", "TabularRegressor"]

# The internal validation split needs at least this many rows to hold
# out enough of them to pick an epoch; below, the fit trains max_iter
# epochs on every row.
MIN_ROWS_TO_SPLIT = 30

TABULAR_CONSTRAINTS = {
    "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
    "max_onehot": [Interval(Integral, 0, None, closed="left")],
    "embedding_dim": [Interval(Integral, 1, None, closed="left")],
    "numeric_embedding": ["boolean"],
    "scaling_layer": ["boolean"],
    "clip_value": [Interval(Real, 0, None, closed="neither"), None],
    "linear_blend": ["boolean"],
}


class TabularMixin:
    """What the Tabular estimators add to the MLPs: the preprocessing step
    and the input layers built from it."""

    # The linear blend is fitted, at the commit, on the float64 targets.
    _commit_reads_targets = True

    def _preprocessor(self):
        return TabularPreprocessor(
            categorical_features=self.categorical_features, max_onehot=self.max_onehot,
            clip_value=self.clip_value, dtype="float64",
        )

    # ------------------------------------------------------------------
    # Fit: X through the preprocessor
    # ------------------------------------------------------------------
    def _validated_X(self, X, first_pass, sample_weight=None):
        """The encoded table and, on a first pass, the fitted preprocessor
        with ``n_features_in_`` / ``feature_names_in_`` (nothing written)."""
        if not first_pass:  # warm_start and partial_fit keep the first preprocessing
            return self.preprocessor_._encoded(validated_table(self, X, reset=False)), {}
        preprocessor = self._preprocessor().fit(X, sample_weight=sample_weight)
        fitted = {
            "preprocessor_": preprocessor,
            "n_features_in_": preprocessor.n_features_in_,
            "feature_names_in_": getattr(preprocessor, "feature_names_in_", None),
        }
        return preprocessor._encoded(validated_table(preprocessor, X, reset=False)), fitted

    def _encode(self, X, y, sample_weight, validation, incremental, classes=None, mask=None, first_pass=None):
        """The MLPs' encoded data, with the internal validation split made
        here (see ``_split``) when early stopping has no ``X_val``."""
        data = super()._encode(X, y, sample_weight, validation, incremental, classes, mask, first_pass)
        if (
            incremental or data.validation is not None or not self.early_stopping
            or not 0 < self.validation_fraction < 1 or data.X.shape[0] < MIN_ROWS_TO_SPLIT
        ):
            return data
        return split_by_weight(data, self.validation_fraction, check_random_state(self.random_state))

    def _encoded_validation(self, validation, encoder, table, n_features, fitted):
        X_val, y_val, weight = validation
        preprocessor = fitted.get("preprocessor_") or self.preprocessor_
        X_val = preprocessor._encoded(validated_table(preprocessor, X_val, reset=False))
        # The encoded X_val is checked against the encoded X (its width).
        return super()._encoded_validation((X_val, y_val, weight), encoder, table, n_features, {"encoded": True})

    def _input_layers(self, preprocessor):
        """Embeddings and scaling in front of the hidden layers."""
        layers = []
        if len(preprocessor.embedding_cardinalities_):
            layers.append(CategoryEmbedding(preprocessor.embedding_cardinalities_.tolist(), self.embedding_dim))
        n_numeric = len(preprocessor.medians_)  # the scaled numeric columns come first
        if self.numeric_embedding and n_numeric:
            layers.append(NumericEmbedding(n_columns=n_numeric))
        if self.scaling_layer:
            layers.append(Scale())
        return layers

    def _plan(self, data, previous, incremental, params=None):
        params = dict(self.get_params(deep=False) if params is None else params)
        params.update(input_shape=None, augment=None)
        if params["early_stopping"] and data.validation is None and data.X.shape[0] < MIN_ROWS_TO_SPLIT:
            params["early_stopping"] = False
        preprocessor = data.fitted.get("preprocessor_") or self.preprocessor_
        hidden = [*self._input_layers(preprocessor), *self._hidden_layers()]
        return fit_plan(params, data, previous, hidden, self._loss_name(data.encoder), incremental)

    def _commit(self, data, plan, state, outcome, semi_supervised=None):
        """The MLPs' commit, with the linear blend (``_blend``) fitted first
        and committed in the same update. ``partial_fit`` calls (no
        validation data) and ``linear_blend=False`` commit no blend."""
        if not (outcome.interrupted and not outcome.records):
            blend = {"linear_model_": None, "linear_weight_": 0.0}
            if self.linear_blend:
                inference = (state.network, plan.loss, data.encoder, plan.inference_shape)
                blend = fit_blend(data, plan.loss, lambda X: self._raw_scores(inference, X))
            data.fitted = {**data.fitted, **blend}
        super()._commit(data, plan, state, outcome, semi_supervised)

    # ------------------------------------------------------------------
    # Inference: one read of the model, then the preprocessor and network
    # ------------------------------------------------------------------
    def _scores(self, X, start=0, stop=None, reduce=None):
        check_is_fitted(self, "network_")
        # One copy of the attributes: a refit in another thread commits the
        # preprocessor, the network and the blend in one update, so they match.
        model = self.__dict__.copy()
        inference, preprocessor = model["_inference"], model["preprocessor_"]
        encoded = preprocessor._encoded(validated_table(self, X, reset=False))
        linear, w = model.get("linear_model_"), model.get("linear_weight_", 0.0)
        if linear is None or w == 0 or start != 0 or stop is not None:
            return self._raw_scores(inference, encoded, start, stop, reduce), inference
        scores = blended_scores(
            self._raw_scores(inference, encoded), blend_kind(inference[2], inference[1]), linear, w, encoded,
        )
        return (scores if reduce is None else reduce(scores, inference)), inference

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


# Defaults shared by both estimators (see docs/tabular.rst for the
# measurements behind them).
DEFAULTS = {
    "hidden_layer_sizes": (256, 256),
    "activation": "relu",
    "solver": "adam",
    "alpha": 0.5,
    "batch_size": "auto",
    "learning_rate": "cosine",
    "learning_rate_init": 1e-3,
    "max_iter": 100,
    "early_stopping": True,
    "validation_fraction": 0.2,
    "n_iter_no_change": 20,
    "warmup_epochs": 3,
    "dtype": "float32",
}


class TabularClassifier(TabularMixin, MLPClassifier):
    """Neural network classifier for tables: frames in, a tuned recipe.

    Takes pandas or polars frames (numeric, categorical, object, string
    and boolean columns, missing values) or numpy arrays. A
    :class:`TabularPreprocessor` fitted in ``fit`` scales numeric columns
    robustly and clips them smoothly, flags missing values, one-hot
    encodes small categorical columns and gives larger ones learned
    embeddings; unknown categories and missing values at predict time are
    encoded, never an error. The network then trains with Adam and an L2 penalty, a cosine
    schedule with warm-up, and keeps the weights of its best epoch on an
    internal stratified validation split (``validation_fraction``).

    Every parameter of :class:`~skann.MLPClassifier` is accepted with the
    same meaning; the defaults differ where listed below.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 256)
    activation : str, default="relu"
    solver : str, default="adam"
    alpha : float, default=0.5
        L2 penalty, divided by the batch's size as in sklearn's MLP.
    batch_size : int or "auto", default="auto"
    learning_rate : str, default="cosine"
    learning_rate_init : float, default=1e-3
    max_iter : int, default=100
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified by class),
        stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best epoch's weights.
        Fits on fewer than 30 rows train ``max_iter`` epochs on every row.
    validation_fraction : float, default=0.2
    n_iter_no_change : int, default=20
    warmup_epochs : int, default=3
    dtype : str, default="float32"
    categorical_features : "from_dtype" or array-like, default="from_dtype"
        Which columns are categorical (see :class:`TabularPreprocessor`).
    max_onehot : int, default=8
        Categorical columns with more categories get an embedding.
    embedding_dim : int, default=8
        Length of each category's learned vector.
    numeric_embedding : bool, default=False
        Periodic embeddings of the numeric columns
        (:class:`~skann.layers.NumericEmbedding`).
    scaling_layer : bool, default=False
        A learned scale per input column (:class:`~skann.layers.Scale`).
    clip_value : float or None, default=3.0
        Bound of the smooth clipping of scaled numeric columns.
    linear_blend : bool, default=True
        Also fit a ``LogisticRegression`` (sklearn's defaults) on the
        preprocessed training rows, with the same sample weights, and
        predict ``(1 - w)`` times the network's probabilities plus ``w``
        times the linear model's, with ``w`` in 0, 0.1, ..., 1 the weight
        of lowest log-loss on the validation rows (the internal split or
        ``X_val``). Without validation rows (``early_stopping=False``,
        fewer than 30 rows), for multilabel targets, or when a class is
        missing from the training rows, ``w`` is 0.
    **mlp_parameters
        The other parameters of :class:`~skann.MLPClassifier` (``tol``,
        ``class_weight``, ``semi_supervised``, ``layers``, ...), at its
        defaults.

    Attributes
    ----------
    preprocessor_ : TabularPreprocessor
        The fitted preprocessing (on the first ``fit`` or ``partial_fit``
        call; later ``partial_fit`` and ``warm_start`` calls reuse it).
    linear_model_ : LogisticRegression or None
        The linear model of the blend (None when ``linear_weight_`` is 0).
    linear_weight_ : float
        Its weight ``w`` in the predictions.
    classes_, history_, n_iter_, best_validation_score_ : see MLPClassifier

    See Also
    --------
    TabularRegressor : The regression counterpart.
    skann.MLPClassifier : sklearn's MLP, drop-in, on numeric matrices.

    Notes
    -----
    ``partial_fit`` fits the preprocessing on its first batch only: later
    batches are scaled with the first batch's medians and quantiles, and
    categories first seen later are encoded as unknown. It has no
    validation rows, so it fits no linear blend and drops the blend of an
    earlier ``fit``: its predictions are the network's alone.

    Examples
    --------
    >>> import pandas as pd
    >>> from skann import TabularClassifier
    >>> X = pd.DataFrame({"age": [25, 32, None, 51, 46, 38] * 20,
    ...                   "plan": pd.Categorical(["a", "b", "a", "c", "b", "c"] * 20)})
    >>> y = (X["plan"] == "b").to_numpy()
    >>> clf = TabularClassifier(random_state=0).fit(X, y)
    >>> clf.score(X, y)
    1.0
    >>> clf.predict(pd.DataFrame({"age": [30.0], "plan": ["unseen"]})).shape
    (1,)
    """

    _parameter_constraints: dict = {**MLPClassifier._parameter_constraints, **TABULAR_CONSTRAINTS}

    def __init__(
        self, hidden_layer_sizes=DEFAULTS["hidden_layer_sizes"], activation=DEFAULTS["activation"], *,
        solver=DEFAULTS["solver"], alpha=DEFAULTS["alpha"], batch_size=DEFAULTS["batch_size"],
        learning_rate=DEFAULTS["learning_rate"], learning_rate_init=DEFAULTS["learning_rate_init"],
        power_t=0.5, max_iter=DEFAULTS["max_iter"], shuffle=True, random_state=None, tol=1e-4,
        verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
        early_stopping=DEFAULTS["early_stopping"], validation_fraction=DEFAULTS["validation_fraction"],
        beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=DEFAULTS["n_iter_no_change"],
        max_fun=15000, monitor="val_loss", weight_decay=0.01,
        warmup_epochs=DEFAULTS["warmup_epochs"], clip_grad_norm=None, class_weight=None,
        dtype=DEFAULTS["dtype"], semi_supervised=None, unlabelled_marker="auto", unsupervised_weight=1.0,
        confidence_threshold=0.6, perturbation_scale=1.0, supervised_fallback=True, layers=None,
        dropout=0.0, categorical_features="from_dtype", max_onehot=8, embedding_dim=8,
        numeric_embedding=False, scaling_layer=False, clip_value=3.0, linear_blend=True,
    ):
        store_init_params(self, locals())


class TabularRegressor(TabularMixin, MLPRegressor):
    """Neural network regressor for tables: frames in, a tuned recipe.

    The regression counterpart of :class:`TabularClassifier`, with the same
    preprocessing, input layers, training recipe and defaults; the target
    is standardised (``scale_target``) and the validation split is random.
    Every parameter of :class:`~skann.MLPRegressor` is accepted.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
    hidden_layer_sizes : tuple of int, default=(256, 256)
    solver : str, default="adam"
    alpha : float, default=0.5
    learning_rate : str, default="cosine"
    learning_rate_init : float, default=1e-3
    max_iter : int, default=100
    early_stopping : bool, default=True
    validation_fraction : float, default=0.2
    n_iter_no_change : int, default=20
    categorical_features : "from_dtype" or array-like, default="from_dtype"
    max_onehot : int, default=8
    embedding_dim : int, default=8
    numeric_embedding : bool, default=False
    scaling_layer : bool, default=False
    clip_value : float or None, default=3.0
    linear_blend : bool, default=True
        As in :class:`TabularClassifier`, with a ``Ridge`` (sklearn's
        defaults), values blended and the squared error on the validation
        rows choosing ``w``; ``loss="poisson"`` fits no blend.
    **mlp_parameters
        As :class:`TabularClassifier` and :class:`~skann.MLPRegressor`.

    Attributes
    ----------
    preprocessor_ : TabularPreprocessor
        The fitted preprocessing.
    linear_model_ : Ridge or None
        The linear model of the blend (None when ``linear_weight_`` is 0).
    linear_weight_ : float
        Its weight ``w`` in the predictions.

    See Also
    --------
    TabularClassifier : Its documentation describes every parameter.

    Examples
    --------
    >>> import pandas as pd
    >>> from skann import TabularRegressor
    >>> X = pd.DataFrame({"size": [50.0, 80.0, 120.0, 65.0] * 30,
    ...                   "city": ["a", "b", "a", "c"] * 30})
    >>> y = X["size"] * 2 + (X["city"] == "b") * 30
    >>> reg = TabularRegressor(random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {**MLPRegressor._parameter_constraints, **TABULAR_CONSTRAINTS}

    def __init__(
        self, loss="squared_error", hidden_layer_sizes=DEFAULTS["hidden_layer_sizes"],
        activation=DEFAULTS["activation"], *, solver=DEFAULTS["solver"], alpha=DEFAULTS["alpha"],
        batch_size=DEFAULTS["batch_size"], learning_rate=DEFAULTS["learning_rate"],
        learning_rate_init=DEFAULTS["learning_rate_init"], power_t=0.5, max_iter=DEFAULTS["max_iter"],
        shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
        nesterovs_momentum=True, early_stopping=DEFAULTS["early_stopping"],
        validation_fraction=DEFAULTS["validation_fraction"], beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        n_iter_no_change=DEFAULTS["n_iter_no_change"], max_fun=15000, monitor="val_loss",
        weight_decay=0.01, warmup_epochs=DEFAULTS["warmup_epochs"], clip_grad_norm=None,
        dtype=DEFAULTS["dtype"], scale_target=True, semi_supervised=None, unlabelled_marker="auto",
        unsupervised_weight=1.0, confidence_threshold=0.6, perturbation_scale=1.0, supervised_fallback=True,
        layers=None, dropout=0.0, categorical_features="from_dtype", max_onehot=8, embedding_dim=8,
        numeric_embedding=False, scaling_layer=False, clip_value=3.0, linear_blend=True,
    ):
        store_init_params(self, locals())

