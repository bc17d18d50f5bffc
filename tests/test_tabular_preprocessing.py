"""TabularPreprocessor: every column kind, missing and unknown values, sklearn API."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skann.tabular import TabularPreprocessor

pd = pytest.importorskip("pandas")


def mixed_frame(n=40, seed=0):
    """A frame with every column kind, NaN and None included."""
    rng = np.random.RandomState(seed)
    income = rng.lognormal(10, 1, n)
    income[::7] = np.nan
    return pd.DataFrame({
        "income": income,
        "age": pd.array(rng.randint(18, 80, n), dtype="Int64"),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "owner": rng.choice(["yes", "no"], n).astype(object),
        "member": rng.rand(n) > 0.5,
        "city": pd.Series(rng.permutation(np.resize(
            [f"c{i:02d}" for i in range(12)], n)), dtype="string"),
    })


def test_every_column_kind_is_encoded_in_its_block():
    X = mixed_frame()
    prep = TabularPreprocessor().fit(X)
    Xt = prep.transform(X)
    names = prep.get_feature_names_out().tolist()
    assert names == ["income", "age", "income_missing", "colour_blue",
                     "colour_green", "colour_red", "owner_yes", "member_True",
                     "city_code"]
    assert Xt.shape == (40, len(names)) and Xt.dtype == np.float32
    assert Xt.flags["C_CONTIGUOUS"]
    assert prep.n_numeric_out_ == 8
    assert prep.embedding_columns_.tolist() == [8]
    assert prep.embedding_cardinalities_.tolist() == [13]
    frame = pd.DataFrame(Xt, columns=names)
    assert np.array_equal(frame["income_missing"], X["income"].isna())
    assert set(frame["owner_yes"]) == {-1.0, 1.0}
    np.testing.assert_array_equal(frame["owner_yes"],
                                  np.where(X["owner"] == "yes", 1.0, -1.0))
    onehot = frame[["colour_blue", "colour_green", "colour_red"]].to_numpy()
    assert np.all(onehot.sum(axis=1) == 1)
    codes = frame["city_code"].to_numpy()
    expected = np.searchsorted(np.sort(X["city"].unique()), X["city"]) + 1
    np.testing.assert_array_equal(codes, expected)


def test_numeric_columns_are_robust_scaled_and_smoothly_clipped():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 1000.0])
    prep = TabularPreprocessor(dtype="float64").fit(x[:, None])
    q25, median, q75 = np.quantile(x, [0.25, 0.5, 0.75])
    z = (x - median) / (q75 - q25)
    np.testing.assert_allclose(prep.transform(x[:, None])[:, 0],
                               z / np.sqrt(1 + (z / 3) ** 2))
    extremes = prep.transform(np.array([[1e300], [-1e300], [1e12]]))[:, 0]
    np.testing.assert_allclose(extremes, [3.0, -3.0, 3.0])
    unclipped = TabularPreprocessor(clip_value=None, dtype="float64").fit(x[:, None])
    np.testing.assert_allclose(unclipped.transform(x[:, None])[:, 0], z)


def test_mostly_zero_and_constant_columns_stay_finite_and_bounded():
    mostly_zero = np.zeros(200)
    mostly_zero[:5] = [1e6, 3e5, 7.0, 1e-3, 2e6]
    X = np.column_stack([mostly_zero, np.full(200, 4.0)])
    Xt = TabularPreprocessor().fit_transform(X)
    assert np.all(np.isfinite(Xt))
    assert np.abs(Xt).max() < 3.0
    assert np.unique(Xt[5:, 0]).tolist() == [0.0]  # the zeros stay at the centre
    assert Xt[0, 0] != Xt[1, 0] and Xt[0, 0] > 0   # the rare values stay apart
    assert np.all(Xt[:, 1] == 0.0)                  # a constant column is 0


def test_missing_at_transform_only_is_imputed_without_error():
    X = mixed_frame()
    prep = TabularPreprocessor().fit(X.dropna())
    assert "income_missing" not in prep.get_feature_names_out()
    test = X.head(4).copy()
    test.loc[0, "age"] = pd.NA
    test.loc[1, "colour"] = np.nan
    test.loc[2, "owner"] = None
    test.loc[3, "city"] = pd.NA
    Xt = pd.DataFrame(prep.transform(test), columns=prep.get_feature_names_out())
    assert np.all(np.isfinite(Xt.to_numpy()))
    assert Xt.loc[0, "age"] == 0.0                      # median -> centre
    assert Xt.loc[1, ["colour_blue", "colour_green", "colour_red"]].sum() == 0
    assert Xt.loc[2, "owner_yes"] == 0.0
    assert Xt.loc[3, "city_code"] == 0.0


def test_unknown_categories_map_to_the_reserved_code():
    X = mixed_frame()
    prep = TabularPreprocessor().fit(X)
    test = X.head(3).astype({"colour": object, "city": object})
    test.loc[0, "colour"] = "purple"
    test.loc[1, "city"] = "atlantis"
    test.loc[2, "owner"] = "maybe"
    Xt = pd.DataFrame(prep.transform(test), columns=prep.get_feature_names_out())
    assert Xt.loc[0, ["colour_blue", "colour_green", "colour_red"]].sum() == 0
    assert Xt.loc[1, "city_code"] == 0.0
    assert Xt.loc[2, "owner_yes"] == 0.0
    with pytest.raises(ValueError, match="city has categories not seen in fit"):
        TabularPreprocessor(handle_unknown="error").fit(X).transform(test.iloc[[1]])


def test_numpy_input_numeric_and_object_arrays():
    rng = np.random.RandomState(0)
    numeric = rng.normal(size=(30, 3))
    numeric[3, 1] = np.nan
    prep = TabularPreprocessor().fit(numeric)
    assert prep.get_feature_names_out().tolist() == ["x0", "x1", "x2", "x1_missing"]
    assert prep.transform(numeric).shape == (30, 4)
    objects = np.array([["a", 1.0], ["b", None], ["a", 3.0], [None, 4.0]],
                       dtype=object)
    both = TabularPreprocessor(categorical_features=[0]).fit(objects)
    assert both.get_feature_names_out().tolist() == ["x1", "x1_missing", "x0_b"]
    np.testing.assert_array_equal(both.transform(objects)[:, 2], [-1, 1, -1, 0])
    all_categorical = TabularPreprocessor().fit(objects)
    assert all_categorical.categorical_features_.tolist() == [True, True]


def test_categorical_features_by_names_positions_and_mask_agree():
    X = mixed_frame()
    expected = TabularPreprocessor().fit_transform(X)
    for spec in (["colour", "owner", "member", "city"], [2, 3, 4, 5],
                 [False, False, True, True, True, True]):
        Xt = TabularPreprocessor(categorical_features=spec).fit_transform(X)
        np.testing.assert_array_equal(Xt, expected)
    with pytest.raises(ValueError, match="does not have: \\['nope'\\]"):
        TabularPreprocessor(categorical_features=["nope"]).fit(X)
    with pytest.raises(ValueError, match="outside 0..5"):
        TabularPreprocessor(categorical_features=[6]).fit(X)


def test_more_categories_than_max_onehot_become_codes():
    X = mixed_frame()
    prep = TabularPreprocessor(max_onehot=2).fit(X)
    assert prep.embedding_cardinalities_.tolist() == [4, 13]  # colour, city
    assert prep.get_feature_names_out()[-2:].tolist() == ["colour_code", "city_code"]
    prep = TabularPreprocessor(max_onehot=12).fit(X)
    assert prep.embedding_columns_.size == 0
    assert prep.n_numeric_out_ == prep.transform(X).shape[1] == 8 + 12


def test_polars_frames_give_the_pandas_output():
    pl = pytest.importorskip("polars")
    X = mixed_frame().drop(columns=["age"]).dropna()
    expected = TabularPreprocessor().fit_transform(X)
    np.testing.assert_array_equal(
        TabularPreprocessor().fit_transform(pl.from_pandas(X)), expected)


def test_clone_and_pickle_give_identical_output():
    X = mixed_frame()
    prep = TabularPreprocessor(dtype="float64").fit(X)
    Xt = prep.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(prep)).transform(X), Xt)
    np.testing.assert_array_equal(clone(prep).fit(X).transform(X), Xt)
    assert Xt.dtype == np.float64


def test_column_mismatch_is_a_clear_error():
    X = mixed_frame()
    prep = TabularPreprocessor().fit(X)
    with pytest.raises(ValueError, match="feature names should match"):
        prep.transform(X[X.columns[::-1]])
    with pytest.raises(ValueError, match="feature names should match"):
        prep.transform(X.rename(columns={"income": "salary"}))
    with pytest.raises(ValueError, match="yet now missing:\n- city"):
        prep.transform(X.drop(columns="city"))
    with pytest.raises(ValueError, match="X has 5 features, but "
                       "TabularPreprocessor is expecting 6"), \
            pytest.warns(UserWarning, match="does not have valid feature names"):
        prep.transform(X.drop(columns="city").to_numpy())


def test_bad_values_and_parameters_are_clear_errors():
    X = pd.DataFrame({"a": [1.0, np.inf, 2.0]})
    with pytest.raises(ValueError, match="Column a holds infinite values"):
        TabularPreprocessor().fit(X)
    with pytest.raises(ValueError, match="0 feature"):
        TabularPreprocessor().fit(pd.DataFrame(index=range(3)))
    with pytest.raises(ValueError, match="0 sample"):
        TabularPreprocessor().fit(X.iloc[:0])
    text = pd.DataFrame({"a": ["1", "x"]})
    with pytest.raises(ValueError, match="Column a is treated as numeric"):
        TabularPreprocessor(categorical_features=[]).fit(text)
    for params, match in ((dict(dtype="int32"), "dtype"),
                          (dict(max_onehot=-1), "max_onehot"),
                          (dict(clip_value=0), "clip_value"),
                          (dict(handle_unknown="ignore"), "handle_unknown")):
        with pytest.raises(ValueError, match=match):
            TabularPreprocessor(**params).fit(X.fillna(0))


def test_pandas_output_carries_the_feature_names():
    X = mixed_frame()
    prep = TabularPreprocessor().set_output(transform="pandas").fit(X)
    out = prep.transform(X)
    assert list(out.columns) == prep.get_feature_names_out().tolist()
    np.testing.assert_array_equal(out.to_numpy(),
                                  clone(prep).set_output(transform="default")
                                  .fit(X).transform(X))


@parametrize_with_checks([TabularPreprocessor(),
                          TabularPreprocessor(dtype="float64", clip_value=None)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
