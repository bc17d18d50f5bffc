"""The layer contract, checked for every layer kind.

One generic check runs over several configurations of each layer: the
declared output shape, dtype preservation, finite-difference gradients of
the input and of every trainable weight, training versus inference mode,
pickling, the parameter protocol, and thread-safe inference. Reference
implementations (explicit loops) pin down what the vectorised convolution
and pooling compute, TensorFlow's "same" padding included.
"""

import pathlib
import pickle
import sys
import threading
import types

import numpy as np
import pytest


def _import_engine():
    """Import ``skann.nn`` even while the estimator face of ``skann`` cannot be imported."""
    if "skann" in sys.modules:
        return
    try:
        import skann  # noqa: F401
    except ImportError:
        for name in [name for name in sys.modules if name == "skann" or name.startswith("skann.")]:
            del sys.modules[name]
        package = types.ModuleType("skann")
        package.__path__ = [str(pathlib.Path(__file__).resolve().parents[2] / "skann")]
        sys.modules["skann"] = package


_import_engine()

from skann.nn import Network, get_loss  # noqa: E402
from skann.nn._params import clone_params  # noqa: E402
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
from skann.nn.optimizers import Adam  # noqa: E402
from skann.nn.schedules import Constant  # noqa: E402
from skann.nn.training import MinibatchPlan, SupervisedObjective, TrainingLoop  # noqa: E402
from skann.nn.workspace import LayerContext  # noqa: E402

from ._gradcheck import numerical_gradient  # noqa: E402

N_ROWS = 3

# (id, layer, input shape of one sample). Activations are smooth where
# finite differences need them to be.
CASES = [
    ("dense-tanh", Dense(3, activation="tanh"), (4,)),
    ("dense-gelu", Dense(2, activation="gelu"), (5,)),
    ("dropout-flat", Dropout(0.3), (6,)),
    ("dropout-image", Dropout(0.5), (3, 3, 2)),
    ("dropout-zero", Dropout(0.0), (4,)),
    ("batchnorm-flat", BatchNorm(), (4,)),
    ("batchnorm-image", BatchNorm(momentum=0.9, epsilon=1e-2), (3, 3, 2)),
    ("layernorm-flat", LayerNorm(), (5,)),
    ("layernorm-image", LayerNorm(epsilon=1e-3), (3, 2, 2)),
    ("conv-valid", Conv2D(3, 3, activation="tanh"), (5, 5, 2)),
    ("conv-same-strided", Conv2D(2, (3, 2), strides=(2, 1), padding="same", activation="gelu"), (5, 4, 2)),
    ("conv-same-even", Conv2D(2, 2, padding="same", activation="elu"), (4, 3, 2)),
    ("conv-tiles", Conv2D(2, 2, strides=2, activation="identity"), (4, 4, 1)),
    ("conv-gaps", Conv2D(2, 2, strides=3, activation="identity"), (6, 5, 1)),
    ("conv-grey", Conv2D(2, 3, padding="same", activation="tanh"), (5, 6, 1)),
    ("conv-pointwise", Conv2D(3, 1, activation="logistic"), (3, 3, 2)),
    ("maxpool-tiles", MaxPool2D(2), (4, 4, 2)),
    ("maxpool-overlap", MaxPool2D(3, strides=2), (5, 5, 1)),
    ("maxpool-same", MaxPool2D(2, padding="same"), (5, 3, 2)),
    ("maxpool-rect", MaxPool2D((2, 3), strides=(1, 2)), (4, 7, 1)),
    ("avgpool-tiles", AvgPool2D(2), (4, 4, 2)),
    ("avgpool-overlap", AvgPool2D(3, strides=2), (5, 5, 1)),
    ("avgpool-same", AvgPool2D((3, 2), strides=2, padding="same"), (5, 3, 2)),
    ("global-avgpool", GlobalAvgPool2D(), (3, 4, 2)),
    ("flatten", Flatten(), (2, 3, 2)),
]
IDS = [case[0] for case in CASES]


