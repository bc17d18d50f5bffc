"""Saving and loading models: skops' trusted types and the saved skann version.

skops (``pip install "skann[persist]"``) loads a file only when every type
in it is trusted; :data:`SKOPS_TRUSTED_TYPES` names the skann types a model
may hold. The list is written out, not computed, so that a new class is
trusted only once someone has added it here (a test keeps the list in step
with the engine's registries).
"""

import warnings
import zlib

import numpy as np

from .exceptions import InconsistentVersionWarning

__all__ = ["SKOPS_TRUSTED_TYPES"]

#: Fully qualified names of the skann types a saved skann model may contain,
#: for ``skops.io.load(path, trusted=skann.SKOPS_TRUSTED_TYPES)``: the
#: estimators and their target encoders, the network with its layers, weights, initialisers,
#: activations and losses, the optimizers and schedules that ``warm_start``
#: and ``partial_fit`` continue, and the labelled-samples scorer a fitted
#: ``GridSearchCV`` keeps, and sklearn's LogisticRegression and Ridge (the
#: Tabular estimators' linear blend). Every one of them is plain data (numbers, strings,
#: numpy arrays and each other); none runs code when loaded.
SKOPS_TRUSTED_TYPES = [
    "skann._autoencoder.AutoEncoder",
    "skann._classifier.MLPClassifier",
    "skann._regressor.MLPRegressor",
    "skann._targets.ClassEncoder",
    "skann._targets.TargetScaler",
    "skann.nn.activations.ELU",
    "skann.nn.activations.GELU",
    "skann.nn.activations.Identity",
    "skann.nn.activations.LeakyReLU",
    "skann.nn.activations.Logistic",
    "skann.nn.activations.ReLU",
    "skann.nn.activations.Softplus",
    "skann.nn.activations.Tanh",
    "skann.nn.initializers.Constant",
    "skann.nn.initializers.Normal",
    "skann.nn.initializers.Uniform",
    "skann.nn.layers.base.Weight",
    "skann.nn.layers.conv.Conv2D",
    "skann.nn.layers.conv._Geometry",
    "skann.nn.layers.dense.Dense",
    "skann.nn.layers.dropout.Dropout",
    "skann.nn.layers.embedding.CategoryEmbedding",
    "skann.nn.layers.embedding.NumericEmbedding",
    "skann.nn.layers.embedding.Scale",
    "skann.nn.layers.normalization.BatchNorm",
    "skann.nn.layers.normalization.LayerNorm",
    "skann.nn.layers.pooling.AvgPool2D",
    "skann.nn.layers.pooling.GlobalAvgPool2D",
    "skann.nn.layers.pooling.MaxPool2D",
    "skann.nn.layers.reshape.Flatten",
    "skann.nn.losses.BinaryLogLoss",
    "skann.nn.losses.LogLoss",
    "skann.nn.losses.PoissonLoss",
    "skann.nn.losses.SquaredError",
    "skann.nn.network.Network",
    "skann.nn.optimizers.Adam",
    "skann.nn.optimizers.AdamW",
    "skann.nn.optimizers.RMSprop",
    "skann.nn.optimizers.SGD",
    "skann.nn.schedules.Adaptive",
    "skann.nn.schedules.Constant",
    "skann.nn.schedules.Cosine",
    "skann.nn.schedules.InvScaling",
    "skann.semi_supervised._scoring.LabelledScorer",
    "skann.tabular._estimators.TabularClassifier",
    "skann.tabular._estimators.TabularRegressor",
    "skann.tabular._preprocessing.TabularPreprocessor",
    # The linear models of the Tabular estimators' blend (linear_model_).
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
]

# Key of the saving skann version in an estimator's pickled state.
VERSION_KEY = "_skann_version"
# Key of the CRC-32 of the whole fitted state (see fitted_digest).
DIGEST_KEY = "_skann_state_crc32"


def with_version(state):
    """A copy of an estimator's pickled ``state`` that names skann's version
    and carries the CRC-32 of its fitted state (:func:`fitted_digest`).

    A copy: saving never changes the model.
    """
    from . import __version__

    return {**state, VERSION_KEY: __version__, DIGEST_KEY: fitted_digest(state)}


def fitted_digest(state):
    """CRC-32 of an estimator's state: every value, down to the types.

    Classes, target encoders, the network's layers (their types, parameters
    and shapes) and buffers, the optimizer's state: a saved file damaged in
    any of them (bytes flipped where the unpickler cannot notice, a node
    of a skops file retyped to another trusted type) no longer matches.
    """
    crc = 0
    state = {key: value for key, value in state.items() if key not in (VERSION_KEY, DIGEST_KEY)}
    for chunk in _canonical(state, set()):
        crc = zlib.crc32(chunk, crc)
    return crc


def _canonical(value, seen):
    """Bytes that describe ``value`` deterministically (recursively)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        yield f"{type(value).__name__}:{value!r};".encode()
        return
    if isinstance(value, np.ndarray):
        yield f"ndarray:{value.dtype.str}:{value.shape};".encode()
        if value.dtype.kind == "O":
            yield from _canonical(value.tolist(), seen)
        else:
            yield np.ascontiguousarray(value).view(np.uint8).tobytes()
        return
    if id(value) in seen:
        yield b"<seen>;"
        return
    seen = seen | {id(value)}
    if isinstance(value, dict):
        yield b"dict{"
        for key in sorted(value, key=repr):
            yield from _canonical(key, seen)
            yield from _canonical(value[key], seen)
        yield b"}"
        return
    if isinstance(value, (list, tuple)):
        yield f"{type(value).__name__}[".encode()
        for item in value:
            yield from _canonical(item, seen)
        yield b"]"
        return
    kind = type(value)
    yield f"{kind.__module__}.{kind.__qualname__}(".encode()
    if isinstance(value, np.random.RandomState):
        yield from _canonical(value.get_state(), seen)
    elif callable(getattr(value, "__getstate__", None)) and not isinstance(value, type):
        yield from _canonical(value.__getstate__(), seen)
    elif hasattr(value, "__dict__"):
        yield from _canonical(vars(value), seen)
    yield b")"


def check_digest(estimator, state):
    """Raise a ``ValueError`` when ``state`` no longer matches its saved CRC-32."""
    expected = state.pop(DIGEST_KEY, None)
    if expected is not None and fitted_digest(state) != expected:
        raise ValueError(
            f"This {type(estimator).__name__} file is corrupted: its fitted state "
            "(classes, encoders, layers or weights) does not match the checksum "
            "saved with it. Load an intact copy, or fit the model again."
        )


def check_version(estimator, state):
    """Remove the saved version from ``state``; warn if it is not this one."""
    from . import __version__

    saved = state.pop(VERSION_KEY, "unknown")
    if saved != __version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=type(estimator).__name__,
                current_version=__version__,
                original_version=saved,
            ),
            stacklevel=3,
        )
    return state
