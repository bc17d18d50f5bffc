"""Scaling out on Dask: dask-ml's wrappers and joblib's dask backend.

The cluster runs its two workers as threads of this process
(``processes=False``): it starts in a fraction of a second, needs no
re-import of skann in spawned interpreters, and runs predictions of one
model on two threads at once, which skann guarantees to be safe. Pickling
models to other processes is covered by the persistence tests.
"""

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV

from skann import AutoEncoder, MLPClassifier, MLPRegressor

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BLOCK_ROWS = 200


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def _blocks(array, rows=BLOCK_ROWS):
    return da.from_array(array, chunks=(rows,) + array.shape[1:])


def _classification():
    return make_classification(
        n_samples=1400, n_features=10, n_informative=6, class_sep=1.2, random_state=0
    )


def test_incremental_trains_block_by_block(client):
    X, y = _classification()
    X_train, y_train = _blocks(X[:1000]), _blocks(y[:1000])
    model = wrappers.Incremental(
        MLPClassifier(hidden_layer_sizes=(32,), batch_size=32, learning_rate_init=0.01, random_state=0),
        scoring="accuracy",
    )
    passes = 3
    for _ in range(passes):  # each call is one pass: partial_fit on every block
        model.partial_fit(X_train, y_train, classes=[0, 1])
    network = model.estimator_
    assert network.n_iter_ == 1  # partial_fit: one epoch per block
    assert network.t_ == passes * 1000  # every row of every block, once per pass
    assert len(network.history_) == passes * 1000 // BLOCK_ROWS
    assert model.score(_blocks(X[1000:]), _blocks(y[1000:])) > 0.85  # chance: 0.5


@pytest.mark.parametrize("scheduler", ["threads", "cluster"])
def test_parallel_post_fit_predicts_as_in_memory(client, scheduler):
    X, y = _classification()
    classifier = MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, random_state=0).fit(X, y)
    X_reg, y_reg = make_regression(n_samples=1000, n_features=8, noise=1.0, random_state=0)
    regressor = MLPRegressor(hidden_layer_sizes=(16,), max_iter=40, random_state=0).fit(X_reg, y_reg)
    encoder = AutoEncoder(hidden_layer_sizes=(8, 3), max_iter=20, random_state=0).fit(X)
    compute = {"threads": {"scheduler": "threads"}, "cluster": {}}[scheduler]
    cases = [
        (classifier, "predict", X),
        (classifier, "predict_proba", X),
        (regressor, "predict", X_reg),
        (encoder, "transform", X),
    ]
    for model, method, data in cases:
        parallel = getattr(wrappers.ParallelPostFit(model), method)(_blocks(data))
        assert isinstance(parallel, da.Array)
        result = parallel.compute(**compute)
        # Bit for bit what the model gives for the same blocks in memory.
        blocks = [getattr(model, method)(data[i : i + BLOCK_ROWS]) for i in range(0, len(data), BLOCK_ROWS)]
        assert np.array_equal(result, np.concatenate(blocks)), (type(model).__name__, method)
        # BLAS rounds products of different row counts differently, in the
        # last bits only: against one call on all rows, a tolerance.
        whole = getattr(model, method)(data)
        if method == "predict" and model is classifier:
            assert np.array_equal(result, whole)
        np.testing.assert_allclose(result, whole, rtol=1e-12, atol=1e-12)


def test_grid_search_on_the_dask_joblib_backend(client):
    X, y = _classification()
    X, y = X[:600], y[:600]
    grid = {"hidden_layer_sizes": [(4,), (16,)], "alpha": [1e-4, 1.0]}

    def search(n_jobs):
        return GridSearchCV(MLPClassifier(max_iter=30, random_state=0), grid, cv=3, n_jobs=n_jobs).fit(X, y)

    with joblib.parallel_backend("dask"):
        on_dask = search(n_jobs=-1)  # every worker of the cluster
    in_process = search(n_jobs=None)
    assert on_dask.best_params_ == in_process.best_params_
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"], in_process.cv_results_["mean_test_score"]
    )
    # The fits ran as tasks of the cluster (joblib names them batch_of_...).
    prefixes = client.run_on_scheduler(_task_prefixes)
    assert any("fit_and_score" in prefix for prefix in prefixes), prefixes


def _task_prefixes(dask_scheduler):
    return [str(prefix) for prefix in dask_scheduler.task_prefixes]
