"""TabularPreprocessor: raw tables to the float matrix a network trains on.

RealMLP's recipe (Holzmüller et al. 2024, "Better by Default"): robust
scaling and smooth clipping for numeric columns, one-hot (binary: one ±1
column) for categorical columns of low cardinality, and integer codes for
an embedding layer above that, with code 0 kept for missing and unknown
categories. Missing numeric values are imputed with the median and flagged
by an indicator column.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._compat import _check_sample_weight
from .._typing import ArrayLike, NDArray
from ._columns import (
    as_table,
    categorical_values,
    column,
    dtype_categorical,
    is_frame,
    numeric_values,
)
from ._statistics import robust_statistics

__all__ = ["TabularPreprocessor", "validated_table"]

UNKNOWN_CODE = 0


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Encode a table of numeric and categorical columns for a network.

    The output has the numeric part first, then the embedding codes:

    1. numeric columns, centred on their median, divided by their
       interquartile range and smoothly clipped to ``(-clip_value,
       clip_value)``; missing values take the median (0 after centring);
    2. one indicator column (1.0 missing, 0.0 present) per numeric column
       that had missing values in ``fit``;
    3. categorical columns with at most ``max_onehot`` categories: two
       categories give one column (-1.0 / +1.0), more give one-hot columns;
       missing or unknown values give zeros;
    4. categorical columns with more categories: one column of integer codes
       ``1..K`` (as floats) for an embedding layer; ``0`` stands for missing
       and unknown categories.

    Parameters
    ----------
    categorical_features : "from_dtype", array-like of str, int or bool, \
default="from_dtype"
        Which columns are categorical. ``"from_dtype"``: frame columns of
        ``category``, ``object``, ``bool`` or ``string`` dtype, and every
        column of an object, string or bool array. Otherwise column names
        (frames only), positions, or a boolean mask over the columns.
    max_onehot : int, default=8
        Categorical columns with at most this many categories (seen in
        ``fit``, missing excluded) are one-hot encoded; larger ones become
        embedding codes. RealMLP-TD's ``max_one_hot_cat_size=9`` counts its
        missing slot, so it is the same threshold.
    clip_value : float or None, default=3.0
        Smooth clipping bound ``c`` of ``x / sqrt(1 + (x / c)**2)``; None
        leaves the scaled values unclipped.
    handle_unknown : {"reserved", "error"}, default="reserved"
        "reserved": categories not seen in ``fit`` are treated as missing
        (zeros, or code 0). "error": they raise a ValueError.
    dtype : {"float32", "float64"}, default="float32"
        dtype of the output.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``fit`` saw a frame with string names.
    categorical_features_ : ndarray of bool of shape (`n_features_in_`,)
        Which input columns were encoded as categorical.
    medians_ : ndarray of shape (n_numeric,)
        Median of each numeric column (its centre and imputed value).
    scales_ : ndarray of shape (n_numeric,)
        Factor applied after centring: ``1 / IQR``, ``2 / (max - min)`` when
        the IQR is 0, and 0 for a constant column.
    missing_indicators_ : ndarray of int
        Positions among the numeric columns of those that get an indicator.
    categories_ : list of ndarray
        Categories seen in ``fit`` of each categorical column, in code order
        (the category at position ``i`` has code ``i + 1``).
    n_numeric_out_ : int
        Number of output columns before the embedding codes.
    embedding_columns_ : ndarray of int
        Output positions of the embedding code columns (the last ones).
    embedding_cardinalities_ : ndarray of int
        Number of codes of each embedding column, code 0 included
        (categories + 1): the ``input_dim`` of its embedding table.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder : one-hot encoding alone.
    sklearn.preprocessing.RobustScaler : median / IQR scaling alone.

    Notes
    -----
    A numeric value ``x`` becomes ``z = (x - median) * scale`` and then
    ``z / sqrt(1 + (z / clip_value)**2)``, so every numeric output lies in
    ``(-clip_value, clip_value)`` whatever the outliers; a mostly-zero column
    (IQR 0) is scaled by half its range instead of exploding.

    Examples
    --------
    >>> import pandas as pd
    >>> from skann.tabular import TabularPreprocessor
    >>> X = pd.DataFrame({"income": [20.0, 35.0, None, 50.0],
    ...                   "owner": ["yes", "no", "no", "yes"]})
    >>> prep = TabularPreprocessor().fit(X)
    >>> prep.get_feature_names_out().tolist()
    ['income', 'income_missing', 'owner_yes']
    >>> prep.transform(X).round(2)
    array([[-0.95,  0.  ,  1.  ],
           [ 0.  ,  0.  , -1.  ],
           [ 0.  ,  1.  , -1.  ],
           [ 0.95,  0.  ,  1.  ]], dtype=float32)
    """

    def __init__(self, *, categorical_features="from_dtype", max_onehot=8,
                 clip_value=3.0, handle_unknown="reserved", dtype="float32"):
        self.categorical_features = categorical_features
        self.max_onehot = max_onehot
        self.clip_value = clip_value
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    def fit(self, X: ArrayLike, y: ArrayLike | None = None,
            sample_weight: ArrayLike | None = None) -> "TabularPreprocessor":
        """Learn medians, scales and categories from X.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            pandas or polars frame, or a numpy array (object arrays are
            categorical by default).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the quantiles; a row of weight 0 is
            ignored and one of integer weight ``k`` counts as ``k`` rows.

        Returns
        -------
        self : TabularPreprocessor
        """
        self._check_params()
        table = self._validate(X, reset=True)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, np.empty((table.shape[0], 0)),
                                           ensure_non_negative=True)
            if weights.any():  # rows of weight 0 are absent rows
                keep = np.flatnonzero(weights)
                table = table.iloc[keep] if is_frame(table) else table[keep]
                weights = weights[keep]
        mask = self._categorical_mask(table)
        numeric = np.flatnonzero(~mask)
        values = self._numeric_matrix(table, numeric)
        medians, scales = robust_statistics(values, weights)
        categories = [_categories(*categorical_values(column(table, j)))
                      for j in np.flatnonzero(mask)]
        widths = [_width(len(c), self.max_onehot) for c in categories]
        n_numeric_out = (len(numeric) + int(np.isnan(values).any(axis=0).sum())
                         + sum(w for w in widths if w is not None))
        n_codes = sum(w is None for w in widths)
        self.categorical_features_ = mask
        self.medians_, self.scales_ = medians, scales
        self.missing_indicators_ = np.flatnonzero(np.isnan(values).any(axis=0))
        self.categories_ = categories
        self.n_numeric_out_ = n_numeric_out
        self.embedding_columns_ = np.arange(n_numeric_out, n_numeric_out + n_codes)
        self.embedding_cardinalities_ = np.array(
            [len(c) + 1 for c, w in zip(categories, widths, strict=True)
             if w is None], dtype=np.int64)
        return self

    def transform(self, X: ArrayLike) -> NDArray:
        """Encode X with what ``fit`` learned.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)
            Same columns, in the same order, as in ``fit``. Missing values
            anywhere and unseen categories are encoded, never an error
            (unless ``handle_unknown="error"``).

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features_out), C-contiguous
            dtype ``self.dtype``; the last ``len(embedding_columns_)``
            columns hold embedding codes.
        """
        check_is_fitted(self, "categories_")
        return self._encoded(self._validate(X, reset=False))

    def _encoded(self, table):
        """``transform`` of a table that ``validated_table`` checked."""
        numeric = np.flatnonzero(~self.categorical_features_)
        values = self._numeric_matrix(table, numeric)
        missing = np.isnan(values)
        scaled = (np.where(missing, self.medians_, values) - self.medians_) * self.scales_
        if self.clip_value is not None:
            scaled /= np.hypot(1.0, scaled / self.clip_value)  # no overflow
        blocks, codes = [scaled, missing[:, self.missing_indicators_]], []
        names = self._input_names()
        for j, categories in zip(np.flatnonzero(self.categorical_features_),
                                 self.categories_, strict=True):
            code = self._codes(table, j, names[j], categories)
            width = _width(len(categories), self.max_onehot)
            if width is None:
                codes.append(code[:, None])
            elif width == 1 and len(categories) == 2:
                blocks.append(np.array([0.0, -1.0, 1.0])[code][:, None])
            else:
                blocks.append(np.arange(1, len(categories) + 1) == code[:, None])
        out = np.hstack([np.empty((len(values), 0)), *blocks, *codes])
        return np.ascontiguousarray(out, dtype=np.dtype(self.dtype))

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> NDArray:
        """Return the names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; by default ``feature_names_in_``, or
            ``x0, x1, ...`` when ``fit`` saw no names.

        Returns
        -------
        names : ndarray of object
            Numeric columns keep their name; indicators end in
            ``_missing``; a binary column is named after its +1 category
            (``owner_yes``), one-hot columns after their category, and code
            columns end in ``_code``.
        """
        check_is_fitted(self, "categories_")
        names = self._input_names(input_features)
        numeric = [names[j] for j in np.flatnonzero(~self.categorical_features_)]
        out = numeric + [f"{numeric[i]}_missing" for i in self.missing_indicators_]
        codes = []
        for j, categories in zip(np.flatnonzero(self.categorical_features_),
                                 self.categories_, strict=True):
            width = _width(len(categories), self.max_onehot)
            if width is None:
                codes.append(f"{names[j]}_code")
            elif width == 1 and len(categories) == 2:
                out.append(f"{names[j]}_{categories[1]}")
            else:
                out += [f"{names[j]}_{category}" for category in categories]
        return np.asarray(out + codes, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = [str(np.dtype(self.dtype))]
        return tags

    # ------------------------------------------------------------------

    def _check_params(self):
        if str(self.dtype) not in ("float32", "float64") and self.dtype not in (
                np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got "
                             f"{self.dtype!r}.")
        if isinstance(self.max_onehot, bool) or not isinstance(
                self.max_onehot, int | np.integer) or self.max_onehot < 0:
            raise ValueError(f"max_onehot must be an int >= 0, got "
                             f"{self.max_onehot!r}.")
        if self.clip_value is not None and not (
                isinstance(self.clip_value, int | float) and self.clip_value > 0):
            raise ValueError(f"clip_value must be a positive number or None, "
                             f"got {self.clip_value!r}.")
        if self.handle_unknown not in ("reserved", "error"):
            raise ValueError(f"handle_unknown must be 'reserved' or 'error', "
                             f"got {self.handle_unknown!r}.")

    def _validate(self, X, reset):
        return validated_table(self, X, reset)

    def _categorical_mask(self, table):
        n_features = table.shape[1]
        spec = self.categorical_features
        if isinstance(spec, str) and spec == "from_dtype":
            return dtype_categorical(table)
        spec = np.asarray(spec)
        if spec.dtype == bool:
            if spec.shape != (n_features,):
                raise ValueError(f"categorical_features as a boolean mask needs "
                                 f"{n_features} entries, got {spec.size}.")
            return spec.copy()
        mask = np.zeros(n_features, dtype=bool)
        if spec.size == 0:
            return mask
        if spec.dtype.kind in "iu":
            if spec.min() < 0 or spec.max() >= n_features:
                raise ValueError(f"categorical_features holds positions outside "
                                 f"0..{n_features - 1}: {spec.tolist()}.")
            mask[spec] = True
            return mask
        names = getattr(self, "feature_names_in_", None)
        if spec.dtype.kind not in "UO" or names is None:
            raise ValueError(
                "categorical_features must be 'from_dtype', a boolean mask, "
                "column positions, or column names of a frame with string "
                f"column names; got {self.categorical_features!r}.")
        unknown = sorted(set(spec.tolist()) - set(names.tolist()))
        if unknown:
            raise ValueError(f"categorical_features names columns that X does "
                             f"not have: {unknown}.")
        return np.isin(names, spec)

    def _input_names(self, input_features=None):
        names = getattr(self, "feature_names_in_", None)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(f"input_features should have length "
                                 f"{self.n_features_in_}, got {len(input_features)}.")
            if names is not None and not np.array_equal(input_features, names):
                raise ValueError("input_features is not equal to feature_names_in_")
            return input_features.tolist()
        if names is not None:
            return names.tolist()
        return [f"x{j}" for j in range(self.n_features_in_)]

    def _numeric_matrix(self, table, positions):
        names = self._input_names()
        values = np.empty((table.shape[0], len(positions)))
        for i, j in enumerate(positions):
            values[:, i] = numeric_values(column(table, j), names[j])
        return values

    def _codes(self, table, j, name, categories):
        """Integer codes 1..K of column j; 0 for missing and unknown."""
        values, missing = categorical_values(column(table, j))
        lookup = {category: code for code, category in enumerate(categories, 1)}
        codes = np.fromiter((lookup.get(v, UNKNOWN_CODE) for v in values),
                            dtype=np.intp, count=len(values))
        codes[missing] = UNKNOWN_CODE
        if self.handle_unknown == "error":
            unknown = (codes == UNKNOWN_CODE) & ~missing
            if unknown.any():
                raise ValueError(f"Column {name} has categories not seen in "
                                 f"fit: {sorted(set(map(str, values[unknown])))}"
                                 "; use handle_unknown='reserved' to encode "
                                 "them as missing.")
        return codes


def validated_table(estimator, X, reset):
    """X as a frame or 2-D array, its names and width checked against
    ``estimator``'s fit (``validate_data``; ``reset`` records them)."""
    table = as_table(X)
    if is_frame(table):
        validate_data(estimator, table, reset=reset, skip_check_array=True)
        if table.shape[1] == 0:  # sklearn's wording, as check_array's
            raise ValueError(f"0 feature(s) (shape={table.shape}) while a "
                             "minimum of 1 is required.")
        if table.shape[0] == 0:
            raise ValueError(f"0 sample(s) (shape={table.shape}) while a "
                             "minimum of 1 is required.")
        return table
    return validate_data(estimator, table, reset=reset, dtype=None,
                         ensure_all_finite=False)


def _categories(values, missing):
    """Sorted distinct non-missing values (by type name, then value)."""
    distinct = set(values[~missing].tolist())
    try:
        ordered = sorted(distinct, key=lambda v: (type(v).__name__, v))
    except TypeError:
        ordered = sorted(distinct, key=lambda v: (type(v).__name__, str(v)))
    result = np.empty(len(ordered), dtype=object)
    result[:] = ordered
    return result


def _width(n_categories, max_onehot):
    """Output columns of a one-hot column, or None for an embedding code."""
    if n_categories > max_onehot:
        return None
    return 1 if n_categories == 2 else n_categories
