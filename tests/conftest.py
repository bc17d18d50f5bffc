"""Shared fixtures: one BLAS thread per test process, fixed seeds."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _single_blas_thread():
    # The suite runs on small matrices, where BLAS threads only contend
    # with each other (and with GridSearchCV's workers).
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def rng():
    return np.random.RandomState(0)
