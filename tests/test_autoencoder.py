"""AutoEncoder: reconstruction, transformer API, and pre-training MLPs."""

import doctest
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skann import AutoEncoder, MLPClassifier, MLPRegressor

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return AutoEncoder(hidden_layer_sizes=(32, 8), max_iter=60, random_state=0).fit(X)


def test_reconstruction_error_falls_and_beats_the_mean(digits):
    X, _ = digits
    ae = AutoEncoder(hidden_layer_sizes=(32, 8), max_iter=5, random_state=0).fit(X)
    early_error = np.mean((ae.inverse_transform(ae.transform(X)) - X) ** 2)
    ae.set_params(max_iter=60).fit(X)
    error = np.mean((ae.inverse_transform(ae.transform(X)) - X) ** 2)
    mean_error = np.mean((X - X.mean(axis=0)) ** 2)
    assert error < 0.7 * early_error
    assert error < 0.5 * mean_error
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.score(X) > 0.5


def test_score_is_reconstruction_r2(fitted, digits):
    X, _ = digits
    from sklearn.metrics import r2_score

    reconstruction = fitted.inverse_transform(fitted.transform(X))
    varying = X.std(axis=0) > 0
    expected = r2_score(X[:, varying], reconstruction[:, varying])
    # Constant features count as reconstructed perfectly or not at all.
    n_constant = np.sum(~varying)
    constant_scores = [
        1.0 if np.allclose(reconstruction[:, j], X[:, j]) else 0.0
        for j in np.flatnonzero(~varying)
    ]
    total = (expected * varying.sum() + sum(constant_scores)) / X.shape[1]
    assert n_constant > 0
    assert fitted.score(X) == pytest.approx(total, abs=1e-6)


def test_shapes_and_dtypes(fitted, digits):
    X, _ = digits
    codes = fitted.transform(X)
    assert codes.shape == (X.shape[0], 8)
    assert fitted.inverse_transform(codes).shape == X.shape
    assert fitted.transform(X.astype(np.float32)).dtype == np.float32
    assert fitted.inverse_transform(codes.astype(np.float32)).dtype == np.float32
    assert fitted.n_layers_ == 5
    assert [coef.shape for coef in fitted.coefs_] == [(64, 32), (32, 8), (8, 32), (32, 64)]


def test_fit_transform_equals_fit_then_transform(digits):
    X, _ = digits
    ae = AutoEncoder(hidden_layer_sizes=(16, 4), max_iter=5, random_state=0)
    np.testing.assert_allclose(ae.fit_transform(X[:300]), ae.fit(X[:300]).transform(X[:300]))


def test_set_output_pandas(fitted, digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    frame = pd.DataFrame(X[:10], columns=[f"pixel{j}" for j in range(64)])
    ae = AutoEncoder(hidden_layer_sizes=(16, 3), max_iter=5, random_state=0)
    out = ae.set_output(transform="pandas").fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(ae.get_feature_names_out()) == list(out.columns)
    assert ae.inverse_transform(out).shape == (10, 64)


def test_pickle_round_trip_gives_identical_codes(fitted, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(
        restored.inverse_transform(fitted.transform(X)),
        fitted.inverse_transform(fitted.transform(X)),
    )


def test_partial_fit_and_sparse_input(digits):
    import scipy.sparse as sp

    X, _ = digits
    ae = AutoEncoder(hidden_layer_sizes=(16, 4), random_state=0)
    for _ in range(3):
        ae.partial_fit(X)
    assert ae.n_iter_ == 1 and ae.t_ == 3 * X.shape[0]
    dense = AutoEncoder(hidden_layer_sizes=(16, 4), max_iter=3, random_state=0).fit(X)
    sparse = AutoEncoder(hidden_layer_sizes=(16, 4), max_iter=3, random_state=0)
    sparse.fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.transform(X), dense.transform(X), atol=1e-8)


def test_denoising_trains_on_noisy_inputs(digits):
    X, _ = digits
    plain = AutoEncoder(hidden_layer_sizes=(16, 4), max_iter=5, random_state=0).fit(X)
    noisy = AutoEncoder(hidden_layer_sizes=(16, 4), max_iter=5, noise=1.0, random_state=0)
    noisy.fit(X)
    assert not np.allclose(noisy.transform(X), plain.transform(X))
    assert noisy.loss_curve_[-1] > plain.loss_curve_[-1]  # a harder task


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.arange(5.0), "Expected 2D array"),
    ],
)
def test_bad_input_to_fit(X, message):
    with pytest.raises(ValueError, match=message):
        AutoEncoder().fit(X)


