"""skann estimators inside scikit-learn's tools: pipelines, model selection,
cloning and persistence."""

import os
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier, MLPRegressor

from ._data import binary, iris, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fitted_models():
    X_clf, y_clf = iris()
    X_reg, y_reg = regression()
    return [
        (MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X_clf, y_clf), X_clf),
        (MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(X_clf, np.array(["a", "b", "c"])[y_clf]), X_clf),
        (MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X_reg, y_reg), X_reg),
        (MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=50, random_state=0).fit(X_reg, y_reg), X_reg),
    ]


def _predictions(model, X):
    if isinstance(model, MLPClassifier):
        return model.predict(X), model.predict_proba(X)
    return (model.predict(X),)


def test_pipeline_with_scaler():
    X, y = binary()
    X = X * 100 + 50
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01, random_state=0))])
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    assert pipe.predict_proba(X).shape == (len(y), 2)
    assert pipe.named_steps["mlp"].n_features_in_ == X.shape[1]


def test_pipeline_regressor():
    X, y = regression()
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.95


def test_grid_search_in_parallel():
    X, y = iris()
    grid = GridSearchCV(
        MLPClassifier(max_iter=50, learning_rate_init=0.01, random_state=0),
        {"hidden_layer_sizes": [(5,), (10, 5)], "alpha": [1e-4, 1.0], "activation": ["relu", "tanh"]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        n_jobs=2,
    )
    grid.fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    # The search tells the candidates apart (5 hidden units underfit iris in
    # 50 epochs), and picks the best of them.
    deep = np.array([params["hidden_layer_sizes"] == (10, 5) for params in grid.cv_results_["params"]])
    assert scores[deep].max() > 0.93 and scores[deep].max() > scores[~deep].max() + 0.03
    assert grid.best_params_ == grid.cv_results_["params"][int(np.argmax(scores))]
    # The refitted best model is the model of the best parameters.
    refit = MLPClassifier(max_iter=50, learning_rate_init=0.01, random_state=0).set_params(**grid.best_params_)
    np.testing.assert_array_equal(grid.best_estimator_.predict_proba(X), refit.fit(X, y).predict_proba(X))
    # Parallel and sequential searches agree.
    sequential = clone(grid).set_params(n_jobs=1).fit(X, y)
    np.testing.assert_allclose(sequential.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"])


def test_grid_search_regressor_over_extended_activations():
    X, y = regression()
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)),
        {"mlpregressor__activation": ["gelu", "elu", "softplus"], "mlpregressor__alpha": [1e-4, 1e-1]},
        cv=KFold(3, shuffle=True, random_state=0),
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.9


def test_cross_val_score():
    X, y = iris()
    scores = cross_val_score(
        MLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01, random_state=0),
        X,
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
    )
    assert scores.shape == (5,)
    assert scores.mean() > 0.9


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_clone_is_unfitted_with_same_params(estimator_class):
    X, y = (iris() if estimator_class is MLPClassifier else regression())
    estimator = estimator_class(hidden_layer_sizes=(7, 3), activation="gelu", solver="lbfgs", alpha=0.5, random_state=4)
    estimator.fit(X, y)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert not hasattr(copy, "network_") and not hasattr(copy, "coefs_")
    copy.fit(X, y)
    for got, want in zip(copy.coefs_, estimator.coefs_):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("index", range(4))
def test_pickle_round_trip_gives_identical_predictions(index):
    model, X = _fitted_models()[index]
    restored = pickle.loads(pickle.dumps(model))
    for got, want in zip(_predictions(restored, X), _predictions(model, X)):
        np.testing.assert_array_equal(got, want)
    assert restored.get_params() == model.get_params()


def test_pickled_model_keeps_training():
    X, y = iris()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    model.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    # The restored model owns its parameters.
    restored.partial_fit(X, y)
    assert not np.array_equal(restored.coefs_[0], model.coefs_[0])


def test_joblib_dump_and_load_in_a_fresh_process(tmp_path):
    models = _fitted_models()
    path = tmp_path / "models.joblib"
    joblib.dump([model for model, _ in models], path)
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, *[X for _, X in models])
    output = tmp_path / "predictions.pkl"
    script = textwrap.dedent(
        f"""
        import pickle, joblib, numpy as np
        models = joblib.load({str(path)!r})
        inputs = np.load({str(inputs)!r})
        results = []
        for index, model in enumerate(models):
            X = inputs[f"arr_{{index}}"]
            if hasattr(model, "predict_proba"):
                results.append((model.predict(X), model.predict_proba(X)))
            else:
                results.append((model.predict(X),))
        with open({str(output)!r}, "wb") as handle:
            pickle.dump(results, handle)
        """
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=tmp_path, timeout=120)
    with open(output, "rb") as handle:
        results = pickle.load(handle)
    assert len(results) == len(models)
    for (model, X), loaded in zip(models, results):
        for got, want in zip(loaded, _predictions(model, X)):
            np.testing.assert_array_equal(got, want)
