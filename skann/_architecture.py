"""From the estimator's parameters to the engine's layers, shapes and dtype.

``hidden_layer_sizes`` / ``activation`` / ``dropout`` or ``layers=`` give the
hidden part of the network; the estimator adds the linear output layer.
:class:`NetworkPlan` asks each layer to declare its weights and output
shape (a pure call: nothing is built or allocated) to learn what the
choices below depend on: the declared weights
(for ``dtype="auto"``), the shape of every layer's output (for the BLAS
thread count and the inference chunk size) and clear errors before any
buffer exists.
"""

from numbers import Integral

import numpy as np
from sklearn import get_config

from .nn import Dense
from .nn.layers import Conv2D, Dropout, Layer
from .nn.network import CHUNK_ROWS

# With dtype="auto", stochastic solvers compute in float32 from this many
# weights on: there BLAS time dominates and float32 halves it. Smaller
# networks gain nothing from float32 and keep float64's exactness (their
# predictions do not depend on how rows are batched). Convolutional
# networks always use float32 with the stochastic solvers.
FLOAT32_MIN_WEIGHTS = 10_000


# Rows per forward pass in predict: the engine's (large enough for
# efficient BLAS, small enough for bounded buffers).
PREDICT_CHUNK_ROWS = CHUNK_ROWS

# Networks with image layers hold much more per row at inference (the
# im2col matrices of every Conv2D): their chunks are sized so that one
# call's buffers stay within this many bytes, or within sklearn's
# ``working_memory`` when it is set lower.
IMAGE_PREDICT_BYTES = 16 * 2**20


def hidden_layer_sizes(sizes):
    """``hidden_layer_sizes`` as a list of positive ints (an int is one layer)."""
    sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
    if any(not isinstance(size, Integral) or size <= 0 for size in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return [int(size) for size in sizes]


def hidden_dense_layers(sizes, activation, dropout=0.0):
    """Dense layers of ``activation``, each followed by ``Dropout(dropout)`` if > 0."""
    layers = []
    for units in sizes:
        layers.append(Dense(units, activation))
        if dropout:
            layers.append(Dropout(dropout))
    return layers


def check_layers(layers):
    """The ``layers`` parameter as a list of layers, or a clear TypeError."""
    for position, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(
                f"layers[{position}] is {layer!r}, not a layer. Give a list of "
                "skann.layers objects, e.g. [Dense(64), Dropout(0.2)]."
            )
    return list(layers)


def resolve_input_shape(input_shape, n_features):
    """Shape of one sample: ``(h, w, c)`` from ``input_shape``, or ``(n_features,)``.

    ``(h, w)`` means one channel; one entry may be -1, inferred from
    ``n_features`` as numpy's ``reshape`` does.
    """
    if input_shape is None:
        return (int(n_features),)
    shape = tuple(input_shape)
    valid = (
        len(shape) in (2, 3)
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in shape)
        and all(v >= 1 or v == -1 for v in shape)
        and shape.count(-1) <= 1
    )
    if not valid:
        raise ValueError(
            "input_shape must be (height, width) or (height, width, channels) of "
            "positive ints, with at most one -1 (inferred from the number of "
            f"features), got {input_shape!r}."
        )
    shape = shape + (1,) if len(shape) == 2 else shape
    known = int(np.prod([v for v in shape if v != -1]))
    if -1 in shape and n_features % known == 0:
        shape = tuple(n_features // known if v == -1 else v for v in shape)
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"input_shape={tuple(input_shape)} does not fit X's {n_features} features "
            "per row (rows of X are flattened images, channels last: "
            "height * width * channels must equal n_features)."
        )
    return tuple(int(v) for v in shape)


def layer_config(layer):
    """What identifies a layer's architecture: its class and parameters."""
    return type(layer).__name__, layer.get_params(deep=False)


