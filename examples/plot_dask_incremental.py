"""
Training block by block with dask-ml's ``Incremental``
======================================================

:class:`dask_ml.wrappers.Incremental` calls ``partial_fit`` on each block of
a dask array in turn, so only one block has to be in memory at a time.
skann's ``partial_fit`` is one epoch over the rows it is given. Here a
dask array of 20,000 rows in 8 blocks is small enough for memory; the
recipe is the same for data on disk. Needs ``pip install "skann[dask]"``.
"""

# %%
# A dask array in blocks
# ----------------------
# ``make_classification`` returns its rows in random order, so every block
# holds a mix of the classes. ``Incremental`` visits the blocks in a random
# order on each pass (``shuffle_blocks=True``, its default; ``random_state``
# makes that order reproducible), and skann shuffles the rows within each
# block.
import dask
import dask.array as da
import matplotlib.pyplot as plt
from dask_ml.wrappers import Incremental
from sklearn.datasets import make_classification

from skann import MLPClassifier

X_np, y_np = make_classification(
    n_samples=25_000, n_features=20, n_informative=10, n_classes=3, random_state=0
)
X = da.from_array(X_np[:20_000], chunks=(2_500, 20))
y = da.from_array(y_np[:20_000], chunks=2_500)
X_test, y_test = X_np[20_000:], y_np[20_000:]
print(f"{X.numblocks[0]} blocks of {X.chunks[0][0]} rows")

# %%
# Passes over the blocks
# ----------------------
# Dask's threaded scheduler runs the blocks here; with a
# ``dask.distributed.Client`` the same code runs on a cluster. Classifiers
# need every label up front (``classes=``). Each ``partial_fit`` of the
# wrapper is one pass over the 8 blocks.
dask.config.set(scheduler="threads")
model = Incremental(
    MLPClassifier(hidden_layer_sizes=(64,), batch_size=64, random_state=0),
    scoring="accuracy",
    random_state=0,
)
scores = []
for _ in range(5):
    model.partial_fit(X, y, classes=[0, 1, 2])
    scores.append(model.score(X_test, y_test))
    print(f"pass {len(scores)}: test accuracy {scores[-1]:.4f}")

# %%
# ``model.estimator_`` is the fitted skann estimator; its ``history_`` has
# one record per block it was given.
history = model.estimator_.history_
print(f"{len(history)} records in history_")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot([r["loss"] for r in history], marker=".")
left.set_xlabel("block (partial_fit call)")
left.set_ylabel("training loss")
right.plot(range(1, len(scores) + 1), scores, marker="o")
right.set_xlabel("pass over the blocks")
right.set_ylabel("test accuracy")
fig.tight_layout()
plt.show()
