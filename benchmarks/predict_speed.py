"""predict: prediction rows/s on 100,000 rows (10,000 with --quick).

Each library's model is trained for one epoch (outside the timing), then
``predict`` is timed on the same fresh rows. scikit-learn and skann get
float64 rows, PyTorch float32 under ``torch.inference_mode``.
"""

import functools
import warnings

from _common import (CONFIGS, TASKS, Result, interleaved_medians, make_data,
                     parse_args, pinned_threads, record_problem, stopwatch)
from _peers import available_libraries, library_input, make_model

N_ROWS, N_ROWS_QUICK = 100_000, 10_000


def predict_rate(model, X):
    """Return the rows/s of one ``model.predict(X)``."""
    return X.shape[0] / stopwatch(lambda: model.predict(X))


def fitted_models(libraries, task, config, n_samples):
    """Return ``{library: model}`` each trained for one epoch.

    Parameters
    ----------
    libraries : list of str
    task : {"classification", "regression"}
    config : Config
    n_samples : int

    Returns
    -------
    models : dict of str to object
    """
    X, y = make_data(config, task, n_samples)
    models = {}
    for library in libraries:
        try:
            with warnings.catch_warnings(), pinned_threads(1):
                warnings.simplefilter("ignore")
                models[library] = make_model(library, task, config, 1).fit(
                    *library_input(library, X, y))
        except Exception as error:  # noqa: BLE001 - reported, column skipped
            record_problem(f"predict {config.name} {task} [{library} fit]",
                           error)
    return models


def run(options):
    """Measure predict speed for every config, task and thread count.

    Parameters
    ----------
    options : argparse.Namespace
        From :func:`_common.parse_args`.

    Returns
    -------
    results : list of Result
    """
    n_rows = N_ROWS_QUICK if options.quick else N_ROWS
    libraries = available_libraries()
    results = []
    for task in TASKS:
        for config in CONFIGS:
            models = fitted_models(libraries, task, config,
                                   config.rows(options.quick))
            X = make_data(config, task, n_rows, random_state=1)[0]
            measures = {
                library: functools.partial(
                    predict_rate, model, library_input(library, X)[0])
                for library, model in models.items()}
            for threads in options.threads:
                label = f"predict {config.name} {task}"
                medians = interleaved_medians(measures, options.repeats,
                                              threads, label)
                results += [Result("predict", config.name, task, threads,
                                   library, value, "rows/s")
                            for library, value in medians.items()]
    return results


def main(argv=None):
    """Run this question alone and print its table."""
    import _report

    options = parse_args(__doc__.splitlines()[0], argv)
    _report.emit(run(options), options)


if __name__ == "__main__":
    main()
