"""train: training samples/s per epoch, warm-up epoch excluded.

Each library fits the same config twice, for 1 epoch and for 1 + k epochs;
the difference of the two wall times is the cost of k epochs, free of the
one-time work (validation, dtype conversion, allocation, first-touch). Early
stopping is off (``tol=0``, huge ``n_iter_no_change``) so every fit runs
exactly ``max_iter`` epochs.
"""

import functools

from _common import (CONFIGS, TASKS, Result, interleaved_medians, make_data,
                     parse_args, stopwatch)
from _peers import available_libraries, library_input, make_model


def epoch_rate(library, task, config, X, y, epochs):
    """Return one library's training samples/s for one epoch.

    Parameters
    ----------
    library : str
    task : {"classification", "regression"}
    config : Config
    X, y : ndarray
        Already in the library's input form (see ``library_input``).
    epochs : int
        Epochs timed beyond the warm-up epoch.

    Returns
    -------
    samples_per_second : float
    """
    def fit(max_iter):
        make_model(library, task, config, max_iter).fit(X, y)

    warm_up = stopwatch(lambda: fit(1))
    total = stopwatch(lambda: fit(1 + epochs))
    return epochs * X.shape[0] / max(total - warm_up, 1e-9)


def run(options):
    """Measure training speed for every config, task and thread count.

    Parameters
    ----------
    options : argparse.Namespace
        From :func:`_common.parse_args`.

    Returns
    -------
    results : list of Result
    """
    epochs = 1 if options.quick else 2
    libraries = available_libraries()
    results = []
    for task in TASKS:
        for config in CONFIGS:
            X, y = make_data(config, task, config.rows(options.quick))
            measures = {
                library: functools.partial(
                    epoch_rate, library, task, config,
                    *library_input(library, X, y), epochs)
                for library in libraries}
            for threads in options.threads:
                label = f"train {config.name} {task}"
                medians = interleaved_medians(measures, options.repeats,
                                              threads, label)
                results += [Result("train", config.name, task, threads,
                                   library, value, "samples/s")
                            for library, value in medians.items()]
    return results


def main(argv=None):
    """Run this question (and sgemm, for the peak fraction) alone."""
    import _report
    import sgemm

    options = parse_args(__doc__.splitlines()[0], argv)
    _report.emit(sgemm.run(options) + run(options), options)


if __name__ == "__main__":
    main()
