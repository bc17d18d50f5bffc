"""
A network that keeps improving on a stream of unlabelled digits
===============================================================

Labels are expensive, unlabelled samples keep arriving. We train
:class:`skann.MLPClassifier` on 50 labelled digits, then feed it batches of
unlabelled digits with ``partial_fit``, every target marked unlabelled
(``-1``). With ``semi_supervised="pseudo_label"`` each batch teaches the
network: the mean teacher's confident predictions on lightly perturbed
digits become targets for strongly perturbed ones. Test accuracy is measured
after every batch.

Needs matplotlib (``pip install "skann[plot]"``). Run
``python examples/plot_improving_stream.py`` (a few seconds); it shows the
figure and writes no file.
"""

# %%
# Few labels, then a supervised start
# -----------------------------------
# 50 labelled digits (5 per class), standardised; the other training digits
# will arrive later, unlabelled. ``batch_size=32`` gives each streamed batch
# of 256 digits 8 steps (with ``"auto"``, 96 unlabelled rows per step, it
# would be 3).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
labelled, stream = train_test_split(
    np.arange(len(y_train)), train_size=50, stratify=y_train, random_state=0
)

clf = MLPClassifier(semi_supervised="pseudo_label", batch_size=32, random_state=0)
clf.fit(X_train[labelled], y_train[labelled])
accuracy = [clf.score(X_test, y_test)]
print(f"after fit on 50 labels: {accuracy[0]:.3f}")

# %%
# A stream of unlabelled batches
# ------------------------------
# 60 batches of 256 digits drawn from the unlabelled pool, all marked ``-1``.
# ``partial_fit`` trains one epoch on each; the mean teacher, the ramp-up of
# the unsupervised weight and the optimizer continue from call to call.
rng = np.random.default_rng(0)
for batch in range(60):
    rows = rng.choice(stream, 256, replace=False)
    clf.partial_fit(X_train[rows], np.full(len(rows), -1))
    accuracy.append(clf.score(X_test, y_test))
    if (batch + 1) % 10 == 0:
        print(f"after {batch + 1:2d} unlabelled batches: {accuracy[-1]:.3f}")

# %%
# Accuracy after each batch
# -------------------------
# With ``random_state=0`` (the run printed above): 0.824 after the fit,
# 0.876 after 60 batches. Rerunning this script with the model's
# ``random_state`` and the stream's seed both set to 1, 2, 3 and 4 gave
# gains of +2.8 to +7.8 points after 60 batches (0.798 -> 0.859 at worst
# start, 0.826 -> 0.854 at smallest gain).
# The curve is noisy from batch to batch (a constant learning rate, and no
# label in the batches to anchor them) but its trend is up.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(len(accuracy)), accuracy, marker=".")
ax.axhline(accuracy[0], color="grey", linestyle="--", label="after fit on 50 labels")
ax.set_xlabel("unlabelled batches seen (256 digits each)")
ax.set_ylabel("test accuracy")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
