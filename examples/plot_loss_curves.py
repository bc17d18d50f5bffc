"""
Loss curves with validation data
================================

Passing ``X_val`` / ``y_val`` to ``fit`` makes every epoch record the
validation loss and score in ``history_``. With ``early_stopping=True`` the
validation data decide when to stop, and the weights of the best epoch are
restored. :class:`skann.LossCurveDisplay` draws the curves and marks that
epoch.
"""

# %%
# Split the data
# --------------
# A training set, a validation set for ``fit``, and a test set we keep apart.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skann import LossCurveDisplay, MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_train, y_train, stratify=y_train, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(a) for a in (X_train, X_val, X_test))

# %%
# Watch the validation data, then stop on it
# ------------------------------------------
# The first model only records the validation metrics: it trains until the
# training loss stops improving (scikit-learn's rule). The second stops once
# the validation loss has not improved for ``n_iter_no_change`` epochs and
# goes back to the weights of its best epoch.
watching = MLPClassifier(random_state=0)
watching.fit(X_train, y_train, X_val=X_val, y_val=y_val)

stopping = MLPClassifier(
    early_stopping=True, n_iter_no_change=5, random_state=0
)
stopping.fit(X_train, y_train, X_val=X_val, y_val=y_val)

for name, model in [("recording only", watching), ("early stopping", stopping)]:
    restored = [r["epoch"] for r in model.history_ if r.get("restored")]
    print(
        f"{name:>15}: {model.n_iter_} epochs, restored epoch {restored or None}, "
        f"test accuracy {model.score(X_test, y_test):.4f}"
    )

# %%
# One record per epoch
# --------------------
# ``history_`` is a list of dicts (``pandas.DataFrame(model.history_)`` makes
# a table of it).
for record in stopping.history_[:3]:
    print(record)

# %%
# The curves
# ----------
# The training loss includes the L2 penalty; the validation loss does not.
# The black marker is the epoch whose weights the model kept.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
LossCurveDisplay.from_estimator(watching, ax=left, name="recording only")
LossCurveDisplay.from_estimator(stopping, ax=right, name="early stopping")
fig.tight_layout()
plt.show()
