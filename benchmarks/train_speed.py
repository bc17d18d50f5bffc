"""train: training samples/s per epoch, warm-up epoch excluded.

Each library first fits the config for one epoch (``max_iter=1``, outside
the timing: validation, dtype conversion, allocation, first-touch and
BLAS warm-up). A measurement is then the wall time of one more epoch of
the same model, ``partial_fit(X, y)``: for every library this is one pass
of its regular minibatch loop over all rows, with the same batch size and
optimizer state carried on. Timing epochs directly (rather than the
difference of a 1-epoch and a (1 + k)-epoch fit) gives no negative or
near-zero denominators on a noisy machine, and makes each repeat cost one
epoch instead of 2 + k.
"""

import functools
import warnings

from _common import (CONFIGS, TASKS, Result, interleaved_medians, make_data,
                     parse_args, pinned_threads, record_problem, stopwatch)
from _peers import available_libraries, library_input, make_model


def epoch_rate(model, X, y):
    """Return one library's training samples/s over one more epoch.

    Parameters
    ----------
    model : object
        Already fitted for one epoch (the warm-up), with ``partial_fit``.
    X, y : ndarray
        In the library's input form (see ``library_input``).

    Returns
    -------
    samples_per_second : float
    """
    return X.shape[0] / stopwatch(lambda: model.partial_fit(X, y))


def warmed_up(library, task, config, X, y):
    """Return a model of ``library`` fitted for one epoch (the warm-up)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 1 epoch
        return make_model(library, task, config, 1).fit(X, y)


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
    libraries = available_libraries()
    results = []
    for task in TASKS:
        for config in CONFIGS:
            X, y = make_data(config, task, config.rows(options.quick))
            measures = {}
            for library in libraries:
                data = library_input(library, X, y)
                try:
                    with pinned_threads(1):
                        model = warmed_up(library, task, config, *data)
                except Exception as error:  # noqa: BLE001 - reported
                    record_problem(f"train {config.name} {task} [{library}]",
                                   error)
                    continue
                measures[library] = functools.partial(epoch_rate, model,
                                                      *data)
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
