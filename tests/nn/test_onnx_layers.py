"""Every layer kind of the engine, written as ONNX and run by onnxruntime.

Networks are built in float64 (the reference); the ONNX graphs compute in
float32 and must equal ``network.output`` to 1e-5 on fresh data.
"""

import numpy as np
import pytest

pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")

from skann.nn import Network  # noqa: E402
from skann.nn.activations import ACTIVATIONS, ReLU  # noqa: E402
from skann.nn.layers import (  # noqa: E402
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    LayerNorm,
    MaxPool2D,
)
from skann.onnx import UnsupportedError, convert_network  # noqa: E402

TOLERANCE = 1e-5


def run_onnx(model, X):
    """onnxruntime's output of a converted network on X (one thread)."""
    options = rt.SessionOptions()
    options.intra_op_num_threads = 1
    session = rt.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})[0]


def built(layers, input_shape, seed=0):
    """A float64 network with random normalisation weights and trained running statistics."""
    network = Network(layers)
    network.build(input_shape, np.float64, np.random.RandomState(seed))
    rng = np.random.RandomState(seed + 1)
    for position, layer in enumerate(network.layers):
        if isinstance(layer, (BatchNorm, LayerNorm)):
            params = network.weights(position)
            params["gamma"][...] = rng.uniform(0.5, 2.0, params["gamma"].shape)
            params["beta"][...] = rng.normal(size=params["beta"].shape)
    # A few training passes: running statistics far from their initial 0 / 1.
    ctx = network.context(training=True, rng=np.random.default_rng(seed))
    for _ in range(3):
        network.forward(3 + 2 * rng.normal(size=(32, network.n_features)), ctx)
    return network


def max_difference(network, X, **options):
    """Largest |onnxruntime - skann| of a network converted with ``options``."""
    expected = network.output(X)
    model = convert_network(network, **options)
    actual = run_onnx(model, X.astype(options.get("dtype", np.float32)))
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual - expected)))


def fresh(network, n_rows=50, seed=7):
    return 3 + 2 * np.random.RandomState(seed).normal(size=(n_rows, network.n_features))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dense_activations(activation):
    network = built([Dense(8, activation), Dense(3, activation), Dense(2, "identity")], (5,))
    assert max_difference(network, fresh(network)) < TOLERANCE


@pytest.mark.parametrize("output", ["softmax", "logistic", "exp", "identity"])
def test_output_activations(output):
    network = built([Dense(6, "tanh"), Dense(3, "identity")], (4,))
    expected = network.output(fresh(network))
    if output == "softmax":
        expected = np.exp(expected) / np.exp(expected).sum(axis=1, keepdims=True)
    elif output == "logistic":
        expected = 1 / (1 + np.exp(-expected))
    elif output == "exp":
        expected = np.exp(expected)
    actual = run_onnx(convert_network(network, output_activation_name=output), fresh(network).astype(np.float32))
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE, atol=TOLERANCE)


