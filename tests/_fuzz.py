"""Strategies and the one property of the fuzz tests (tests/test_fuzz.py).

Every generated case either fits a model whose outputs are finite and of
the right shape, or raises a clear ValueError / TypeError. RuntimeWarnings
are errors inside the property, so a numpy warning storm fails it too.
Outcomes are counted per test in ``OUTCOMES`` and printed at the end of the
session (tests/conftest.py).
"""

import warnings
from collections import Counter

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

OUTCOMES = Counter()  # (test, outcome) -> cases
MESSAGES = Counter()  # (test, first words of the error) -> cases

# Messages that mean an internal error escaped rather than a clear refusal.
UNCLEAR = ("at least one array", "broadcast", "index ", "out of bounds", "shape mismatch", "unhashable")

NUMERIC_DTYPES = ["int8", "int64", "uint8", "float16", "float32", "float64", "bool"]
# Ordinary values are listed several times, so that about half the cases
# are valid input and reach training.
ALL_DTYPES = ["float64"] * 6 + ["float32"] * 2 + NUMERIC_DTYPES + ["object", "str", "complex128"]
FORMATS = ["ndarray"] * 5 + ["list", "csr", "csc", "coo", "dataframe"]
# Magnitudes of the finite values: tiny to near float64's limit.
SCALES = [1.0] * 6 + [1e-300, 5e-324, 1e-8, 1e8, 3.5e38, 1e154, 1e300]
SPECIALS = ["none"] * 6 + ["nan", "inf", "-inf", "zero_column"]


@st.composite
def matrices(draw, rows=st.sampled_from([12, 12, 12, 5, 3, 2, 1, 0]),
             cols=st.sampled_from([4, 4, 2, 1, 0]), dtypes=st.sampled_from(ALL_DTYPES),
             formats=st.sampled_from(FORMATS)):
    """``(X, n_rows, n_cols)`` in one of many dtypes and containers."""
    n_rows, n_cols = draw(rows), draw(cols)
    dtype, layout = draw(dtypes), draw(formats)
    scale, special = draw(st.sampled_from(SCALES)), draw(st.sampled_from(SPECIALS))
    seed = draw(st.integers(0, 2**16))
    return make_matrix(n_rows, n_cols, dtype, layout, scale, special, seed), n_rows, n_cols


def make_matrix(n_rows, n_cols, dtype, layout, scale, special, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, n_cols)) * scale
    if X.size and special in ("nan", "inf", "-inf"):
        X.flat[rng.randint(X.size)] = float(special)
    if n_cols and special == "zero_column":
        X[:, 0] = 0
    if dtype == "str":
        X = X.astype(str)
    elif dtype == "object":
        X = X.astype(object)
        if X.size:
            X.flat[0] = "a"
    elif dtype == "complex128":
        X = X + 1j
    elif dtype != "float64":
        with np.errstate(over="ignore", invalid="ignore"):
            X = X.astype(dtype)
    if layout == "list":
        return X.tolist()
    if layout in ("csr", "csc", "coo") and X.dtype.kind in "biuf" and X.dtype != np.float16:
        return getattr(sp, f"{layout}_matrix")(X)
    if layout == "dataframe" and X.dtype != np.float16:
        import pandas as pd

        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(n_cols)])
        if n_cols >= 2 and X.dtype.kind == "f":  # mixed dtypes
            frame["f0"] = (frame["f0"] > 0).astype(int)
            if seed % 3 == 0:
                frame["f1"] = frame["f1"].astype("category")
        return frame
    return X


LABEL_KINDS = ["int2"] * 4 + ["int3"] * 3 + [ "int5", "one_class", "str", "bool", "float_labels",
               "continuous", "mixed", "multilabel", "nan", "column", "object_int"]


