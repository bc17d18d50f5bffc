"""Shared fixtures: one BLAS thread per test process, fixed seeds."""

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import skann

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# When skann is imported from this checkout without being installed (pytest
# put the repository root on sys.path), child processes (GridSearchCV's
# n_jobs workers, the fresh interpreter of the joblib test) must find it too.
if os.path.dirname(os.path.dirname(os.path.abspath(skann.__file__))) == REPO_ROOT:
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    if REPO_ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([REPO_ROOT, *paths])


@pytest.fixture(autouse=True)
def _single_blas_thread():
    # The suite runs on small matrices, where BLAS threads only contend
    # with each other (and with GridSearchCV's workers).
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def rng():
    return np.random.RandomState(0)
