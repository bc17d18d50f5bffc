"""skl2onnx shape calculators and converters of skann's estimators.

Each converter writes the network's nodes (:mod:`._layers`) and then what
the estimator does with the raw scores: the classifier's labels and
probabilities, the regressor's output activation and target scaling, the
autoencoder's code (the encoder layers only).
"""

import numpy as np
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from sklearn.utils.validation import check_is_fitted

from ._graph import Graph, UnsupportedError
from ._layers import network_nodes, output_activation

__all__ = [
    "autoencoder_shape",
    "class_labels",
    "classifier_shape",
    "convert_autoencoder",
    "convert_classifier",
    "convert_regressor",
    "parse_classifier",
    "regressor_shape",
]


# ----------------------------------------------------------------------
# Shared: input dtype, width, the network's raw scores
# ----------------------------------------------------------------------
def _graph_dtype(input_type):
    """float64 graphs for double input (as skl2onnx's MLP converters), else float32."""
    return np.float64 if isinstance(input_type, DoubleTensorType) else np.float32


def _tensor_type(operator):
    if _graph_dtype(operator.inputs[0].type) is np.float64:
        return DoubleTensorType
    return FloatTensorType


def _check_input(operator):
    """The batch dimension of the input, after checking its width."""
    model = operator.raw_operator
    check_is_fitted(model, "network_")
    if len(operator.inputs) != 1:
        raise UnsupportedError(
            f"{type(model).__name__} takes one input tensor, got {len(operator.inputs)}."
        )
    shape = operator.inputs[0].type.shape
    width = shape[1] if len(shape) > 1 else None
    if isinstance(width, int) and width != model.n_features_in_:
        raise UnsupportedError(
            f"{type(model).__name__} was fitted on {model.n_features_in_} features, "
            f"but the ONNX input has {width} columns."
        )
    return operator.inputs[0].get_first_dimension()


def _raw_scores(scope, operator, container, stop=None):
    """A Graph and the name of the network's raw scores on the operator's input."""
    model = operator.raw_operator
    dtype = _graph_dtype(operator.inputs[0].type)
    graph = Graph(dtype, container.target_opset, scope.get_unique_variable_name)
    x = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, (FloatTensorType, DoubleTensorType)):
        x = graph.op("Cast", [x], "cast_input", to=graph.onnx_type)
    return graph, network_nodes(graph, model.network_, x, stop)[0]


def _emit(graph, scope, container):
    graph.emit_to_container(container, scope.get_unique_operator_name)


# ----------------------------------------------------------------------
# MLPClassifier
# ----------------------------------------------------------------------
def class_labels(model, no_class_labels=False):
    """``classes_`` as ONNX labels: an int64 or a string array.

    Float labels convert when they are whole numbers (skl2onnx's
    convention for sklearn's classifiers); other floats raise. With
    skl2onnx's option ``nocl``, the labels are the class indices.
    """
    classes = np.asarray(model.classes_)
    if no_class_labels:
        return np.arange(len(classes), dtype=np.int64)
    if classes.dtype.kind in "biu":
        if classes.dtype.kind == "u" and classes.max() > np.iinfo(np.int64).max:
            raise UnsupportedError("Class labels beyond int64 cannot be ONNX labels.")
        return classes.astype(np.int64)
    if classes.dtype.kind == "f":
        if not np.all(np.isfinite(classes) & (classes == np.round(classes))):
            raise UnsupportedError(
                f"Float class labels {classes.tolist()} are not whole numbers: ONNX "
                "labels are int64 or strings. Fit on integer or string labels."
            )
        return classes.astype(np.int64)
    if classes.dtype.kind in "US" or all(isinstance(label, str) for label in classes):
        return classes.astype(str).astype(object)
    raise UnsupportedError(
        f"Class labels of dtype {classes.dtype} mixing types cannot be ONNX labels: "
        "use integer or string labels."
    )


def _kind(model):
    return model._label_binarizer.y_type_  # "binary", "multiclass" or "multilabel-indicator"


def parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser of classifiers, once ``model`` is known to be fitted.

    skl2onnx's parser reads ``classes_`` first and raises a RuntimeError
    without them; an unfitted model raises sklearn's NotFittedError
    instead, as every other use of it does.
    """
    check_is_fitted(model, "network_")
    # The parser update_registered_converter registers for classifiers
    # (private in skl2onnx: imported here, where it is used).
    from skl2onnx._parse import _parse_sklearn_classifier

    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers=custom_parsers)


def classifier_shape(operator):
    """Label and probability types of an MLPClassifier's outputs."""
    n_rows = _check_input(operator)
    model = operator.raw_operator
    n_classes = len(model.classes_)
    nocl = operator.scope_inst.get_options(model, {"nocl": False})["nocl"]
    if _kind(model) == "multilabel-indicator":
        label = Int64TensorType([n_rows, n_classes])
    elif class_labels(model, nocl).dtype == object:
        label = StringTensorType([n_rows])
    else:
        label = Int64TensorType([n_rows])
    operator.outputs[0].type = label
    operator.outputs[1].type = _tensor_type(operator)([n_rows, n_classes])


def _clipped(graph, proba):
    """Logistic outputs kept strictly inside (0, 1), as ``predict_proba`` does."""
    info = np.finfo(graph.dtype)
    bounds = [graph.const("tiny", info.tiny), graph.const("below_one", 1 - info.epsneg)]
    return graph.op("Clip", [proba, *bounds], "clipped")


def convert_classifier(scope, operator, container):
    """Labels (decided on the raw scores, as ``predict``) and probabilities."""
    model = operator.raw_operator
    graph, scores = _raw_scores(scope, operator, container)
    label_out, proba_out = operator.outputs[0].full_name, operator.outputs[1].full_name
    kind = _kind(model)
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise UnsupportedError(f"MLPClassifier targets of type {kind!r} have no ONNX converter.")
    if kind == "multiclass":
        graph.op("Softmax", [scores], output=proba_out, axis=1)
        index = graph.op("ArgMax", [scores], "class_index", axis=1, keepdims=0)
    else:
        positive = graph.op("Greater", [scores, graph.const("zero", 0.0)], "positive")
        proba = _clipped(graph, output_activation(graph, scores, "logistic"))
        if kind == "multilabel-indicator":
            graph.op("Identity", [proba], output=proba_out)
            graph.op("Cast", [positive], output=label_out, to=7)  # INT64
            return _emit(graph, scope, container)
        negative = graph.op("Sub", [graph.const("one", 1.0), proba], "negative")
        graph.op("Concat", [negative, proba], output=proba_out, axis=1)
        index = graph.reshape(graph.op("Cast", [positive], "class_index", to=7), (-1,))
    labels = class_labels(model, container.get_options(model, {"nocl": False})["nocl"])
    classes = graph.const("classes", labels, labels.dtype)
    graph.op("Gather", [classes, index], output=label_out, axis=0)
    _emit(graph, scope, container)


# ----------------------------------------------------------------------
# MLPRegressor
# ----------------------------------------------------------------------
def regressor_shape(operator):
    """Predictions of shape (n, n_outputs): (n, 1) for one output, as skl2onnx's regressors."""
    n_rows = _check_input(operator)
    operator.outputs[0].type = _tensor_type(operator)([n_rows, operator.raw_operator.n_outputs_])


def convert_regressor(scope, operator, container):
    """Output activation, then the target scaling undone (one Mul, one Add)."""
    model = operator.raw_operator
    graph, scores = _raw_scores(scope, operator, container)
    prediction = output_activation(graph, scores, model._loss.output_activation)
    scale = graph.const("target_scale", model.target_scale_)
    scaled = graph.op("Mul", [prediction, scale], "scaled")
    mean = graph.const("target_mean", model.target_mean_)
    graph.op("Add", [scaled, mean], output=operator.outputs[0].full_name)
    _emit(graph, scope, container)


# ----------------------------------------------------------------------
# AutoEncoder
# ----------------------------------------------------------------------
def autoencoder_shape(operator):
    """Codes of shape (n, code_size)."""
    n_rows = _check_input(operator)
    code_size = operator.raw_operator._n_features_out
    operator.outputs[0].type = _tensor_type(operator)([n_rows, code_size])


def convert_autoencoder(scope, operator, container):
    """``transform``: the output of the encoder layers."""
    model = operator.raw_operator
    graph, codes = _raw_scores(scope, operator, container, stop=model._n_encoder_layers)
    graph.op("Identity", [codes], output=operator.outputs[0].full_name)
    _emit(graph, scope, container)
