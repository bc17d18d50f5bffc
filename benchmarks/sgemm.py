"""sgemm: the machine's measured float32 matmul speed, per thread count.

The peak found here (the best median over the shapes) is the yardstick that
turns each training figure into a fraction of what BLAS can do on this
machine. Shapes: one large square product and the forward GEMM of every
hidden layer of the benchmark configs, (batch, fan_in) @ (fan_in, fan_out).
"""

import functools

import numpy as np

from _common import CONFIGS, Result, interleaved_medians, parse_args, stopwatch

SECONDS_PER_MEASURE = 0.2


def gemm_shapes():
    """Return ``{label: (m, k, n)}`` of the products to measure.

    Returns
    -------
    shapes : dict of str to tuple of int
    """
    shapes = {"square 1024": (1024, 1024, 1024)}
    for config in CONFIGS:
        sizes = [config.n_features, *config.hidden_layer_sizes]
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            label = f"{config.batch_size}x{fan_in}x{fan_out}"
            shapes[label] = (config.batch_size, fan_in, fan_out)
    return shapes


def gflops(shape, seconds=SECONDS_PER_MEASURE):
    """Return the GFLOP/s of repeated ``A @ B`` for one shape.

    Parameters
    ----------
    shape : tuple of int
        ``(m, k, n)``: ``A`` is m-by-k, ``B`` is k-by-n, float32.
    seconds : float, default=SECONDS_PER_MEASURE
        About how long to keep multiplying.

    Returns
    -------
    gflops : float
    """
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    one = stopwatch(lambda: np.matmul(a, b, out=out))
    calls = max(3, int(seconds / max(one, 1e-7)))

    def many():
        for _ in range(calls):
            np.matmul(a, b, out=out)

    return 2 * m * k * n * calls / stopwatch(many) / 1e9


def run(options):
    """Measure sgemm GFLOP/s for every shape and thread count.

    Parameters
    ----------
    options : argparse.Namespace
        From :func:`_common.parse_args`.

    Returns
    -------
    results : list of Result
    """
    seconds = SECONDS_PER_MEASURE / (2 if options.quick else 1)
    measures = {label: functools.partial(gflops, shape, seconds)
                for label, shape in gemm_shapes().items()}
    results = []
    for threads in options.threads:
        medians = interleaved_medians(measures, options.repeats, threads,
                                      "sgemm")
        results += [Result("sgemm", label, "", threads, "numpy", value,
                           "GFLOP/s") for label, value in medians.items()]
    return results


def peak_gflops(results, threads):
    """Return the best sgemm median measured with ``threads``, or None.

    Parameters
    ----------
    results : list of Result
    threads : int

    Returns
    -------
    peak : float or None
    """
    values = [r.value for r in results
              if r.question == "sgemm" and r.threads == threads]
    return max(values) if values else None


def main(argv=None):
    """Run this question alone and print its table."""
    import _report

    options = parse_args(__doc__.splitlines()[0], argv)
    _report.emit(run(options), options)


if __name__ == "__main__":
    main()
