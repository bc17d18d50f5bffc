"""Tabular data for networks: TabularClassifier, TabularRegressor and their preprocessing.

:class:`TabularPreprocessor` turns pandas / polars frames and numpy arrays
with numeric, categorical and missing values into the float matrix a
network trains on (RealMLP's robust scaling and smooth clipping, one-hot
and embedding codes).
"""

from ._estimators import TabularClassifier, TabularRegressor
from ._preprocessing import TabularPreprocessor

__all__ = ["TabularClassifier", "TabularPreprocessor", "TabularRegressor"]
