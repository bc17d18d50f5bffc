"""skann: neural networks for scikit-learn, on plain numpy.

Estimators that train layered networks by backpropagation and fit every
scikit-learn workflow: :class:`MLPClassifier` and :class:`MLPRegressor`, and
:class:`AutoEncoder` to learn from X alone, and
:class:`TabularClassifier` and :class:`TabularRegressor` for tables (frames
with categorical columns and missing values).
The engine they run on is :mod:`skann.nn`. :class:`LossCurveDisplay` plots
a fit's loss curves (with matplotlib); ``skops.io.load(path,
trusted=skann.SKOPS_TRUSTED_TYPES)`` loads a model saved with skops.
"""

from ._autoencoder import AutoEncoder
from ._classifier import MLPClassifier
from ._display import LossCurveDisplay
from ._persistence import SKOPS_TRUSTED_TYPES
from ._regressor import MLPRegressor
from .semi_supervised import LabelledScorer, make_labelled_scorer
from .tabular import TabularClassifier, TabularRegressor

__version__ = "0.1.0"

__all__ = [
    "AutoEncoder",
    "LabelledScorer",
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPRegressor",
    "SKOPS_TRUSTED_TYPES",
    "TabularClassifier",
    "TabularRegressor",
    "make_labelled_scorer",
    "__version__",
]
