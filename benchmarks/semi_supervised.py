"""Semi-supervised learning side by side.

For each data set and label budget L, over 10 seeds (0-9): standardise the
features (``digits-x16``: divide the pixels by 16 instead); split off a
stratified 30% test set; of the remaining rows keep L
labels (stratified) and mark the others unlabelled (-1, or NaN for
regression); fit every model; report mean ± std test accuracy (R² for
regression) and fit time. Models, side by side in the same run:

- ``LabelSpreading(kernel="knn")``, ``SelfTrainingClassifier(SVC(probability=True))``
  and ``SelfTrainingClassifier(HistGradientBoostingClassifier())`` on all
  training rows (scikit-learn's semi-supervised estimators);
- scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` on the labelled rows only;
- skann's supervised-only network on the labelled rows only, and
  ``semi_supervised="labelled_only"`` on all rows (the same network; the
  baseline that ``GridSearchCV`` sees);
- skann with ``semi_supervised="auto"`` first, then each method by name,
  default hyperparameters.

Every case also times skann's network fitted on all training rows fully
labelled (same seed): the "x full" column is a model's mean fit time over
that one's. One BLAS thread (threadpoolctl); fit times are process (CPU)
seconds.

Run ``python benchmarks/semi_supervised.py`` (10 seeds; ``--quick`` for 2
seeds; ``--first-seed 10`` for seeds 10-19, which the defaults were not
tuned on). ``--methods pseudo_label`` runs one skann method; ``--only
digits`` one data set; ``--convnet`` adds the ConvNet with
``input_shape=(8, 8)`` on digits scaled to [0, 1] (slow). ``--no-guard``
fits skann's methods with ``supervised_fallback=False`` (what the guard
costs), ``--no-peers`` leaves out scikit-learn's models. ``--scaling``
times instead a graph-aware fit on 100,000 rows of 50 features (1,000 of
them labelled) against the same network fitted on every row labelled.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine, make_moons
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from _peers import optional_skann

skann = optional_skann()

SEEDS = tuple(range(10))
METHODS = ("auto", "graph", "pseudo_label", "entropy", "pi_model")
# --no-peers: skann's models only; --no-guard: supervised_fallback=False.
PEERS = True
GUARD = True
FIT_SECONDS_LIMIT = 15.0

# (data set, L, target accuracy of the best skann method or None)
CLASSIFICATION = (
    ("digits", 50, 0.94),
    ("digits", 100, 0.96),
    ("digits", 200, 0.97),
    ("digits-x16", 50, 0.94),
    ("digits-x16", 100, 0.96),
    ("digits-x16", 200, 0.97),
    ("breast_cancer", 20, 0.95),
    ("wine", 20, None),
    ("moons", 10, None),
)
CONVNET = (("digits-convnet", 50, 0.95), ("digits-convnet", 100, 0.97), ("digits-convnet", 200, 0.975))
REGRESSION = (("diabetes", 50, None),)
LOADERS = {
    "digits": load_digits,
    "digits-x16": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "diabetes": load_diabetes,
    "moons": lambda return_X_y: make_moons(n_samples=600, noise=0.2, random_state=0),
    "digits-convnet": load_digits,
}


def convnet(**params):
    """The ConvNet of the gallery, on 8x8 digits."""
    from skann.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D

    layers = [Conv2D(32, 3, padding="same"), MaxPool2D(2), Conv2D(64, 3, padding="same"),
              MaxPool2D(2), Flatten(), Dense(128), Dropout(0.3)]
    return skann.MLPClassifier(layers=layers, input_shape=(8, 8), **params)


def classification_models(seed, name="digits"):
    """Name -> (make estimator, fit on labelled rows only)."""
    if name == "digits-convnet":
        models = {
            "skann labelled_only": (
                lambda: convnet(semi_supervised="labelled_only", random_state=seed), False
            )
        }
        for method in METHODS:
            models[f"skann {method}"] = (
                lambda method=method: convnet(semi_supervised=method, random_state=seed), False
            )
        return models
    models = {
        "LabelSpreading(knn)": (lambda: LabelSpreading(kernel="knn"), False),
        "SelfTraining(SVC)": (
            lambda: SelfTrainingClassifier(SVC(probability=True, random_state=seed)),
            False,
        ),
        "SelfTraining(HGB)": (
            lambda: SelfTrainingClassifier(HistGradientBoostingClassifier(random_state=seed)),
            False,
        ),
        "sklearn MLP (labelled)": (lambda: SkMLPClassifier(random_state=seed), True),
        "skann supervised": (lambda: skann.MLPClassifier(random_state=seed), True),
        "skann labelled_only": (
            lambda: skann.MLPClassifier(semi_supervised="labelled_only", random_state=seed), False
        ),
    }
    if not PEERS:
        models = {"skann labelled_only": models["skann labelled_only"]}
    for method in METHODS:
        models[f"skann {method}"] = (
            lambda method=method: skann.MLPClassifier(
                semi_supervised=method, supervised_fallback=GUARD, random_state=seed
            ),
            False,
        )
    return models


def regression_models(seed):
    """Name -> (make estimator, fit on labelled rows only)."""
    return {
        "sklearn MLP (labelled)": (lambda: SkMLPRegressor(random_state=seed), True),
        "skann supervised": (lambda: skann.MLPRegressor(random_state=seed), True),
        "skann labelled_only": (
            lambda: skann.MLPRegressor(semi_supervised="labelled_only", random_state=seed), False
        ),
    } | {
        f"skann {method}": (
            lambda method=method: skann.MLPRegressor(semi_supervised=method, random_state=seed), False
        )
        for method in ("auto", "graph", "pi_model")
        if method in METHODS
    }


def split(X, y, n_labels, seed, classification, images=False):
    """Scaled train/test rows and the partly labelled training target.

    ``images``: pixels divided by 16 (digits' range), else standardised.
    """
    stratify = y if classification else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=stratify, random_state=seed
    )
    if images:  # pixels in [0, 1], 0 the background (what image views pad with)
        X_train, X_test = X_train / 16.0, X_test / 16.0
    else:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    labelled, _ = train_test_split(
        np.arange(len(y_train)),
        train_size=n_labels,
        stratify=y_train if classification else None,
        random_state=seed,
    )
    y_partial = np.full(len(y_train), -1 if classification else np.nan)
    if classification:
        y_partial = y_partial.astype(y_train.dtype)
    y_partial[labelled] = y_train[labelled]
    return X_train, X_test, y_partial, y_test, labelled, y_train


def run_case(name, n_labels, classification, seeds):
    """Scores and fit times of every model: name -> (scores, seconds)."""
    X, y = LOADERS[name](return_X_y=True)
    results = {}
    images = name in ("digits-convnet", "digits-x16")
    for seed in seeds:
        X_train, X_test, y_partial, y_test, labelled, y_train = split(
            X, y, n_labels, seed, classification, images
        )
        models = classification_models(seed, name) if classification else regression_models(seed)
        full = (convnet if name == "digits-convnet" else skann.MLPClassifier if classification else skann.MLPRegressor)(
            random_state=seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.process_time()
            full.fit(X_train, y_train)
            results.setdefault("(fully labelled fit)", ([], []))[1].append(time.process_time() - start)
            results["(fully labelled fit)"][0].append(full.score(X_test, y_test))
        for model_name, (make, labelled_only) in models.items():
            model = make()
            X_fit, y_fit = X_train, y_partial
            if labelled_only:
                X_fit, y_fit = X_train[labelled], y_partial[labelled]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.process_time()
                model.fit(X_fit, y_fit)
                seconds = time.process_time() - start
            scores, times = results.setdefault(model_name, ([], []))
            scores.append(model.score(X_test, y_test))
            times.append(seconds)
    return results


def report(name, n_labels, target, results, classification):
    """Print one case's rows; return its verdict lines."""
    metric = "accuracy" if classification else "R²"
    print(f"\n{name}, L={n_labels} (test {metric}, mean ± std over seeds {SEEDS[0]}-{SEEDS[-1]})")
    print(f"  {'model':<24} {metric:>15} {'fit CPU s':>16} {'x full':>7}")
    full_time = np.mean(results["(fully labelled fit)"][1])
    for model_name, (scores, times) in results.items():
        print(
            f"  {model_name:<24} {np.mean(scores):>7.3f} ± {np.std(scores):.3f}"
            f" {np.mean(times):>8.2f} ± {np.std(times):.2f} {np.mean(times) / full_time:>7.1f}"
        )
    supervised = np.asarray(results["skann labelled_only"][0])
    verdicts = []
    methods = [
        model for model in results
        if model.startswith("skann ") and model not in ("skann supervised", "skann labelled_only")
    ]
    best = max(methods, key=lambda model: np.mean(results[model][0]))
    if target is not None:
        mean = np.mean(results[best][0])
        verdicts.append(
            f"{name} L={n_labels} TARGET {target:.3f}: best skann method {best} "
            f"{mean:.3f} -> " + ("PASS" if mean >= target else "MISS")
        )
    for model_name, (scores, times) in results.items():
        if model_name not in methods:
            continue
        mean, std = np.mean(scores), np.std(scores)
        hurt = mean < supervised.mean() - max(std, supervised.std())
        slow = max(times) > FIT_SECONDS_LIMIT
        line = f"{name} L={n_labels} {model_name}: {mean:.3f}"
        line += " HURTS" if hurt else " never worse: ok"
        line += f", slowest fit {max(times):.1f} s" + (" (over 15 s)" if slow else "")
        verdicts.append(line)
    return verdicts


def scaling(n_rows=100_000, n_features=50, n_labels=1_000, seed=0):
    """Fit CPU seconds of ``semi_supervised="auto"`` on a large table, and of the
    same network fully labelled, with the graph's share."""
    from sklearn.datasets import make_classification

    from skann.semi_supervised._graph import SPREADING_NEIGHBOURS, neighbour_graph, spreading_targets

    X, y = make_classification(
        n_rows + n_rows // 4, n_features, n_informative=20, n_classes=5, n_clusters_per_class=2,
        random_state=seed,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=n_rows, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    labelled = np.random.RandomState(seed).choice(len(y_train), n_labels, replace=False)
    y_partial = np.full(len(y_train), -1)
    y_partial[labelled] = y_train[labelled]
    print(f"\n{len(y_train):,} training rows x {n_features} features, {n_labels:,} labelled, 5 classes (seed {seed})")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = {}
        for name, make, target in (
            ("fully labelled fit", lambda: skann.MLPClassifier(random_state=seed), y_train),
            ("labelled_only", lambda: skann.MLPClassifier(semi_supervised="labelled_only", random_state=seed), y_partial),
            ("auto (graph)", lambda: skann.MLPClassifier(semi_supervised="auto", random_state=seed), y_partial),
        ):
            start = time.process_time()
            model = make().fit(X_train, target)
            rows[name] = (time.process_time() - start, model.score(X_test, y_test), model.n_iter_)
        start = time.process_time()
        labels = np.full(len(y_train), -1)
        labels[labelled] = y_train[labelled]
        *_, connectivity = neighbour_graph(X_train, connectivity_neighbors=SPREADING_NEIGHBOURS)
        graph_seconds = time.process_time() - start
        start = time.process_time()
        spreading_targets(X_train, labels, 5, connectivity=connectivity)
        spreading_seconds = time.process_time() - start
    full = rows["fully labelled fit"][0]
    print(f"  {'model':<20} {'accuracy':>9} {'epochs':>7} {'fit CPU s':>10} {'x full':>7}")
    for name, (seconds, score, epochs) in rows.items():
        print(f"  {name:<20} {score:>9.3f} {epochs:>7} {seconds:>10.1f} {seconds / full:>7.2f}")
    print(f"  of the graph fit: neighbour search {graph_seconds:.1f} s, label spreading {spreading_seconds:.1f} s")


def main(argv=None):
    global SEEDS, METHODS, PEERS, GUARD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds")
    parser.add_argument("--seeds", type=int, default=10, help="N seeds from --first-seed (10)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (0)")
    parser.add_argument("--only", default=None, help="run data sets, e.g. digits,wine")
    parser.add_argument("--labels", default=None, help="label budgets, e.g. 50,100")
    parser.add_argument("--methods", default=",".join(METHODS), help="skann methods")
    parser.add_argument("--convnet", action="store_true", help="add the ConvNet cases")
    parser.add_argument("--scaling", action="store_true", help="time a fit on 100,000 x 50 rows instead")
    parser.add_argument("--no-peers", action="store_true", help="skann's models only (classification)")
    parser.add_argument("--no-guard", action="store_true", help="skann's methods with supervised_fallback=False")
    args = parser.parse_args(argv)
    PEERS, GUARD = not args.no_peers, not args.no_guard
    if args.scaling:
        scaling()
        return
    SEEDS = tuple(range(args.first_seed, args.first_seed + (2 if args.quick else args.seeds)))
    METHODS = tuple(args.methods.split(","))
    start = time.perf_counter()
    verdicts = []
    cases = [(case, True) for case in CLASSIFICATION] + [(case, False) for case in REGRESSION]
    if args.convnet:
        cases += [(case, True) for case in CONVNET]
    for (name, n_labels, target), classification in cases:
        if args.only and name not in args.only.split(","):
            continue
        if args.labels and str(n_labels) not in args.labels.split(","):
            continue
        with threadpool_limits(1):
            results = run_case(name, n_labels, classification, SEEDS)
        verdicts += report(name, n_labels, target, results, classification)
    print("\nChecks ('never worse' = within one std of skann labelled_only)")
    for line in verdicts:
        print("  " + line)
    print(f"\nTotal benchmark time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
