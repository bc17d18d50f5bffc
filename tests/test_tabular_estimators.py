"""TabularClassifier and TabularRegressor: frames in, categories, missing
values, unknown categories, the MLP features they keep, and clear errors."""

import copy
import threading

import numpy as np
import pytest
from sklearn.base import clone

from skann import MLPClassifier, TabularClassifier, TabularRegressor
from skann.layers import CategoryEmbedding, Dense, NumericEmbedding, Scale

pd = pytest.importorskip("pandas")

N = 240
FAST = {"max_iter": 100, "random_state": 0}


def _frame(n=N, seed=0):
    """A table with numeric, missing, low- and high-cardinality categorical
    and boolean columns; the class depends on a number and a category."""
    rng = np.random.RandomState(seed)
    income = rng.normal(50, 15, n)
    age = rng.uniform(18, 80, n)
    age[rng.rand(n) < 0.1] = np.nan
    city = rng.choice([f"city{i}" for i in range(20)], n)  # embedded (> max_onehot)
    plan = pd.Categorical(rng.choice(["basic", "plus", "pro"], n))
    X = pd.DataFrame({"income": income, "age": age, "city": city, "plan": plan,
                      "owner": rng.rand(n) < 0.5})
    y = np.where((income > 50) ^ (np.asarray(plan) == "pro"), "yes", "no")
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _frame()
    return TabularClassifier(**FAST).fit(X, y), X, y


