"""
Learning from 50 labels
=======================

Of the 1,257 training images of digits we keep the labels of 50 (five per
class) and mark the others unlabelled with ``-1``, the scikit-learn
convention. An :class:`skann.MLPClassifier` trained on the 50 labelled rows
alone is compared with the same network trained with
``semi_supervised="auto"`` on all 1,257 rows: for classes, the graph
method, which learns along the rows' nearest-neighbour graph.
"""

# %%
# 50 labels, 1,207 unlabelled rows
# --------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
labelled, _ = train_test_split(
    np.arange(len(y_train)), train_size=50, stratify=y_train, random_state=0
)
y_partial = np.full_like(y_train, -1)
y_partial[labelled] = y_train[labelled]
print(f"{(y_partial != -1).sum()} labelled rows, {(y_partial == -1).sum()} unlabelled")

# %%
# Labelled rows only, then all rows
# ---------------------------------
# With ``semi_supervised`` set, ``fit`` trains on every row and
# ``transduction_`` holds a label for each of them. Both models use default
# parameters. The labelled rows alone run all 200 epochs (we silence the
# ``ConvergenceWarning`` that says so); the graph method runs about 1,000
# steps (100 epochs of 10 steps here).
import warnings

from sklearn.exceptions import ConvergenceWarning

warnings.simplefilter("ignore", ConvergenceWarning)
supervised = MLPClassifier(random_state=0)
supervised.fit(X_train[labelled], y_train[labelled])
semi = MLPClassifier(semi_supervised="auto", random_state=0)
semi.fit(X_train, y_partial)

print(f"labelled rows only : test accuracy {supervised.score(X_test, y_test):.3f}")
print(f"auto (graph)       : test accuracy {semi.score(X_test, y_test):.3f}")
unlabelled = y_partial == -1
print(
    "transduction_ on the unlabelled training rows: accuracy "
    f"{(semi.transduction_[unlabelled] == y_train[unlabelled]).mean():.3f}"
)

# %%
# Where the errors are
# --------------------
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, model, title in [
    (left, supervised, "50 labelled rows"),
    (right, semi, "50 labelled + 1,207 unlabelled"),
]:
    ConfusionMatrixDisplay.from_estimator(
        model, X_test, y_test, ax=ax, colorbar=False
    )
    ax.set_title(title)
fig.tight_layout()
plt.show()
