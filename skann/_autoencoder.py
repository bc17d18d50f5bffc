"""AutoEncoder: a transformer learnt from X alone, and pre-training for MLPs.

The autoencoder is a :class:`~skann._base.BaseNetwork` that regresses X onto
itself through a bottleneck, so fitting, ``partial_fit``, the solvers, warm
start and early stopping are the estimators' own machinery, not a copy.
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._architecture import hidden_dense_layers
from ._base import BaseNetwork, store_init_params
from ._fit_safety import check_finite_output
from ._plan import Outcome
from ._pretraining import check_compatible, copy_encoder, mirrored_decoder
from ._compat import _check_sample_weight, _fit_context, check_array, Interval, validate_data
from ._docstrings import (
    FIT_VALIDATION_PARAMETERS,
    LAYERS_PARAMETERS,
    MLP_ATTRIBUTES,
    MLP_PARAMETERS,
    fill_doc,
)
from ._early_stopping import paired_validation_data
from ._targets import TargetScaler, r2
from ._typing import ArrayLike, MatrixLike, NDArray

if TYPE_CHECKING:
    from typing_extensions import Self

# The MLP parameters from ``activation`` on mean the same here; the
# autoencoder documents ``hidden_layer_sizes`` itself.
_SHARED_PARAMETERS = MLP_PARAMETERS[MLP_PARAMETERS.index("activation :") :]

_ACCEPT_SPARSE = ["csr", "csc"]
_FLOAT_DTYPES = (np.float64, np.float32)


@fill_doc(
    parameters=_SHARED_PARAMETERS,
    attributes=MLP_ATTRIBUTES,
    layers_parameters=LAYERS_PARAMETERS.format(
        layers_role=(
            "Here the layers are the encoder,\n"
            "        and the code is its output, flattened. The decoder is a Flatten,\n"
            "        then the encoder's Dense layers but the last, in reverse order\n"
            "        (same units and activations), then the output layer of\n"
            "        ``n_features_in_`` units. "
        )
    ),
)
class AutoEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNetwork):
    """Autoencoder: a neural network that learns a compact code for X.

    An encoder of hidden layers of widths ``hidden_layer_sizes`` maps X to a
    code (the last of them); a decoder mirroring the encoder maps the code
    back to X. Both are trained together to reconstruct X with the squared
    error, on features standardised inside the estimator
    (``scale_target=True``) so that every feature counts equally.
    ``transform`` returns the code, ``inverse_transform`` decodes codes.

    The encoder is also a pre-trained start for a classifier or regressor
    trained on few labels: see :meth:`init_network`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_encoder_layers,), \