def make_labels(kind, n, seed):
    rng = np.random.RandomState(seed)
    if kind == "int2":
        return rng.randint(2, size=n) * 7 - 3
    if kind == "int3":
        return np.arange(n) % 3
    if kind == "int5":
        return rng.randint(5, size=n)
    if kind == "one_class":
        return np.zeros(n, dtype=int)
    if kind == "str":
        return np.array(["cat", "dog", "emu"])[np.arange(n) % 3]
    if kind == "bool":
        return np.arange(n) % 2 == 0
    if kind == "float_labels":
        return (np.arange(n) % 2).astype(float)
    if kind == "continuous":
        return rng.normal(size=n)
    if kind == "mixed":
        return np.array([1, "a"] * n, dtype=object)[:n]
    if kind == "multilabel":
        Y = rng.randint(2, size=(n, 3))
        if n:
            Y[0] = [1, 0, 1]
        return Y
    if kind == "nan":
        y = (np.arange(n) % 2).astype(float)
        if n:
            y[0] = np.nan
        return y
    if kind == "column":
        return (np.arange(n) % 2).reshape(-1, 1)
    return np.array(list(np.arange(n) % 2), dtype=object)


TARGET_KINDS = ["normal"] * 5 + ["huge", "tiny", "int", "constant", "two_outputs", "nan", "inf",
                "str", "column", "bool", "object_float"]


def make_targets(kind, n, seed):
    rng = np.random.RandomState(seed)
    y = rng.normal(size=n)
    if kind == "huge":
        return y * 1e300
    if kind == "tiny":
        return y * 1e-300
    if kind == "int":
        return rng.randint(-5, 5, size=n)
    if kind == "constant":
        return np.full(n, 3.0)
    if kind == "two_outputs":
        return rng.normal(size=(n, 2))
    if kind in ("nan", "inf"):
        if n:
            y[0] = float(kind)
        return y
    if kind == "str":
        return y.astype(str)
    if kind == "column":
        return y.reshape(-1, 1)
    if kind == "bool":
        return y > 0
    if kind == "object_float":
        return y.astype(object)
    return y


WEIGHT_KINDS = ["none"] * 8 + ["ones", "some_zero", "all_zero", "negative", "nan", "inf", "huge",
                "tiny", "short", "long", "2d", "str", "int"]


def make_weights(kind, n, seed):
    rng = np.random.RandomState(seed)
    if kind == "none":
        return None
    w = rng.uniform(0.5, 2, size=n)
    if kind == "some_zero":
        w[::2] = 0
    elif kind == "all_zero":
        w[:] = 0
    elif kind == "negative" and n:
        w[0] = -1
    elif kind in ("nan", "inf") and n:
        w[-1] = float(kind)
    elif kind == "huge":
        w *= 1e300
    elif kind == "tiny":
        w *= 1e-300
    elif kind == "short":
        w = w[:-1]
    elif kind == "long":
        w = np.append(w, 1.0)
    elif kind == "2d":
        w = w.reshape(-1, 1)
    elif kind == "str":
        w = w.astype(str)
    elif kind == "int":
        w = rng.randint(0, 3, size=n)
    elif kind == "ones":
        w = np.ones(n)
    return w


def n_rows_of(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def check_outputs(model, X, method_names):
    """Every output method on X: finite, one row per input row."""
    n = n_rows_of(X)
    for name in method_names:
        if not hasattr(model, name):
            continue
        out = getattr(model, name)(X)
        out = np.asarray(out)
        assert out.shape[0] == n, (name, out.shape, n)
        if out.dtype.kind in "fc":
            assert np.isfinite(out).all(), (name, out)
        if name == "predict_proba" and out.size:
            assert ((out >= 0) & (out <= 1)).all(), out


def classify(test, call):
    """Run ``call``; count its outcome; re-raise anything but a clear error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            call()
        except (ValueError, TypeError) as error:
            message = str(error)
            assert message.strip(), f"{type(error).__name__} without a message"
            assert not any(word in message for word in UNCLEAR), message
            OUTCOMES[test, type(error).__name__] += 1
            MESSAGES[test, f"{type(error).__name__}: {message[:70]}"] += 1
            return type(error).__name__
    OUTCOMES[test, "fitted"] += 1
    return "fitted"


def outcome_table():
    """Rows ``(test, fitted, ValueError, TypeError, total)`` and a total row."""
    tests = sorted({test for test, _ in OUTCOMES})
    rows = []
    for test in tests:
        counts = [OUTCOMES[test, kind] for kind in ("fitted", "ValueError", "TypeError")]
        rows.append((test, *counts, sum(counts)))
    if rows:
        rows.append(("total", *[sum(row[i] for row in rows) for i in range(1, 5)]))
    return rows
