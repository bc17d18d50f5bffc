"""
Class weights on imbalanced data
================================

On a binary problem where one class holds 10% of the rows, a classifier
that minimises the plain log-loss tends to favour the frequent class.
``class_weight="balanced"`` weighs each row by
``n_samples / (n_classes * count of its class)``, so both classes count
alike in the loss. We compare the two on a held-out set.
"""

# %%
# Imbalanced data
# ---------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import ConfusionMatrixDisplay, balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier

X, y = make_classification(
    n_samples=3000, n_features=20, weights=[0.9, 0.1], flip_y=0.02, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print("class counts in the training set:", np.bincount(y_train))

# %%
# Without and with ``class_weight="balanced"``
# --------------------------------------------
# To keep the example fast, training stops after 100 epochs even when the
# held-out loss of ``early_stopping`` still improves; we silence the
# ``ConvergenceWarning`` that says so.
import warnings

from sklearn.exceptions import ConvergenceWarning

warnings.simplefilter("ignore", ConvergenceWarning)
models = {}
for class_weight in [None, "balanced"]:
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(32,), class_weight=class_weight, max_iter=100,
            early_stopping=True, random_state=0,
        ),
    ).fit(X_train, y_train)
    models[str(class_weight)] = model
    pred = model.predict(X_test)
    print(
        f"class_weight={class_weight!s:>8}: "
        f"balanced accuracy {balanced_accuracy_score(y_test, pred):.3f}, "
        f"recall of the rare class {recall_score(y_test, pred):.3f}, "
        f"accuracy {(pred == y_test).mean():.3f}"
    )

# %%
# Confusion matrices on the test set
# ----------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, model) in zip(axes, models.items()):
    ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, ax=ax, colorbar=False)
    ax.set_title(f"class_weight={name}")
fig.tight_layout()
plt.show()