def test_wrong_feature_count(fitted, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="X has 10 features"):
        fitted.transform(X[:, :10])
    with pytest.raises(ValueError, match="inverse_transform expects codes of 8"):
        fitted.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(np.full((2, 64), np.nan))


def test_init_network_copies_encoder_weights(fitted, digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(32, 8, 12), max_iter=3, random_state=0)
    assert fitted.init_network(clf, X, y) is clf
    assert clf.warm_start
    for layer in range(2):
        np.testing.assert_array_equal(clf.coefs_[layer], fitted.coefs_[layer])
        np.testing.assert_array_equal(clf.intercepts_[layer], fitted.intercepts_[layer])
    assert clf.coefs_[2].shape == (8, 12)
    start = [coef.copy() for coef in clf.coefs_]
    clf.fit(X, y)  # continues from the encoder's weights
    assert clf.n_iter_ == 3
    assert np.abs(clf.coefs_[0] - start[0]).max() < 0.5 * np.abs(start[0]).max()


def test_init_network_works_for_regressors(fitted, digits):
    X, y = digits
    reg = fitted.init_network(MLPRegressor(hidden_layer_sizes=(32, 8), random_state=0), X, y)
    np.testing.assert_array_equal(reg.coefs_[1], fitted.coefs_[1])
    assert reg.coefs_[2].shape == (8, 1)


@pytest.mark.parametrize(
    "estimator, X_columns, message",
    [
        (MLPClassifier(hidden_layer_sizes=(16, 8)), 64, r"must begin with .*\(32, 8\)"),
        (MLPClassifier(hidden_layer_sizes=(32,)), 64, "must begin with"),
        (MLPClassifier(hidden_layer_sizes=(32, 8), activation="tanh"), 64, "activation"),
        (MLPClassifier(hidden_layer_sizes=(32, 8)), 60, r"shape \(60, 32\).*64 features"),
    ],
)
def test_init_network_rejects_mismatches(fitted, digits, estimator, X_columns, message):
    X, y = digits
    with pytest.raises(ValueError, match=message):
        fitted.init_network(estimator, X[:, :X_columns], y)


def test_init_network_needs_a_fitted_autoencoder_and_an_mlp(fitted, digits):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    X, y = digits
    with pytest.raises(NotFittedError):
        AutoEncoder().init_network(MLPClassifier(), X, y)
    with pytest.raises(TypeError, match="MLPClassifier"):
        fitted.init_network(LogisticRegression(), X, y)


def test_pretraining_helps_with_few_labels(digits):
    """A denoising encoder fit on every row lifts a classifier fit on 50 labels."""
    X, y = digits
    ae = AutoEncoder((256, 64), noise=1.0, max_iter=100, random_state=0).fit(X)
    gains = []
    for seed in range(3):
        labelled, test = train_test_split(
            np.arange(len(y)), train_size=50, stratify=y, random_state=seed
        )
        scores = []
        for pretrained in (False, True):
            clf = MLPClassifier((256, 64), max_iter=300, random_state=seed)
            if pretrained:
                ae.init_network(clf, X[labelled], y[labelled])
            clf.fit(X[labelled], y[labelled])
            scores.append(clf.score(X[test], y[test]))
        gains.append(scores[1] - scores[0])
    assert np.mean(gains) > 0.01
    assert min(gains) > 0


def test_user_guide_runs():
    result = doctest.testfile(
        str(DOCS / "autoencoder.rst"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 0
    assert result.failed == 0
