"""layers=, input_shape=, dropout= and augment= on the estimators."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.preprocessing import StandardScaler

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann._architecture import PREDICT_CHUNK_ROWS
from skann._augment import ShiftAugmentation
from skann.layers import (
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    LayerNorm,
    MaxPool2D,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def convnet():
    return [Conv2D(4, 3, padding="same"), MaxPool2D(2), Flatten(), Dense(16), Dropout(0.2)]


def _fit(estimator, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X) if y is None else estimator.fit(X, y)


def _signature(layers):
    return [(type(layer), layer.get_params(), dict(vars(layer))) for layer in layers]


# ----------------------------------------------------------------------
# The network built from layers=
# ----------------------------------------------------------------------
def test_convnet_learns_digits_and_adds_the_output_layer(digits):
    X, y = digits
    clf = _fit(MLPClassifier(layers=convnet(), input_shape=(8, 8), max_iter=30, learning_rate_init=0.01, random_state=0), X, y)
    assert clf.score(X, y) > 0.9
    layers = clf.network_.layers
    assert [type(layer) for layer in layers] == [Conv2D, MaxPool2D, Flatten, Dense, Dropout, Dense]
    assert (layers[-1].units, layers[-1].activation) == (10, "identity")
    assert clf.network_.input_shape == (8, 8, 1)
    assert clf.n_layers_ == 7
    assert clf.predict_proba(X[:3]).shape == (3, 10)


def test_fit_never_changes_the_users_layers(digits):
    X, y = digits
    layers = convnet()
    before = _signature(layers)
    clf = _fit(MLPClassifier(layers=layers, input_shape=(8, 8), max_iter=2, random_state=0), X, y)
    assert _signature(layers) == before
    assert clf.layers is layers
    assert all(built is not given for built, given in zip(clf.network_.layers, layers))


@pytest.mark.parametrize("name, value", [("hidden_layer_sizes", (50,)), ("activation", "tanh"), ("dropout", 0.1)])
def test_parameters_that_layers_replace_must_keep_their_defaults(digits, name, value):
    X, y = digits
    clf = MLPClassifier(layers=[Dense(8)], max_iter=2, **{name: value})
    with pytest.raises(ValueError, match=f"{name}=.*does not apply when layers= is given"):
        clf.fit(X, y)


def test_default_hidden_layer_sizes_spelled_out_is_accepted(digits):
    X, y = digits
    _fit(MLPClassifier(layers=[Dense(8)], hidden_layer_sizes=[100], max_iter=2), X, y)


@pytest.mark.parametrize("layers, error", [([Dense(4), "relu"], TypeError), ("Dense", ValueError), ([object()], TypeError)])
def test_layers_must_be_a_list_of_layers(digits, layers, error):
    X, y = digits
    with pytest.raises(error, match="layers"):
        MLPClassifier(layers=layers, max_iter=2).fit(X, y)


def test_image_layers_without_input_shape_say_how_to_fix(digits):
    X, y = digits
    with pytest.raises(ValueError, match="input_shape"):
        MLPClassifier(layers=[Conv2D(2, 3)], max_iter=2).fit(X, y)


@pytest.mark.parametrize("layer", [MaxPool2D(20, padding="same"), Conv2D(2, 9, padding="same")], ids=repr)
def test_windows_larger_than_the_image_are_refused_before_training(digits, layer):
    X, y = digits
    clf = MLPClassifier(layers=[layer, Flatten()], input_shape=(8, 8), max_iter=1)
    with pytest.raises(ValueError, match="larger than its input 8x8 in both dimensions"):
        clf.fit(X, y)
    assert not hasattr(clf, "network_")


# ----------------------------------------------------------------------
# BatchNorm's batches (issue 19, item 5)
# ----------------------------------------------------------------------
def test_batchnorm_with_batch_size_one_is_a_clear_error(digits):
    X, y = digits
    clf = MLPClassifier(layers=[Dense(16), BatchNorm(), Dense(8)], batch_size=1, max_iter=2)
    with pytest.raises(ValueError, match=r"BatchNorm.*batch_size >= 2"):
        clf.fit(X, y)
    assert not hasattr(clf, "network_")


def test_batchnorm_trains_when_a_single_row_is_left_over(digits):
    """33 rows in batches of 32: the last row joins the first batch, never alone."""
    X, y = digits
    X, y = X[:33], (y[:33] >= 5).astype(int)
    layers = [Dense(16), BatchNorm(), Dense(8)]
    clf = _fit(MLPClassifier(layers=layers, batch_size=32, max_iter=100, random_state=0), X, y)
    assert clf.score(X, y) > 0.75
    # Each epoch's statistics are the data's: a batch of one row each epoch
    # pulls the running variances towards zero (measured: to about half).
    inputs = clf.network_.output(X, stop=1)
    moving_var = clf.network_.weights(1, trainable=False)["moving_var"]
    assert moving_var.sum() == pytest.approx(inputs.var(axis=0).sum(), rel=0.15)


def test_batchnorm_default_running_statistics_reach_the_data_in_a_short_fit():
    """Issue 19, item 6: sklearn-sized data trains for a few hundred steps.

    With Keras' momentum 0.99, 100 steps leave 0.99 ** 100 = 37% of the
    initial statistics (mean 0, variance 1) in the running ones, so
    predictions normalise with the wrong statistics.
    """
    assert BatchNorm().momentum == 0.9
    X, y = make_regression(n_samples=200, n_features=10, noise=1.0, random_state=0)
    X, y = StandardScaler().fit_transform(X), y / y.std()
    reg = _fit(MLPRegressor(layers=[Dense(16), BatchNorm(), Dense(8)], max_iter=100, random_state=0), X, y)
    assert reg.n_iter_ == 100  # one 200-row batch per epoch: 100 steps
    inputs = reg.network_.output(X, stop=1)
    state = reg.network_.weights(1, trainable=False)
    np.testing.assert_allclose(state["moving_mean"], inputs.mean(axis=0), atol=0.1 * inputs.std(axis=0).max())
    np.testing.assert_allclose(state["moving_var"], inputs.var(axis=0), rtol=0.25, atol=1e-3)


# ----------------------------------------------------------------------
# input_shape
# ----------------------------------------------------------------------
@pytest.mark.parametrize("input_shape", [(8, 8), (8, 8, 1), (-1, 8), (8, -1, 1), (4, 4, 4)])
def test_input_shape_reshapes_rows_and_infers_minus_one(digits, input_shape):
    X, y = digits
    clf = _fit(MLPClassifier(layers=[Conv2D(2, 3, padding="same"), Flatten()], input_shape=input_shape, max_iter=2), X, y)
    expected = (4, 4, 4) if input_shape == (4, 4, 4) else (8, 8, 1)
    assert clf.network_.input_shape == expected


@pytest.mark.parametrize("input_shape, message", [((8, 7), "does not fit X's 64 features"), ((-1, 7), "does not fit"), ((8,), "height, width"), ((8, 0), "positive"), ((-1, -1), "at most one -1"), ((8.0, 8), "ints")])
def test_bad_input_shape_is_a_clear_error_and_keeps_the_model(digits, input_shape, message):
    X, y = digits
    clf = _fit(MLPClassifier(layers=[Dense(4)], max_iter=2, random_state=0), X, y)
    before = clf.predict_proba(X)
    clf.set_params(input_shape=input_shape)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


# ----------------------------------------------------------------------
# layers__<i>__<name>: get_params, set_params, clone, searches
# ----------------------------------------------------------------------
def test_get_params_lists_each_layer_and_its_parameters():
    clf = MLPClassifier(layers=convnet())
    params = clf.get_params()
    assert params["layers__0__filters"] == 4
    assert params["layers__4__rate"] == 0.2
    assert params["layers__1"] is clf.layers[1]
    assert "layers__0__filters" not in clf.get_params(deep=False)


def test_set_params_changes_copies_not_the_given_layers():
    layers = convnet()
    clf = MLPClassifier(layers=layers).set_params(layers__0__filters=8, layers__4=Dropout(0.5))
    assert layers[0].filters == 4 and layers[4].rate == 0.2
    assert clf.layers[0].filters == 8 and clf.layers[4].rate == 0.5
    assert clf.layers is not layers and clf.layers[1] is layers[1]


@pytest.mark.parametrize("key, message", [("layers__9__units", "indices 0 to 4"), ("layers__x__units", "layers__<index>"), ("layers__0__bogus", "bogus")])
def test_set_params_rejects_unknown_layer_parameters(key, message):
    with pytest.raises(ValueError, match=message):
        MLPClassifier(layers=convnet()).set_params(**{key: 1})


def test_layer_parameters_need_a_layers_list():
    with pytest.raises(ValueError, match="need layers="):
        MLPClassifier().set_params(layers__0__units=3)


def test_clone_copies_the_layers():
    clf = MLPClassifier(layers=convnet(), input_shape=(8, 8))
    copy = clone(clf)
    assert copy.layers is not clf.layers and copy.layers[0] is not clf.layers[0]
    assert copy.get_params()["layers__0__filters"] == 4


def test_grid_search_over_layer_parameters_changes_the_fitted_network(digits):
    X, y = digits
    clf = MLPClassifier(layers=convnet(), input_shape=(8, 8), max_iter=3, random_state=0)
    grid = {"layers__0__filters": [2, 6], "layers__4__rate": [0.0, 0.5]}
    search = _fit(GridSearchCV(clf, grid, cv=2), X, y)
    assert len(set(np.round(search.cv_results_["mean_test_score"], 6))) > 1
    best = search.best_estimator_
    assert best.network_.layers[0].filters == search.best_params_["layers__0__filters"]
    assert best.layer_weights_[0]["W"].shape == (3, 3, 1, search.best_params_["layers__0__filters"])
    assert best.network_.layers[4].rate == search.best_params_["layers__4__rate"]
    assert clf.layers[0].filters == 4  # the searched estimator's layers are untouched


def test_randomized_search_reaches_layer_parameters(digits):
    X, y = digits
    clf = MLPClassifier(layers=[Dense(8), Dropout(0.1)], max_iter=3, random_state=0)
    search = _fit(RandomizedSearchCV(clf, {"layers__0__units": [3, 5, 7]}, n_iter=2, cv=2, random_state=0), X, y)
    assert search.best_estimator_.coefs_[0].shape[1] == search.best_params_["layers__0__units"]


# ----------------------------------------------------------------------
# dropout=, the random generator of stochastic layers
# ----------------------------------------------------------------------
def test_dropout_shortcut_puts_dropout_after_every_hidden_layer(digits):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(16, 8), dropout=0.3, max_iter=5, random_state=0), X, y)
    kinds = [type(layer).__name__ for layer in clf.network_.layers]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert [coef.shape for coef in clf.coefs_] == [(64, 16), (16, 8), (8, 10)]
    plain = _fit(MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0), X, y)
    assert not np.allclose(clf.predict_proba(X), plain.predict_proba(X))


def test_dropout_fits_are_reproducible_and_depend_on_random_state(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), dropout=0.5, max_iter=5)
    first = _fit(MLPClassifier(**params, random_state=1), X, y).predict_proba(X)
    again = _fit(MLPClassifier(**params, random_state=1), X, y).predict_proba(X)
    other = _fit(MLPClassifier(**params, random_state=2), X, y).predict_proba(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_networks_without_dropout_draw_no_layer_generator(digits):
    X, y = digits
    from skann._plan import _layer_rng

    clf = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0), X, y)
    random_state = np.random.RandomState(0)
    assert _layer_rng(clf.network_, random_state) is None
    np.testing.assert_array_equal(random_state.get_state()[1], np.random.RandomState(0).get_state()[1])
    with_dropout = _fit(MLPClassifier(hidden_layer_sizes=(8,), dropout=0.2, max_iter=2, random_state=0), X, y)
    assert _layer_rng(with_dropout.network_, random_state) is not None


def test_dropout_with_lbfgs_is_a_clear_error(digits):
    X, y = digits
    with pytest.raises(ValueError, match="L-BFGS"):
        MLPClassifier(dropout=0.2, solver="lbfgs").fit(X, y)


# ----------------------------------------------------------------------
# dtype, warm start, weights, inference chunks
# ----------------------------------------------------------------------
@pytest.mark.parametrize("solver, layers, dtype", [
    ("adam", convnet(), np.float32), ("sgd", convnet()[:3], np.float32),
    ("lbfgs", convnet()[:3], np.float64), ("adam", [Dense(8), BatchNorm()], np.float64),
    ("adam", [Dense(200), BatchNorm()], np.float32),  # 64 * 200 >= 10,000 weights
])
def test_auto_dtype_is_float32_for_convolutions_with_stochastic_solvers(digits, solver, layers, dtype):
    X, y = digits
    input_shape = (8, 8) if isinstance(layers[0], Conv2D) else None
    clf = _fit(MLPClassifier(layers=layers, input_shape=input_shape, solver=solver, max_iter=2, random_state=0), X, y)
    assert clf.network_.dtype == dtype


def test_warm_start_compares_layer_configurations(digits):
    X, y = digits
    clf = _fit(MLPClassifier(layers=convnet(), input_shape=(8, 8), max_iter=2, warm_start=True, random_state=0), X, y)
    _fit(clf, X, y)  # same layers: continues
    assert len(clf.history_) == 4
    before = clf.predict_proba(X)
    clf.set_params(layers__0__kernel_size=5)
    with pytest.raises(ValueError, match="architecture.*kernel_size=5"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_coefs_name_layer_weights_for_other_layers(digits):
    X, y = digits
    clf = _fit(MLPClassifier(layers=[Dense(8), BatchNorm(), Dense(6)], max_iter=2, random_state=0), X, y)
    with pytest.raises(AttributeError, match="layer_weights_"):
        clf.coefs_
    weights = clf.layer_weights_
    assert sorted(weights[1]) == ["beta", "gamma", "moving_mean", "moving_var"]
    assert weights[0]["W"].shape == (64, 8) and weights[3]["W"].shape == (6, 10)
    assert np.any(weights[1]["moving_mean"] != 0)  # running statistics were trained
    weights[0]["b"][...] = 0  # views: writing changes the model
    assert not clf.network_.weights(0)["b"].any()


def test_image_networks_predict_in_chunks_within_working_memory(digits):
    X, y = digits
    clf = _fit(MLPClassifier(layers=convnet(), input_shape=(8, 8), dtype="float64", max_iter=3, random_state=0), X, y)
    chunk = clf._chunk_rows(np.float64)
    assert 1 <= chunk <= PREDICT_CHUNK_ROWS
    whole = clf.predict_proba(X)
    with sklearn.config_context(working_memory=0.1):  # 100 kB: a few rows per chunk
        assert clf._chunk_rows(np.float64) < min(chunk, 50)
        np.testing.assert_allclose(clf.predict_proba(X), whole, rtol=1e-10, atol=1e-12)
    dense = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=2), X, y)
    assert dense._chunk_rows(np.float64) == PREDICT_CHUNK_ROWS


# ----------------------------------------------------------------------
# augment="shift"
# ----------------------------------------------------------------------
def test_shift_moves_each_image_by_at_most_one_pixel():
    rng = np.random.default_rng(0)
    images = rng.random((200, 5, 6, 2))
    shifted = ShiftAugmentation((5, 6, 2), rng)(images.reshape(200, -1)).reshape(images.shape)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    moves = set()
    for image, out in zip(padded, shifted):
        found = [(dy, dx) for dy in range(3) for dx in range(3) if np.array_equal(image[dy : dy + 5, dx : dx + 6], out)]
        assert len(found) == 1
        moves.add(found[0])
    assert len(moves) == 9  # every shift occurs, no image is left unexplained


def test_augment_changes_training_and_is_reproducible(digits):
    X, y = digits
    params = dict(layers=convnet()[:3], input_shape=(8, 8), max_iter=3, random_state=0)
    plain = _fit(MLPClassifier(**params), X, y).predict_proba(X)
    shifted = _fit(MLPClassifier(**params, augment="shift"), X, y).predict_proba(X)
    again = _fit(MLPClassifier(**params, augment="shift"), X, y).predict_proba(X)
    assert not np.allclose(plain, shifted)
    np.testing.assert_array_equal(shifted, again)


@pytest.mark.parametrize("params, message", [
    (dict(augment="shift"), "input_shape"),
    (dict(augment="shift", input_shape=(8, 8), solver="lbfgs"), "L-BFGS"),
    (dict(augment="shift", input_shape=(8, 8), semi_supervised="entropy"), "semi-supervised"),
    (dict(augment="flip", input_shape=(8, 8)), "augment"),
])
def test_augment_needs_images_and_a_stochastic_solver(digits, params, message):
    X, y = digits
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**params, max_iter=2).fit(X, y)


# ----------------------------------------------------------------------
# Regressor and autoencoder
# ----------------------------------------------------------------------
def test_regressor_with_layers(digits):
    X, y = digits
    reg = _fit(MLPRegressor(layers=[Dense(16), LayerNorm(), Dropout(0.1)], max_iter=50, random_state=0), X, y.astype(float))
    assert reg.score(X, y) > 0.5


def test_autoencoder_layers_are_the_encoder_and_the_decoder_mirrors_them(digits):
    X, _ = digits
    ae = _fit(AutoEncoder(layers=[Dense(32, "tanh"), BatchNorm(), Dense(6)], max_iter=5, random_state=0), X)
    kinds = [(type(layer).__name__, getattr(layer, "units", None)) for layer in ae.network_.layers]
    assert kinds == [("Dense", 32), ("BatchNorm", None), ("Dense", 6), ("Flatten", None), ("Dense", 32), ("Dense", 64)]
    assert ae.network_.layers[4].activation == "tanh"
    assert ae.transform(X).shape == (len(X), 6)
    assert ae.inverse_transform(ae.transform(X)).shape == X.shape


def test_convolutional_autoencoder_code_is_flat(digits):
    X, _ = digits
    ae = _fit(AutoEncoder(layers=[Conv2D(2, 3, padding="same"), MaxPool2D(2)], input_shape=(8, 8), max_iter=3, random_state=0), X)
    codes = ae.transform(X)
    assert codes.shape == (len(X), 32)
    assert ae.get_feature_names_out().shape == (32,)
    assert ae.inverse_transform(codes).shape == X.shape


def test_init_network_copies_encoder_layers_and_state(digits):
    X, y = digits
    encoder = [Conv2D(4, 3, padding="same"), BatchNorm(), MaxPool2D(2), Flatten()]
    ae = _fit(AutoEncoder(layers=encoder, input_shape=(8, 8), max_iter=3, random_state=0), X)
    clf = MLPClassifier(layers=[*encoder, Dense(16)], input_shape=(8, 8), max_iter=2, random_state=0)
    ae.init_network(clf, X, y)
    for position in range(4):
        for name, value in ae.layer_weights_[position].items():
            np.testing.assert_array_equal(clf.layer_weights_[position][name], value)
    assert clf.warm_start
    other = MLPClassifier(layers=[Conv2D(5, 3, padding="same"), BatchNorm(), MaxPool2D(2), Flatten()], input_shape=(8, 8))
    with pytest.raises(ValueError, match="must be the encoder's layers"):
        ae.init_network(other, X, y)


def test_init_network_rejects_different_dropout(digits):
    X, y = digits
    ae = _fit(AutoEncoder(hidden_layer_sizes=(16, 4), dropout=0.2, max_iter=3, random_state=0), X)
    with pytest.raises(ValueError, match="must be the encoder's layers"):
        ae.init_network(MLPClassifier(hidden_layer_sizes=(16, 4)), X, y)
    clf = ae.init_network(MLPClassifier(hidden_layer_sizes=(16, 4, 8), dropout=0.2), X, y)
    np.testing.assert_array_equal(clf.coefs_[1], ae.coefs_[1])


def test_global_pooling_network_predicts_one_label_per_row(digits):
    X, y = digits
    clf = _fit(MLPClassifier(layers=[Conv2D(3, 3), GlobalAvgPool2D()], input_shape=(8, 8), max_iter=2), X, y)
    assert clf.predict(X[:7]).shape == (7,)
    assert clf.layer_weights_[1] == {}
