"""MLPClassifier: the classification face of the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import BaseNetwork, store_init_params
from ._fit_safety import all_or_nothing
from ._class_weight import balanced_table, class_counts, dict_table, row_weights
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
from ._typing import ArrayLike, MatrixLike, NDArray
from .semi_supervised import check_labelled, unlabelled_mask

if TYPE_CHECKING:
    from typing_extensions import Self


def binarizer_is_single_label(binarizer):
    """Whether the fitted LabelBinarizer encodes one label per sample."""
    return binarizer.y_type_ != "multilabel-indicator"


def check_finite_labels(y):
    """Refuse NaN / infinite labels before sklearn's checks warn on them."""
    y = np.asarray(y)
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError(
            "Input y contains NaN or infinity; every sample needs a class label "
            "(semi_supervised with unlabelled_marker=np.nan trains on unlabelled "
            "samples)."
        )


@fill_doc(
    parameters=insert_before(MLP_PARAMETERS, "dtype :", CLASS_WEIGHT_PARAMETER),
    attributes=MLP_ATTRIBUTES,
    semi_supervised_parameters=SEMI_SUPERVISED_PARAMETERS.format(
        methods='{"labelled_only", "pseudo_label", "entropy", "pi_model"}',
        method_list=(
            '"labelled_only": the baseline, the labelled samples alone (the\n'
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

    @property
    def _loss_name(self):
        binarizer = self._label_binarizer
        if binarizer.y_type_ == "multiclass":
            return "log_loss"
        return "binary_log_loss"

    def _validate_targets(self, y, incremental, classes=None, sample_weight=None):
        y = np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_finite_labels(y)
        check_classification_targets(y)
        if not incremental:
            multilabel = type_of_target(y) == "multilabel-indicator"
            if classes is not None and multilabel:
                # As in sklearn: the classes of a multilabel target are its
                # columns; ``classes=`` must name as many.
                if len(np.unique(classes)) != y.shape[1]:
                    raise ValueError(
                        f"classes={np.asarray(classes).tolist()} names "
                        f"{len(np.unique(classes))} labels but the multilabel y has "
                        f"{y.shape[1]} columns."
                    )
                labels = y
            elif classes is not None:
                labels = np.asarray(classes)
            else:
                labels = y
            binarizer = LabelBinarizer().fit(labels)
            if len(binarizer.classes_) < 2 and binarizer_is_single_label(binarizer):
                raise ValueError(
                    f"MLPClassifier needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {binarizer.classes_[0]!r}."
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        else:
            self._check_known_labels(y)
        Y = self._label_binarizer.transform(y).astype(np.float64, copy=False)
        if sample_weight is not None and binarizer_is_single_label(self._label_binarizer):
            self._check_weighted_classes(Y, sample_weight)
        return Y

    def _class_weighted(self, Y, sample_weight, incremental, validation=False):
        """``sample_weight`` times each row's ``class_weight`` factor.

        "balanced" factors come from the classes' weighted counts in this
        ``fit``'s data, or in every batch given to ``partial_fit`` so far;
        validation rows take the training rows' factors.
        """
        if self.class_weight is None:
            return sample_weight
        multiclass = self._loss_name == "log_loss"
        if validation:
            table = self._class_weight_table
        elif isinstance(self.class_weight, str):  # "balanced"
            counts = class_counts(Y, sample_weight, multiclass)
            previous = getattr(self, "_class_counts", None)
            if incremental and previous is not None and previous.shape == counts.shape:
                counts = counts + previous
            self._class_counts = counts
            table = balanced_table(counts)
        else:
            table = dict_table(
                self.class_weight, self.classes_,
                binarizer_is_single_label(self._label_binarizer), Y.shape[1],
            )
        if not validation:
            self._class_weight_table = table
        factors = row_weights(Y, table, multiclass)
        return factors if sample_weight is None else factors * sample_weight

    def _validate_validation_targets(self, y):
        y = np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy()
        if binarizer_is_single_label(self._label_binarizer) and y.ndim == 1:
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if len(unknown):
                raise ValueError(
                    f"y_val contains labels {unknown.tolist()} that are not in the "
                    f"training labels {self.classes_.tolist()}."
                )
        return self._validate_targets(y, incremental=True)

    def _check_weighted_classes(self, Y, sample_weight):
        weighted = sample_weight > 0
        if Y.shape[1] == 1:
            present = np.unique(Y[weighted, 0])
        else:
            present = np.unique(Y[weighted].argmax(axis=1))
        if len(present) < 2:
            raise ValueError(
                "Only one class has samples with non-zero sample_weight; "
                "MLPClassifier needs samples of at least 2 classes."
            )

    def _check_warm_start_targets(self, y):
        """A warm-started ``fit`` needs exactly the previous fit's classes."""
        if not binarizer_is_single_label(self._label_binarizer):
            return
        y = np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy()
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            return  # _validate_targets reports the shape
        present = np.unique(y)
        if len(present) != len(self.classes_) or np.any(present != self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {self.classes_}, `y` has "
                f"{present}"
            )

    def _check_known_labels(self, y):
        if not binarizer_is_single_label(self._label_binarizer):
            if type_of_target(y) != "multilabel-indicator" or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y must be a multilabel indicator matrix with {len(self.classes_)} "
                    "columns, as in the first fit."
                )
            return
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}. Pass every label to the first "
                "partial_fit call through `classes=`, or call fit instead."
            )

    def _stratification(self, Y):
        if not binarizer_is_single_label(self._label_binarizer):
            return None
        return Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]

    def _score_encoded(self, Y, proba, sample_weight):
        return accuracy_score(
            self._label_binarizer.inverse_transform(Y),
            self._label_binarizer.inverse_transform(proba),
            sample_weight=sample_weight,
        )

    @available_if(BaseNetwork._check_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    @all_or_nothing
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
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
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
                mask = unlabelled_mask(self, y)
                check_labelled(self, y, mask, classes)
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
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _check_same_classes(self, classes):
        """A later ``partial_fit`` may repeat ``classes=`` but not change it."""
        if binarizer_is_single_label(self._label_binarizer):
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
        check_is_fitted(self, "network_")
        # Decide on the raw scores: the argmax (multiclass) and the sign
        # (logistic outputs, p > 0.5 <=> score > 0) need no output activation.
        return self._label_binarizer.inverse_transform(self._scores(X), threshold=0.0)

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
        proba = self._forward(X)
        tiny = np.finfo(proba.dtype).tiny
        if self._loss_name == "log_loss":
            # A probability that underflowed to 0 becomes the smallest normal
            # number: predict_log_proba stays finite, rows still sum to 1.
            return np.maximum(proba, tiny, out=proba)
        # Independent logistic outputs: keep them strictly inside (0, 1).
        np.clip(proba, tiny, 1 - np.finfo(proba.dtype).epsneg, out=proba)
        if self._label_binarizer.y_type_ == "binary":
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
