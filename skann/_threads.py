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
import threading
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


def threads_for(flops):
    """BLAS threads a fit whose largest product takes ``flops`` should run
    on, or None to leave the current setting alone.

    One thread for small products; for large ones the current count (the
    one set by the user, e.g. with ``threadpoolctl``) capped at the CPUs
    that are idle now.
    """
    if flops < MIN_FLOPS_PER_THREAD:
        return 1
    n_idle = idle_cpus()
    return None if n_idle >= _current_blas_threads() else n_idle


# Fits running at once in this process share one limit: the first one in
# records the process's BLAS setting and the last one out restores exactly
# that, whatever the order in which concurrent fits end.
_lock = threading.Lock()
_active = {"count": 0, "limiter": None}


@contextmanager
def fit_blas_threads(flops):
    """Run a fit on :func:`threads_for` BLAS threads, then restore.

    Only fits use this: ``predict`` and ``transform`` never change the
    process's BLAS setting, so they are safe to call from many threads.

    Parameters
    ----------
    flops : int
        Floating-point operations of the largest matrix product of a
        training step (see :func:`largest_product_flops` for dense networks).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from skann._threads import fit_blas_threads, largest_product_flops
    >>> before = [lib["num_threads"] for lib in threadpool_info()]
    >>> with fit_blas_threads(largest_product_flops([64, 100, 10], 200)):
    ...     pass
    >>> [lib["num_threads"] for lib in threadpool_info()] == before
    True
    """
    n_threads = threads_for(flops)
    if n_threads is None:
        yield
        return
    with _lock:
        limiter = _get_controller().limit(limits=n_threads, user_api="blas")
        if _active["count"] == 0:
            _active["limiter"] = limiter
        _active["count"] += 1
    try:
        yield
    finally:
        with _lock:
            _active["count"] -= 1
            if _active["count"] == 0:
                _active["limiter"].restore_original_limits()
                _active["limiter"] = None
