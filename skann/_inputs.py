"""The dtypes X is validated to: numbers only, converted whole only where
training needs it.

``predict`` lets integer, boolean and other numeric arrays through
validation as they are: the network casts each chunk of rows to its compute
dtype, so a 2M x 100 int32 X is not first copied whole into float64.
"""

import numpy as np

__all__ = ["FLOAT_DTYPES", "check_numeric_columns", "inference_dtype", "scores_dtype"]

FLOAT_DTYPES = (np.float64, np.float32)


def _column_dtypes(X):
    """The dtypes of X's columns (a DataFrame's), or X's one dtype."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "__iter__"):
        return list(dtypes)
    dtype = getattr(X, "dtype", None)
    return [] if dtype is None else [dtype]


def check_numeric_columns(X, input_name="X"):
    """Refuse date and time columns with a ``TypeError`` saying what to do
    (numpy's own error is a ``DTypePromotionError`` about DTypes)."""
    dtypes = _column_dtypes(X)
    timed = [dtype for dtype in dtypes if getattr(dtype, "kind", None) in ("M", "m")]
    if not timed:
        return
    columns = getattr(X, "columns", None)
    where = "" if columns is None else " " + str(
        [name for name, dtype in zip(columns, dtypes) if getattr(dtype, "kind", None) in ("M", "m")]
    )
    raise TypeError(
        f"{input_name} has datetime or timedelta columns{where} ({timed[0]}); the "
        "network needs numbers. Convert them first, e.g. to seconds since a date, "
        "or to features such as the day of the week."
    )


def inference_dtype(X, input_name="X"):
    """``dtype`` for validating X at inference: None (keep X's) for numpy
    numeric dtypes, float otherwise."""
    check_numeric_columns(X, input_name)
    dtypes = _column_dtypes(X)
    plain = dtypes and all(isinstance(dtype, np.dtype) and dtype.kind in "biuf" for dtype in dtypes)
    return None if plain else FLOAT_DTYPES


def scores_dtype(X):
    """Dtype of raw scores for validated X: X's when float32 or float64,
    float64 otherwise (integer X must not truncate scores)."""
    return X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64)
