"""The same random_state gives bit-identical weights and predictions: across
two fits in one process, and in a fresh process with BLAS on one thread,
for every layer kind (Dropout included)."""

import hashlib
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann.layers import (AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten,
                          GlobalAvgPool2D, LayerNorm, MaxPool2D)

STACKS = {
    "Dense": lambda: [Dense(8), Dense(4)],
    "Conv2D": lambda: [Conv2D(3, 3, padding="same"), Flatten()],
    "MaxPool2D": lambda: [Conv2D(3, 2), MaxPool2D(2), Flatten()],
    "AvgPool2D": lambda: [Conv2D(3, 2, padding="same"), AvgPool2D(2), Flatten()],
    "GlobalAvgPool2D": lambda: [Conv2D(4, 3, padding="same"), GlobalAvgPool2D()],
    "BatchNorm": lambda: [Dense(8), BatchNorm()],
    "BatchNorm-conv": lambda: [Conv2D(3, 3, padding="same"), BatchNorm(), Flatten()],
    "LayerNorm": lambda: [Dense(8), LayerNorm()],
    "Dropout": lambda: [Dense(8), Dropout(0.5)],
}
ESTIMATORS = {"classifier": MLPClassifier, "regressor": MLPRegressor, "autoencoder": AutoEncoder}


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 16))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)


def fingerprint(kind, estimator):
    """sha256 of the fitted weights and the outputs of one fit."""
    X, y = _data()
    layers = STACKS[kind]()
    images = isinstance(layers[0], Conv2D)
    model = ESTIMATORS[estimator](layers=layers, input_shape=(4, 4) if images else None, max_iter=3,
                                  batch_size=32, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if estimator == "autoencoder":
            model.fit(X)
            outputs = model.transform(X)
        else:
            model.fit(X, y if estimator == "classifier" else X[:, 0])
            outputs = model.predict(X)
    digest = hashlib.sha256()
    for array in (model.network_.params, model.network_.state, np.asarray(outputs)):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


CASES = [(kind, estimator) for kind in STACKS for estimator in ESTIMATORS]


@pytest.mark.parametrize("kind, estimator", CASES)
def test_two_fits_are_bit_identical(kind, estimator):
    assert fingerprint(kind, estimator) == fingerprint(kind, estimator)


def test_a_fresh_process_gives_the_same_bits():
    here = {f"{kind}/{estimator}": fingerprint(kind, estimator) for kind, estimator in CASES}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.test_reliability_determinism import CASES, fingerprint;"
        "print(json.dumps({f'{k}/{e}': fingerprint(k, e) for k, e in CASES}))"
    )
    one_thread = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", script, root], capture_output=True, text=True,
                            env={**os.environ, **one_thread}, timeout=300, check=True)
    there = json.loads(result.stdout.strip().splitlines()[-1])
    assert there == here
