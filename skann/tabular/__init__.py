"""Tabular data for networks: the preprocessing of issue 18's Tabular estimators.

:class:`TabularPreprocessor` turns pandas / polars frames and numpy arrays
with numeric, categorical and missing values into the float matrix a
network trains on (RealMLP's robust scaling and smooth clipping, one-hot
and embedding codes).
"""

from ._preprocessing import TabularPreprocessor

__all__ = ["TabularPreprocessor"]
