"""BLAS thread count chosen from the sizes of the matrix products.

Small products finish faster on one thread than the time it takes to wake a
second one. And on a machine whose cores are busy with other processes, a
second BLAS thread waits for a time slice at every product: on the 2-core
machine we measure, with another process running, a two-thread epoch of a
(784, 512, 512) network took 4.7 s against 0.34 s on one thread (and 10 to
30 times longer for every shape we tried). So BLAS gets more than one
thread only for large products, and no more threads than there are idle
CPUs when the block starts.
"""

import os
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

# Below this many floating-point operations in the largest product of a
# step, BLAS runs on one thread. OpenBLAS itself keeps sgemm single-threaded
# below m * n * k = 262,144 (0.5 MFLOP); on an idle 2-core EPYC a second
# thread paid off from about 2.6 MFLOP (a 200x64x100 product: 36 -> 23 µs),
# but a training step also runs elementwise passes that do not thread, and
# small steps are dominated by Python overhead, so the bar is set higher.
MIN_FLOPS_PER_THREAD = 8_000_000

_controller = None


def _get_controller():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def largest_product_flops(layer_sizes, n_rows):
    """Flops of the largest ``(n_rows, fan_in) @ (fan_in, fan_out)`` product."""
    return 2 * n_rows * max(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


def idle_cpus():
    """CPUs not running another task right now (at least 1).

    Reads the number of runnable tasks from ``/proc/loadavg`` (an
    instantaneous count on Linux, the calling thread included); elsewhere,
    the 1-minute load average. Returns ``os.cpu_count()`` when neither is
    available.

    Returns
    -------
    n_idle : int

    Examples
    --------
    >>> from skann._threads import idle_cpus
    >>> idle_cpus() >= 1
    True
    """
    n_cpus = os.cpu_count() or 1
    try:
        with open("/proc/loadavg", encoding="ascii") as stream:
            running = int(stream.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        try:
            running = os.getloadavg()[0]
        except (AttributeError, OSError):
            return n_cpus
    others = max(running - 1, 0)  # the calling thread is one of them
    return int(max(1, min(n_cpus, n_cpus - others)))


def _current_blas_threads():
    controllers = _get_controller().lib_controllers
    return max((lib.num_threads for lib in controllers if lib.user_api == "blas"), default=1)


@contextmanager
def blas_threads_for(layer_sizes, n_rows):
    """Run the block on one BLAS thread when the products are small.

    Large products keep the current BLAS thread count (the one set by the
    user, e.g. with ``threadpoolctl``), capped at the CPUs that are idle
    when the block starts.

    Parameters
    ----------
    layer_sizes : list of int
        Widths from input to output.
    n_rows : int
        Rows per product (the batch size).

    Examples
    --------
    >>> from skann._threads import blas_threads_for
    >>> with blas_threads_for([64, 100, 10], 200):
    ...     pass
    """
    if largest_product_flops(layer_sizes, n_rows) >= MIN_FLOPS_PER_THREAD:
        n_threads = idle_cpus()
        if n_threads >= _current_blas_threads():
            yield
            return
    else:
        n_threads = 1
    with _get_controller().limit(limits=n_threads, user_api="blas"):
        yield