def test_classifier_learns_a_frame_with_categories_and_missing_values(fitted):
    clf, X, y = fitted
    assert clf.score(X, y) > 0.85
    assert list(clf.feature_names_in_) == list(X.columns) and clf.n_features_in_ == 5
    assert clf.preprocessor_.embedding_cardinalities_.tolist() == [21]  # city: 20 + missing
    assert isinstance(clf.network_.layers[0], CategoryEmbedding)
    proba = clf.predict_proba(X)
    assert proba.shape == (N, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(clf.predict(X)) <= {"yes", "no"}


def test_unknown_categories_and_missing_values_at_predict_never_error(fitted):
    clf, X, _ = fitted
    odd = X.head(4).copy()
    odd["city"] = ["atlantis", None, np.nan, "city3"]
    odd["plan"] = pd.Categorical(["premium", None, "basic", "pro"])
    odd.loc[:, "income"] = np.nan
    proba = clf.predict_proba(odd)
    assert np.isfinite(proba).all()


def test_categorical_features_by_name_on_an_integer_column():
    X, y = _frame()
    X["zone"] = np.random.RandomState(1).randint(0, 12, N)  # ints, categorical by name
    clf = TabularClassifier(categorical_features=["city", "plan", "owner", "zone"], **FAST).fit(X, y)
    assert clf.preprocessor_.categorical_features_.tolist() == [False, False, True, True, True, True]
    assert clf.preprocessor_.embedding_cardinalities_.tolist() == [21, 13]


def test_numpy_object_arrays_and_polars_frames_give_the_same_model():
    X, y = _frame()
    clf = TabularClassifier(**FAST).fit(X, y)
    polars = pytest.importorskip("polars")
    from_polars = TabularClassifier(**FAST).fit(polars.from_pandas(X), y)
    np.testing.assert_allclose(from_polars.predict_proba(polars.from_pandas(X)), clf.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    objects = TabularClassifier(categorical_features=[2, 3, 4], **FAST).fit(X.to_numpy(dtype=object), y)
    np.testing.assert_allclose(objects.predict_proba(X.to_numpy(dtype=object)), clf.predict_proba(X),
                               rtol=1e-5, atol=1e-6)


def test_regressor_on_a_frame():
    X, _ = _frame()
    y = 2 * X["income"].to_numpy() + 30 * (X["plan"] == "pro").to_numpy()
    reg = TabularRegressor(**FAST).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert reg.predict(X.head(3)).shape == (3,)


def test_best_epoch_is_restored_from_the_internal_split(fitted):
    clf = fitted[0]
    losses = [record["val_loss"] for record in clf.history_]
    best = int(np.argmin(losses))
    assert clf.history_[best].get("restored") is True
    assert clf.best_validation_score_ == clf.history_[best]["val_score"]


def test_options_build_their_layers_and_layers_param_stacks_after_them():
    X, y = _frame()
    clf = TabularClassifier(numeric_embedding=True, scaling_layer=True, **FAST).fit(X, y)
    kinds = [type(layer) for layer in clf.network_.layers]
    assert kinds[:3] == [CategoryEmbedding, NumericEmbedding, Scale]
    hidden = [Dense(16, activation="tanh")]
    custom = TabularClassifier(layers=hidden, **FAST).fit(X, y)
    assert [type(layer) for layer in custom.network_.layers] == [CategoryEmbedding, Dense, Dense]
    assert hidden[0].get_params()["units"] == 16  # the user's layer objects are not changed


def test_sample_weight_class_weight_and_X_val():
    X, y = _frame()
    weights = np.where(y == "yes", 2.0, 1.0)
    TabularClassifier(**FAST).fit(X, y, sample_weight=weights)
    TabularClassifier(class_weight="balanced", **FAST).fit(X, y)
    X_val, y_val = _frame(80, seed=5)
    clf = TabularClassifier(**FAST).fit(X, y, X_val=X_val, y_val=y_val)
    assert all("val_loss" in record for record in clf.history_)


def test_semi_supervised_pseudo_label_passes_through():
    X, y = _frame()
    y = y.astype(object)
    y[::3] = "unlabelled"
    clf = TabularClassifier(semi_supervised="pseudo_label", unlabelled_marker="unlabelled",
                            max_iter=10, random_state=0).fit(X, y)
    assert set(clf.classes_) == {"no", "yes"} and clf.transduction_.shape == (N,)


def test_partial_fit_keeps_the_first_batch_preprocessing():
    X, y = _frame()
    clf = TabularClassifier(random_state=0)
    clf.partial_fit(X.iloc[:120], y[:120], classes=["no", "yes"])
    first = clf.preprocessor_
    medians = first.medians_.copy()
    clf.partial_fit(X.iloc[120:], y[120:])
    assert clf.preprocessor_ is first
    np.testing.assert_array_equal(clf.preprocessor_.medians_, medians)


def test_a_failed_fit_leaves_the_model_as_it_was(fitted):
    clf = copy.deepcopy(fitted[0])
    X, y = fitted[1], fitted[2]
    before = clf.predict_proba(X)
    preprocessor = clf.preprocessor_
    bad = X.drop(columns="city")
    bad.iloc[0, 0] = np.inf
    with pytest.raises(ValueError, match="income"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X.drop(columns="city"), y[:-1])
    assert clf.preprocessor_ is preprocessor and clf.n_features_in_ == 5
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_predict_from_threads_is_identical(fitted):
    clf, X, _ = fitted
    expected = clf.predict_proba(X)
    results = [None] * 8

    def work(i):
        results[i] = clf.predict_proba(X)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_clone_and_pickle_round_trip(fitted):
    import pickle

    clf, X, _ = fitted
    assert clone(clf).get_params() == clf.get_params()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))


