"""
Quickstart: skann next to scikit-learn's MLP
=============================================

:class:`skann.MLPClassifier` takes the parameters of
:class:`sklearn.neural_network.MLPClassifier`, so switching is a change of
import. Here both train with default parameters in the same pipeline on
scikit-learn's ``load_digits`` (1,797 8x8 images of handwritten digits), and
we compare their cross-validated accuracy and fit time, each on one BLAS
thread (``threadpoolctl``), so that neither is slowed down by BLAS threads
competing for a busy machine's cores.

The protocol is that of ``python benchmarks/scores.py`` and
``python -m skann``: ``StratifiedKFold(5, shuffle=True, random_state=0)``,
default parameters, ``random_state=0``. Its accuracies (0.978 for skann,
0.977 for scikit-learn) are the figures quoted across this documentation.
"""

# %%
# The same pipeline, two imports
# ------------------------------
# Only the last step of the pipeline differs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skann import MLPClassifier

X, y = load_digits(return_X_y=True)
folds = StratifiedKFold(5, shuffle=True, random_state=0)

results = {}
for name, estimator in [
    ("scikit-learn", SklearnMLP(random_state=0)),
    ("skann", MLPClassifier(random_state=0)),
]:
    model = make_pipeline(StandardScaler(), estimator)
    with threadpool_limits(1):
        cv = cross_validate(model, X, y, cv=folds)
    results[name] = cv
    print(
        f"{name:>12}: accuracy {cv['test_score'].mean():.4f} "
        f"± {cv['test_score'].std():.4f}, "
        f"fit {cv['fit_time'].sum():.1f} s for the 5 folds"
    )

# %%
# Accuracy and fit time per fold
# ------------------------------
# Each dot is one fold. Accuracy is the same on every machine (up to the
# last bits of BLAS); the times depend on the machine and on what else it
# runs: the printed totals above are this build's, on a machine shared with
# other jobs. ``python benchmarks/scores.py`` measured 2.5 s (skann) and
# 4.0 s (scikit-learn) for the five folds, fit and score, one BLAS thread.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
for i, (name, cv) in enumerate(results.items()):
    left.scatter(np.full(5, i), cv["test_score"], label=name)
    right.scatter(np.full(5, i), cv["fit_time"], label=name)
for ax, title in [(left, "test accuracy"), (right, "fit time (s)")]:
    ax.set_xticks([0, 1], list(results))
    ax.set_xlim(-0.5, 1.5)
    ax.set_title(title)
fig.tight_layout()
plt.show()

# %%
# What skann adds: the fitted model keeps a ``history_`` of its epochs, one
# dict each (see the loss-curve example). Here, fitted on all the digits:
# the number of epochs and the last record.
model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0)).fit(X, y)
clf = model[-1]
print(f"{clf.n_iter_} epochs; last record of history_: {clf.history_[-1]}")
