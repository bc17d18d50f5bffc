"""Target encoders shared by the estimators: labels or values to the float
matrix the network trains on, and back.

An encoder is fitted once (the first ``fit`` / ``partial_fit`` call) and
then only read: it encodes the targets of later calls and of validation
data, scores encoded predictions, and says how early stopping stratifies.
The estimators keep it as a fitted attribute and expose what sklearn users
expect (``classes_``, ``target_mean_``, ``target_scale_``) from it.
"""

import copy
import numbers

import numpy as np
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

__all__ = ["ClassEncoder", "TargetScaler", "r2", "scale_safe_r2_score", "target_scaling"]

# Standard deviations from the target mean that predictions must be able to
# reach without overflowing float64 (see ``TargetScaler.fit``).
PREDICTION_HEADROOM = 8


def _labels_array(y):
    """``y`` as a numpy array (pandas objects through ``to_numpy``)."""
    return y.to_numpy() if hasattr(y, "to_numpy") and hasattr(y, "iloc") else np.asarray(y)


def plain_targets(y):
    """``y`` with Arrow-backed arrays (``pd.array(..., dtype="string[pyarrow]")``,
    pyarrow arrays) as numpy arrays, which sklearn's indexing accepts.

    pandas Series and DataFrames are kept (their row labels and ``iloc``
    indexing work as they are).
    """
    if hasattr(y, "iloc"):
        return y
    if any(hasattr(y, name) for name in ("__arrow_array__", "__arrow_c_array__", "__arrow_c_stream__")):
        return np.asarray(y)
    return y


def is_missing(value):
    """None, pandas' NA and NaT, or a NaN: a label that is not there."""
    return value is None or type(value).__name__ in ("NAType", "NaTType") or (
        isinstance(value, numbers.Real) and value != value
    )


def check_label_values(y):
    """Refuse object labels that are missing (None, ``pd.NA``) or that mix
    numbers and strings, before numpy or sklearn fail on them obscurely."""
    if y.dtype != object or not y.size:
        return
    values = y.ravel()
    missing = np.flatnonzero([is_missing(value) for value in values])
    if len(missing):
        raise ValueError(
            f"y has {len(missing)} missing labels (None, pd.NA or NaN; first at "
            f"position {missing[0]}): every sample needs a class label. Drop those "
            "rows, or set semi_supervised with unlabelled_marker=np.nan to train on "
            "them as unlabelled samples."
        )
    kinds = {"string" if isinstance(value, (str, bytes)) else "number" if isinstance(value, numbers.Number)
             else type(value).__name__ for value in values}
    if len(kinds) > 1:
        types = sorted({type(value).__name__ for value in values})
        raise TypeError(
            f"y mixes labels of types {types}; class labels must be all numbers or "
            "all strings. Convert them to one type, e.g. y.astype(str)."
        )


def check_finite_labels(y):
    """Refuse NaN / infinite labels before sklearn's checks warn on them."""
    y = np.asarray(y)
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError(
            "Input y contains NaN or infinity; every sample needs a class label "
            "(semi_supervised with unlabelled_marker=np.nan trains on unlabelled "
            "samples)."
        )


def _known_one_hot(binarizer, y, dtype):
    """``binarizer.transform(y)`` in ``dtype`` by comparison with the classes,
    for labels already checked known (one column per class, or the positive
    class's for two); None where the binarizer's own transform is needed.

    For 2,000 labels, 13 µs instead of 440 µs (which every ``partial_fit``
    call paid), with no int64 matrix: the comparisons write into the result.
    """
    if y.ndim != 1 or binarizer.sparse_output or (binarizer.neg_label, binarizer.pos_label) != (0, 1):
        return None
    classes = binarizer.classes_
    if binarizer.y_type_ == "multiclass":
        return np.equal(y[:, None], classes, out=np.empty((len(y), len(classes)), dtype))
    if binarizer.y_type_ == "binary" and len(classes) == 2:
        return np.equal(y, classes[1], out=np.empty(len(y), dtype))[:, None]
    return None


