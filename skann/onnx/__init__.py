"""Export fitted skann models to ONNX, through skl2onnx.

Importing this module registers converters for
:class:`~skann.MLPClassifier`, :class:`~skann.MLPRegressor` and
:class:`~skann.AutoEncoder` (its ``transform``) with skl2onnx, so that
``skl2onnx.to_onnx`` converts them alone and inside pipelines and column
transformers with scikit-learn's own steps. :func:`convert_network` writes
a network of the engine (:class:`skann.nn.Network`) as a standalone model.
:class:`~skann.TabularClassifier` and :class:`~skann.TabularRegressor`
raise :class:`UnsupportedError` naming their preprocessing step, which has
no ONNX converter.

Needs the ``onnx`` extra: ``pip install "skann[onnx]"`` (skl2onnx, onnx and
onnxruntime). ``import skann`` never imports it.

Examples
--------
>>> import numpy as np
>>> from skl2onnx import to_onnx
>>> from skann import MLPClassifier
>>> import skann.onnx  # registers the converters
>>> X = np.random.RandomState(0).rand(40, 3)
>>> clf = MLPClassifier((5,), max_iter=5).fit(X, X[:, 0] > 0.5)
>>> onx = to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
>>> [output.name for output in onx.graph.output]
['label', 'probabilities']
"""

try:
    import onnx  # noqa: F401
    from skl2onnx import update_registered_converter
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "skann.onnx needs the optional packages skl2onnx and onnx (and onnxruntime "
        'to run the models): pip install "skann[onnx]".'
    ) from error

import numpy as np
from onnx import helper

from .._autoencoder import AutoEncoder
from .._classifier import MLPClassifier
from .._regressor import MLPRegressor
from ..tabular import TabularClassifier, TabularRegressor
from ._estimators import (
    autoencoder_shape,
    classifier_shape,
    convert_autoencoder,
    convert_classifier,
    convert_regressor,
    parse_classifier,
    regressor_shape,
)
from ._graph import Graph, UnsupportedError, name_counter
from ._layers import network_nodes, output_activation

__all__ = ["UnsupportedError", "convert_network"]

# The options of sklearn's MLPClassifier converter: a ZipMap of the
# probabilities, the class labels as an extra output (both written by
# skl2onnx's parser), and ``nocl`` (class indices as labels).
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}

update_registered_converter(
    MLPClassifier, "SkannMLPClassifier", classifier_shape, convert_classifier,
    options=CLASSIFIER_OPTIONS, parser=parse_classifier,
)
update_registered_converter(MLPRegressor, "SkannMLPRegressor", regressor_shape, convert_regressor)
update_registered_converter(AutoEncoder, "SkannAutoEncoder", autoencoder_shape, convert_autoencoder)


def _tabular_shape(operator):
    """Shape calculator of the Tabular estimators: they refuse, naming the step."""
    name = type(operator.raw_operator).__name__
    raise UnsupportedError(
        f"{name} cannot be exported to ONNX: its preprocessing step, TabularPreprocessor "
        "(frames with categorical and string columns, robust scaling, smooth clipping), "
        "has no ONNX converter. Export an MLPClassifier / MLPRegressor behind sklearn's "
        "own preprocessing instead."
    )


def _tabular_converter(scope, operator, container):
    _tabular_shape(operator)


update_registered_converter(
    TabularClassifier, "SkannTabularClassifier", _tabular_shape, _tabular_converter,
    options=CLASSIFIER_OPTIONS, parser=parse_classifier,
)
update_registered_converter(TabularRegressor, "SkannTabularRegressor", _tabular_shape, _tabular_converter)


def convert_network(network, *, output_activation_name="identity", dtype=np.float32,
                    stop=None, target_opset=None):
    """Write a built engine network as a standalone ONNX model.

    Parameters
    ----------
    network : skann.nn.Network
        A built network (after :meth:`~skann.nn.Network.build`).
    output_activation_name : {"identity", "softmax", "logistic", "exp"}, default="identity"
        Applied to the last layer's output (a loss's ``output_activation``);
        ``"identity"`` gives :meth:`~skann.nn.Network.output` itself.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Dtype of the input, the output and every computation.
    stop : int, default=None
        Convert the first ``stop`` layers only (all by default).
    target_opset : int, default=None
        Opset of the default domain, at least 13; by default skl2onnx's
        latest tested one.

    Returns
    -------
    model : onnx.ModelProto
        One input ``"X"`` of shape ``(n, n_features)`` (rows of flat data,
        reshaped to ``network.input_shape``) and one output ``"Y"`` in
        skann's channels-last layout.

    Raises
    ------
    UnsupportedError
        For a layer, activation or option without a converter (named).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Conv2D, Dense, Flatten, Network
    >>> from skann.onnx import convert_network
    >>> net = Network([Conv2D(2, 3, padding="same"), Flatten(), Dense(3, "identity")])
    >>> net.build((4, 4, 1), np.float32, np.random.RandomState(0))
    (3,)
    >>> model = convert_network(net, output_activation_name="softmax")
    >>> sorted({node.op_type for node in model.graph.node})
    ['Conv', 'Gemm', 'Identity', 'Relu', 'Reshape', 'Softmax', 'Transpose']
    """
    if target_opset is None:
        from skl2onnx import get_latest_tested_opset_version

        target_opset = get_latest_tested_opset_version()
    unique_name = name_counter()
    x, y = unique_name("X"), unique_name("Y")
    graph = Graph(dtype, target_opset, unique_name)
    out, shape = network_nodes(graph, network, x, stop)
    out = output_activation(graph, out, output_activation_name)
    graph.op("Identity", [out], output=y)
    return graph.to_model(
        [helper.make_tensor_value_info(x, graph.onnx_type, [None, network.n_features])],
        [helper.make_tensor_value_info(y, graph.onnx_type, [None, *shape])],
    )
