"""ONNX nodes of the engine's layers and activations.

Tensors keep skann's channels-last layout, except between image layers:
ONNX's Conv and pooling operators read NCHW, so the first of them
transposes its input once, the image layers that follow stay in NCHW, and
the tensor goes back to channels-last before ``Flatten`` (so that the
flattened order is skann's) or at the network's end. Normalisation layers
broadcast their per-channel constants in whichever layout they meet.
"""

from dataclasses import dataclass

import numpy as np

from ..nn.activations import ACTIVATIONS, shared_activation
from ..nn.layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    LayerNorm,
    MaxPool2D,
)
from ._graph import UnsupportedError

__all__ = ["activation", "network_nodes", "output_activation"]


@dataclass(frozen=True)
class Tensor:
    """A tensor of the graph: its name, skann's per-sample shape, its layout."""

    name: str
    shape: tuple
    nchw: bool = False


# ----------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------
def _gelu(graph, x):
    """``x * Phi(x)`` with the exact normal CDF: ``0.5 x (1 + erf(x / sqrt 2))``."""
    scaled = graph.op("Mul", [x, graph.const("sqrt_half", np.sqrt(0.5))], "gelu_scaled")
    erf = graph.op("Erf", [scaled], "gelu_erf")
    cdf = graph.op("Add", [erf, graph.const("one", 1.0)], "gelu_cdf2")
    half_x = graph.op("Mul", [x, graph.const("half", 0.5)], "gelu_half_x")
    return graph.op("Mul", [half_x, cdf], "gelu")


_SIMPLE_ACTIVATIONS = {
    "logistic": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": float(ACTIVATIONS["leaky_relu"].slope)}),
    "elu": ("Elu", {"alpha": 1.0}),
    "softplus": ("Softplus", {}),
}


def activation(graph, x, function, where):
    """The nodes of an :class:`~skann.nn.activations.Activation` applied to ``x``.

    Only the built-in activation classes convert: a subclass or a custom
    activation might compute something else, so it raises.
    """
    name = getattr(function, "name", None)
    if ACTIVATIONS.get(name) is not type(function):
        raise UnsupportedError(
            f"{where}: activation {type(function).__name__} has no ONNX converter; "
            f"the built-in ones convert: {sorted(ACTIVATIONS)}."
        )
    if name == "identity":
        return x
    if name == "gelu":
        return _gelu(graph, x)
    op_type, attributes = _SIMPLE_ACTIVATIONS[name]
    return graph.op(op_type, [x], name, **attributes)


def output_activation(graph, x, name):
    """The output activation of a loss (``Loss.output_activation``) on 2-D scores."""
    if name == "identity":
        return x
    if name == "softmax":
        return graph.op("Softmax", [x], "softmax", axis=1)
    if name == "logistic":
        return graph.op("Sigmoid", [x], "logistic")
    if name == "exp":
        return graph.op("Exp", [x], "exp")
    raise UnsupportedError(f"The output activation {name!r} has no ONNX converter.")


# ----------------------------------------------------------------------
# Layouts
# ----------------------------------------------------------------------
def _to_nchw(graph, t):
    if t.nchw:
        return t
    return Tensor(graph.op("Transpose", [t.name], "nchw", perm=[0, 3, 1, 2]), t.shape, True)


def channels_last(graph, t):
    """``t`` in skann's channels-last layout."""
    if not t.nchw:
        return t
    return Tensor(graph.op("Transpose", [t.name], "nhwc", perm=[0, 2, 3, 1]), t.shape, False)


def _per_channel(graph, hint, values, t):
    """A per-last-axis constant, shaped to broadcast over ``t``'s layout."""
    values = np.asarray(values, dtype=np.float64)
    return graph.const(hint, values.reshape(-1, 1, 1) if t.nchw else values)


# ----------------------------------------------------------------------
# Layers: (graph, layer, params, state, tensor, where) -> tensor
# ----------------------------------------------------------------------
def _dense(graph, layer, params, state, t, where):
    weights, bias = graph.const("W", params["W"]), graph.const("b", params["b"])
    z = graph.op("Gemm", [t.name, weights, bias], "dense")
    function = shared_activation(layer.activation)
    return Tensor(activation(graph, z, function, where), layer.compute_output_shape(t.shape))


def _dropout(graph, layer, params, state, t, where):
    return t  # the identity at inference


def _flatten(graph, layer, params, state, t, where):
    if len(t.shape) == 1:
        return t
    t = channels_last(graph, t)
    size = int(np.prod(t.shape))
    return Tensor(graph.reshape(t.name, (-1, size), "flat"), (size,))