class NetworkPlan:
    """Shapes and declared weights of layers built (as copies) for an input shape.

    Attributes
    ----------
    shapes : list of tuple
        Input shape, then every layer's output shape.
    weights : list of list of Weight
        Each layer's declared weights.
    """

    def __init__(self, layers, input_shape):
        self.shapes, self.weights = [tuple(input_shape)], []
        for layer in layers:
            weights, shape = layer.build(self.shapes[-1], np.dtype(np.float64))
            self.weights.append(list(weights))
            self.shapes.append(tuple(shape))
        self.convolutional = any(isinstance(layer, Conv2D) for layer in layers)
        self.images = any(len(shape) > 1 for shape in self.shapes)

    def n_parameters(self):
        """Number of every declared value: trainable and non-trainable."""
        return sum(w.size for weights in self.weights for w in weights)

    def n_weights(self):
        """Number of regularised weights (the matrices, not biases or scales)."""
        return sum(w.size for weights in self.weights for w in weights if w.regularized)

    def _products(self):
        """Per input row, ``(rows, inner, outer)`` of each layer's matrix product."""
        for weights, shape in zip(self.weights, self.shapes[1:]):
            for weight in weights:
                if weight.regularized:
                    pixels = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
                    outer = weight.shape[-1]
                    yield pixels, weight.size // outer, outer

    def largest_product_flops(self, n_rows):
        """Flops of the largest matrix product of a batch of ``n_rows``."""
        return 2 * n_rows * max((p * i * o for p, i, o in self._products()), default=1)

    def values_per_row(self):
        """Rough count of the values one inference row needs in buffers."""
        values = int(np.prod(self.shapes[0]))
        values += 2 * sum(int(np.prod(shape)) for shape in self.shapes[1:])
        return values + sum(p * i for p, i, _ in self._products())


def compute_dtype(dtype, solver, plan, input_dtype=None):
    """The dtype the network computes in (see the ``dtype`` parameter).

    With "auto", float32 input trains float32 parameters (as sklearn's MLP
    does); float64 input trains float64 unless the network is large or
    convolutional and the solver stochastic.
    """
    if dtype != "auto":
        return np.dtype(dtype).type
    if input_dtype is not None and np.dtype(input_dtype) == np.float32:
        return np.float32
    if solver != "lbfgs" and (
        plan.convolutional or plan.n_weights() >= FLOAT32_MIN_WEIGHTS
    ):
        return np.float32
    return np.float64


def predict_chunk_rows(values_per_row, itemsize, images):
    """Rows per inference chunk: 4096, fewer for image networks (see above)."""
    if not images:
        return PREDICT_CHUNK_ROWS
    budget = min(IMAGE_PREDICT_BYTES, get_config()["working_memory"] * 2**20)
    return int(max(1, min(PREDICT_CHUNK_ROWS, budget // (values_per_row * itemsize))))


# ----------------------------------------------------------------------
# From an estimator's parameters
# ----------------------------------------------------------------------
def check_layers_alone(params, defaults):
    """With ``layers=``, the parameters it replaces must keep their defaults.

    Parameters
    ----------
    params : dict
        The estimator's parameters.
    defaults : dict
        The defaults of its ``__init__``.
    """
    for name in ("hidden_layer_sizes", "activation", "dropout"):
        value, default = params[name], defaults[name]
        if name == "hidden_layer_sizes":
            same = _sizes_or_none(value) == _sizes_or_none(default)
        else:
            same = value == default
        if not same:
            raise ValueError(
                f"{name}={value!r} does not apply when layers= is given: the "
                "layers set the architecture. Configure each layer instead "
                "(e.g. Dense(64, activation='tanh'), Dropout(0.2)) and leave "
                f"{name} at its default {default!r}."
            )


def check_training_options(params, layers):
    """Clear errors for options that the solver or the data cannot honour."""
    augment = params.get("augment")
    random_layers = any(isinstance(layer, Dropout) and layer.rate for layer in layers)
    if params["solver"] == "lbfgs" and (random_layers or augment is not None):
        what = "Dropout layers make" if random_layers else f"augment={augment!r} makes"
        raise ValueError(
            f"{what} every loss evaluation random, which L-BFGS cannot "
            "minimise: use solver='adam' or 'sgd'."
        )
    if augment is not None and params["input_shape"] is None:
        raise ValueError(
            f"augment={augment!r} moves the pixels of images: give the image "
            "shape as input_shape, e.g. input_shape=(8, 8)."
        )
    if augment is not None and params.get("semi_supervised") is not None:
        raise ValueError(
            f"augment={augment!r} does not apply to semi-supervised training, "
            "which perturbs its inputs itself: set augment=None."
        )


def architecture(layers, plan, loss_name):
    """What warm_start and partial_fit must find unchanged to continue."""
    return plan.shapes[0], tuple(layer_config(layer) for layer in layers), loss_name


def describe(architecture):
    """A readable form of :func:`architecture`, for error messages."""
    input_shape, configs, loss = architecture
    layers = ", ".join(
        f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})" for name, params in configs
    )
    return f"input {input_shape}, [{layers}], loss {loss!r}"


def _sizes_or_none(sizes):
    """``hidden_layer_sizes`` as a list, or None when it is not valid."""
    try:
        return hidden_layer_sizes(sizes)
    except (TypeError, ValueError):
        return None