def test_skops_round_trip_with_the_trusted_types(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    import skann

    clf, X, _ = fitted
    path = tmp_path / "tabular.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert [t for t in untrusted if t.startswith("skann") and t not in skann.SKOPS_TRUSTED_TYPES] == []
    loaded = sio.load(path, trusted=skann.SKOPS_TRUSTED_TYPES + [t for t in untrusted if not t.startswith("skann")])
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_onnx_export_names_the_preprocessing_step(fitted):
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    from skann.onnx import UnsupportedError

    for model in (fitted[0], TabularRegressor(**FAST).fit(fitted[1], np.arange(N, dtype=float))):
        with pytest.raises(UnsupportedError, match="TabularPreprocessor"):
            to_onnx(model, initial_types=[("X", FloatTensorType([None, 5]))])


@pytest.mark.parametrize("change, match", [
    (lambda X: X.drop(columns="city"), "city"),
    (lambda X: X.rename(columns={"city": "town"}), "town"),
])
def test_predict_refuses_other_columns(fitted, change, match):
    clf, X, _ = fitted
    with pytest.raises(ValueError, match=match):
        clf.predict(change(X))


def test_bad_parameters_and_inputs_raise_clear_errors():
    X, y = _frame()
    with pytest.raises(ValueError, match="categorical_features names columns"):
        TabularClassifier(categorical_features=["nope"], **FAST).fit(X, y)
    with pytest.raises(ValueError, match="max_onehot"):
        TabularClassifier(max_onehot=-1).fit(X, y)
    infinite = X.copy()
    infinite.loc[0, "income"] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        TabularClassifier(**FAST).fit(infinite, y)
    with pytest.raises(ValueError, match="0 sample"):
        TabularClassifier(**FAST).fit(X.iloc[:0], y[:0])


def test_small_data_train_without_the_internal_split():
    X, y = _frame(20)
    clf = TabularClassifier(max_iter=5, random_state=0).fit(X, y)
    assert clf.n_iter_ == 5 and "val_loss" not in clf.history_[-1]


def test_the_mlps_stay_sklearns_defaults():
    assert MLPClassifier().get_params()["hidden_layer_sizes"] == (100,)
    assert TabularClassifier().get_params()["early_stopping"] is True


# ----------------------------------------------------------------------
# The internal validation split
# ----------------------------------------------------------------------
def test_split_divides_identical_rows_by_weight_as_copies():
    from skann.tabular._split import held_out_weights

    keys = np.array([0.1, 0.5, 0.5, 0.5, 0.7, 0.9])  # rows 1-3 are copies
    copies = held_out_weights(keys, np.ones(6), 0.4, None, 0.55)
    weighted = held_out_weights(np.array([0.1, 0.5, 0.7, 0.9]), np.array([1.0, 3.0, 1.0, 1.0]), 0.4, None, 0.55)
    assert copies[1:4].sum() == weighted[1] == 2  # the group is in both sets
    np.testing.assert_array_equal(copies[[0, 4, 5]], weighted[[0, 2, 3]])


def test_split_is_stratified_and_unit_rows_go_to_one_side():
    from skann.tabular._split import held_out_weights

    rng = np.random.RandomState(0)
    strata = (np.arange(200) % 4 == 0).astype(float)
    held = held_out_weights(rng.rand(200), np.ones(200), 0.2, strata, rng.rand())
    assert set(held) == {0.0, 1.0}
    assert held[strata == 1].sum() == 10 and held[strata == 0].sum() == 30


def test_groups_of_identical_rows_are_on_both_sides_of_the_split():
    # Few distinct rows, as in tables of a few categorical columns: the
    # old content split held whole groups out of training.
    X = pd.DataFrame({"a": ["x", "y", "z"] * 40, "b": ["u", "v"] * 60})
    y = (X["a"] == "x").to_numpy()
    clf = TabularClassifier(max_iter=3, random_state=0)
    data = clf._encode(X, y, None, None, incremental=False)
    train = {tuple(row) for row in data.X}
    assert {tuple(row) for row in data.validation[0]} <= train
    assert len(data.validation[0]) + len(data.X) == len(X)


def test_callbacks_see_each_epoch_with_a_model_that_predicts_frames():
    callback = pytest.importorskip("sklearn.callback")  # noqa: F841
    from .test_callbacks import Recorder

    X, y = _frame()
    recorder = Recorder(stop_after=3)
    clf = TabularClassifier(max_iter=10, random_state=0).set_callbacks(recorder)
    clf.fit(X, y)
    epochs = recorder.epochs()
    assert len(epochs) == 3 and clf.n_iter_ == 3  # the callback stopped training
    assert epochs[0].predict_proba(X).shape == (N, 2)