IMAGE_NETWORKS = {
    "conv_same_maxpool": ([Conv2D(4, 3, padding="same"), MaxPool2D(2), Flatten(), Dense(3, "identity")], (6, 5, 2)),
    "conv_strided_same": ([Conv2D(3, (3, 2), strides=2, padding="same", activation="elu"), Flatten()], (7, 6, 2)),
    "conv_1x1": ([Conv2D(3, 1, activation="gelu"), Flatten()], (4, 5, 2)),
    "maxpool_same_odd": ([MaxPool2D(2, padding="same"), Flatten()], (5, 7, 3)),
    "maxpool_overlapping": ([MaxPool2D(3, strides=1), Flatten()], (5, 6, 2)),
    "avgpool_same": ([AvgPool2D(3, strides=2, padding="same"), Flatten()], (7, 5, 2)),
    "avgpool_valid": ([Conv2D(2, 2, activation="tanh"), AvgPool2D(2), Flatten()], (6, 6, 1)),
    "global_avg_pool": ([Conv2D(4, 3, activation="softplus"), GlobalAvgPool2D(), Dense(2, "identity")], (6, 7, 3)),
    "batchnorm_images": ([BatchNorm(momentum=0.5), Conv2D(3, 3), BatchNorm(momentum=0.5), Flatten()], (5, 6, 2)),
    "layernorm_images": ([LayerNorm(), Conv2D(3, 3, activation="leaky_relu"), LayerNorm(), Flatten()], (5, 6, 2)),
    "dropout_images": ([Conv2D(3, 3), Dropout(0.5), MaxPool2D(2), Flatten(), Dropout(0.3)], (6, 6, 1)),
    "ends_in_images": ([Conv2D(3, 3, padding="same"), AvgPool2D(2)], (6, 4, 2)),
    "flatten_only": ([Flatten(), Dense(3, "identity")], (3, 4, 2)),
    "normalised_dense": ([Dense(6, "relu"), BatchNorm(momentum=0.5), LayerNorm(), Dropout(0.2), Dense(2, "identity")], (5,)),
    "sequence_input": ([LayerNorm(), BatchNorm(momentum=0.5), Flatten(), Dense(2, "identity")], (4, 3)),
}


@pytest.mark.parametrize("name", sorted(IMAGE_NETWORKS))
def test_layers(name):
    layers, input_shape = IMAGE_NETWORKS[name]
    network = built(layers, input_shape)
    assert max_difference(network, fresh(network)) < TOLERANCE


def test_batchnorm_uses_running_statistics():
    network = built([BatchNorm(momentum=0.5), Dense(2, "identity")], (3,))
    state = network.weights(0, False)
    assert np.all(np.abs(state["moving_mean"]) > 0.5)  # not the initial zeros
    assert max_difference(network, fresh(network)) < TOLERANCE


def test_float64_graph_matches_to_float64_precision():
    # Layers whose ONNX operators onnxruntime runs in float64 (it has no
    # float64 Conv, AveragePool, Erf, Elu, LeakyRelu or Softplus kernels).
    layers = [MaxPool2D(2, padding="same"), LayerNorm(), Flatten(), Dense(5, "tanh"),
              BatchNorm(momentum=0.5), Dense(4, "logistic"), Dense(2, "relu")]
    network = built(layers, (5, 4, 2))
    assert max_difference(network, fresh(network), dtype=np.float64) < 1e-10


def test_stop_converts_the_first_layers():
    network = built([Dense(4, "tanh"), Dense(2, "relu"), Dense(4, "identity")], (3,))
    X = fresh(network)
    actual = run_onnx(convert_network(network, stop=2), X.astype(np.float32))
    np.testing.assert_allclose(actual, network.output(X, stop=2), atol=TOLERANCE)


class Square(Layer):
    """A layer skann.onnx does not know."""

    def build(self, input_shape, dtype):
        return [], tuple(input_shape)

    def forward(self, X, ctx):
        return X * X


class LoggingDense(Dense):
    """A subclass: it might compute something else, so it must not convert as Dense."""


class Swish(ReLU):
    name = "relu"  # claims a built-in name, but is another class


@pytest.mark.parametrize(
    "layers, named",
    [
        ([Dense(3), Square()], "layer 1 (Square)"),
        ([LoggingDense(3)], "layer 0 (LoggingDense)"),
        ([Dense(3, Swish())], "activation Swish"),
    ],
)
def test_unknown_layers_and_activations_raise_naming_them(layers, named):
    network = built(layers, (4,))
    with pytest.raises(UnsupportedError, match=named.replace("(", r"\(").replace(")", r"\)")):
        convert_network(network)


def test_unbuilt_network_and_old_opset_raise():
    with pytest.raises(UnsupportedError, match="not built"):
        convert_network(Network([Dense(2)]))
    network = built([Dense(2)], (3,))
    with pytest.raises(UnsupportedError, match="target_opset >= 13"):
        convert_network(network, target_opset=11)
    with pytest.raises(UnsupportedError, match="output activation 'relu'"):
        convert_network(network, output_activation_name="relu")
