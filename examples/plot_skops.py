"""
Saving and loading a model with skops
=====================================

``pickle`` and ``joblib`` run arbitrary code when they load a file.
`skops <https://skops.readthedocs.io>`_ loads only the types it is told to
trust: ``skann.SKOPS_TRUSTED_TYPES`` lists skann's own, so a skann model
loads without trusting anything else. Needs ``pip install "skann[persist]"``.
"""

# %%
# Fit and save
# ------------
import tempfile
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skann
from skann import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0)).fit(X_train, y_train)

path = Path(tempfile.mkdtemp()) / "model.skops"
sio.dump(model, path)
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")

# %%
# What the file asks to trust
# ---------------------------
# ``get_untrusted_types`` lists the types in the file that skops does not
# trust by default; each of them should be in ``SKOPS_TRUSTED_TYPES``.
untrusted = sio.get_untrusted_types(file=path)
print("untrusted types in the file:", untrusted)
print("all of them in SKOPS_TRUSTED_TYPES:", set(untrusted) <= set(skann.SKOPS_TRUSTED_TYPES))

# %%
# Load and compare
# ----------------
loaded = sio.load(path, trusted=skann.SKOPS_TRUSTED_TYPES)
same = np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
print("identical predict_proba after the round trip:", same)
print(f"test accuracy of the loaded model: {loaded.score(X_test, y_test):.4f}")