def _batch_norm(graph, layer, params, state, t, where):
    # Inference folds the running statistics into one scale and one shift.
    scale = params["gamma"] / np.sqrt(state["moving_var"].astype(np.float64) + layer.epsilon)
    shift = params["beta"] - state["moving_mean"] * scale
    y = graph.op("Mul", [t.name, _per_channel(graph, "bn_scale", scale, t)], "bn_scaled")
    y = graph.op("Add", [y, _per_channel(graph, "bn_shift", shift, t)], "batch_norm")
    return Tensor(y, t.shape, t.nchw)


def _layer_norm(graph, layer, params, state, t, where):
    axes = list(range(1, len(t.shape) + 1))  # every non-batch axis, in any layout
    centred = graph.op("Sub", [t.name, graph.reduce_mean(t.name, axes)], "ln_centred")
    squares = graph.op("Mul", [centred, centred], "ln_squares")
    variance = graph.reduce_mean(squares, axes, "ln_var")
    variance = graph.op("Add", [variance, graph.const("eps", layer.epsilon)], "ln_var_eps")
    xhat = graph.op("Div", [centred, graph.op("Sqrt", [variance], "ln_std")], "ln_xhat")
    y = graph.op("Mul", [xhat, _per_channel(graph, "ln_gamma", params["gamma"], t)], "ln_scaled")
    y = graph.op("Add", [y, _per_channel(graph, "ln_beta", params["beta"], t)], "layer_norm")
    return Tensor(y, t.shape, t.nchw)


def _window_attributes(geometry):
    top, bottom, left, right = geometry.pads
    return {
        "kernel_shape": list(geometry.kernel),
        "strides": list(geometry.strides),
        "pads": [top, left, bottom, right],  # ONNX: begins of each axis, then ends
    }


def _conv(graph, layer, params, state, t, where):
    geometry = layer.geometry(t.shape)
    t = _to_nchw(graph, t)
    # skann's kernels are (kh, kw, c, f); ONNX's are (f, c, kh, kw).
    kernel = graph.const("conv_W", np.transpose(params["W"], (3, 2, 0, 1)))
    bias = graph.const("conv_b", params["b"])
    z = graph.op("Conv", [t.name, kernel, bias], "conv", **_window_attributes(geometry))
    function = shared_activation(layer.activation)
    return Tensor(activation(graph, z, function, where), layer.compute_output_shape(t.shape), True)


def _pool(graph, layer, params, state, t, where):
    attributes = _window_attributes(layer.geometry(t.shape))
    output_shape = layer.compute_output_shape(t.shape)
    t = _to_nchw(graph, t)
    if isinstance(layer, AvgPool2D):  # the padded cells are left out of the mean
        y = graph.op("AveragePool", [t.name], "avg_pool", count_include_pad=0, **attributes)
    else:  # padded cells never win
        y = graph.op("MaxPool", [t.name], "max_pool", **attributes)
    return Tensor(y, output_shape, True)


def _global_avg_pool(graph, layer, params, state, t, where):
    t = _to_nchw(graph, t)
    pooled = graph.op("GlobalAveragePool", [t.name], "global_pool")
    channels = t.shape[-1]
    return Tensor(graph.reshape(pooled, (-1, channels), "global_avg_pool"), (channels,))


LAYER_CONVERTERS = {
    Dense: _dense,
    Dropout: _dropout,
    Flatten: _flatten,
    BatchNorm: _batch_norm,
    LayerNorm: _layer_norm,
    Conv2D: _conv,
    MaxPool2D: _pool,
    AvgPool2D: _pool,
    GlobalAvgPool2D: _global_avg_pool,
}


def network_nodes(graph, network, x, stop=None):
    """The nodes of ``network.layers[:stop]`` on the 2-D input tensor ``x``.

    Parameters
    ----------
    graph : Graph
    network : skann.nn.Network
        A built network.
    x : str
        Name of the input, ``(n, n_features)`` in the graph's dtype.
    stop : int, default=None
        Convert the first ``stop`` layers only (all by default).

    Returns
    -------
    output : str
        Name of the output, in skann's layout: ``(n, *shape)``.
    shape : tuple of int
        Shape of one output sample.
    """
    if not hasattr(network, "params"):
        raise UnsupportedError("The network is not built: call network.build first.")
    shape = tuple(network.input_shape)
    if len(shape) > 1:  # rows of flat data -> samples of input_shape
        x = graph.reshape(x, (-1, *shape), "input_reshaped")
    t = Tensor(x, shape)
    stop = len(network.layers) if stop is None else stop
    for position, layer in enumerate(network.layers[:stop]):
        where = f"layer {position} ({type(layer).__name__})"
        converter = LAYER_CONVERTERS.get(type(layer))
        if converter is None:
            raise UnsupportedError(
                f"{where} has no ONNX converter; layers that convert: "
                f"{sorted(cls.__name__ for cls in LAYER_CONVERTERS)}."
            )
        params = network.weights(position)
        state = network.weights(position, False)
        t = converter(graph, layer, params, state, t, where)
    t = channels_last(graph, t)
    return t.name, t.shape
