"""``python -m skann``: train skann and sklearn's MLP side by side on digits.

The demonstration fits both classifiers with default parameters in a
StandardScaler pipeline on a stratified 75/25 split of ``load_digits`` and
prints test accuracy and fit time for each.
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier, __version__


def compare(models, X_train, X_test, y_train, y_test):
    """Fit each model; return rows of (name, accuracy, fit seconds)."""
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
        rows.append((name, model.score(X_test, y_test), elapsed))
    return rows


def main():
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    models = {
        f"skann {__version__} MLPClassifier": make_pipeline(
            StandardScaler(), MLPClassifier(random_state=0)
        ),
        "sklearn MLPClassifier": make_pipeline(
            StandardScaler(), SklearnMLPClassifier(random_state=0)
        ),
    }
    print(f"load_digits: {len(split[0])} training rows, "
          f"{len(split[1])} test rows, default parameters\n")
    print(f"{'model':<32} {'accuracy':>9} {'fit time':>9}")
    for name, accuracy, seconds in compare(models, *split):
        print(f"{name:<32} {accuracy:>9.4f} {seconds:>8.2f}s")


if __name__ == "__main__":
    main()
