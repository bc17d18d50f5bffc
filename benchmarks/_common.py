"""Shared pieces of the benchmark suite: configs, data, threads and timing.

Every benchmark script imports this module. It knows nothing about any one
question; it holds the things that must be the same for all of them so that
the figures in one table are comparable:

- the fixed model shapes (:data:`CONFIGS`) and their quick-mode sample counts,
- the synthetic data (float64 for scikit-learn and skann, as users pass it),
- pinning BLAS, OpenMP and PyTorch threads (:func:`pinned_threads`),
- the one timing loop (:func:`interleaved_medians`): libraries measured in
  turn, repeated, rotated, and summarised by the median,
- the :class:`Result` record every script returns and the command line.
"""

import argparse
import os
import contextlib
import dataclasses
import gc
import statistics
import sys
import time
import traceback
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

LIBRARIES = ("skann", "sklearn", "torch")
THREAD_COUNTS = (1, 2)
RANDOM_STATE = 0
N_CLASSES = 3


@dataclasses.dataclass(frozen=True)
class Config:
    """One model shape of the benchmark.

    Parameters
    ----------
    name : str
        Short name used in tables ("tabular", "wide", "small").
    n_samples : int
        Training rows of the full run.
    n_samples_quick : int
        Training rows of ``--quick`` (same shapes, fewer rows).
    n_features : int
        Input width.
    hidden_layer_sizes : tuple of int
        Hidden ReLU layers, as in ``MLPClassifier(hidden_layer_sizes=...)``.
    batch_size : int
        Minibatch size used by every library.
    """

    name: str
    n_samples: int
    n_samples_quick: int
    n_features: int
    hidden_layer_sizes: tuple
    batch_size: int

    def layer_sizes(self, task):
        """Return every layer width, input and output included.

        Parameters
        ----------
        task : {"classification", "regression"}
            Decides the output width (``N_CLASSES`` or 1).

        Returns
        -------
        sizes : list of int
        """
        n_outputs = N_CLASSES if task == "classification" else 1
        return [self.n_features, *self.hidden_layer_sizes, n_outputs]

    def forward_flops_per_sample(self, task):
        """Return the multiply-add FLOPs of one forward pass of one row.

        Counted as ``2 * sum(fan_in * fan_out)`` over all dense layers;
        activations, biases and the loss are not counted.

        Parameters
        ----------
        task : {"classification", "regression"}

        Returns
        -------
        flops : int
        """
        sizes = self.layer_sizes(task)
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        return 2 * sum(fan_in * fan_out for fan_in, fan_out in pairs)

    def training_flops_per_sample(self, task):
        """Return the FLOPs of one training step of one row.

        Forward plus backward, with backward counted as twice the forward
        (one GEMM for the weight gradient, one for the input gradient).

        Parameters
        ----------
        task : {"classification", "regression"}

        Returns
        -------
        flops : int
        """
        return 3 * self.forward_flops_per_sample(task)

    def rows(self, quick):
        """Return the training rows for the chosen mode."""
        return self.n_samples_quick if quick else self.n_samples


CONFIGS = (
    Config("tabular", 50_000, 10_000, 50, (256, 256), 256),
    Config("wide", 20_000, 4_000, 784, (512, 256), 128),
    Config("small", 2_000, 2_000, 20, (64,), 32),
)
TASKS = ("classification", "regression")


@dataclasses.dataclass
class Result:
    """One measured figure (a median), as every script returns it.

    Parameters
    ----------
    question : str
        The script that measured it ("train", "predict", "memory", ...).
    config : str
        Config name, or a free label for questions without configs.
    task : str
        "classification", "regression" or "" where it does not apply.
    threads : int
        BLAS / OpenMP / PyTorch thread count it ran with.
    library : str
        "skann", "sklearn", "torch" or "numpy".
    value : float
        The median figure.
    unit : str
        Unit of ``value``, e.g. "samples/s".
    """

    question: str
    config: str
    task: str
    threads: int
    library: str
    value: float
    unit: str


PROBLEMS = []


def record_problem(where, error):
    """Record a failure, so one crash does not end the whole run.

    The messages are printed under the table: a library that crashes or
    lacks a parameter shows up as a missing figure plus one line there.

    Parameters
    ----------
    where : str
        What was being measured.
    error : BaseException or str
        The exception caught (its innermost frame is named) or a note.
    """
    if isinstance(error, BaseException):
        frame = traceback.extract_tb(error.__traceback__)[-1]
        error = (f"{type(error).__name__}: {error} "
                 f"(at {frame.filename}:{frame.lineno})")
    message = f"{where}: {error}"
    if message not in PROBLEMS:
        PROBLEMS.append(message)
        print(f"  ! {message}", file=sys.stderr)


