"""semi_supervised="graph" and "auto" through the estimators: scores on real
data, every loss the graph method learns, streams, weights, the guard,
interrupts and callback stops, and clear errors."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

from skann import MLPClassifier, MLPRegressor
from skann.nn import get_loss
from skann.semi_supervised._graph_objective import GraphObjective, divergence, graph_terms
from skann.semi_supervised._graph_training import GraphPlan, TermWeights
from skann.semi_supervised._methods import graph_consistency, graph_epochs, resolve_method

from .nn._gradcheck import numerical_gradient
from .test_face import _interrupt_after

FAST = dict(hidden_layer_sizes=(16,), random_state=0)


def _partly_labelled(y, n_labels, seed=0, marker=-1):
    """``y`` with all but ``n_labels`` stratified rows marked unlabelled."""
    labelled, _ = train_test_split(
        np.arange(len(y)), train_size=n_labels, random_state=seed,
        stratify=y if marker == -1 else None,
    )
    partial = np.full(len(y), marker, dtype=float if marker != -1 else y.dtype)
    partial[labelled] = y[labelled]
    return partial


def _split(load, n_labels, seed=0, classification=True):
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y if classification else None
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    marker = -1 if classification else np.nan
    return X_train, X_test, _partly_labelled(y_train, n_labels, seed, marker), y_test


# ----------------------------------------------------------------------
# Scores on real data
# ----------------------------------------------------------------------
def test_graph_method_beats_label_spreading_on_digits_with_100_labels():
    """Measured (seed 0): 0.970 against LabelSpreading's 0.948 and 0.88 for the labels alone."""
    X_train, X_test, y_partial, y_test = _split(load_digits, 100)
    model = MLPClassifier(semi_supervised="auto", random_state=0).fit(X_train, y_partial)
    spreading = LabelSpreading(kernel="knn").fit(X_train, y_partial).score(X_test, y_test)
    alone = MLPClassifier(semi_supervised="labelled_only", random_state=0).fit(X_train, y_partial)
    assert model.used_unlabelled_
    assert model.score(X_test, y_test) >= max(spreading, 0.95)
    assert model.score(X_test, y_test) > alone.score(X_test, y_test) + 0.04


def test_graph_method_learns_a_binary_target_from_20_labels():
    """Measured (seed 0): 0.953 against 0.930 for the labels alone (one sigmoid output)."""
    X_train, X_test, y_partial, y_test = _split(load_breast_cancer, 20)
    model = MLPClassifier(semi_supervised="graph", random_state=0).fit(X_train, y_partial)
    assert model.network_.layers[-1].units == 1
    assert model.score(X_test, y_test) >= 0.92


def test_graph_method_on_the_moons_is_never_worse_than_the_labels_alone():
    """The benchmark's moons (600 rows, noise 0.2, 10 labels); measured on seeds 0-4:
    0.888 against 0.862 for the labels alone."""
    X_train, X_test, y_partial, y_test = _split(
        lambda return_X_y: make_moons(600, noise=0.2, random_state=0), 10
    )
    graph = MLPClassifier(semi_supervised="graph", random_state=0).fit(X_train, y_partial)
    alone = MLPClassifier(semi_supervised="labelled_only", random_state=0).fit(X_train, y_partial)
    assert graph.score(X_test, y_test) >= alone.score(X_test, y_test) - 0.01


def test_graph_regression_trains_and_is_never_much_worse_than_the_labels_alone():
    X_train, X_test, y_partial, y_test = _split(load_diabetes, 50, classification=False)
    graph = MLPRegressor(semi_supervised="graph", random_state=0).fit(X_train, y_partial)
    alone = MLPRegressor(semi_supervised="labelled_only", random_state=0).fit(X_train, y_partial)
    assert np.isfinite(graph.predict(X_test)).all()
    assert graph.score(X_test, y_test) > alone.score(X_test, y_test) - 0.05


# ----------------------------------------------------------------------
# What "auto" runs, and the fit's length
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, n_outputs, n_rows, expected",
    [("log_loss", 3, 1000, "graph"), ("binary_log_loss", 1, 5000, "graph"), ("log_loss", 3, 999, "pseudo_label"),
     ("binary_log_loss", 4, 5000, "pseudo_label"), ("squared_error", 1, 5000, "pi_model"),
     ("poisson", 1, 5000, "pi_model")],
)
def test_auto_resolves_to_a_method_for_the_target(loss, n_outputs, n_rows, expected):
    assert resolve_method("auto", loss, n_outputs, n_rows) == expected


