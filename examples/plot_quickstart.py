"""
Quickstart: skann next to scikit-learn's MLP
=============================================

:class:`skann.MLPClassifier` takes the parameters of
:class:`sklearn.neural_network.MLPClassifier`, so switching is a change of
import. Here both train with default parameters in the same pipeline on
scikit-learn's ``load_digits`` (1,797 8x8 images of handwritten digits), and
we compare their 3-fold cross-validated accuracy and fit time, each on one
BLAS thread (``threadpoolctl``), so that neither is slowed down by BLAS
threads competing for a busy machine's cores.
"""

# %%
# The same pipeline, two imports
# ------------------------------
# Only the last step of the pipeline differs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_validate
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skann import MLPClassifier

X, y = load_digits(return_X_y=True)

results = {}
for name, estimator in [
    ("scikit-learn", SklearnMLP(random_state=0)),
    ("skann", MLPClassifier(random_state=0)),
]:
    model = make_pipeline(StandardScaler(), estimator)
    with threadpool_limits(1):
        cv = cross_validate(model, X, y, cv=3)
    results[name] = cv
    print(
        f"{name:>12}: accuracy {cv['test_score'].mean():.4f} "
        f"± {cv['test_score'].std():.4f}, "
        f"fit {cv['fit_time'].mean():.2f} s per fold"
    )

# %%
# Accuracy and fit time per fold
# ------------------------------
# Each dot is one fold. The times depend on the machine and on what else it
# runs; the printed means above are the figures of this build.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
for i, (name, cv) in enumerate(results.items()):
    left.scatter(np.full(3, i), cv["test_score"], label=name)
    right.scatter(np.full(3, i), cv["fit_time"], label=name)
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
