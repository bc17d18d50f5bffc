"""Default-parameter scores: skann against sklearn's MLP, same protocol, one run.

Issue 2's acceptance table: 5-fold cross-validation in a
``StandardScaler`` pipeline, default parameters, ``random_state=0`` for the
model. Classification folds are ``StratifiedKFold(5, shuffle=True,
random_state=0)`` (digits, breast_cancer, wine); regression folds are
``KFold(5, shuffle=True, random_state=0)`` and, as sklearn's ``cv=5``
default, unshuffled ``KFold(5)`` (diabetes). RidgeCV is listed for the
regression set as a linear reference. BLAS runs on one thread.

Run ``python benchmarks/scores.py``; it takes about a minute.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _peers import optional_skann

skann = optional_skann()

CLASSIFICATION = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
}


def cv_row(model, X, y, cv):
    """Mean and std of the CV score, and the total fit+score seconds."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(make_pipeline(StandardScaler(), model), X, y, cv=cv)
    return scores.mean(), scores.std(), time.perf_counter() - start


def rows():
    """Yield (dataset, folds, model name, mean, std, seconds)."""
    stratified = StratifiedKFold(5, shuffle=True, random_state=0)
    for name, loader in CLASSIFICATION.items():
        X, y = loader(return_X_y=True)
        for label, model in (
            ("skann", skann.MLPClassifier(random_state=0)),
            ("sklearn", SklearnMLPClassifier(random_state=0)),
        ):
            yield (name, "stratified shuffled", label, *cv_row(model, X, y, stratified))
    X, y = load_diabetes(return_X_y=True)
    for folds, cv in (("shuffled", KFold(5, shuffle=True, random_state=0)), ("cv=5", 5)):
        for label, model in (
            ("skann", skann.MLPRegressor(random_state=0)),
            ("sklearn", SklearnMLPRegressor(random_state=0)),
            ("RidgeCV", RidgeCV()),
        ):
            yield ("diabetes (R²)", folds, label, *cv_row(model, X, y, cv))


def main():
    print(f"skann {skann.__version__}; 5-fold CV, default parameters, 1 BLAS thread\n")
    header = f"{'dataset':<15} {'folds':<20} {'model':<8} {'score':>15} {'seconds':>8}"
    print(header)
    print("-" * len(header))
    with threadpool_limits(1):
        for dataset, folds, label, mean, std, seconds in rows():
            score = f"{mean:.4f} ± {std:.4f}"
            print(f"{dataset:<15} {folds:<20} {label:<8} {score:>15} {seconds:>8.1f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
