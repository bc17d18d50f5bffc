"""memory: peak memory a fit allocates beyond its input, skann vs sklearn.

Measured with :mod:`tracemalloc`, which sees every numpy array allocation
(numpy reports its data buffers to it). Tracing starts after the input
arrays exist, so the traced peak is exactly the memory the fit needs on top
of the input: copies or casts of ``X``, parameters, gradients, optimizer
state and per-batch buffers. BLAS work buffers are not traced (they are the
same for both libraries). PyTorch allocates outside Python's allocator and
is therefore not measured here. Two epochs per fit; one measurement per
figure, as allocation sizes do not vary between runs.
"""

import tracemalloc
import warnings

from _common import (CONFIGS, TASKS, Result, make_data, parse_args,
                     pinned_threads, record_problem)
from _peers import available_libraries, make_model

MEBIBYTE = 2**20


def fit_peak_bytes(library, task, config, X, y):
    """Return the peak bytes traced while one library fits ``X, y``.

    Parameters
    ----------
    library : {"skann", "sklearn"}
    task : {"classification", "regression"}
    config : Config
    X, y : ndarray
        float64 input, allocated before tracing starts.

    Returns
    -------
    peak : int
    """
    model = make_model(library, task, config, max_iter=2)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(options):
    """Measure fit peak memory for every config and task, one thread.

    Parameters
    ----------
    options : argparse.Namespace
        From :func:`_common.parse_args`.

    Returns
    -------
    results : list of Result
    """
    results = []
    for task in TASKS:
        for config in CONFIGS:
            X, y = make_data(config, task, config.rows(options.quick))
            results.append(Result("memory", config.name, task, 1, "input",
                                  (X.nbytes + y.nbytes) / MEBIBYTE, "MiB"))
            for library in available_libraries(("skann", "sklearn")):
                try:
                    with pinned_threads(1):
                        peak = fit_peak_bytes(library, task, config, X, y)
                except Exception as error:  # noqa: BLE001 - reported
                    record_problem(f"memory {config.name} {task} [{library}]",
                                   error)
                    continue
                results.append(Result("memory", config.name, task, 1,
                                      library, peak / MEBIBYTE, "MiB"))
    return results


def main(argv=None):
    """Run this question alone and print its table."""
    import _report

    options = parse_args(__doc__.splitlines()[0], argv)
    _report.emit(run(options), options)


if __name__ == "__main__":
    main()
