"""The lean inference path against the full one.

Prediction takes a plain float array (``skann._inputs.is_plain_rows``) as it
is, without sklearn's ``validate_data``. For every input kind the fuzzer
generates, the lean path and the full path (forced here by patching the
test that chooses) must give the same bits, the same errors and the same
warnings; and the lean path must stay bit-identical from 8 threads.
"""

import threading
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import skann._base
from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.layers import Conv2D, Flatten

from ._fuzz import matrices

pd = pytest.importorskip("pandas")

METHODS = {
    MLPClassifier: ("predict", "predict_proba", "predict_log_proba"),
    MLPRegressor: ("predict",),
    AutoEncoder: ("transform",),
}


@pytest.fixture(scope="module")
def fitted_models():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 4))
    y = np.arange(30) % 3
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            MLPClassifier((3,), max_iter=5, random_state=0).fit(X, y),
            MLPClassifier((3,), max_iter=5, random_state=0).fit(X, y % 2),
            MLPClassifier((3,), max_iter=5, random_state=0, dtype="float32").fit(X, y),
            MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, X[:, :2]),
            AutoEncoder(hidden_layer_sizes=(2,), max_iter=5, random_state=0).fit(X),
            MLPClassifier(layers=[Conv2D(2, 2), Flatten()], input_shape=(2, 2), max_iter=2,
                          random_state=0).fit(X, y),
            MLPClassifier((3,), max_iter=5, random_state=0).fit(frame, y),
        ]


def outcome(call):
    """What ``call()`` did: its result or its error, and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("returned", np.asarray(call()))
        except Exception as error:  # noqa: BLE001 - compared, not hidden
            result = ("raised", type(error), str(error))
    return result, [(w.category, str(w.message)) for w in caught]


def full_path(call):
    """``outcome(call)`` with the lean path switched off."""
    with mock.patch.object(skann._base, "is_plain_rows", return_value=False):
        return outcome(call)


def assert_same(lean, full):
    (lean_result, lean_warnings), (full_result, full_warnings) = lean, full
    assert lean_warnings == full_warnings
    assert lean_result[0] == full_result[0], (lean_result, full_result)
    if lean_result[0] == "raised":
        assert lean_result[1:] == full_result[1:]
    else:
        assert lean_result[1].dtype == full_result[1].dtype
        assert np.array_equal(lean_result[1], full_result[1], equal_nan=lean_result[1].dtype.kind == "f")


@given(matrices(cols=st.sampled_from([4, 4, 0, 3, 5])), st.integers(0, 6))
def test_lean_and_full_paths_agree_on_fuzzed_inputs(fitted_models, matrix, which):
    X, _, _ = matrix
    model = fitted_models[which]
    for method in METHODS[type(model)]:
        call = getattr(model, method)
        assert_same(outcome(lambda: call(X)), full_path(lambda: call(X)))  # noqa: B023 - called at once


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows", [1, 7, 5000])
def test_plain_rows_skip_validation_and_agree(fitted_models, dtype, n_rows):
    # 5000 rows: more than one inference chunk.
    X = np.random.RandomState(1).normal(size=(n_rows, 4)).astype(dtype)
    model = fitted_models[0]
    with mock.patch.object(skann._base, "validate_data", side_effect=AssertionError("validated")):
        lean = outcome(lambda: model.predict_proba(X))
    assert lean[0][0] == "returned"
    assert_same(lean, full_path(lambda: model.predict_proba(X)))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.asmatrix
@pytest.mark.parametrize(
    "make_input",
    [
        lambda X: np.asfortranarray(X),
        lambda X: X[:, ::-1],
        lambda X: X.astype(">f8"),
        lambda X: X.astype(np.float16),
        lambda X: np.asmatrix(X),
        lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X),
        lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, -np.inf, X),
        lambda X: X[:, :3],
        lambda X: X[:0],
        lambda X: X.tolist(),
    ],
    ids=["fortran", "strided", "big-endian", "float16", "matrix", "nan", "inf", "narrow", "empty", "list"],
)
def test_other_inputs_are_validated(fitted_models, make_input):
    X = make_input(np.random.RandomState(1).normal(size=(6, 4)))
    model = fitted_models[0]
    with (
        mock.patch.object(skann._base, "validate_data", side_effect=AssertionError("validated")),
        pytest.raises(AssertionError, match="validated"),
    ):
        model.predict_proba(X)


def test_array_on_frame_fitted_model_warns_as_sklearn(fitted_models):
    X = np.random.RandomState(1).normal(size=(3, 4))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        fitted_models[-1].predict_proba(X)


@pytest.mark.parametrize("which", [0, 2, 3, 4])
def test_lean_path_is_bit_identical_from_8_threads(fitted_models, which):
    model = fitted_models[which]
    method = getattr(model, METHODS[type(model)][-1])
    rng = np.random.RandomState(2)
    # C-contiguous parts of different sizes (1 row included): the lean path.
    parts = [np.ascontiguousarray(rng.normal(size=(1 + 37 * i, 4))) for i in range(8)]
    expected = [method(part) for part in parts]
    results = [[] for _ in parts]
    barrier = threading.Barrier(len(parts))

    def work(index):
        barrier.wait()
        for _ in range(50):
            results[index].append(method(parts[index]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wrong = sum(not np.array_equal(r, expected[i]) for i, rounds in enumerate(results) for r in rounds)
    assert wrong == 0, f"{wrong} of {8 * 50} concurrent calls differ"