default=(100, 16)
        Widths of the encoder's hidden layers; the last one is the code
        (the number of output features of ``transform``). The decoder has
        the same widths in reverse order (without repeating the code), then
        an output layer of ``n_features_in_`` units. An int is one layer.

    {parameters}

    scale_target : bool, default=True
        Reconstruct standardised features (each feature's mean removed and
        divided by its standard deviation, learnt on the first ``fit`` /
        ``partial_fit`` call) instead of raw ones, so that features of large
        variance do not dominate the loss. ``inverse_transform`` undoes the
        scaling. The input of the encoder is not scaled: standardise X
        beforehand (e.g. ``StandardScaler`` in a pipeline), as for any MLP.

    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the encoder's
        input (in the units of X) in every training step, while the target
        stays the clean X: a denoising autoencoder, whose codes are usually
        the better start for a classifier (see :meth:`init_network`). The
        stochastic solvers draw new noise for every minibatch; lbfgs draws
        it once per ``fit``. 0 trains a plain autoencoder.

    {layers_parameters}

    Attributes
    ----------
    target_mean_ : ndarray of shape (`n_features_in_`,)
        Offset removed from each reconstructed feature (zeros without
        ``scale_target``).

    target_scale_ : ndarray of shape (`n_features_in_`,)
        Factor each reconstructed feature was divided by.

    {attributes}

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    MLPClassifier : A classifier that can start from the encoder.

    Notes
    -----
    The network has layer widths ``[n_features, h_1, ..., h_k, ...,
    h_1, n_features]`` with ``h_k`` the code width; every hidden layer,
    the code included, uses ``activation``, and the output is linear. The
    loss of a batch of :math:`n` rows is

    .. math:: \\frac{{1}}{{2n}} \\sum_i \\lVert z_i - g(f(x_i)) \\rVert^2
              + \\frac{{\\alpha}}{{2n}} \\lVert W \\rVert^2,

    with :math:`z_i` the standardised row, :math:`f` the encoder and
    :math:`g` the decoder. :meth:`score` is the coefficient of
    determination :math:`R^2` of the reconstruction, averaged over features.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skann import AutoEncoder
    >>> X = StandardScaler().fit_transform(load_digits().data)
    >>> ae = AutoEncoder(hidden_layer_sizes=(64, 16), max_iter=30, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 16)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:3].tolist()
    ['autoencoder0', 'autoencoder1', 'autoencoder2']
    >>> ae.score(X) > 0.5
    True
    """

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "scale_target": ["boolean"],
        "noise": [Interval(Real, 0, None, closed="left")],
    }

    # Reconstruction has no labels to leave out: BaseNetwork's semi-supervised
    # training never applies; nor does augmentation, which would move the
    # input away from its reconstruction target.
    semi_supervised = None
    augment = None

    def __init__(
        self,
        hidden_layer_sizes=(100, 16),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        monitor="val_loss",
        weight_decay=0.01,
        warmup_epochs=0,
        clip_grad_norm=None,
        dtype="auto",
        scale_target=True,
        noise=0.0,
        layers=None,
        input_shape=None,
        dropout=0.0,
    ):
        store_init_params(self, locals())

    # ------------------------------------------------------------------
    # BaseNetwork hooks: a regressor of X onto standardised X
    # ------------------------------------------------------------------
    def _loss_name(self, encoder):
        return "squared_error"

    def _encoder_sizes(self):
        return super()._hidden_layer_sizes()

    def _hidden_layer_sizes(self):
        encoder = self._encoder_sizes()
        return encoder + encoder[-2::-1]

    def _encoder_layers(self):
        """The encoder's layers (a Dropout after each Dense with ``dropout``)."""
        if self.layers is None:
            return hidden_dense_layers(self._encoder_sizes(), self.activation, self.dropout)
        return super()._hidden_layers()

    def _hidden_layers(self):
        if self.layers is None:
            return super()._hidden_layers()
        encoder = self._encoder_layers()
        return encoder + mirrored_decoder(encoder)

    def _plan_attributes(self, plan):
        depth = len(self._encoder_layers())
        return {"_code_layers": (depth, int(np.prod(plan.network_plan.shapes[depth])))}

    def _fit_encoder(self, y, classes, sample_weight):
        # ``y`` is X itself (validated as X already).
        target = _dense(check_array(y, accept_sparse=True, dtype=_FLOAT_DTYPES))
        return TargetScaler.fit(target, sample_weight, self.scale_target)

    def _encode_targets(self, encoder, y, sample_weight, first_pass, name="y"):
        return encoder.encode(_dense(check_array(y, accept_sparse=True, dtype=_FLOAT_DTYPES)))

    def _decode(self, encoder, loss, scores):
        with np.errstate(over="ignore", invalid="ignore"):
            decoded = loss.output(scores, out=scores)
            decoded *= encoder.scale
            decoded += encoder.mean
        return decoded

    def _encoded_attributes(self, encoder):
        return {"target_mean_": encoder.mean, "target_scale_": encoder.scale}

    @property
    def _n_features_out(self):
        check_is_fitted(self, "network_")
        return self._code_layers[1]

    @property
    def _n_encoder_layers(self):
        return self._code_layers[0]

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @fill_doc(validation=FIT_VALIDATION_PARAMETERS)
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: MatrixLike,
        y: None = None,
        sample_weight: ArrayLike | None = None,
        *,
        X_val: MatrixLike | None = None,
        y_val: None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> Self:
        """Fit the autoencoder to reconstruct X.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data. Sparse X is accepted; its reconstruction target
            is densified.
        y : None
            Ignored, as is ``y_val``: the autoencoder's validation data
            are ``X_val`` alone, reconstructed like X.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the reconstruction loss.
        {validation}

        Returns
        -------
        self : object
            The fitted autoencoder.
        """
        validation = None
        if X_val is not None or sample_weight_val is not None:
            validation = paired_validation_data(X_val, X_val, sample_weight_val)
        data = self._encode(X, X, sample_weight, validation, incremental=False)
        return self._fit_data(data, incremental=False)

    @available_if(BaseNetwork._check_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: MatrixLike, y: None = None, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Update the autoencoder with one pass (one epoch) over X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
            The updated autoencoder.
        """
        return self._partial_fit(X, X, sample_weight)

    # ------------------------------------------------------------------
    # Transforming
    # ------------------------------------------------------------------
    def transform(self, X: MatrixLike) -> NDArray:
        """Encode X: the activations of the code layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, code_size)
            In X's float dtype.
        """
        return self._scores(X, stop=self._n_encoder_layers)[0]

    def inverse_transform(self, X: ArrayLike) -> NDArray:
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, code_size)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, `n_features_in_`)
            In the codes' float dtype.
        """
        check_is_fitted(self, "network_")
        codes = check_array(X, dtype=_FLOAT_DTYPES, input_name="X")
        n_codes = self._n_features_out
        if codes.shape[1] != n_codes:
            raise ValueError(
                f"X has {codes.shape[1]} features, but inverse_transform expects "
                f"codes of {n_codes} features (the code layer's width)."
            )
        inference = self._inference
        scores = self._raw_scores(inference, codes, start=self._n_encoder_layers)
        decoded = self._decode(inference[2], inference[1], scores)
        check_finite_output(self, decoded, codes)
        return decoded

    def score(self, X: MatrixLike, y: None = None, sample_weight: ArrayLike | None = None) -> float:
        """Coefficient of determination R² of the reconstruction of X.

        Each feature's R² (on the scale the network reconstructs) is
        computed as :func:`sklearn.metrics.r2_score` does, and the mean over
        features is returned: 1 is a perfect reconstruction, 0 is no better
        than predicting each feature's mean.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "network_")
        X = validate_data(
            self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_FLOAT_DTYPES, reset=False
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        inference = self._inference
        scores = self._raw_scores(inference, X)
        prediction = inference[1].output(scores, out=scores)
        return r2(inference[2].encode(_dense(X)), prediction, sample_weight)

    # ------------------------------------------------------------------
    # Pre-training other networks
    # ------------------------------------------------------------------
    def init_network(
        self, estimator: BaseNetwork, X: MatrixLike, y: ArrayLike, classes: ArrayLike | None = None
    ) -> BaseNetwork:
        """Start ``estimator``'s first hidden layers from this encoder.

        Builds ``estimator``'s network for ``(X, y)`` without training it,
        copies the encoder's weights and biases (and BatchNorm running
        statistics) into its first layers, one per encoder layer (the other
        layers keep their random initialisation) and sets
        ``warm_start=True``, so that
        the next ``estimator.fit(X, y)`` fine-tunes the whole network from
        there instead of starting afresh.

        Parameters
        ----------
        estimator : MLPClassifier, MLPRegressor or AutoEncoder
            Unfitted or fitted; its ``hidden_layer_sizes`` must begin with
            this encoder's ``hidden_layer_sizes`` and its ``activation``
            and ``dropout`` must be the same; with ``layers=``, its first
            layers must be the encoder's (same classes and parameters,
            a ``ValueError`` otherwise). It is modified in place.
        X : {array-like, sparse matrix} of shape (n_samples, `n_features_in_`)
            Training data of ``estimator``, preprocessed as the data the
            autoencoder was fit on.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: they fix the output layer (classes, number of outputs).
        classes : array-like of shape (n_classes,), default=None
            For classifiers: every label the model will ever see, as in
            ``partial_fit``; by default the labels in ``y``.

        Returns
        -------
        estimator : object
            ``estimator``, initialised and with ``warm_start=True``.

        Notes
        -----
        Fitted networks are not parameters, so ``clone`` (and hence
        ``GridSearchCV`` and ``cross_validate``) returns ``estimator``
        without them: initialise the estimator you fit. To pre-train inside
        a cross-validation loop, fit the autoencoder on unlabelled data
        outside it and call this method in your own loop.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skann import AutoEncoder, MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> X = StandardScaler().fit_transform(X)
        >>> ae = AutoEncoder(hidden_layer_sizes=(16, 4), random_state=0).fit(X)
        >>> clf = MLPClassifier(hidden_layer_sizes=(16, 4), max_iter=300, random_state=0)
        >>> clf = ae.init_network(clf, X, y)
        >>> bool((clf.coefs_[1] == ae.coefs_[1]).all()), clf.warm_start
        (True, True)
        >>> clf.fit(X, y).score(X, y) > 0.95
        True
        """
        check_is_fitted(self, "network_")
        check_compatible(self, estimator)
        estimator._validate_params()
        # Everything is built aside and checked before the estimator is
        # changed: a call that fails leaves it exactly as it was.
        data, plan, state = estimator._fit_unfitted(X, y, classes)
        copy_encoder(self.network_, self._n_encoder_layers, state.network, type(estimator).__name__)
        estimator._commit(data, plan, state, Outcome([]))
        return estimator.set_params(warm_start=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = False
        return tags


def _dense(X):
    """A float64 dense copy of validated X."""
    if sp.issparse(X):
        return X.toarray().astype(np.float64, copy=False)
    return np.array(X, dtype=np.float64)
