"""Training controls (issue 9): class_weight, early stopping, solvers and schedules.

Three tables, each a mean over model seeds ``random_state=0..4`` (and, for
the class-weight table, the same data seeds), BLAS on one thread:

1. ``class_weight``: balanced accuracy, 5-fold ``StratifiedKFold(shuffle=True,
   random_state=0)``, on ``make_classification(n_samples=5000,
   weights=[0.9, 0.1], random_state=seed)`` in a ``StandardScaler``
   pipeline: skann with and without ``class_weight="balanced"``, beside
   sklearn's ``SGDClassifier`` and ``LogisticRegression`` (balanced).
2. Early stopping on digits / breast_cancer / wine (``StandardScaler``
   pipeline, ``StratifiedKFold(5, shuffle=True, random_state=0)``): epochs
   run and CV accuracy of skann with ``monitor="val_loss"`` (the default,
   also with ``tol=1e-3``) and ``"val_score"``, sklearn's ``MLPClassifier(early_stopping=True)``, and
   skann without early stopping.
3. Solvers and schedules: adam, adamw, rmsprop, adam + cosine and sgd +
   cosine on digits (5-fold CV accuracy as above, default ``max_iter``) and
   on the ``tabular`` benchmark config (``make_classification`` as the other
   benchmarks, the quick 10,000 rows, 80/20 split, 20 epochs of batches
   of 256): accuracy and fit seconds.

Run ``python benchmarks/training_controls.py`` (all three, about 15
minutes on one core) or name tables: ``python benchmarks/training_controls.py
class_weight early_stopping solvers``.
"""

import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _common import CONFIGS, make_data
from _peers import NEVER_STOP, optional_skann

skann = optional_skann()

SEEDS = range(5)
FOLDS = StratifiedKFold(5, shuffle=True, random_state=0)
DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}


def cross_validated(model, X, y, scoring="accuracy"):
    """Mean CV score, mean epochs run (``n_iter_``) and total seconds."""
    start = time.perf_counter()
    result = cross_validate(
        make_pipeline(StandardScaler(), model), X, y, cv=FOLDS, scoring=scoring,
        return_estimator=True,
    )
    epochs = [getattr(pipe[-1], "n_iter_", np.nan) for pipe in result["estimator"]]
    return result["test_score"].mean(), float(np.mean(epochs)), time.perf_counter() - start


def over_seeds(make_model, X_of_seed, scoring="accuracy"):
    """Means over SEEDS of :func:`cross_validated`."""
    rows = [cross_validated(make_model(seed), *X_of_seed(seed), scoring) for seed in SEEDS]
    return [float(np.mean(column)) for column in zip(*rows)]


def class_weight_table():
    print("Table 1: balanced accuracy on make_classification(n_samples=5000, "
          "weights=[0.9, 0.1]), 5-fold, means over seeds 0-4")
    models = {
        "skann MLPClassifier()": lambda s: skann.MLPClassifier(random_state=s),
        'skann MLPClassifier(class_weight="balanced")':
            lambda s: skann.MLPClassifier(class_weight="balanced", random_state=s),
        'sklearn SGDClassifier(class_weight="balanced")':
            lambda s: SGDClassifier(class_weight="balanced", random_state=s),
        'sklearn LogisticRegression(class_weight="balanced")':
            lambda s: LogisticRegression(class_weight="balanced"),
    }

    def data(seed):
        return make_classification(n_samples=5000, weights=[0.9, 0.1], random_state=seed)

    print(f"{'model':<52} {'balanced accuracy':>18} {'seconds':>8}")
    for name, make_model in models.items():
        score, _, seconds = over_seeds(make_model, data, "balanced_accuracy")
        print(f"{name:<52} {score:>18.4f} {seconds:>8.1f}")


def early_stopping_table():
    print("\nTable 2: early stopping, 5-fold CV accuracy and epochs run "
          "(mean over folds and seeds 0-4)")
    models = {
        'skann early_stopping=True (monitor="val_loss")':
            lambda s: skann.MLPClassifier(early_stopping=True, random_state=s),
        'skann early_stopping=True, tol=1e-3':
            lambda s: skann.MLPClassifier(early_stopping=True, tol=1e-3, random_state=s),
        'skann early_stopping=True, monitor="val_score"':
            lambda s: skann.MLPClassifier(early_stopping=True, monitor="val_score", random_state=s),
        "sklearn MLPClassifier(early_stopping=True)":
            lambda s: SklearnMLPClassifier(early_stopping=True, random_state=s),
        "skann early_stopping=False":
            lambda s: skann.MLPClassifier(random_state=s),
    }
    print(f"{'dataset':<14} {'model':<48} {'accuracy':>9} {'epochs':>7} {'seconds':>8}")
    for dataset, loader in DATASETS.items():
        X, y = loader(return_X_y=True)
        for name, make_model in models.items():
            score, epochs, seconds = over_seeds(make_model, lambda seed: (X, y))
            print(f"{dataset:<14} {name:<48} {score:>9.4f} {epochs:>7.1f} {seconds:>8.1f}")


SOLVERS = {
    "adam": {"solver": "adam"},
    "adamw": {"solver": "adamw"},
    "rmsprop": {"solver": "rmsprop"},
    "adam + cosine": {"solver": "adam", "learning_rate": "cosine"},
    "adamw + cosine": {"solver": "adamw", "learning_rate": "cosine"},
    "sgd + cosine": {"solver": "sgd", "learning_rate": "cosine", "learning_rate_init": 0.01},
}


def tabular_row(params, seed, config):
    X, y = make_data(config, "classification", config.n_samples_quick, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    model = make_pipeline(StandardScaler(), skann.MLPClassifier(
        hidden_layer_sizes=config.hidden_layer_sizes, batch_size=config.batch_size,
        max_iter=20, n_iter_no_change=NEVER_STOP, random_state=seed, **params,
    ))
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds


def solvers_table():
    print("\nTable 3: solvers and schedules, accuracy and fit seconds (means over seeds 0-4)")
    config = next(config for config in CONFIGS if config.name == "tabular")
    X, y = load_digits(return_X_y=True)
    print(f"{'solver':<16} {'digits acc':>10} {'epochs':>7} {'s / 5 folds':>11} "
          f"{'tabular acc':>11} {'s / fit':>8}")
    for name, params in SOLVERS.items():
        score, epochs, seconds = over_seeds(
            lambda s: skann.MLPClassifier(random_state=s, **params), lambda seed: (X, y)
        )
        tabular = np.mean([tabular_row(params, seed, config) for seed in SEEDS], axis=0)
        print(f"{name:<16} {score:>10.4f} {epochs:>7.1f} {seconds / len(SEEDS):>11.2f} "
              f"{tabular[0]:>11.4f} {tabular[1]:>8.2f}")


TABLES = {
    "class_weight": class_weight_table,
    "early_stopping": early_stopping_table,
    "solvers": solvers_table,
}


def main(names):
    print(f"skann {skann.__version__}, 1 BLAS thread; command: "
          f"python benchmarks/training_controls.py {' '.join(names)}\n")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in names:
            TABLES[name]()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1:] or list(TABLES))