class ClassEncoder:
    """Class labels to one-hot (multiclass) or 0/1 columns (binary, multilabel).

    Parameters
    ----------
    binarizer : sklearn.preprocessing.LabelBinarizer
        Fitted.

    Examples
    --------
    >>> from skann._targets import ClassEncoder
    >>> encoder = ClassEncoder.fit(["b", "a", "c", "a"])
    >>> encoder.classes_.tolist(), encoder.loss_name
    (['a', 'b', 'c'], 'log_loss')
    >>> encoder.encode(["c", "a"]).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """

    def __init__(self, binarizer):
        self.binarizer = binarizer

    @classmethod
    def fit(cls, y, classes=None):
        """The encoder of labels ``y`` (or of ``classes``, every label to come)."""
        y = cls._labels(y)
        if classes is not None and type_of_target(y) == "multilabel-indicator":
            # As in sklearn: the classes of a multilabel target are its
            # columns; ``classes=`` must name as many.
            if len(np.unique(classes)) != y.shape[1]:
                raise ValueError(
                    f"classes={np.asarray(classes).tolist()} names "
                    f"{len(np.unique(classes))} labels but the multilabel y has "
                    f"{y.shape[1]} columns."
                )
            labels = y
        else:
            labels = y if classes is None else np.asarray(classes)
        binarizer = LabelBinarizer().fit(labels)
        encoder = cls(binarizer)
        if len(binarizer.classes_) < 2 and encoder.single_label:
            raise ValueError(
                "MLPClassifier needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {binarizer.classes_[0]!r}."
            )
        return encoder

    @staticmethod
    def _labels(y):
        y = _labels_array(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_finite_labels(y)
        check_label_values(y)
        check_classification_targets(y)
        return y

    @property
    def classes_(self):
        return self.binarizer.classes_

    @property
    def single_label(self):
        """Whether each sample has one label (binary or multiclass)."""
        return self.binarizer.y_type_ != "multilabel-indicator"

    @property
    def loss_name(self):
        return "log_loss" if self.binarizer.y_type_ == "multiclass" else "binary_log_loss"

    def encode(self, y, sample_weight=None, check_known=True, name="y", dtype=np.float64):
        """The one-hot target matrix of labels ``y``.

        Parameters
        ----------
        y : array-like
        sample_weight : ndarray or None
            With weights, at least 2 classes must have a non-zero weight.
        check_known : bool, default=True
            Refuse labels outside ``classes_`` (a ``fit`` first pass encodes
            the labels it was fitted on).
        name : str, default="y"
            How error messages call ``y``.
        dtype : dtype, default=np.float64
            The matrix's dtype. Its 0s and 1s are exact in any: the
            classifier keeps them in ``uint8``, an eighth of float64.
        """
        y = self._labels(y)
        if check_known:
            self.check_known(y, name)
        Y = _known_one_hot(self.binarizer, y, dtype) if check_known else None
        if Y is None:
            Y = self._one_hot(y, dtype)
        if sample_weight is not None and self.single_label:
            self._check_weighted_classes(Y, sample_weight)
        return Y

    def _one_hot(self, y, dtype):
        """The binarizer's one-hot matrix of ``y`` in ``dtype``, made from its
        sparse form: never the dense int64 matrix (8 bytes per row and
        class) that its dense transform would build first."""
        binarizer = copy.copy(self.binarizer)  # the fitted one stays as it is
        binarizer.sparse_output = True
        return binarizer.transform(y).astype(dtype).toarray()

    def check_known(self, y, name="y"):
        """Refuse labels the encoder does not know."""
        if not self.single_label:
            if type_of_target(y) != "multilabel-indicator" or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"{name} must be a multilabel indicator matrix with {len(self.classes_)} "
                    "columns, as in the first fit."
                )
            return
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            where = (
                f"the training labels {self.classes_.tolist()}" if name != "y" else
                f"classes_ {self.classes_.tolist()}. Pass every label to the first "
                "partial_fit call through `classes=`, or call fit instead"
            )
            raise ValueError(f"{name} contains labels {unknown.tolist()} that are not in {where}.")

    def check_same_classes(self, y):
        """A warm-started ``fit`` needs exactly the previous fit's classes."""
        if not self.single_label:
            return
        y = _labels_array(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            return  # encode reports the shape
        present = np.unique(y)
        if len(present) != len(self.classes_) or np.any(present != self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {self.classes_}, `y` has "
                f"{present}"
            )

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

    def decode_scores(self, scores):
        """Labels from raw output scores (argmax, or the sign of logistic outputs)."""
        return self.binarizer.inverse_transform(scores, threshold=0.0)

    def score(self, Y, proba, sample_weight):
        """Accuracy of output-activated predictions against encoded targets."""
        return accuracy_score(
            self.binarizer.inverse_transform(Y),
            self.binarizer.inverse_transform(proba),
            sample_weight=sample_weight,
        )

    def stratification(self, Y):
        """Class of each encoded row, for stratified splits (None for multilabel)."""
        if not self.single_label:
            return None
        return Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]


