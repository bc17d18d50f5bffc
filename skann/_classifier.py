"""MLPClassifier: the classification face of the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if

from ._base import BaseNetwork, store_init_params
from ._class_weight import balanced_table, check_combined_weights, class_counts, dict_table, row_weights
from ._compat import StrOptions, _fit_context
from ._docstrings import (
    CLASS_WEIGHT_PARAMETER,
    MLP_ATTRIBUTES,
    AUGMENT_PARAMETER,
    LAYERS_PARAMETERS,
    MLP_PARAMETERS,
    SEMI_SUPERVISED_ATTRIBUTES,
    SEMI_SUPERVISED_PARAMETERS,
    fill_doc,
    insert_before,
)
from ._targets import ClassEncoder, check_finite_labels, plain_targets
from ._typing import ArrayLike, MatrixLike, NDArray
from .semi_supervised import check_labelled, marking, unlabelled_mask

if TYPE_CHECKING:
    from typing_extensions import Self


@fill_doc(
    parameters=insert_before(MLP_PARAMETERS, "dtype :", CLASS_WEIGHT_PARAMETER),
    attributes=MLP_ATTRIBUTES,
    semi_supervised_parameters=SEMI_SUPERVISED_PARAMETERS.format(
        methods='{"auto", "graph", "labelled_only", "pseudo_label", "entropy", "pi_model"}',
        method_list=(
            '"auto": the method the library recommends for the data ("graph"\n'
            '        from 1,000 rows, "pseudo_label" below and for multilabel targets);\n'
            '        "graph": graph-aware consistency, for tables and images alike:\n'
            "        LabelSpreading's soft targets, agreement with a nearest\n"
            "        neighbour, virtual adversarial smoothness and confident,\n"
            "        balanced predictions (runs about 1,000 steps, at most 100\n"
            "        and ``max_iter`` epochs; adam runs at 5x ``learning_rate_init`` with a cosine\n"
            "        decay; ``alpha`` is its L2 strength per step and\n"
            "        ``unsupervised_weight`` scales its terms; in ``partial_fit``\n"
            "        each call's own rows make the graph, and every call needs\n"
            "        labelled rows; unlabelled rows all weigh 1);\n"
            '        "labelled_only": the baseline, the labelled samples alone (the\n'
            "        unlabelled ones are accepted and ignored; any solver);\n"
            '        "pseudo_label": the mean teacher\'s confident predictions on a\n'
            "        weakly perturbed view are targets for a strongly perturbed view\n"
            '        (FixMatch); "entropy": entropy minimisation; "pi_model": two\n'
            "        perturbed views must agree (the Π-model, with a mean teacher)."
        ),
        none_note="then -1 is an ordinary class label",
        auto_marker=(
            "-1 for numeric class labels; string labels need a string\n"
            "        marker (\"auto\" marks none of them)"
        ),
    ),
    semi_supervised_attributes=SEMI_SUPERVISED_ATTRIBUTES,
    layers_parameters=LAYERS_PARAMETERS.format(layers_role=""),
    augment_parameter=AUGMENT_PARAMETER,
)
class MLPClassifier(ClassifierMixin, BaseNetwork):
    """Multi-layer perceptron classifier trained by backpropagation.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`
    (same parameters, defaults and fitted attributes) on skann's numpy
    engine: float32 compute for large networks (see ``dtype``), more
    activations, and clear errors where sklearn is silent. Binary and multilabel targets use logistic
    outputs with the binary log-loss; multiclass targets use a softmax with
    the multiclass log-loss.

    Parameters
    ----------
    {parameters}

    {semi_supervised_parameters}

    {layers_parameters}

    {augment_parameter}

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels (one array per output for multilabel targets, as in
        sklearn).

    {attributes}

    {semi_supervised_attributes}

    See Also
    --------
    MLPRegressor : The regression counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skann import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier(max_iter=300, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)

    A small convolutional network on 8x8 digit images (rows of 64 pixels),
    its first layer's filters reachable as a parameter:

    >>> from sklearn.datasets import load_digits
    >>> from skann.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
    >>> X, y = load_digits(return_X_y=True)
    >>> convnet = MLPClassifier(
    ...     layers=[Conv2D(8, 3, padding="same"), MaxPool2D(2), Flatten(),
    ...             Dense(32), Dropout(0.2)],
    ...     input_shape=(8, 8), max_iter=20, learning_rate_init=0.01, random_state=0,
    ... )
    >>> convnet.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.9
    True
    >>> convnet.get_params()["layers__0__filters"]
    8
    """

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, list, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
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
        class_weight=None,
        dtype="auto",
        semi_supervised=None,
        unlabelled_marker="auto",
        unsupervised_weight=1.0,
        confidence_threshold=0.6,
        perturbation_scale=1.0,
        supervised_fallback=True,
        layers=None,
        input_shape=None,
        dropout=0.0,
        augment=None,
    ):
        store_init_params(self, locals())

    # ------------------------------------------------------------------
    # Targets: labels in and out
    # ------------------------------------------------------------------
    def _fit_encoder(self, y, classes, sample_weight):
        return ClassEncoder.fit(y, classes)

    def _encode_targets(self, encoder, y, sample_weight, first_pass, name="y"):
        # One-hot in uint8: training casts each minibatch to the compute
        # dtype, and the evaluator reads integer targets as float64.
        return encoder.encode(y, sample_weight, check_known=not first_pass, name=name, dtype=np.uint8)

    def _decode(self, encoder, loss, scores):
        # Decide on the raw scores: the argmax (multiclass) and the sign
        # (logistic outputs, p > 0.5 <=> score > 0) need no output activation.
        return encoder.decode_scores(scores)

    def _check_warm_start_targets(self, encoder, y):
        encoder.check_same_classes(y)

    def _placeholder_target(self, encoder, y, classes):
        labels = classes if classes is not None else encoder.classes_
        return np.asarray(labels)[:1]

    def _encoded_attributes(self, encoder):
        return {"classes_": encoder.classes_, "_label_binarizer": encoder.binarizer}

    def _class_weighted(self, encoder, Y, sample_weight, incremental):
        """``sample_weight`` times each row's ``class_weight`` factor.

        "balanced" factors come from the classes' weighted counts in this
        ``fit``'s data, or in every batch given to ``partial_fit`` so far.
        Returns the weights, the class counts to commit, and the factor
        table (validation rows take the training rows' factors).
        """
        if self.class_weight is None:
            return sample_weight, {}, None
        multiclass = encoder.loss_name == "log_loss"
        counts = {}
        if isinstance(self.class_weight, str):  # "balanced"
            batch_counts = class_counts(Y, sample_weight, multiclass)
            previous = getattr(self, "_class_counts", None) if incremental else None
            if previous is not None and previous.shape == batch_counts.shape:
                batch_counts = batch_counts + previous
            counts = {"_class_counts": batch_counts}
            table = balanced_table(batch_counts)
        else:
            table = dict_table(self.class_weight, encoder.classes_, encoder.single_label, Y.shape[1])
        factors = row_weights(Y, table, multiclass)
        with np.errstate(over="ignore", invalid="ignore"):
            weights = factors if sample_weight is None else factors * sample_weight
        check_combined_weights(weights, Y, multiclass, encoder.single_label)
        return weights, counts, table

    def _validation_weights(self, encoder, Y, sample_weight, table):
        if table is None:
            return sample_weight
        factors = row_weights(Y, table, encoder.loss_name == "log_loss")
        return factors if sample_weight is None else factors * sample_weight

    @available_if(BaseNetwork._check_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> Self:
        """Update the model with one pass (one epoch) over the given batch.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every label the model will ever see. Required on the first call,
            ignored afterwards; a later label outside ``classes_`` raises a
            ``ValueError``.

        Returns
        -------
        self : object
            The updated estimator.
        """
        y = plain_targets(y)
        if hasattr(self, "network_") and classes is not None:
            self._check_same_classes(classes)
        if not hasattr(self, "network_"):
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            try:
                labels = np.unique(classes)
            except TypeError as error:  # numpy cannot sort e.g. str and int together
                raise TypeError(
                    f"classes must be labels of one type that sort, e.g. all ints or all "
                    f"strings; got {sorted({type(c).__name__ for c in classes})} ({error})."
                ) from error
            y_checked = np.asarray(y)
            if self.semi_supervised is not None:
                mask = unlabelled_mask(y, marking(self))
                check_labelled(y, mask, marking(self), classes)
                y_checked = y_checked[~mask]
            check_finite_labels(y_checked)
            check_finite_labels(classes)
            if y_checked.ndim == 1:
                unknown = np.setdiff1d(np.unique(y_checked), labels)
                if len(unknown):
                    raise ValueError(
                        f"y contains labels {unknown.tolist()} that are not in "
                        f"classes={labels.tolist()}."
                    )
        return self._partial_fit(X, y, sample_weight, classes)

    def _check_same_classes(self, classes):
        """A later ``partial_fit`` may repeat ``classes=`` but not change it."""
        if self._target_encoder.single_label:
            same = np.array_equal(np.unique(classes), self.classes_)
        else:
            same = len(np.unique(classes)) == len(self.classes_)
        if not same:
            raise ValueError(
                f"classes={np.asarray(classes).tolist()} is not the same as on the "
                f"first call to partial_fit, which gave {np.asarray(self.classes_).tolist()}."
            )

    def predict(self, X: MatrixLike) -> NDArray:
        """Predict class labels (or label sets, for multilabel targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        # Decoded chunk by chunk: the scores of every row at once would take
        # rows x classes x 8 bytes (858 MiB for 100k rows of 1,000 classes).
        labels, _ = self._scores(X, reduce=lambda scores, inference: self._decode(inference[2], inference[1], scores))
        return labels

    def predict_proba(self, X: MatrixLike) -> NDArray:
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. For multilabel targets, each column
            is the independent probability of its label.
        """
        proba, (_, _, encoder, _) = self._forward(X)
        tiny = np.finfo(proba.dtype).tiny
        if encoder.loss_name == "log_loss":
            # A probability that underflowed to 0 becomes the smallest normal
            # number: predict_log_proba stays finite, rows still sum to 1.
            return np.maximum(proba, tiny, out=proba)
        # Independent logistic outputs: keep them strictly inside (0, 1).
        np.clip(proba, tiny, 1 - np.finfo(proba.dtype).epsneg, out=proba)
        if encoder.binarizer.y_type_ == "binary":
            return np.hstack([1 - proba, proba])
        return proba

    def predict_log_proba(self, X: MatrixLike) -> NDArray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        # predict_proba keeps every probability at or above the dtype's
        # smallest normal number, so the logarithm is finite.
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
