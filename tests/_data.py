"""Small, seeded data sets shared by the estimator tests, and a memory probe."""

import tracemalloc

import numpy as np
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.preprocessing import StandardScaler


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def binary(n_samples=120, seed=0):
    X, y = make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, n_redundant=0, class_sep=1.5, random_state=seed
    )
    return X, y


def regression(n_samples=120, n_targets=1, seed=0):
    X, y = make_regression(
        n_samples=n_samples, n_features=5, n_informative=4, n_targets=n_targets, noise=5.0, random_state=seed
    )
    return X, y


def data_for(estimator_class, **kwargs):
    """Binary classification or regression data, whichever suits."""
    from skann import MLPClassifier

    return binary(**kwargs) if estimator_class is MLPClassifier else regression(**kwargs)


def traced(call, *args):
    """``(call(*args), peak bytes tracemalloc saw allocated while it ran)``."""
    tracemalloc.start()
    try:
        result = call(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
