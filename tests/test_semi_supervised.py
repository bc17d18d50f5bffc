"""Semi-supervised MLPClassifier / MLPRegressor (issue 4)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_regression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier, MLPRegressor, make_labelled_scorer


@pytest.fixture(scope="module")
def digits_partly_labelled():
    """Digits 0-4, standardised; 25 labels, the rest unlabelled (-1)."""
    X, y = load_digits(n_class=5, return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    labelled, _ = train_test_split(
        np.arange(len(y_train)), train_size=25, stratify=y_train, random_state=0
    )
    y_partial = np.full_like(y_train, -1)
    y_partial[labelled] = y_train[labelled]
    return X_train, X_test, y_partial, y_test, labelled


@pytest.mark.parametrize("method", ["pseudo_label", "pi_model"])
def test_unlabelled_samples_beat_labelled_only(digits_partly_labelled, method):
    X_train, X_test, y_partial, y_test, labelled = digits_partly_labelled
    supervised = MLPClassifier(max_iter=60, random_state=0)
    supervised.fit(X_train[labelled], y_partial[labelled])
    semi = MLPClassifier(
        semi_supervised=method, max_iter=60, supervised_fallback=False, random_state=0
    ).fit(X_train, y_partial)
    assert semi.score(X_test, y_test) >= supervised.score(X_test, y_test) + 0.05
    assert semi.used_unlabelled_ and semi.guard_scores_ is None


def test_transduction_labels_every_training_sample(digits_partly_labelled):
    X_train, _, y_partial, _, labelled = digits_partly_labelled
    clf = MLPClassifier(
        semi_supervised="entropy", max_iter=20, supervised_fallback=False, random_state=0
    ).fit(X_train, y_partial)
    assert clf.transduction_.shape == y_partial.shape
    assert set(np.unique(clf.transduction_)) <= set(clf.classes_)
    np.testing.assert_array_equal(clf.transduction_[labelled], y_partial[labelled])
    unlabelled = y_partial == -1
    np.testing.assert_array_equal(
        clf.transduction_[unlabelled], clf.predict(X_train[unlabelled])
    )
    np.testing.assert_array_equal(clf.classes_, np.arange(5))


def test_guard_falls_back_when_unlabelled_samples_hurt(digits_partly_labelled):
    X_train, X_test, y_partial, y_test, labelled = digits_partly_labelled
    # A huge unsupervised weight on absurdly perturbed views wrecks the network.
    params = dict(
        semi_supervised="pi_model",
        unsupervised_weight=1000.0,
        perturbation_scale=30.0,
        max_iter=30,
        random_state=0,
    )
    unguarded = MLPClassifier(**params, supervised_fallback=False).fit(X_train, y_partial)
    guarded = MLPClassifier(**params).fit(X_train, y_partial)
    supervised = MLPClassifier(max_iter=30, random_state=0)
    supervised.fit(X_train[labelled], y_partial[labelled])
    assert not guarded.used_unlabelled_
    scores = guarded.guard_scores_
    assert scores["semi_supervised"] < scores["supervised"]
    assert guarded.score(X_test, y_test) == pytest.approx(supervised.score(X_test, y_test))
    assert unguarded.score(X_test, y_test) < guarded.score(X_test, y_test)


def test_guard_is_one_semi_supervised_fit_without_the_held_out_labels(
    digits_partly_labelled, monkeypatch
):
    from skann.semi_supervised import _training

    X_train, X_test, y_partial, y_test, labelled = digits_partly_labelled
    seen = []  # labelled and unlabelled rows of each semi-supervised epoch
    batches = _training.MixedPlan.batches

    def recording(plan):
        seen.append((len(plan.labelled.rows), len(plan.rows)))
        return batches(plan)

    monkeypatch.setattr(_training.MixedPlan, "batches", recording)
    clf = MLPClassifier(semi_supervised="pseudo_label", max_iter=20, random_state=0)
    clf.fit(X_train, y_partial)
    assert clf.used_unlabelled_
    assert clf.guard_scores_["semi_supervised"] > clf.guard_scores_["supervised"]
    # One loop of max_iter epochs; the held-out 20% of the 25 labels (5,
    # one per class) train as unlabelled rows and judge the network.
    n_unlabelled = int((y_partial == -1).sum())
    assert seen == [(20, n_unlabelled + 5)] * 20
    assert len(clf.history_) == clf.n_iter_ == 20
    supervised = MLPClassifier(max_iter=20, random_state=0).fit(X_train[labelled], y_partial[labelled])
    assert clf.score(X_test, y_test) >= supervised.score(X_test, y_test) + 0.05


@pytest.mark.parametrize(
    "params, rows_per_step",
    [({}, (32, 96)), ({"input_shape": (8, 8)}, (32, 32)), ({"batch_size": 16}, (16, 16))],
)
def test_auto_batches_draw_fewer_unlabelled_rows_for_images(
    digits_partly_labelled, monkeypatch, params, rows_per_step
):
    from skann.semi_supervised import _training

    X_train, _, y_partial, _, labelled = digits_partly_labelled
    y_partial = y_partial.copy()
    y_partial[labelled[:5]] = -1  # 20 labels (fewer than a step's 32), 1 epoch
    seen = []
    batches = _training.MixedPlan.batches

    def recording(plan):
        seen.append((plan.labelled_batch, plan.unlabelled_batch, plan.n_steps))
        return batches(plan)

    monkeypatch.setattr(_training.MixedPlan, "batches", recording)
    clf = MLPClassifier(semi_supervised="pseudo_label", max_iter=1, supervised_fallback=False, **params)
    clf.fit(X_train, y_partial)
    n_unlabelled = int((y_partial == -1).sum())
    labelled_rows, unlabelled_rows = rows_per_step
    assert seen == [(min(labelled_rows, 20), unlabelled_rows, -(-n_unlabelled // unlabelled_rows))]


def test_held_out_judge_allows_one_held_out_sample_of_loss():
    from skann.semi_supervised._guard import HeldOutJudge

    class Loop:
        network, interrupted = None, False

    def judged(score, interrupted=False):
        judge = HeldOutJudge(np.arange(4), np.arange(4), None, supervised_score=0.75)
        judge.evaluate = lambda network: (0.0, score)
        loop = Loop()
        loop.interrupted = interrupted
        judge.on_fit_end(loop)
        return judge

    assert judged(0.5).passed  # one held-out sample (1/4) below 0.75
    failing = judged(0.25)
    assert failing.passed is False
    assert failing.scores == {"supervised": 0.75, "semi_supervised": 0.25}
    assert judged(0.0, interrupted=True).passed is None  # an interrupted fit is kept


def test_guard_fallback_continues_a_warm_start_from_before_the_call(
    digits_partly_labelled, monkeypatch
):
    from skann.semi_supervised._guard import HeldOutJudge

    X_train, _, y_partial, _, labelled = digits_partly_labelled
    params = dict(max_iter=30, warm_start=True, random_state=0)
    guarded = MLPClassifier(**params).fit(X_train[labelled], y_partial[labelled])
    supervised = MLPClassifier(**params).fit(X_train[labelled], y_partial[labelled])
    # Whatever the semi-supervised network scores, the judge rejects it.
    monkeypatch.setattr(HeldOutJudge, "on_fit_end", lambda judge, loop: setattr(judge, "passed", False))
    guarded.set_params(semi_supervised="pseudo_label").fit(X_train, y_partial)
    supervised.fit(X_train[labelled], y_partial[labelled])
    assert not guarded.used_unlabelled_
    # The discarded semi-supervised epochs left no trace: weights and
    # history are those of two supervised warm-started fits.
    assert len(guarded.history_) == len(supervised.history_)
    np.testing.assert_allclose(
        guarded.network_.params, supervised.network_.params, rtol=1e-9, atol=1e-12
    )


def test_partial_fit_learns_from_an_all_unlabelled_batch(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    unlabelled = y_partial == -1
    clf = MLPClassifier(semi_supervised="entropy", random_state=0)
    # The first call has no label at all: classes= still builds the network.
    clf.partial_fit(X_train[unlabelled][:50], y_partial[unlabelled][:50], classes=np.arange(5))
    np.testing.assert_array_equal(clf.classes_, np.arange(5))
    clf.partial_fit(X_train[~unlabelled], y_partial[~unlabelled])
    before = clf.network_.params.copy()
    clf.partial_fit(X_train[unlabelled], y_partial[unlabelled])
    assert not np.allclose(before, clf.network_.params)
    assert clf.n_iter_ == 1


def test_scorer_ignores_unlabelled_samples(digits_partly_labelled):
    X_train, _, y_partial, _, labelled = digits_partly_labelled
    clf = MLPClassifier(max_iter=30, random_state=0).fit(X_train[labelled], y_partial[labelled])
    scorer = make_labelled_scorer()
    expected = clf.score(X_train[labelled], y_partial[labelled])
    assert scorer(clf, X_train, y_partial) == pytest.approx(expected)
    assert clf.score(X_train, y_partial) < expected  # -1 counts as an error otherwise
    assert np.isnan(scorer(clf, X_train[:3], np.full(3, -1)))
    accuracy = make_labelled_scorer("accuracy", unlabelled_marker=-1)
    assert accuracy(clf, X_train, y_partial) == pytest.approx(expected)


def test_grid_search_chooses_a_method_with_the_labelled_scorer(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    search = GridSearchCV(
        MLPClassifier(max_iter=10, supervised_fallback=False, random_state=0),
        {"semi_supervised": [None, "pseudo_label", "entropy"]},
        scoring=make_labelled_scorer(),
        cv=3,
    ).fit(X_train, y_partial)
    # With semi_supervised=None, -1 is a class that the labelled scorer never
    # rewards; every candidate gets a real (not NaN) labelled score.
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["semi_supervised"] in ("pseudo_label", "entropy")


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_labelled_only_is_the_network_on_the_labelled_rows(digits_partly_labelled, solver):
    X_train, X_test, y_partial, y_test, labelled = digits_partly_labelled
    params = dict(max_iter=30, solver=solver, random_state=0)
    baseline = MLPClassifier(semi_supervised="labelled_only", **params).fit(X_train, y_partial)
    alone = MLPClassifier(**params).fit(X_train[labelled], y_partial[labelled])
    np.testing.assert_allclose(
        baseline.network_.params, alone.network_.params, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_array_equal(baseline.classes_, np.arange(5))
    assert not baseline.used_unlabelled_ and baseline.guard_scores_ is None
    assert baseline.transduction_.shape == y_partial.shape
    assert baseline.score(X_test, y_test) > 0.6


def test_labelled_only_partial_fit_ignores_unlabelled_rows(digits_partly_labelled):
    X_train, _, y_partial, _, labelled = digits_partly_labelled
    clf = MLPClassifier(semi_supervised="labelled_only", random_state=0)
    clf.partial_fit(X_train, y_partial, classes=np.arange(5))
    before = clf.network_.params.copy()
    unlabelled = y_partial == -1
    clf.partial_fit(X_train[unlabelled], y_partial[unlabelled])  # nothing to learn
    np.testing.assert_array_equal(before, clf.network_.params)
    alone = MLPClassifier(random_state=0)
    alone.partial_fit(X_train[labelled], y_partial[labelled], classes=np.arange(5))
    np.testing.assert_allclose(before, alone.network_.params, rtol=1e-9, atol=1e-12)


def test_labelled_only_regressor_ignores_nan_targets():
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    y_partial = y.copy()
    y_partial[30:] = np.nan
    reg = MLPRegressor(semi_supervised="labelled_only", max_iter=50, random_state=0)
    reg.fit(X, y_partial)
    alone = MLPRegressor(max_iter=50, random_state=0).fit(X[:30], y[:30])
    np.testing.assert_allclose(reg.predict(X), alone.predict(X))


def test_grid_search_compares_methods_with_the_labelled_only_baseline(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    search = GridSearchCV(
        MLPClassifier(max_iter=10, supervised_fallback=False, random_state=0),
        {"semi_supervised": ["labelled_only", "pseudo_label"]},
        scoring=make_labelled_scorer(),
        cv=3,
    ).fit(X_train, y_partial)
    baseline = search.cv_results_["mean_test_score"][0]
    assert baseline > 0.3  # None (the marker as a class) scores near 0 here


def test_without_a_method_the_marker_is_an_ordinary_class():
    X = np.array([[0.0], [0.1], [1.0], [1.1]] * 5)
    y = np.array([-1, -1, 1, 1] * 5)
    clf = MLPClassifier(solver="lbfgs", random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])
    with pytest.raises(ValueError, match="only one class is left"):
        MLPClassifier(semi_supervised="pseudo_label").fit(X, y)


def test_bad_input_errors(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    with pytest.raises(ValueError, match="Every sample is unlabelled"):
        MLPClassifier(semi_supervised="entropy").fit(X_train, np.full_like(y_partial, -1))
    with pytest.raises(ValueError, match="classes contains -1"):
        MLPClassifier(semi_supervised="entropy").partial_fit(
            X_train, y_partial, classes=[-1, 0, 1, 2, 3, 4]
        )
    with pytest.raises(ValueError, match="stochastic solvers"):
        MLPClassifier(semi_supervised="entropy", solver="lbfgs").fit(X_train, y_partial)
    with pytest.raises(ValueError, match="semi_supervised"):
        MLPRegressor(semi_supervised="entropy").fit(X_train, y_partial.astype(float))
    with pytest.raises(ValueError, match="are '-1'"):
        MLPClassifier(semi_supervised="entropy").fit(X_train[:4], ["a", "b", "-1", "a"])


def test_string_labels_with_a_string_marker():
    X, y = load_digits(n_class=2, return_X_y=True)
    names = np.where(y == 0, "zero", "one").astype(object)
    names[10:] = "?"
    clf = MLPClassifier(
        semi_supervised="pseudo_label", unlabelled_marker="?", max_iter=5, random_state=0
    ).fit(X / 16, names)
    assert set(clf.classes_) == {"zero", "one"}
    assert set(clf.transduction_) <= {"zero", "one"}
    # The default marker marks no string label: a plain supervised fit with "?" a class.
    default = MLPClassifier(semi_supervised="pseudo_label", max_iter=5, random_state=0)
    assert set(default.fit(X / 16, names).classes_) == {"zero", "one", "?"}


def test_regressor_nan_targets_are_unlabelled():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    y_partial = y.copy()
    y_partial[40:] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPRegressor(max_iter=5).fit(X, y_partial)
    reg = MLPRegressor(semi_supervised="pi_model", max_iter=30, random_state=0)
    reg.fit(X, y_partial)
    assert reg.transduction_.shape == y.shape and np.all(np.isfinite(reg.transduction_))
    np.testing.assert_array_equal(reg.transduction_[:40], y[:40])
    # On the unlabelled rows, over seeds 0-4 (one seed's guard split decides
    # alone whether it falls back): about as good as the 40 labels alone
    # (R² 0.46 and 0.49 when written).
    def mean_r2(method):
        return np.mean([
            MLPRegressor(semi_supervised=method, max_iter=30, random_state=seed)
            .fit(X, y_partial).score(X[40:], y[40:])
            for seed in range(5)
        ])

    assert mean_r2("pi_model") > max(0.4, mean_r2("labelled_only") - 0.1)


def test_sparse_input_and_sample_weight(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    weight = np.random.RandomState(0).uniform(0.5, 2, len(y_partial))
    clf = MLPClassifier(semi_supervised="pseudo_label", max_iter=5, random_state=0)
    clf.fit(sp.csr_matrix(X_train), y_partial, sample_weight=weight)
    assert clf.transduction_.shape == y_partial.shape


def test_early_stopping_holds_out_labelled_rows(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    clf = MLPClassifier(
        semi_supervised="entropy", early_stopping=True, validation_fraction=0.2,
        supervised_fallback=False, max_iter=50, random_state=0,
    ).fit(X_train, y_partial)
    assert 0 < len(clf.validation_scores_) <= 50


def test_regressor_partial_fit_starts_from_an_unlabelled_batch():
    X, y = make_regression(n_samples=200, n_features=4, noise=1.0, random_state=0)
    reg = MLPRegressor(semi_supervised="pi_model", random_state=0)
    reg.partial_fit(X[:100], np.full(100, np.nan))
    assert reg.n_features_in_ == 4 and reg.n_outputs_ == 1
    before = reg.network_.params.copy()
    reg.partial_fit(X[100:], y[100:])
    assert not np.allclose(before, reg.network_.params)
    with pytest.raises(ValueError, match="NaN"):
        MLPRegressor(random_state=0).partial_fit(X[:10], np.full(10, np.nan))


@pytest.mark.parametrize(
    "method, loss_name",
    [
        (method, loss_name)
        for method in ("pseudo_label", "entropy", "pi_model")
        for loss_name in ("log_loss", "binary_log_loss", "squared_error")
        # pseudo-labels and entropy are classification-only terms
        if loss_name != "squared_error" or method == "pi_model"
    ],
)
def test_unsupervised_gradients_match_finite_differences(method, loss_name):
    from skann.semi_supervised import METHODS
    from skann.nn import get_loss

    rng = np.random.RandomState(0)
    loss = get_loss(loss_name)
    term = METHODS[method](loss, threshold=0.4)
    scores = rng.normal(size=(6, 3))
    teacher = loss.output(rng.normal(scale=3, size=(6, 3)), out=np.empty((6, 3)))
    weight = rng.uniform(0.5, 2, 6)

    def value(z):
        return term.term(loss.output(z, out=z.copy()), teacher, weight)

    gradient = loss.output(scores, out=scores.copy())
    term.term(gradient, teacher, weight)
    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = 1e-6
        numeric[index] = (value(scores + step) - value(scores - step)) / 2e-6
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)


def _image_perturbation(seed, shape=(8, 8, 1)):
    from skann.semi_supervised._perturbations import ImagePerturbation

    return ImagePerturbation(shape, np.random.RandomState(seed))


@pytest.mark.parametrize("strong", [False, True])
def test_image_views_are_shifted_images(strong):
    rng = np.random.default_rng(0)
    X = rng.random((200, 64)) + 1.0  # no zero pixel before perturbing
    view = _image_perturbation(0)(X, strong=strong)
    assert view.shape == X.shape and view.dtype == X.dtype
    assert not np.shares_memory(view, X)
    images, views = X.reshape(-1, 8, 8), view.reshape(-1, 8, 8)
    largest = 2 if strong else 1
    for image, moved in zip(images, views):
        kept = moved != 0
        # some shift (dy, dx) within the largest one explains every kept pixel
        matches = [
            (dy, dx)
            for dy in range(-largest, largest + 1)
            for dx in range(-largest, largest + 1)
            if np.array_equal(
                moved[kept], np.roll(image, (dy, dx), axis=(0, 1))[kept]
            )
            and not np.any(_rolled_in(dy, dx)[kept])
        ]
        assert matches
    zeros = (view == 0).sum(axis=1)
    if strong:  # a 3x3-4x4 cut-out, partly outside the image at times
        assert zeros.mean() > 9 and np.all(zeros <= 4 * 8 + 4 * 8 + 16)
    else:
        assert np.all(zeros <= 15) and (zeros == 0).any() and (zeros > 0).any()


def _rolled_in(dy, dx, size=8):
    """Pixels a shift by (dy, dx) moves in from outside the image."""
    mask = np.zeros((size, size), dtype=bool)
    if dy > 0:
        mask[:dy] = True
    elif dy < 0:
        mask[dy:] = True
    if dx > 0:
        mask[:, :dx] = True
    elif dx < 0:
        mask[:, dx:] = True
    return mask


def test_image_views_are_deterministic_with_the_random_state():
    X = np.random.default_rng(1).random((50, 3 * 10 * 12)).astype(np.float32)
    shape = (10, 12, 3)
    first = _image_perturbation(3, shape)(X, strong=True)
    again = _image_perturbation(3, shape)(X, strong=True)
    other = _image_perturbation(4, shape)(X, strong=True)
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.float32 and first.shape == X.shape
    assert not np.array_equal(first, other)
    assert _image_perturbation(0, shape).cut_out == (4, 5)  # scales with the image


def test_consistency_methods_use_image_views_with_input_shape(digits_partly_labelled):
    X_train, _, y_partial, _, _ = digits_partly_labelled
    X_images = np.clip(X_train, 0, None)
    params = dict(semi_supervised="pseudo_label", max_iter=2, supervised_fallback=False, random_state=0)
    clf = MLPClassifier(input_shape=(8, 8), **params).fit(X_images, y_partial)
    first = clf.predict_proba(X_images)
    again = MLPClassifier(**clf.get_params()).fit(X_images, y_partial)
    np.testing.assert_array_equal(first, again.predict_proba(X_images))
    # The same dense network without input_shape trains on tabular views
    # (noise scaled to each feature) instead of shifted images.
    tabular = MLPClassifier(**params).fit(X_images, y_partial)
    assert not np.allclose(first, tabular.predict_proba(X_images))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_partial_fit_on_a_stream_of_unlabelled_batches_keeps_improving(seed):
    # examples/plot_improving_stream.py: 50 labels, then 60 unlabelled
    # batches of 256 digits; seeds 0-4 gained 3 to 8 points.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    labelled, stream = train_test_split(
        np.arange(len(y_train)), train_size=50, stratify=y_train, random_state=seed
    )
    clf = MLPClassifier(semi_supervised="pseudo_label", batch_size=32, random_state=seed)
    clf.fit(X_train[labelled], y_train[labelled])
    after_fit = clf.score(X_test, y_test)
    rng = np.random.default_rng(seed)
    for batch in range(60):
        rows = rng.choice(stream, 256, replace=False)
        clf.partial_fit(X_train[rows], np.full(len(rows), -1))
    # The teacher and the ramp-up carry over between calls: the mean teacher
    # has averaged every step of the stream (256 / 32 per call), and the
    # ramp-up counted every call.
    assert clf._unlabelled_state["teacher"]["steps"] == 60 * 8
    assert not np.array_equal(clf._unlabelled_state["teacher"]["params"], clf.network_.params)
    assert clf._unlabelled_state["progress"]["epochs"] == 60
    assert clf.score(X_test, y_test) >= after_fit + 0.02