class TargetScaler:
    """Real-valued targets, standardised per column (or divided by their mean).

    Parameters
    ----------
    mean, scale : ndarray of shape (n_outputs,)

    Examples
    --------
    >>> import numpy as np
    >>> from skann._targets import TargetScaler
    >>> scaler = TargetScaler.fit(np.array([[1.0], [3.0]]), None)
    >>> scaler.mean, scaler.scale
    (array([2.]), array([1.]))
    >>> scaler.encode(np.array([[3.0]]))
    array([[1.]])
    """

    loss_name = "squared_error"

    def __init__(self, mean, scale):
        self.mean, self.scale = mean, scale

    @classmethod
    def fit(cls, Y, sample_weight, scale=True, loss="squared_error"):
        """The scaler of the float target matrix ``Y`` (see :func:`target_scaling`).

        Refuses targets so close to float64's limit that predictions a few
        standard deviations from their mean would overflow.
        """
        mean, scale = target_scaling(Y, sample_weight, scale, loss)
        with np.errstate(over="ignore"):
            reach = np.abs(mean) + PREDICTION_HEADROOM * scale
        if not np.all(reach <= np.finfo(np.float64).max):
            raise ValueError(
                f"y has values of magnitude up to {np.abs(Y).max():.3g}: predictions "
                f"{PREDICTION_HEADROOM} standard deviations from its mean would overflow "
                "float64 (above 1.8e308). Divide y by a power of ten (e.g. 1e300) and "
                "multiply the predictions back."
            )
        return cls(mean, scale)

    @property
    def n_outputs(self):
        return self.mean.shape[0]

    def encode(self, Y):
        """The scaled float target matrix ``Y`` (a new array)."""
        if Y.shape[1] != self.n_outputs:
            raise ValueError(
                f"y has {Y.shape[1]} outputs but the model was trained with {self.n_outputs}."
            )
        # Divide first: Y - mean can overflow for targets near float64's limit.
        return Y / self.scale - self.mean / self.scale

    def score(self, Y, prediction, sample_weight):
        """R² of scaled predictions against scaled targets."""
        return r2(Y, prediction, sample_weight)

    def stratification(self, Y):
        return None


def target_scaling(Y, sample_weight, scale=True, loss="squared_error"):
    """Weighted per-column offset and scale that standardise ``Y``.

    For the Poisson loss the offset is 0 and the scale the mean (the log
    link needs non-negative targets); constant columns get scale 1.
    Without ``scale``, or when every weight is 0: offset 0, scale 1.

    Returns
    -------
    mean, scale : ndarray of shape (n_columns,)

    Examples
    --------
    >>> import numpy as np
    >>> from skann._targets import target_scaling
    >>> target_scaling(np.array([[1.0], [3.0]]), None)
    (array([2.]), array([1.]))
    """
    n_columns = Y.shape[1]
    if not scale or (sample_weight is not None and not sample_weight.any()):
        return np.zeros(n_columns), np.ones(n_columns)
    # Work on Y / max|Y| (and weights / max weight) so that neither the
    # sums nor the squares overflow for targets or weights up to float64's
    # limit; the statistics are scaled back at the end.
    magnitude = np.abs(Y).max(axis=0)
    magnitude = np.where(magnitude > 0, magnitude, 1.0)
    Y = Y / magnitude
    if sample_weight is not None:
        sample_weight = sample_weight / sample_weight.max()
    mean = np.average(Y, axis=0, weights=sample_weight)
    if loss == "poisson":
        return np.zeros(n_columns), np.where(mean > 0, mean * magnitude, 1.0)
    std = np.sqrt(np.average((Y - mean) ** 2, axis=0, weights=sample_weight))
    scale = std * magnitude
    # Constant columns, and scales in the subnormal range (targets near
    # 5e-324), are left unscaled: dividing by them would overflow.
    scale = np.where((std > 1e-12 * (1 + np.abs(mean))) & (scale >= np.finfo(float).tiny), scale, 1.0)
    return mean * magnitude, scale


def r2(Y, P, sample_weight):
    """Weighted R², averaged over outputs, finite for any number of rows.

    As ``sklearn.metrics.r2_score(force_finite=True)``, but a single row (or
    rows of one repeated target) scores 0 instead of NaN, so that a sample
    of weight k scores like k copies of it.
    """
    weight = np.ones(len(Y)) if sample_weight is None else sample_weight
    weight = weight[:, None]
    mean = (weight * Y).sum(axis=0) / weight.sum()
    residual = (weight * (Y - P) ** 2).sum(axis=0)
    total = (weight * (Y - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(total > 0, 1 - residual / total, np.where(residual > 0, 0.0, 1.0))
    return float(score.mean())


def scale_safe_r2_score(y, prediction, sample_weight=None):
    """``sklearn.metrics.r2_score``, finite for targets near float64's limit.

    R² does not change when targets and predictions are divided by the same
    number; each output is divided by a power of two (exactly) that brings
    its largest magnitude below 1, so squares of targets of 1e154 and above
    do not overflow.
    """
    y, prediction = np.asarray(y, dtype=np.float64), np.asarray(prediction, dtype=np.float64)
    largest = np.maximum(np.abs(y).max(axis=0, initial=0.0), np.abs(prediction).max(axis=0, initial=0.0))
    _, exponent = np.frexp(largest)
    divisor = np.ldexp(1.0, exponent)
    return r2_score(y / divisor, prediction / divisor, sample_weight=sample_weight)