def test_auto_runs_the_method_it_names():
    X, y = make_moons(300, noise=0.1, random_state=0)
    small = MLPClassifier(semi_supervised="auto", max_iter=5, **FAST).fit(X, _partly_labelled(y, 20))
    assert "graph_steps" not in small._unlabelled_state  # 300 rows: pseudo-labels
    X, y = make_moons(1000, noise=0.1, random_state=0)
    large = MLPClassifier(semi_supervised="auto", max_iter=5, **FAST).fit(X, _partly_labelled(y, 20))
    assert large._unlabelled_state["graph_steps"]["steps"] > 0


def test_graph_refuses_what_it_cannot_learn_before_any_work():
    with pytest.raises(ValueError, match="multilabel"):
        resolve_method("graph", "binary_log_loss", 3, 100)
    with pytest.raises(ValueError, match="poisson"):
        resolve_method("graph", "poisson", 1, 100)
    X, y = make_moons(60, random_state=0)
    Y = np.c_[y, 1 - y]
    Y[::2] = -1
    model = MLPClassifier(semi_supervised="graph", **FAST)
    with pytest.raises(ValueError, match="multilabel"):
        model.fit(X, Y)
    assert not hasattr(model, "network_")
    # "auto" trains the multilabel target with pseudo-labels instead.
    assert MLPClassifier(semi_supervised="auto", max_iter=3, **FAST).fit(X, Y).used_unlabelled_ in (True, False)


def test_a_graph_fit_runs_about_graph_steps_and_at_most_max_iter_epochs():
    assert graph_epochs(200, 10) == 100  # digits: 1,257 rows, 10 steps an epoch
    assert graph_epochs(200, 782) == 2  # 100,000 rows
    assert graph_epochs(20, 1) == 20
    assert graph_epochs(200, 4) == 100  # small tables: at most 100 passes
    X, y = make_moons(300, noise=0.1, random_state=0)  # 3 steps an epoch
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning: the fit has a fixed length
        model = MLPClassifier(semi_supervised="graph", supervised_fallback=False, **FAST).fit(X, _partly_labelled(y, 6))
    assert model.n_iter_ == 100 and len(model.history_) == 100
    short = MLPClassifier(semi_supervised="graph", max_iter=7, supervised_fallback=False, **FAST)
    assert short.fit(X, _partly_labelled(y, 6)).n_iter_ == 7


