"""
===========================================
Export a skann model to ONNX and serve it
===========================================

Train a pipeline with a skann classifier, convert it to ONNX with skl2onnx
(``import skann.onnx`` registers skann's converters), run it with
onnxruntime, and check that it gives what the Python model gives.

Needs the ``onnx`` extra: ``pip install "skann[onnx]"``.
"""

# %%
# Train
# -----
# A scaler and a classifier in one pipeline: both steps go into the one
# ONNX graph.
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skann import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipeline = make_pipeline(
    StandardScaler(), MLPClassifier((64,), activation="gelu", max_iter=50, random_state=0)
)
pipeline.fit(X_train, y_train)
print(f"test accuracy: {pipeline.score(X_test, y_test):.3f}")

# %%
# Convert
# -------
# The converter writes labels and probabilities, as skl2onnx does for
# scikit-learn's own classifiers. ``zipmap=False`` gives the probabilities
# as one float tensor instead of a list of dictionaries.
from skl2onnx import to_onnx

import skann.onnx  # noqa: F401  (registers the converters)

onx = to_onnx(pipeline, X_train[:1].astype(np.float32), options={"zipmap": False})
print("outputs:", [output.name for output in onx.graph.output])
print("operators:", sorted({node.op_type for node in onx.graph.node}))
model_bytes = onx.SerializeToString()  # what a server loads (or onx saved to a .onnx file)

# %%
# Serve with onnxruntime
# ----------------------
# onnxruntime needs nothing of Python's scientific stack beyond the input
# array: the same file runs from C, C++, C#, Java or JavaScript.
import onnxruntime as rt

options = rt.SessionOptions()
options.intra_op_num_threads = 1
session = rt.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
X_serve = X_test.astype(np.float32)
labels, probabilities = session.run(None, {"X": X_serve})
print("first labels:", labels[:10])

# %%
# Compare
# -------
# Labels identical, probabilities equal to float32 precision.
expected_labels = pipeline.predict(X_serve)
expected_probabilities = pipeline.predict_proba(X_serve)
print("labels identical:", bool(np.array_equal(labels, expected_labels)))
print(f"largest probability difference: {np.abs(probabilities - expected_probabilities).max():.1e}")

# %%
# Time both
# ---------
# One thread each (onnxruntime's ``intra_op_num_threads=1`` above,
# ``threadpoolctl`` for skann's BLAS), one untimed call to warm up, then the
# median of 20 calls on the same rows. The figures are this build's: on a
# shared machine they move from run to run, so read their ratio.
# ``python benchmarks/onnx_speed.py`` measures the same on larger networks
# (see :ref:`onnx`).
from threadpoolctl import threadpool_limits


def median_ms(call, repeats=20):
    call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


with threadpool_limits(1):
    onnx_ms = median_ms(lambda: session.run(None, {"X": X_serve}))
    skann_ms = median_ms(lambda: pipeline.predict(X_serve))
print(f"{len(X_serve)} rows, median of 20 calls: onnxruntime {onnx_ms:.2f} ms, "
      f"skann {skann_ms:.2f} ms")