def _built(layer, input_shape, dtype=np.float64, perturb=True):
    """A one-layer network, its weights moved off their (often trivial) initial values."""
    net = Network([layer])
    net.build(input_shape, dtype, np.random.RandomState(0))
    if perturb:
        rng = np.random.RandomState(1)
        net.params += (0.3 * rng.normal(size=net.params.shape)).astype(dtype)
        if net.state.size:  # BatchNorm: positive running variances
            net.state[...] = rng.uniform(0.5, 1.5, net.state.shape)
    return net


def _layer_context(net, training, seed=7, input_grad=True):
    """The layer's context, as a network gives it, but asking for the input gradient."""
    return LayerContext(
        training,
        np.random.default_rng(seed),
        net.weights(0, True),
        net.weights(0, True, net.grads) if training else {},
        net.weights(0, False),
        input_grad=input_grad,
    )


def _inputs(input_shape, seed=2, dtype=np.float64):
    """Inputs without ties: distinct values at least 0.01 apart (max pooling)."""
    rng = np.random.RandomState(seed)
    size = N_ROWS * int(np.prod(input_shape))
    values = (rng.permutation(size) - size / 2) * (3.0 / size) + rng.uniform(0, 1e-3, size)
    return values.reshape((N_ROWS, *input_shape)).astype(dtype)


# ----------------------------------------------------------------------
# Shapes and dtypes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, layer, input_shape", CASES, ids=IDS)
def test_output_shape_and_dtype(name, layer, input_shape, dtype):
    net = _built(layer, input_shape, dtype)
    X = _inputs(input_shape, dtype=dtype)
    expected = (N_ROWS, *net.output_shape)
    for training in (False, True):
        Y = net.layers[0].forward(X, _layer_context(net, training))
        assert Y.shape == expected and Y.dtype == dtype
        if training:
            dY = np.ones(Y.shape, dtype)
            ctx = _layer_context(net, True)
            net.layers[0].forward(X, ctx)
            dX = net.layers[0].backward(dY, ctx)
            assert dX.shape == X.shape and dX.dtype == dtype
            assert net.layers[0].backward(np.ones(Y.shape, dtype), _first_layer(net, X)) is None
    # Through the network: 2-D rows in, reshaped to the input shape.
    out = net.output(X.reshape(N_ROWS, -1))
    assert out.shape == expected and out.dtype == dtype
    assert net.params.dtype == dtype and net.state.dtype == dtype


def _first_layer(net, X):
    ctx = _layer_context(net, True, input_grad=False)
    net.layers[0].forward(X, ctx)
    return ctx


# Further input shapes per layer kind (beyond each case's own).
OTHER_SHAPES = {
    "dense": [(1,), (7,)],
    "dropout": [(1,), (2, 5, 3)],
    "batchnorm": [(1,), (4, 6, 3)],
    "layernorm": [(2,), (6, 4, 1)],
    "conv": [(6, 6, 1), (7, 5, 3), (9, 4, 2)],
    "maxpool": [(6, 6, 1), (7, 5, 3), (9, 4, 2)],
    "avgpool": [(6, 6, 1), (7, 5, 3), (9, 4, 2)],
    "global": [(1, 1, 4), (5, 2, 3)],
    "flatten": [(5,), (1, 1, 1), (4, 3, 2)],
}
SHAPE_CASES = [
    (f"{name}-{'x'.join(map(str, shape))}", layer, shape)
    for name, layer, input_shape in CASES
    for shape in [input_shape, *OTHER_SHAPES[name.split("-")[0]]]
]