# ----------------------------------------------------------------------
# Weights, the guard, streams
# ----------------------------------------------------------------------
def test_uniform_sample_weights_change_nothing():
    X, y = make_moons(200, noise=0.1, random_state=0)
    y_partial = _partly_labelled(y, 10)
    common = dict(semi_supervised="graph", max_iter=5, supervised_fallback=False, **FAST)
    plain = MLPClassifier(**common).fit(X, y_partial)
    weighted = MLPClassifier(**common).fit(X, y_partial, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_allclose(weighted.predict_proba(X), plain.predict_proba(X), rtol=1e-6, atol=1e-9)
    skewed = np.where(y == 1, 5.0, 1.0)
    skewed_model = MLPClassifier(**common).fit(X, y_partial, sample_weight=skewed)
    assert not np.allclose(skewed_model.predict_proba(X), plain.predict_proba(X))


def test_the_guards_held_out_labels_train_only_after_the_judge():
    """The judge's rows train as unlabelled rows until it has judged the network
    (a quarter of the epochs), then as labelled rows; the soft targets spread
    from them only then."""

    class Judge:
        positions = np.array([1, 3])
        evaluate = at_epoch = None

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    unlabelled = np.arange(10, 40)
    labelled_plan = type("Labelled", (), {})()
    labelled_plan.rows, labelled_plan.sample_weight = np.arange(10), None
    labelled_plan.X, labelled_plan.Y = X[:10], (np.arange(10) % 2).astype(float)[:, None]
    net = MLPClassifier(max_iter=1, **FAST).fit(X[:10], np.arange(10) % 2).network_
    judge = Judge()
    plan, _, hooks, state, n_epochs = graph_consistency(
        dict(max_iter=200, alpha=1e-4, unsupervised_weight=1.0), net, get_loss("binary_log_loss"), None,
        labelled_plan, X, unlabelled, np.random.RandomState(0), judge, "evaluate",
    )
    assert isinstance(plan, GraphPlan) and hooks == [judge] and judge.evaluate == "evaluate"
    assert n_epochs == 100 and judge.at_epoch == plan.join_epoch == 25
    assert sorted(plan.labelled_rows) == [0, 2, 4, 5, 6, 7, 8, 9]
    np.testing.assert_array_equal(plan.X, X)  # the labelled rows first, then the unlabelled ones
    early_targets = plan.targets.copy()
    for _ in range(25):
        list(plan.batches())
        assert 1 not in plan.labelled_rows
    list(plan.batches())
    assert sorted(plan.labelled_rows) == list(range(10))
    assert not np.allclose(plan.targets, early_targets)
    assert state["graph_steps"]["steps"] == 26


def test_a_failing_judge_stops_the_graph_fit_and_falls_back(monkeypatch):
    """A judge that fails at a quarter of the epochs ends the semi-supervised
    phase there; the model is then the labelled rows' alone."""
    from skann.semi_supervised import HeldOutJudge

    judged = []
    original = HeldOutJudge._judge

    def failing(self, network):
        judged.append(self._epochs)
        original(self, network)
        self.passed = False
        return False

    monkeypatch.setattr(HeldOutJudge, "_judge", failing)
    X_train, X_test, y_partial, y_test = _split(load_digits, 200)
    model = MLPClassifier(semi_supervised="graph", random_state=0).fit(X_train, y_partial)
    alone = MLPClassifier(semi_supervised="labelled_only", random_state=0).fit(X_train, y_partial)
    assert judged == [25] and not model.used_unlabelled_  # 100 epochs on 1,257 rows
    np.testing.assert_allclose(model.predict_proba(X_test), alone.predict_proba(X_test), atol=1e-12)


def test_guard_scores_are_reported_and_the_fallback_can_run():
    X_train, _, y_partial, _ = _split(load_digits, 200)
    model = MLPClassifier(semi_supervised="graph", random_state=0).fit(X_train, y_partial)
    assert set(model.guard_scores_) == {"supervised", "semi_supervised"}
    margin = 1 / 40 + 1e-12  # one of the 40 held-out rows
    assert model.used_unlabelled_ == (model.guard_scores_["semi_supervised"] >= model.guard_scores_["supervised"] - margin)


def test_partial_fit_stream_uses_each_batchs_own_graph_and_continues_the_rampup():
    """Measured: 0.885 after 30 passes of 4 calls (labelled_only 0.875, pseudo_label 0.863)."""
    X, y = make_moons(400, noise=0.1, random_state=0)
    y_partial = _partly_labelled(y, 40)
    model = MLPClassifier(semi_supervised="graph", learning_rate_init=0.01, **FAST)
    for _ in range(30):
        for chunk in np.array_split(np.arange(400), 4):
            model.partial_fit(X[chunk], y_partial[chunk], classes=[0, 1])
    assert model._unlabelled_state["graph_steps"]["steps"] == 120  # one step of 100 rows a call
    assert model.score(X, y) > 0.85


def test_auto_in_a_stream_may_change_method_from_call_to_call():
    """"auto" resolves per call: a batch of 1,200 rows trains with the graph
    method, one of 300 with pseudo-labels; each keeps its own state."""
    X, y = make_moons(1500, noise=0.1, random_state=0)
    y_partial = _partly_labelled(y, 100)
    model = MLPClassifier(semi_supervised="auto", **FAST)
    model.partial_fit(X[:1200], y_partial[:1200], classes=[0, 1])
    model.partial_fit(X[1200:], y_partial[1200:])
    model.partial_fit(X[:1200], y_partial[:1200])
    state = model._unlabelled_state
    assert state["graph_steps"]["steps"] == 20 and state["progress"]["epochs"] == 1
    assert np.isfinite(model.predict_proba(X)).all()


def test_partial_fit_of_a_batch_without_labels_is_a_clear_error_and_changes_nothing():
    X, y = make_moons(100, noise=0.1, random_state=0)
    model = MLPClassifier(semi_supervised="graph", **FAST).partial_fit(X, _partly_labelled(y, 20), classes=[0, 1])
    params = model.network_.params.copy()
    with pytest.raises(ValueError, match="labelled rows"):
        model.partial_fit(X, np.full(100, -1))
    with pytest.raises(ValueError, match="labelled rows"):
        MLPClassifier(semi_supervised="graph", **FAST).partial_fit(X, np.full(100, -1), classes=[0, 1])
    np.testing.assert_array_equal(model.network_.params, params)


# ----------------------------------------------------------------------
# Interrupts and callback stops
# ----------------------------------------------------------------------
def test_an_interrupt_in_a_graph_fit_commits_the_completed_epochs(monkeypatch):
    X, y = make_moons(300, noise=0.1, random_state=0)
    calls = _interrupt_after(monkeypatch, GraphObjective, 3 * 3)  # 3 steps an epoch
    with pytest.warns(UserWarning, match="interrupted"):
        model = MLPClassifier(semi_supervised="graph", **FAST).fit(X, _partly_labelled(y, 60))
    assert calls[0] == 10 and model.n_iter_ == 3 and model.used_unlabelled_


def test_a_callback_stop_ends_a_graph_fit():
    pytest.importorskip("sklearn.callback")
    from .test_callbacks import Recorder

    X, y = make_moons(300, noise=0.1, random_state=0)
    recorder = Recorder(stop_after=4)
    model = MLPClassifier(semi_supervised="graph", supervised_fallback=False, **FAST).set_callbacks(recorder)
    model.fit(X, _partly_labelled(y, 6))
    assert model.n_iter_ == 4


# ----------------------------------------------------------------------
# The objective's gradient for every loss the method learns
# ----------------------------------------------------------------------
class _FixedRows:
    def __init__(self, rows):
        self.rows = rows

    def __call__(self, network, X, P):
        return self.rows


def _batch(loss_name, rng, n_labelled=4, n_unlabelled=5):
    from skann.semi_supervised._graph_training import GraphBatch

    X = rng.normal(size=(n_labelled + 2 * n_unlabelled, 3))
    if loss_name == "squared_error":
        Y, targets, prior = rng.normal(size=(n_labelled, 1)), None, None
    else:
        Y = (rng.rand(n_labelled, 1) > 0.5).astype(float)
        targets = rng.dirichlet([1, 1], size=n_unlabelled)
        prior = np.array([0.4, 0.6])
    weight = rng.uniform(0.5, 2.0, size=n_labelled)
    weights = TermWeights(entropy=0.7, balance=1.3, targets=0.5, neighbour=0.9, adversarial=1.1)
    return GraphBatch(X, Y, weight, n_labelled, n_unlabelled, targets, prior, weights)


@pytest.mark.parametrize("loss_name", ["binary_log_loss", "squared_error"])
def test_objective_gradient_matches_finite_differences_for_one_output(loss_name):
    from skann.nn import Dense, Network

    rng = np.random.RandomState(4)
    loss = get_loss(loss_name)
    net = Network([Dense(5, "tanh"), Dense(1, "identity")])
    net.build((3,), np.float64, np.random.RandomState(0))
    batch = _batch(loss_name, rng)
    X_adv = rng.normal(size=(5, 3))
    objective = GraphObjective(loss, 0.01, _FixedRows(X_adv))
    out = lambda X: loss.output(net.output(X), None)  # noqa: E731
    fixed_clean, fixed_neighbours = out(batch.X[4:9]), out(batch.X[9:])
    w = batch.weights

    def reference():
        value = loss.value(batch.Y, out(batch.X[:4]), batch.weight)
        P = out(batch.X[4:9])
        if loss_name == "squared_error":
            value += 0.5 * w.neighbour * np.sum((P - fixed_neighbours) ** 2) / 5
        else:
            two = lambda p: np.hstack([1 - p, p])  # noqa: E731
            value += graph_terms(two(P), two(fixed_neighbours), batch.targets, batch.prior, w)
        value += w.adversarial * divergence(loss_name, fixed_clean, out(X_adv)) / 5
        return value + 0.5 * 0.01 * net.penalty()

    ctx = net.context(training=True, rng=np.random.default_rng(0))
    assert objective(net, batch, ctx) == pytest.approx(reference(), rel=1e-10)
    np.testing.assert_allclose(net.grads, numerical_gradient(reference, net.params), rtol=1e-5, atol=1e-8)


def test_divergence_is_the_kl_divergence_of_two_class_rows():
    P, Q = np.array([[0.2], [0.9]]), np.array([[0.5], [0.6]])
    expected = sum(
        p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)) for p, q in zip(P.ravel(), Q.ravel())
    )
    assert divergence("binary_log_loss", P, Q) == pytest.approx(expected)


def test_objective_refuses_other_losses():
    with pytest.raises(ValueError, match="poisson"):
        GraphObjective(get_loss("poisson"), 0.0, None)
