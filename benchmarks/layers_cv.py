"""Layers in cross-validation: the issue's ConvNet, and Dropout / BatchNorm in MLPs.

(a) ``--part conv``: the ConvNet of issue 8 (Conv2D(32, 3, same) -
MaxPool(2) - Conv2D(64, 3, same) - MaxPool(2) - Flatten - Dense(128) -
Dropout(0.3)) on ``load_digits``, X / 16, ``input_shape=(8, 8)``, every
training parameter at the estimator's default, with
``StratifiedKFold(5, shuffle=True, random_state=0)`` and with unshuffled
``cv=5``; also with ``augment="shift"``. Per fit: wall and CPU seconds
and epochs run (the machine may be shared: CPU seconds are the steadier
figure of the two).

(b) ``--part mlp``: digits and breast_cancer in a ``StandardScaler``
pipeline, shuffled stratified 5-fold: the default MLP beside the same
hidden layer with ``dropout=0.2``, with BatchNorm, and with both.

Every row is the mean over the estimator's ``random_state`` 0-4 (``--seeds``)
of the mean CV accuracy, with the spread over seeds. BLAS on one thread.

Run ``python benchmarks/layers_cv.py`` (``--part conv`` takes about 15 min
on an idle machine, ``--part mlp`` about 5).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _peers import optional_skann

skann = optional_skann()
from skann.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D  # noqa: E402


def convnet(seed, **params):
    layers = [Conv2D(32, 3, padding="same"), MaxPool2D(2), Conv2D(64, 3, padding="same"),
              MaxPool2D(2), Flatten(), Dense(128), Dropout(0.3)]
    return skann.MLPClassifier(layers=layers, input_shape=(8, 8), random_state=seed, **params)


def cv_accuracy(make, X, y, cv, seeds):
    """Per seed, the mean CV accuracy; per fit, wall s, CPU s and epochs."""
    accuracies, walls, cpus, epochs = [], [], [], []
    for seed in seeds:
        scores = []
        for train, test in cv.split(X, y):
            model = make(seed)
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(X[train], y[train])
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            epochs.append(model.n_iter_)
            scores.append(model.score(X[test], y[test]))
        accuracies.append(np.mean(scores))
    return np.array(accuracies), walls, cpus, epochs


def conv_rows(seeds):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    shuffled = StratifiedKFold(5, shuffle=True, random_state=0)
    unshuffled = StratifiedKFold(5)  # what cv=5 means for a classifier
    cases = [
        ("ConvNet", "shuffled", convnet, shuffled),
        ("ConvNet", "cv=5", convnet, unshuffled),
        ("ConvNet augment=shift", "shuffled", lambda s: convnet(s, augment="shift"), shuffled),
        ("ConvNet augment=shift", "cv=5", lambda s: convnet(s, augment="shift"), unshuffled),
    ]
    print(f"{'model':<24}{'folds':<10}{'accuracy':>17}{'wall s/fit':>16}{'CPU s/fit':>16}{'epochs':>12}")
    for name, folds, make, cv in cases:
        acc, walls, cpus, epochs = cv_accuracy(make, X, y, cv, seeds)
        print(f"{name:<24}{folds:<10}{acc.mean():>10.4f} ± {acc.std():.4f}"
              f"{np.mean(walls):>9.1f} (max {np.max(walls):4.1f})"
              f"{np.mean(cpus):>7.1f} (max {np.max(cpus):4.1f})"
              f"{np.mean(epochs):>6.0f} ({np.min(epochs)}-{np.max(epochs)})", flush=True)


def mlp_rows(seeds):
    shuffled = StratifiedKFold(5, shuffle=True, random_state=0)
    models = {
        "MLP (100,)": lambda s: skann.MLPClassifier(random_state=s),
        "dropout=0.2": lambda s: skann.MLPClassifier(dropout=0.2, random_state=s),
        "Dense-BatchNorm": lambda s: skann.MLPClassifier(layers=[Dense(100), BatchNorm()], random_state=s),
        "Dense-BatchNorm-Dropout": lambda s: skann.MLPClassifier(
            layers=[Dense(100), BatchNorm(), Dropout(0.2)], random_state=s),
    }
    print(f"{'dataset':<15}{'model':<25}{'accuracy':>17}{'s/fit':>8}")
    for dataset, loader in (("digits", load_digits), ("breast_cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        for name, make in models.items():
            per_seed, seconds = [], []
            for seed in seeds:
                result = cross_validate(make_pipeline(StandardScaler(), make(seed)), X, y, cv=shuffled)
                per_seed.append(result["test_score"].mean())
                seconds += list(result["fit_time"])
            per_seed = np.array(per_seed)
            print(f"{dataset:<15}{name:<25}{per_seed.mean():>10.4f} ± {per_seed.std():.4f}"
                  f"{np.mean(seconds):>8.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("conv", "mlp", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=5, help="random_state 0 .. seeds-1")
    options = parser.parse_args()
    seeds = range(options.seeds)
    print(f"skann {skann.__version__}; means over random_state {list(seeds)}; 1 BLAS thread\n")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if options.part in ("conv", "all"):
            conv_rows(seeds)
            print()
        if options.part in ("mlp", "all"):
            mlp_rows(seeds)


if __name__ == "__main__":
    main()
