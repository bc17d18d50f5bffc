"""Read the columns of what users pass: pandas or polars frames, numpy arrays.

The preprocessor works column by column: numeric columns as float64 with
NaN for every kind of missing value, categorical columns as object arrays
with a separate missing mask. pandas is imported only when a frame is
passed (it is not a dependency of skann); polars frames go through
``to_pandas()``.
"""

import numpy as np

__all__ = ["as_table", "categorical_values", "column", "dtype_categorical",
           "is_frame", "numeric_values"]


def is_frame(X):
    """True for a pandas DataFrame (duck-typed: ``iloc`` and ``dtypes``)."""
    return hasattr(X, "iloc") and hasattr(X, "dtypes") and hasattr(X, "columns")


def as_table(X):
    """Return a pandas DataFrame or a 2-D numpy array of X's columns.

    polars frames are converted with ``to_pandas()``; any other array-like
    goes through :func:`numpy.asarray` (validated by the caller).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)

    Returns
    -------
    table : pandas.DataFrame or ndarray
    """
    if type(X).__module__.split(".")[0] == "polars" and hasattr(X, "to_pandas"):
        return X.to_pandas()
    return X


def column(table, index):
    """Return column ``index`` (a position) of a frame or a 2-D array."""
    return table.iloc[:, index] if is_frame(table) else table[:, index]


def dtype_categorical(table):
    """Return which columns are categorical by their dtype.

    Frames: ``category``, ``object``, ``bool``, ``boolean`` and ``string``
    columns. Arrays: every column of an object, string or bool array.

    Parameters
    ----------
    table : pandas.DataFrame or ndarray

    Returns
    -------
    mask : ndarray of bool of shape (n_features,)
    """
    if not is_frame(table):
        return np.full(table.shape[1], table.dtype.kind in "OUSb")
    # category, string and boolean extension dtypes have kind "O" or "b"
    return np.array([getattr(dtype, "kind", "O") in "bOUS"
                     for dtype in table.dtypes], dtype=bool)


def _object_missing(values):
    """Missing mask of an object array: None, NaN, pd.NA, NaT."""
    mask = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        try:
            mask[i] = value is None or bool(value != value)
        except (TypeError, ValueError):  # pd.NA refuses bool()
            mask[i] = True
    return mask


def categorical_values(values):
    """Return a column as an object array and its missing mask.

    Parameters
    ----------
    values : pandas.Series or 1-D ndarray

    Returns
    -------
    values : ndarray of object
    missing : ndarray of bool
    """
    if hasattr(values, "isna"):
        return values.to_numpy(dtype=object), values.isna().to_numpy()
    values = np.asarray(values, dtype=object)
    return values, _object_missing(values)


def numeric_values(values, name):
    """Return a column as float64, every missing value as NaN.

    Parameters
    ----------
    values : pandas.Series or 1-D ndarray
    name : str
        The column's name, for the error message.

    Returns
    -------
    values : ndarray of float64

    Raises
    ------
    ValueError
        When a value is not a number, or is infinite.
    """
    try:
        if hasattr(values, "isna"):
            result = values.to_numpy(dtype=np.float64, na_value=np.nan)
        elif values.dtype == object:
            missing = _object_missing(values)
            result = np.full(len(values), np.nan)
            result[~missing] = values[~missing].astype(np.float64)
        else:
            result = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Column {name} is treated as numeric but holds values that are "
            f"not numbers ({error}). Name it in categorical_features, or give "
            "it a category, object or string dtype.") from None
    if np.isinf(result).any():
        raise ValueError(f"Column {name} holds infinite values; replace them "
                         "with NaN (imputed) or finite numbers.")
    return result
