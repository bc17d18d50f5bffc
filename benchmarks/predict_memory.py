"""predict_memory: peak memory predict allocates beyond its input, skann vs sklearn.

Both libraries fit the same MLP (hidden_layer_sizes=(100,), 2 epochs) on
20,000 rows, then predict on ``--rows`` rows (default 2,000,000) of 20
float64 features, on one BLAS thread. :mod:`tracemalloc` starts after the
input exists, so the traced peak is what ``predict`` (and
``predict_proba``) needs on top of X: the result, plus working buffers.
skann predicts in chunks of rows (see skann/_architecture.py), so its
working buffers do not grow with the number of rows; sklearn's MLP runs
the whole X through each layer at once.

    python benchmarks/predict_memory.py [--rows 2000000]
"""

import argparse
import tracemalloc
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

MEBIBYTE = 2**20


def peak_bytes(call, X):
    """Peak traced bytes of ``call(X)`` and the bytes of its result."""
    tracemalloc.start()
    try:
        result = call(X)
        return tracemalloc.get_traced_memory()[1], result.nbytes
    finally:
        tracemalloc.stop()


def models(n_features, seed=0):
    from sklearn.neural_network import MLPClassifier as SkMLP

    from skann import MLPClassifier

    rng = np.random.RandomState(seed)
    X = rng.normal(size=(20_000, n_features))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in (("skann", MLPClassifier), ("sklearn", SkMLP)):
            fitted[name] = cls(hidden_layer_sizes=(100,), max_iter=2, random_state=0).fit(X, y)
    return fitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args()
    X = np.random.RandomState(1).normal(size=(args.rows, args.features))
    print(f"X: {args.rows:,} x {args.features} float64 = {X.nbytes / MEBIBYTE:,.0f} MiB; one thread")
    print(f"{'library':<9}{'method':<15}{'peak above X (MiB)':>20}{'result (MiB)':>14}"
          f"{'working (MiB)':>15}")
    with threadpool_limits(limits=1):
        for name, model in models(args.features).items():
            for method in ("predict", "predict_proba"):
                peak, result = peak_bytes(getattr(model, method), X)
                print(f"{name:<9}{method:<15}{peak / MEBIBYTE:>20,.1f}{result / MEBIBYTE:>14,.1f}"
                      f"{(peak - result) / MEBIBYTE:>15,.1f}")


if __name__ == "__main__":
    main()
