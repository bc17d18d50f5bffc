"""
What the first layer of a ConvNet learns on handwritten digits
==============================================================

We train the ConvNet of the user guide (two convolution and pooling stages,
then a dense layer with dropout) on scikit-learn's 8x8 ``load_digits``
images with :class:`skann.MLPClassifier` and look inside it: the 32 3x3
filters of its first ``Conv2D`` layer, and the feature maps they give for
one digit.

Needs matplotlib (``pip install "skann[plot]"``). Run
``python examples/plot_convnet_filters.py`` (about 10 s); it shows the two
figures and writes no file.
"""

# %%
# Train the ConvNet
# -----------------
# Rows of ``X`` are 8x8 images flattened to 64 pixels; ``input_shape=(8, 8)``
# tells the network to see them as images (one channel). Pixel values run
# from 0 to 16, so we divide by 16. To keep the example fast, training stops
# after 60 epochs (the user guide's measurement lets it run until the training
# loss stops improving, about 110 epochs); we silence the
# ``ConvergenceWarning`` that says so.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skann import MLPClassifier
from skann.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = MLPClassifier(
    layers=[
        Conv2D(32, 3, padding="same"),
        MaxPool2D(2),
        Conv2D(64, 3, padding="same"),
        MaxPool2D(2),
        Flatten(),
        Dense(128),
        Dropout(0.3),
    ],
    input_shape=(8, 8),
    max_iter=60,
    random_state=0,
)
clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f} after {clf.n_iter_} epochs")

# %%
# The first layer's filters
# -------------------------
# ``layer_weights_[0]["W"]`` holds the first Conv2D's kernels, of shape
# ``(3, 3, 1, 32)``: one 3x3 filter per output channel. Red weights add the
# pixel under them, blue weights subtract it.
kernels = clf.layer_weights_[0]["W"][:, :, 0, :]
limit = np.abs(kernels).max()
fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
for channel, ax in enumerate(axes.ravel()):
    ax.imshow(kernels[:, :, channel], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(str(channel), fontsize=8)
    ax.axis("off")
fig.suptitle("First Conv2D layer: 32 filters of 3x3 pixels")
plt.show()

# %%
# Feature maps for one digit
# --------------------------
# The network's first layer alone (``network_.output(..., stop=1)``) gives
# the 32 feature maps of an image: where each filter responds after the
# ReLU. We show them for the first test digit, beside the digit itself.
digit = X_test[:1]
maps = clf.network_.output(digit.astype(clf.network_.dtype), stop=1)[0]
fig, axes = plt.subplots(4, 9, figsize=(9, 4.4))
for ax in axes.ravel():
    ax.axis("off")
for row in range(4):
    axes[row, 0].imshow(digit.reshape(8, 8), cmap="gray_r")
    for column in range(8):
        channel = 8 * row + column
        axes[row, column + 1].imshow(maps[:, :, channel], cmap="magma")
        axes[row, column + 1].set_title(str(channel), fontsize=8)
axes[0, 0].set_title(f"digit {y_test[0]}", fontsize=8)
fig.suptitle("Feature maps of the first layer for one test digit (left)")
plt.show()

# %%
# What the pictures show
# ----------------------
# (Trained with ``random_state=0`` on one machine; another seed or BLAS
# gives other filters of the same kinds.)
#
# - Many filters put positive weights on one side and negative weights on
#   the opposite side: a red row above a blue one (e.g. filter 6, 16), a
#   red column beside a blue one (13, 31). Such a filter responds where
#   the image changes from dark to bright in one direction: an oriented
#   edge detector. Others look like small blobs or have no clear pattern.
# - The feature maps show this on the digit 2: different filters light up
#   on different parts of its strokes, some mainly along the bottom
#   horizontal stroke, some along the curved right-hand stroke, and a few
#   on the blank background beside a stroke. One map (5) is dark
#   everywhere: that filter does not respond anywhere on this digit.
