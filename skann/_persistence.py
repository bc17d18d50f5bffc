"""Saving and loading models: skops' trusted types and the saved skann version.

skops (``pip install "skann[persist]"``) loads a file only when every type
in it is trusted; :data:`SKOPS_TRUSTED_TYPES` names the skann types a model
may hold. The list is written out, not computed, so that a new class is
trusted only once someone has added it here (a test keeps the list in step
with the engine's registries).
"""

import warnings

from .exceptions import InconsistentVersionWarning

__all__ = ["SKOPS_TRUSTED_TYPES"]

#: Fully qualified names of the skann types a saved skann model may contain,
#: for ``skops.io.load(path, trusted=skann.SKOPS_TRUSTED_TYPES)``: the
#: estimators and their target encoders, the network with its layers, weights, initialisers,
#: activations and losses, the optimizers and schedules that ``warm_start``
#: and ``partial_fit`` continue, and the labelled-samples scorer a fitted
#: ``GridSearchCV`` keeps. Every one of them is plain data (numbers, strings,
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
    "skann.nn.initializers.Uniform",
    "skann.nn.layers.base.Weight",
    "skann.nn.layers.conv.Conv2D",
    "skann.nn.layers.conv._Geometry",
    "skann.nn.layers.dense.Dense",
    "skann.nn.layers.dropout.Dropout",
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
]

# Key of the saving skann version in an estimator's pickled state.
VERSION_KEY = "_skann_version"


def with_version(state):
    """A copy of an estimator's pickled ``state`` that names skann's version.

    A copy: saving never changes the model.
    """
    from . import __version__

    return {**state, VERSION_KEY: __version__}


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