@pytest.mark.parametrize("name, layer, input_shape", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_compute_output_shape_is_builds_and_build_writes_nothing(name, layer, input_shape):
    state = {key: value for key, value in vars(layer).items()}
    shape = layer.compute_output_shape(input_shape)
    assert vars(layer) == state
    for dtype in (np.float32, np.float64):
        weights, built_shape = layer.build(input_shape, np.dtype(dtype))
        assert built_shape == shape and isinstance(shape, tuple)
        assert all(isinstance(extent, int) for extent in shape)
        assert vars(layer) == state  # build is a pure declaration
    # ... and the layer runs on that shape, giving outputs of it.
    net = _built(layer, input_shape)
    assert net.shapes == [tuple(input_shape), shape]
    assert net.output(_inputs(input_shape).reshape(N_ROWS, -1)).shape == (N_ROWS, *shape)


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (Conv2D(4, 3), (64,)),
        (Conv2D(4, 5), (4, 4, 1)),
        (Conv2D(0, 3), (4, 4, 1)),
        (MaxPool2D(5), (4, 4, 1)),
        (MaxPool2D(9, padding="same"), (4, 4, 1)),
        (AvgPool2D(2), (4, 4)),
        (GlobalAvgPool2D(), (10,)),
        (Dense(3), (4, 4, 1)),
        (Dense(0), (4,)),
        (BatchNorm(), (0,)),
        (LayerNorm(epsilon=0), (3,)),
        (Dropout(1.0), (3,)),
    ],
    ids=repr,
)
def test_compute_output_shape_raises_builds_error(layer, input_shape):
    with pytest.raises(ValueError) as from_build:
        layer.build(input_shape, np.dtype(np.float64))
    with pytest.raises(ValueError) as from_shape:
        layer.compute_output_shape(input_shape)
    assert str(from_shape.value) == str(from_build.value)


def test_building_layers_again_leaves_a_built_network_unchanged():
    net = _conv_network()
    X = np.random.RandomState(0).normal(size=(7, 64))
    before = net.output(X)
    for layer, shape in zip(net.layers, net.shapes):
        other = (12, 10, shape[-1]) if len(shape) == 3 else (shape[0] + 3,)
        layer.build(other, np.dtype(np.float32))
        layer.compute_output_shape(other)
    np.testing.assert_array_equal(net.output(X), before)
    assert net.shapes == [(8, 8, 1), (8, 8, 6), (8, 8, 6), (4, 4, 6), (4, 4, 8), (2, 2, 8),
                          (2, 2, 8), (32,), (16,), (16,), (3,)]


def test_one_layer_object_serves_networks_of_other_shapes():
    """Layers hold no shapes: the same object runs in networks of different inputs."""
    layers = [Conv2D(3, 3, padding="same"), MaxPool2D(2), Flatten(), Dense(2)]
    small, large = Network(layers), Network(layers)
    small.build((4, 4, 1), np.float64, np.random.RandomState(0))
    large.build((8, 6, 1), np.float64, np.random.RandomState(0))
    rng = np.random.RandomState(1)
    X_small, X_large = rng.normal(size=(5, 16)), rng.normal(size=(5, 48))
    expected = large.output(X_large)
    large.layers = small.layers[:3] + large.layers[3:]  # the small network's layer objects
    np.testing.assert_array_equal(large.output(X_large), expected)
    assert small.output(X_small).shape == (5, 2) and large.shapes[-2] == (36,)


@pytest.mark.parametrize("name, layer, input_shape", CASES, ids=IDS)
def test_empty_batch(name, layer, input_shape):
    net = _built(layer, input_shape)
    assert net.output(np.zeros((0, int(np.prod(input_shape))))).shape == (0, *net.output_shape)


