"""Failure modes found by fuzzing: each either trains a finite model or
raises a clear error, and none leaves a broken model behind."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skann import MLPClassifier, MLPRegressor
from skann.nn.training import MinibatchPlan

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X4 = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])


def test_minibatch_of_zero_weights_trains_a_finite_model():
    model = MLPClassifier((3,), batch_size=1, shuffle=False, max_iter=2, random_state=0)
    model.fit(X4, [0, 1, 0, 1], sample_weight=[0, 1, 1, 1])
    assert np.isfinite(model.network_.params).all()
    assert np.isfinite(model.predict_proba(X4)).all()
    assert np.isfinite(model.loss_curve_).all()


def test_huge_sample_weights_with_float32_input():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    params = dict(hidden_layer_sizes=(256, 64), alpha=0, max_iter=20, random_state=0)
    huge = MLPClassifier(**params).fit(X, y, sample_weight=np.full(60, 1e300))
    plain = MLPClassifier(**params).fit(X, y)
    assert huge.network_.dtype == np.float32
    # Constant weights are ratios: without the L2 penalty (divided by the
    # total weight), the same training as without weights.
    np.testing.assert_allclose(huge.predict_proba(X), plain.predict_proba(X), rtol=1e-4, atol=1e-5)


def _float32_model():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 20))
    model = MLPClassifier((256, 256), max_iter=2, random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    assert model.network_.dtype == np.float32
    return model, X


def test_inputs_beyond_float32_range_are_a_clear_error_at_predict():
    model, X = _float32_model()
    X = X[:5].copy()
    X[0, 0] = 1e39
    with pytest.raises(ValueError, match="not finite in the network's compute dtype float32"):
        model.predict_proba(X)
    X[0, 0] = 3e38  # still representable: a finite answer
    assert np.isfinite(model.predict_proba(X)).all()


def test_inputs_beyond_float32_range_are_a_clear_error_at_fit():
    model, X = _float32_model()
    before = model.network_.params.copy()
    X = X.copy()
    X[0, 0] = 1e39
    with pytest.raises(ValueError, match="beyond the range.*dtype='float64'"):
        model.fit(X, (X[:, 1] > 0).astype(int))
    np.testing.assert_array_equal(model.network_.params, before)
    # float64 networks take them.
    model.set_params(dtype="float64").fit(X, (X[:, 1] > 0).astype(int))
    assert np.isfinite(model.predict_proba(X)).all()


def test_semi_supervised_attributes_do_not_outlive_a_plain_fit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    y[::3] = -1
    model = MLPClassifier(semi_supervised="entropy", max_iter=5, random_state=0).fit(X, y)
    assert hasattr(model, "transduction_")
    model.set_params(semi_supervised=None).fit(X[y != -1], y[y != -1])
    for name in ("transduction_", "used_unlabelled_", "guard_scores_"):
        assert not hasattr(model, name), name


@pytest.mark.parametrize("interrupt_epoch", [3, 1])
def test_keyboard_interrupt_keeps_the_last_completed_epoch(monkeypatch, interrupt_epoch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = X @ rng.normal(size=5)
    params = dict(hidden_layer_sizes=(20,), batch_size=50, random_state=0, tol=0)
    completed = interrupt_epoch - 1
    original = MinibatchPlan.batches
    calls = {"epochs": 0}

    def interrupted(self):
        calls["epochs"] += 1
        for index, batch in enumerate(original(self)):
            if calls["epochs"] == interrupt_epoch and index == 2:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(MinibatchPlan, "batches", interrupted)
    model = MLPRegressor(max_iter=10, **params)
    if not completed:
        # No completed epoch: nothing to keep. The interrupt is raised again
        # and the estimator stays unfitted (a refit keeps its previous model:
        # tests/test_face.py).
        with pytest.raises(KeyboardInterrupt, match="before its first epoch"):
            model.fit(X, y)
        assert not hasattr(model, "network_")
        return
    with pytest.warns(UserWarning, match=f"interrupted.*epoch {interrupt_epoch}.*usable"):
        model.fit(X, y)
    monkeypatch.setattr(MinibatchPlan, "batches", original)
    # Consistent: n_iter_, history_ and the weights all say `completed` epochs.
    assert model.n_iter_ == len(model.history_) == len(model.loss_curve_) == completed
    if completed:
        reference = MLPRegressor(max_iter=completed, **params).fit(X, y)
        np.testing.assert_array_equal(model.network_.params, reference.network_.params)
        np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    # Usable: it predicts and it trains on.
    assert np.isfinite(model.predict(X)).all()
    model.partial_fit(X, y)
    assert model.n_iter_ == 1 and len(model.history_) == completed + 1


# ----------------------------------------------------------------------
# Failure mode 6 and sklearn's own tests (tests/test_sklearn_mlp_suite.py)
# ----------------------------------------------------------------------
def test_multilabel_partial_fit_with_classes():
    Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    model = MLPClassifier((3,), solver="sgd", random_state=0)
    for _ in range(3):
        model.partial_fit(X4, Y, classes=[0, 1, 2])
    assert model.predict(X4).shape == Y.shape
    with pytest.raises(ValueError, match="columns"):
        MLPClassifier((3,)).partial_fit(X4, Y, classes=[0, 1])


def test_partial_fit_refuses_changed_classes():
    model = MLPClassifier((3,), solver="sgd").partial_fit([[3, 2]], [0], classes=[0, 1])
    model.partial_fit([[3, 2]], [0], classes=[1, 0])  # the same classes
    with pytest.raises(ValueError, match="not the same"):
        model.partial_fit([[3, 2]], [0], classes=[1, 2])


def test_warm_start_refuses_other_classes():
    X = np.tile(X4, (3, 1))
    model = MLPClassifier((2,), warm_start=True, max_iter=3, random_state=0)
    model.fit(X, [0, 1, 2, 0] * 3)
    model.fit(X, [0, 1, 2, 1] * 3)
    for y in ([0, 1, 0, 1] * 3, [0, 1, 3, 1] * 3):
        with pytest.raises(ValueError, match=r"Previously got \[0 1 2\]"):
            model.fit(X, y)


# ----------------------------------------------------------------------
# Failure modes 2, 4 and 5
# ----------------------------------------------------------------------
@pytest.mark.parametrize("factor", [1e154, 1e300, 1e307])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_regression_targets_give_finite_predictions(factor, dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3)).astype(dtype)
    y = X[:, 0].astype(np.float64) * factor
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = MLPRegressor(max_iter=20, random_state=0).fit(X, y)
        prediction = model.predict(X)
    assert np.isfinite(prediction).all()
    assert np.isfinite(model.target_mean_).all() and np.isfinite(model.target_scale_).all()
    assert np.corrcoef(prediction / factor, y / factor)[0, 1] > 0.5


def test_target_scaling_survives_huge_weights_and_poisson():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = MLPRegressor(max_iter=3, random_state=0)
        model.fit(X, X[:, 0], sample_weight=np.full(30, 1e300))
        assert np.isfinite(model.predict(X)).all()
        poisson = MLPRegressor(loss="poisson", max_iter=3, random_state=0)
        assert np.isfinite(poisson.fit(X, np.abs(X[:, 0]) * 1e300).predict(X)).all()


@pytest.mark.parametrize("estimator", [MLPRegressor(max_iter=2), MLPClassifier(max_iter=2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_y_shorter_than_X_is_an_inconsistent_length_error(estimator, weighted):
    X = np.random.RandomState(0).rand(10, 2)
    y = np.arange(8) % 2
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 8\]"):
        estimator.fit(X, y, sample_weight=np.ones(10) if weighted else None)


@pytest.mark.parametrize("fallback", [True, False])
def test_semi_supervised_regressor_with_column_vector_y(fallback):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = X[:, :1].copy()
    y[::3] = np.nan
    model = MLPRegressor(
        semi_supervised="pi_model", supervised_fallback=fallback, max_iter=3, random_state=0
    ).fit(X, y)
    assert model.transduction_.shape == (40, 1)
    assert np.isfinite(model.transduction_).all()
    np.testing.assert_array_equal(model.transduction_[1::3], y[1::3])
    assert np.isfinite(model.predict(X)).all()


# ----------------------------------------------------------------------
# Found by tests/test_fuzz.py
# ----------------------------------------------------------------------
def test_inf_and_minus_inf_in_X_is_a_clear_error_without_numpy_warnings():
    X = np.array([[np.inf, -np.inf], [0, 1]], dtype=np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="infinity"):
            MLPRegressor(max_iter=1).fit(X, [1.0, 2.0])


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_nan_class_labels_are_a_clear_error(method):
    y = np.array([0.0, 1.0, np.nan, 1.0])
    model = MLPClassifier((2,), max_iter=1)
    kwargs = {"classes": [0.0, 1.0]} if method == "partial_fit" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="y contains NaN"):
            getattr(model, method)(X4, y, **kwargs)


def test_dataframe_without_columns_is_a_clear_error():
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match="0 feature"):
        MLPClassifier(max_iter=1).fit(pd.DataFrame(index=range(4)), [0, 1, 0, 1])


def test_overflow_inside_the_network_at_predict_is_a_clear_error():
    model = MLPClassifier((3,), max_iter=5, random_state=0).fit(X4 * 1e150, [0, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            proba = model.predict_proba(X4 * 1e300)
        except ValueError as error:
            assert "overflowed" in str(error)
        else:
            assert np.isfinite(proba).all()


def test_multiclass_log_proba_is_finite_where_a_probability_underflows():
    X = np.array([[0.0], [1.0], [2.0]] * 4)
    model = MLPClassifier((3,), max_iter=50, random_state=0).fit(X, [0, 1, 2] * 4)
    X_far = np.array([[1e6], [-1e6]])
    log_proba = model.predict_log_proba(X_far)
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(np.exp(log_proba), model.predict_proba(X_far), atol=1e-12)


def test_poisson_prediction_overflow_is_a_clear_error():
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(2,), max_iter=5, random_state=0)
    model.fit(X4, [1.0, 2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            prediction = model.predict(X4 * 1e200)
        except ValueError as error:
            assert "overflow" in str(error)
        else:
            assert np.isfinite(prediction).all()


def test_subnormal_targets_are_not_divided_by_a_subnormal_scale():
    from skann import AutoEncoder

    X = np.array([[1e-323, 0, 5e-324, 1e-323], [0, 5e-324, 0, 1e-323], [5e-324, 0, 0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AutoEncoder(hidden_layer_sizes=(1,), max_iter=1, random_state=0).fit(X)
        assert np.isfinite(model.target_scale_).all() and (model.target_scale_ > 0).all()
        assert np.isfinite(model.inverse_transform(model.transform(X))).all()
        regressor = MLPRegressor(max_iter=1, random_state=0).fit(X, X[:, 0])
        assert np.isfinite(regressor.predict(X)).all()


def test_poisson_loss_of_an_underflowed_output_is_a_divergence_not_a_warning():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 4)) * 1e8
    y = (rng.normal(size=12) > 0).astype(float)
    model = MLPRegressor(hidden_layer_sizes=(1,), solver="sgd", loss="poisson", max_iter=1,
                         activation="identity", alpha=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            model.fit(X, y)
            prediction = model.predict(X)
        except ValueError as error:
            assert "diverged" in str(error) or "overflowed" in str(error)
        else:
            assert np.isfinite(prediction).all()


def test_autoencoder_reconstruction_overflow_is_a_clear_error():
    from skann import AutoEncoder

    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 4)) * 1e8
    model = AutoEncoder(hidden_layer_sizes=(1,), max_iter=1, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="overflowed"):
            model.inverse_transform(np.full((2, 1), 1e305))


def test_partial_fit_classes_of_mixed_types_is_a_clear_type_error():
    with pytest.raises(TypeError, match="classes must be labels of one type"):
        classes = np.array([1, "a"], dtype=object)
        MLPClassifier((2,)).partial_fit(X4, classes[[0, 1, 0, 1]], classes=classes)