def make_data(config, task, n_samples, random_state=RANDOM_STATE):
    """Return synthetic float64 training data for a config.

    Parameters
    ----------
    config : Config
    task : {"classification", "regression"}
    n_samples : int
    random_state : int, default=RANDOM_STATE

    Returns
    -------
    X : ndarray of shape (n_samples, config.n_features), float64
    y : ndarray of shape (n_samples,)
        Integer classes or float64 targets.
    """
    from sklearn.datasets import make_classification, make_regression

    n_informative = min(10, config.n_features)
    if task == "classification":
        return make_classification(
            n_samples=n_samples, n_features=config.n_features,
            n_informative=n_informative, n_classes=N_CLASSES,
            random_state=random_state)
    X, y = make_regression(n_samples=n_samples, n_features=config.n_features,
                           n_informative=n_informative, noise=1.0,
                           random_state=random_state)
    return X, y / np.std(y)


@contextlib.contextmanager
def pinned_threads(n_threads):
    """Pin BLAS, OpenMP and PyTorch to ``n_threads`` inside the block.

    Parameters
    ----------
    n_threads : int
    """
    torch = optional_torch()
    previous = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=n_threads):
        if torch is not None:
            torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(previous)


def optional_torch():
    """Return the ``torch`` module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def stopwatch(function):
    """Return the wall-clock seconds one call of ``function`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_medians(measures, repeats, n_threads, label):
    """Run measurements in turn, repeated, and return their medians.

    This is the one timing loop of the suite. Each repeat runs every
    measurement once, starting one further along the list each time so that
    no library always runs first (warm caches) or last (hot CPU). A
    measurement that raises is recorded in :func:`record_problem` and dropped.

    Parameters
    ----------
    measures : dict of str to callable
        Name to a function without arguments that returns one figure.
    repeats : int
        How many times each measurement runs (the median is kept).
    n_threads : int
        Thread count pinned during every measurement.
    label : str
        What is measured, for problem messages.

    Returns
    -------
    medians : dict of str to float
        Only for measurements that never failed.
    """
    samples = {name: [] for name in measures}
    names = list(measures)
    with pinned_threads(n_threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning from short fits
        for repeat in range(repeats):
            shift = repeat % len(names)
            for name in names[shift:] + names[:shift]:
                if samples[name] is None:
                    continue
                gc.collect()
                try:
                    samples[name].append(measures[name]())
                except Exception as error:  # noqa: BLE001 - reported below
                    record_problem(f"{label} [{name}, {n_threads} thr]", error)
                    samples[name] = None
    return {name: statistics.median(values)
            for name, values in samples.items() if values}


class CpuMonitor:
    """Measures how much CPU other processes took while the suite ran.

    On a shared machine another process on one core ruins every two-thread
    figure (BLAS threads wait for a time slice at each GEMM), so the report
    states this share next to the figures. Linux only (``/proc/stat``);
    elsewhere :meth:`others_share` returns None.
    """

    def __init__(self):
        self.start = self._snapshot()

    @staticmethod
    def _snapshot():
        try:
            with open("/proc/stat", encoding="ascii") as stream:
                fields = [int(v) for v in stream.readline().split()[1:]]
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        idle = fields[3] + fields[4]  # idle and iowait
        busy = (sum(fields) - idle) / ticks
        own = sum(os.times()[:4])
        return busy, own, time.perf_counter()

    def others_share(self):
        """Return the share of all CPUs used by other processes, or None."""
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        busy, own, wall = (b - a for a, b in zip(self.start, end, strict=True))
        return max(busy - own, 0.0) / (wall * os.cpu_count())


def blas_info():
    """Return one line per thread pool found by threadpoolctl.

    Returns
    -------
    lines : list of str
    """
    optional_torch()  # so that torch's OpenMP runtime is listed too
    lines = []
    for pool in threadpool_info():
        lines.append(
            f"{pool['internal_api']} {pool.get('version') or ''} "
            f"({pool['prefix']}, {pool.get('architecture') or '-'}, "
            f"{pool['num_threads']} threads by default)")
    return lines


def parse_args(description, argv=None):
    """Parse the command line shared by every script.

    Parameters
    ----------
    description : str
    argv : list of str, default=None

    Returns
    -------
    options : argparse.Namespace
        ``quick``, ``threads``, ``repeats``, ``output``, and
        ``cpu_monitor`` (a :class:`CpuMonitor` started now).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="fewer rows and epochs, same shapes (~2 min)")
    parser.add_argument("--threads", type=int, nargs="+",
                        default=list(THREAD_COUNTS),
                        help="thread counts to pin (default: 1 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats per figure; the median is reported")
    parser.add_argument("--output", default=None,
                        help="also write the tables to this .md or .rst file")
    options = parser.parse_args(argv)
    if options.repeats < 3:
        parser.error("--repeats must be at least 3 (medians of 3 or more)")
    options.cpu_monitor = CpuMonitor()
    return options
