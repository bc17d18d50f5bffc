"""The dtypes X is validated to: numbers only, converted whole only where
training needs it.

``predict`` lets integer, boolean and other numeric arrays through
validation as they are: the network casts each chunk of rows to its compute
dtype, so a 2M x 100 int32 X is not first copied whole into float64.

A plain float array of the fitted width (:func:`is_plain_rows`) is what
sklearn's validation would return unchanged: prediction skips that
validation for it, and everything else gets sklearn's checks and messages.
"""

import numpy as np

from ._fit_safety import all_finite

__all__ = ["FLOAT_DTYPES", "check_numeric_columns", "inference_dtype", "is_plain_rows", "scores_dtype"]

FLOAT_DTYPES = (np.float64, np.float32)
# Native-endian float dtypes: ">f8" is not one of them.
_PLAIN_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


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
    return X.dtype if X.dtype in _PLAIN_DTYPES else _PLAIN_DTYPES[0]


def is_plain_rows(X, n_features):
    """Whether sklearn's validation would pass X through unchanged.

    True for an ``ndarray`` itself (no subclass: no matrix, memmap or
    masked array) of native float64 or float32, C-contiguous, 2-D, with
    at least one row, ``n_features`` columns and no NaN or infinity.
    ``validate_data(..., dtype=None, reset=False)`` returns such an X as it
    is (no copy) and warns nothing on a model fitted without feature names;
    any other X must go through it, for its checks and messages.

    Parameters
    ----------
    X : object
        What the user passed.
    n_features : int or None
        The fitted ``n_features_in_``.

    Returns
    -------
    plain : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skann._inputs import is_plain_rows
    >>> is_plain_rows(np.zeros((2, 3)), 3), is_plain_rows(np.zeros((2, 3)).T, 2)
    (True, False)
    >>> is_plain_rows(np.array([[0.0, np.nan, 1.0]]), 3)
    False
    """
    if (
        type(X) is not np.ndarray
        or X.ndim != 2
        or X.dtype not in _PLAIN_DTYPES
        or X.shape[1] != n_features
        or X.shape[0] == 0
        or not X.flags.c_contiguous
    ):
        return False
    return all_finite(X)
