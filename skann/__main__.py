"""``python -m skann``: train skann and sklearn's MLP side by side on digits.

Both classifiers, with default parameters and ``random_state=0`` in a
StandardScaler pipeline, are cross-validated on ``load_digits`` with
``StratifiedKFold(5, shuffle=True, random_state=0)`` on one BLAS thread:
the protocol of ``python benchmarks/scores.py``, so the accuracy printed
here is the one the documentation quotes (0.978 for skann).
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skann import MLPClassifier, __version__


def compare(models, X, y, cv):
    """Cross-validate each model; return rows of (name, mean accuracy, seconds)."""
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores = cross_val_score(model, X, y, cv=cv)
        rows.append((name, scores.mean(), time.perf_counter() - start))
    return rows


def main():
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    models = {
        f"skann {__version__} MLPClassifier": make_pipeline(
            StandardScaler(), MLPClassifier(random_state=0)
        ),
        "sklearn MLPClassifier": make_pipeline(
            StandardScaler(), SklearnMLPClassifier(random_state=0)
        ),
    }
    print(f"load_digits: {len(y)} images, default parameters, "
          "StratifiedKFold(5, shuffle=True, random_state=0), 1 BLAS thread\n")
    print(f"{'model':<32} {'accuracy':>9} {'5 fits':>9}")
    for name, accuracy, seconds in compare(models, X, y, cv):
        print(f"{name:<32} {accuracy:>9.4f} {seconds:>8.1f}s")


if __name__ == "__main__":
    main()