# ----------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------
@pytest.mark.parametrize("name, layer, input_shape", CASES, ids=IDS)
def test_gradients_match_finite_differences(name, layer, input_shape):
    net = _built(layer, input_shape)
    layer = net.layers[0]
    X = _inputs(input_shape)
    R = np.random.RandomState(3).normal(size=(N_ROWS, *net.output_shape))

    def objective(inputs=X):
        # A fresh generator each time: Dropout draws the same mask.
        return float(np.sum(layer.forward(inputs, _layer_context(net, True)) * R))

    ctx = _layer_context(net, True)
    layer.forward(X, ctx)
    net.grads.fill(np.nan)  # backward must write every gradient, not add to it
    dX = layer.backward(R.copy(), ctx).copy()
    analytic = {name: grad.copy() for name, grad in ctx.grads.items()}
    assert np.isfinite(net.grads).all()

    params = net.weights(0, True)
    assert sorted(analytic) == sorted(params)
    for weight_name, view in params.items():
        numeric = numerical_gradient(objective, view)
        np.testing.assert_allclose(analytic[weight_name], numeric, rtol=1e-5, atol=1e-7, err_msg=weight_name)
    X_probe = X.copy()
    numeric_dX = numerical_gradient(lambda: objective(X_probe), X_probe)
    np.testing.assert_allclose(dX, numeric_dX, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------
# Training and inference modes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("name, layer, input_shape", CASES, ids=IDS)
def test_inference_is_deterministic_and_leaves_state(name, layer, input_shape):
    net = _built(layer, input_shape)
    X = _inputs(input_shape)
    before = net.snapshot()
    first = net.layers[0].forward(X, _layer_context(net, False, seed=1)).copy()
    second = net.layers[0].forward(X, _layer_context(net, False, seed=2))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(net.params, before[0])
    np.testing.assert_array_equal(net.state, before[1])


@pytest.mark.parametrize("shape", [(40,), (5, 4, 3)])
def test_dropout_training_and_inference(shape):
    rate = 0.25
    net = _built(Dropout(rate), shape)
    X = np.random.RandomState(0).uniform(1, 2, size=(500, *shape))
    assert net.layers[0].forward(X, _layer_context(net, False)) is X  # identity, no copy
    ctx = _layer_context(net, True)
    Y = net.layers[0].forward(X, ctx)
    dropped = Y == 0
    assert abs(dropped.mean() - rate) < 0.02
    np.testing.assert_allclose(Y[~dropped], X[~dropped] / (1 - rate))
    dX = net.layers[0].backward(np.ones_like(Y), ctx)
    np.testing.assert_array_equal(dX == 0, dropped)
    # Another generator, another mask; the same seed, the same mask.
    other = net.layers[0].forward(X, _layer_context(net, True, seed=8))
    assert not np.array_equal(other == 0, dropped)
    again = net.layers[0].forward(X, _layer_context(net, True))
    np.testing.assert_array_equal(again == 0, dropped)


def test_dropout_needs_a_generator_in_training():
    net = _built(Dropout(0.5), (3,))
    ctx = net.context(training=True, rng=None)
    with pytest.raises(ValueError, match="Generator"):
        net.forward(np.ones((2, 3)), ctx)
    np.testing.assert_array_equal(net.forward(np.ones((2, 3)), net.context(training=False)), 1.0)


@pytest.mark.parametrize("shape", [(4,), (3, 5, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_statistics(shape, dtype):
    momentum, epsilon = 0.9, 1e-3
    net = _built(BatchNorm(momentum=momentum, epsilon=epsilon), shape, dtype, perturb=False)
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(64, *shape)) * np.arange(1, shape[-1] + 1) + 3.0).astype(dtype)
    axes = tuple(range(X.ndim - 1))
    tol = dict(rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-4 if dtype == np.float32 else 1e-10)

    # Inference with fresh state (mean 0, variance 1): X / sqrt(1 + eps).
    fresh = net.layers[0].forward(X, _layer_context(net, False))
    np.testing.assert_allclose(fresh, X / np.sqrt(1 + epsilon), **tol)

    # Training: batch statistics, per feature (per channel of images).
    state = net.weights(0, False)
    Y = net.layers[0].forward(X, _layer_context(net, True))
    mean, var = X.astype(np.float64).mean(axis=axes), X.astype(np.float64).var(axis=axes)
    np.testing.assert_allclose(Y, (X - mean) / np.sqrt(var + epsilon), **tol)
    np.testing.assert_allclose(Y.mean(axis=axes), 0, atol=1e-4)

    # The running statistics moved toward the batch's (Keras momentum).
    np.testing.assert_allclose(state["moving_mean"], (1 - momentum) * mean, **tol)
    np.testing.assert_allclose(state["moving_var"], momentum + (1 - momentum) * var, **tol)
    for _ in range(200):
        net.layers[0].forward(X, _layer_context(net, True))
    np.testing.assert_allclose(state["moving_mean"], mean, rtol=1e-4)
    np.testing.assert_allclose(state["moving_var"], var, rtol=1e-4)
    # ... and inference now uses them.
    Y_inference = net.layers[0].forward(X, _layer_context(net, False))
    np.testing.assert_allclose(Y_inference, (X - mean) / np.sqrt(var + epsilon), rtol=1e-3, atol=1e-3)


def test_batchnorm_declares_state_and_unregularized_scales():
    net = Network([Dense(3), BatchNorm()])
    net.build((2,), np.float64, np.random.RandomState(0))
    assert net.n_regularized == 6  # Dense's W only; gamma and beta are not penalised
    assert net.params.size == 6 + 3 + 3 + 3
    np.testing.assert_array_equal(net.weights(1, True)["gamma"], 1.0)
    np.testing.assert_array_equal(net.weights(1, True)["beta"], 0.0)
    np.testing.assert_array_equal(net.weights(1, False)["moving_mean"], 0.0)
    np.testing.assert_array_equal(net.weights(1, False)["moving_var"], 1.0)


def test_layernorm_normalises_each_sample():
    net = _built(LayerNorm(epsilon=1e-6), (3, 2, 4), perturb=False)
    X = np.random.RandomState(0).normal(size=(5, 3, 2, 4)) * 4 + 1
    Y = net.layers[0].forward(X, _layer_context(net, False))
    np.testing.assert_allclose(Y.reshape(5, -1).mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(Y.reshape(5, -1).std(axis=1), 1, rtol=1e-5)
    assert net.weights(0, True)["gamma"].shape == (4,)
    np.testing.assert_array_equal(Y, net.layers[0].forward(X, _layer_context(net, True)))


# ----------------------------------------------------------------------
# References: what convolution and pooling compute
# ----------------------------------------------------------------------
def _same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def _reference_windows(X, kernel, strides, padding, fill):
    """Loop-built windows (n, out_h, out_w, kh, kw, c) and their in-image mask."""
    n, h, w, c = X.shape
    (kh, kw), (sh, sw) = kernel, strides
    if padding == "same":
        out_h, top, _ = _same_pads(h, kh, sh)
        out_w, left, _ = _same_pads(w, kw, sw)
    else:
        out_h, out_w, top, left = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0
    windows = np.full((n, out_h, out_w, kh, kw, c), fill, dtype=X.dtype)
    inside = np.zeros((out_h, out_w, kh, kw), bool)
    for y in range(out_h):
        for x in range(out_w):
            for i in range(kh):
                for j in range(kw):
                    row, col = y * sh + i - top, x * sw + j - left
                    if 0 <= row < h and 0 <= col < w:
                        windows[:, y, x, i, j] = X[:, row, col]
                        inside[y, x, i, j] = True
    return windows, inside


@pytest.mark.parametrize(
    "kernel, strides, padding, shape",
    [
        ((3, 3), (1, 1), "valid", (6, 5, 2)),
        ((3, 3), (1, 1), "same", (6, 5, 2)),
        ((3, 3), (1, 1), "same", (6, 7, 1)),
        ((2, 3), (2, 1), "same", (5, 6, 3)),
        ((3, 2), (2, 3), "valid", (7, 8, 1)),
        ((4, 4), (3, 2), "same", (5, 5, 2)),
    ],
)
def test_conv2d_matches_reference(kernel, strides, padding, shape):
    layer = Conv2D(4, kernel, strides=strides, padding=padding, activation="identity")
    net = _built(layer, shape)
    X = np.random.RandomState(0).normal(size=(3, *shape))
    windows, _ = _reference_windows(X, kernel, strides, padding, 0.0)
    params = net.weights(0, True)
    expected = np.einsum("nyxijc,ijcf->nyxf", windows, params["W"]) + params["b"]
    assert net.output_shape == expected.shape[1:]
    np.testing.assert_allclose(net.output(X.reshape(3, -1)), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_same_padding_puts_the_extra_row_after():
    """TensorFlow's rule: odd total padding leaves the extra row at the bottom."""
    net = Network([Conv2D(1, 2, padding="same", activation="identity")])
    net.build((2, 2, 1), np.float64, np.random.RandomState(0))
    net.params[...] = 0
    net.weights(0)["W"][...] = 1
    X = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 4)
    np.testing.assert_array_equal(net.output(X)[0, :, :, 0], [[10.0, 6.0], [7.0, 4.0]])


def test_conv2d_activation_and_init():
    net = Network([Conv2D(8, 3, activation="relu")])
    net.build((6, 6, 2), np.float64, np.random.RandomState(0))
    params = net.weights(0)
    bound = np.sqrt(6.0 / (9 * 2 + 9 * 8))  # Glorot-uniform, as Dense
    assert np.abs(params["W"]).max() <= bound and np.abs(params["W"]).max() > 0.8 * bound
    assert np.abs(params["b"]).max() <= bound
    assert net.n_regularized == params["W"].size
    assert (net.output(np.random.RandomState(1).normal(size=(4, 72))) >= 0).all()


@pytest.mark.parametrize(
    "pool, strides, padding, shape",
    [
        (2, None, "valid", (4, 6, 2)),
        (2, None, "valid", (5, 5, 3)),
        (3, 2, "valid", (7, 5, 1)),
        (2, None, "same", (5, 3, 2)),
        ((3, 2), (2, 1), "same", (6, 5, 2)),
    ],
)
def test_pooling_matches_reference(pool, strides, padding, shape):
    kernel = (pool, pool) if isinstance(pool, int) else pool
    step = kernel if strides is None else ((strides, strides) if isinstance(strides, int) else strides)
    X = np.random.RandomState(0).normal(size=(3, *shape))

    windows, _ = _reference_windows(X, kernel, step, padding, -np.inf)
    net = _built(MaxPool2D(pool, strides, padding), shape)
    np.testing.assert_array_equal(net.output(X.reshape(3, -1)), windows.max(axis=(3, 4)))

    windows, inside = _reference_windows(X, kernel, step, padding, 0.0)
    counts = inside.sum(axis=(2, 3))[None, :, :, None]  # padded cells left out of the mean
    net = _built(AvgPool2D(pool, strides, padding), shape)
    np.testing.assert_allclose(net.output(X.reshape(3, -1)), windows.sum(axis=(3, 4)) / counts, rtol=1e-12)


def test_maxpool_routes_ties_to_one_position():
    net = _built(MaxPool2D(2), (2, 2, 1))
    X = np.ones((1, 2, 2, 1))
    ctx = _layer_context(net, True)
    assert net.layers[0].forward(X, ctx)[0, 0, 0, 0] == 1
    dX = net.layers[0].backward(np.full((1, 1, 1, 1), 5.0), ctx)
    np.testing.assert_array_equal(dX[0, :, :, 0], [[5.0, 0.0], [0.0, 0.0]])


def test_global_avgpool_and_flatten():
    X = np.random.RandomState(0).normal(size=(2, 3, 4, 5))
    net = Network([GlobalAvgPool2D()])
    assert net.build((3, 4, 5), np.float64, np.random.RandomState(0)) == (5,)
    np.testing.assert_allclose(net.output(X.reshape(2, -1)), X.mean(axis=(1, 2)))
    net = Network([Flatten()])
    assert net.build((3, 4, 5), np.float64, np.random.RandomState(0)) == (60,)
    np.testing.assert_array_equal(net.forward(X, net.context()), X.reshape(2, -1))


# ----------------------------------------------------------------------
# Bad parameters and input shapes
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer, input_shape, match",
    [
        (Conv2D(4, 3), (64,), "input_shape"),
        (Conv2D(4, 5), (4, 4, 1), "larger than its input"),
        (Conv2D(4, (3, 5)), (4, 4, 1), "padding='same'"),
        (Conv2D(0, 3), (4, 4, 1), "filters"),
        (Conv2D(2.5, 3), (4, 4, 1), "filters"),
        (Conv2D(4, 0), (4, 4, 1), "kernel_size"),
        (Conv2D(4, (3, 3, 3)), (4, 4, 1), "kernel_size"),
        (Conv2D(4, 3, strides=(1,)), (4, 4, 1), "strides"),
        (Conv2D(4, 3, strides=0), (4, 4, 1), "strides"),
        (Conv2D(4, 3, padding="full"), (4, 4, 1), "padding"),
        (Conv2D(4, 3, activation="nope"), (4, 4, 1), "activation"),
        (Conv2D(4, 3, init="nope"), (4, 4, 1), "init"),
        (MaxPool2D(2), (10,), "input_shape"),
        (MaxPool2D(5), (4, 4, 1), "larger than its input"),
        (MaxPool2D(2, padding="x"), (4, 4, 1), "padding"),
        (MaxPool2D(2, strides=-1), (4, 4, 1), "strides"),
        (AvgPool2D(0), (4, 4, 1), "pool_size"),
        (AvgPool2D(2), (4, 4), "input_shape"),
        (GlobalAvgPool2D(), (10,), "input_shape"),
        (Dropout(1.0), (3,), r"\[0, 1\)"),
        (Dropout(-0.1), (3,), r"\[0, 1\)"),
        (Dropout("half"), (3,), r"\[0, 1\)"),
        (BatchNorm(momentum=1.5), (3,), "momentum"),
        (BatchNorm(epsilon=0), (3,), "epsilon"),
        (LayerNorm(epsilon=-1.0), (3,), "epsilon"),
        (Dense(3), (4, 4, 1), "Flatten"),
    ],
    ids=lambda value: repr(value) if isinstance(value, Layer) else None,
)
def test_bad_parameters_and_shapes_raise_in_build(layer, input_shape, match):
    with pytest.raises(ValueError, match=match):
        Network([layer]).build(input_shape, np.float64, np.random.RandomState(0))


@pytest.mark.parametrize(
    "layer",
    [Conv2D(1, 1000, padding="same"), MaxPool2D(1000, padding="same"),
     AvgPool2D((9, 10), strides=1, padding="same"), Conv2D(2, (9, 12), padding="same")],
    ids=repr,
)
def test_same_padding_refuses_windows_larger_than_the_image(layer):
    """Issue 19, item 14: a 1000x1000 pool took 86 s an epoch, such a kernel 9.5 GiB."""
    for check in (lambda: layer.compute_output_shape((8, 8, 1)),
                  lambda: Network([layer]).build((8, 8, 1), np.float32, np.random.RandomState(0))):
        with pytest.raises(ValueError, match=r"larger than its input 8x8 in both dimensions.*at most 8x8"):
            check()


@pytest.mark.parametrize(
    "layer, input_shape, output_shape",
    [
        (Conv2D(2, (1, 3), padding="same"), (1, 2, 1), (1, 2, 2)),  # rows as 1-pixel-high images
        (MaxPool2D(2, padding="same"), (1, 5, 3), (1, 3, 3)),
        (AvgPool2D((8, 8), padding="same"), (8, 8, 1), (1, 1, 1)),
    ],
    ids=repr,
)
def test_same_padding_takes_windows_up_to_the_image_in_one_dimension(layer, input_shape, output_shape):
    net = _built(layer, input_shape)
    assert net.output_shape == output_shape
    assert np.isfinite(net.output(_inputs(input_shape).reshape(N_ROWS, -1))).all()


# ----------------------------------------------------------------------
# Pickling, the parameter protocol, threads
# ----------------------------------------------------------------------
@pytest.mark.parametrize("name, layer, input_shape", CASES, ids=IDS)
def test_pickled_network_gives_identical_output(name, layer, input_shape):
    net = _built(layer, input_shape)
    X = _inputs(input_shape).reshape(N_ROWS, -1)
    net.forward(X, net.context(training=True, rng=np.random.default_rng(0)))  # moves BatchNorm's state
    copy = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(copy.output(X), net.output(X))
    np.testing.assert_array_equal(copy.state, net.state)


@pytest.mark.parametrize("name, layer, input_shape", CASES, ids=IDS)
def test_parameter_protocol(name, layer, input_shape):
    params = layer.get_params()
    copy = clone_params(layer)
    assert copy is not layer and type(copy) is type(layer)
    assert copy.get_params() == params
    assert copy.set_params(**params) is copy and copy.get_params() == params
    assert repr(copy) == repr(layer) and repr(layer).startswith(type(layer).__name__ + "(")
    # A built layer clones to an unbuilt one with the same parameters, and
    # building never changes the parameters.
    net = _built(layer, input_shape)
    assert net.layers[0] is not layer
    assert net.layers[0].get_params() == params == layer.get_params()
    fresh = clone_params(net.layers[0])
    assert fresh.get_params() == params and not hasattr(fresh, "_geometry")
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(not_a_parameter=1)


def test_set_params_changes_the_built_network():
    layer = Conv2D(4, 3)
    layer.set_params(filters=6, kernel_size=(3, 1), padding="same")
    net = Network([layer, MaxPool2D()])
    assert net.build((6, 4, 2), np.float32, np.random.RandomState(0)) == (3, 2, 6)
    assert net.weights(0)["W"].shape == (3, 1, 2, 6)


def _conv_network(dtype=np.float64):
    net = Network([
        Conv2D(6, 3, padding="same"),
        BatchNorm(),
        MaxPool2D(2),
        Conv2D(8, 3, padding="same", activation="tanh"),
        AvgPool2D(2),
        LayerNorm(),
        Flatten(),
        Dense(16),
        Dropout(0.3),
        Dense(3, activation="identity"),
    ])
    net.build((8, 8, 1), dtype, np.random.RandomState(0))
    return net


def test_output_from_threads_matches_sequential():
    net = _conv_network()
    rng = np.random.RandomState(0)
    net.forward(rng.normal(size=(32, 64)), net.context(training=True, rng=np.random.default_rng(0)))
    inputs = [rng.normal(size=(int(rng.randint(1, 90)), 64)) for _ in range(8)]
    expected = [net.output(X, chunk_rows=16) for X in inputs]
    results = [[None] * 8 for _ in range(5)]
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        for repeat in range(5):
            results[repeat][k] = net.output(inputs[k], chunk_rows=16)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for repeat in range(5):
        for k in range(8):
            np.testing.assert_array_equal(results[repeat][k], expected[k])


def test_layers_hold_no_batch_arrays():
    net = _conv_network()
    before = {id(layer): dict(vars(layer)) for layer in net.layers}
    net.forward(np.ones((5, 64)), net.context(training=True, rng=np.random.default_rng(0)))
    for layer in net.layers:
        assert vars(layer).keys() == before[id(layer)].keys(), type(layer).__name__
        for value in vars(layer).values():
            assert not (isinstance(value, np.ndarray) and value.size >= 5 * 8)


# ----------------------------------------------------------------------
# A ConvNet trains
# ----------------------------------------------------------------------
def _bars(n_samples, rng):
    """8x8 images of a horizontal (0), vertical (1) or diagonal (2) bar, with noise."""
    y = rng.randint(0, 3, n_samples)
    images = rng.normal(scale=0.3, size=(n_samples, 8, 8))
    positions = rng.randint(1, 7, n_samples)
    for row, (label, position) in enumerate(zip(y, positions)):
        if label == 0:
            images[row, position, 1:7] += 1
        elif label == 1:
            images[row, 1:7, position] += 1
        else:
            images[row, np.arange(1, 7), np.arange(1, 7)[:: 1 if position % 2 else -1]] += 1
    return images.reshape(n_samples, 64), y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convnet_trains_on_toy_images(dtype):
    rng = np.random.RandomState(0)
    X, y = _bars(300, rng)
    Y = np.eye(3, dtype=dtype)[y]
    net = Network([
        Conv2D(8, 3, padding="same"),
        MaxPool2D(2),
        Conv2D(8, 3, padding="same"),
        MaxPool2D(2),
        Flatten(),
        Dense(16),
        Dropout(0.2),
        Dense(3, activation="identity"),
    ])
    net.build((8, 8, 1), dtype, rng)
    loop = TrainingLoop(
        net,
        SupervisedObjective(get_loss("log_loss"), alpha=1e-4),
        Adam().build(net.params.size, net.n_regularized, net.dtype),
        Constant(0.01),
    )
    plan = MinibatchPlan(X, Y, None, np.arange(300), 32, True, rng, dtype)
    records = loop.run(plan, max_epochs=15, rng=np.random.default_rng(0))
    losses = [record["loss"] for record in records]
    assert losses[-1] < 0.3 * losses[0]
    accuracy = (net.output(X).argmax(axis=1) == y).mean()
    assert accuracy > 0.9
    assert net.output(X).dtype == dtype
