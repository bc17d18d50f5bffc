"""BLAS thread count chosen from the sizes of the matrix products.

Small products finish faster on one thread than the time it takes to wake a
second one; on a busy machine the second thread's spin-wait can make a
small network several times slower. Large products use every thread.
"""

from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

# Below this many floating-point operations in the largest product of a
# step, BLAS runs on one thread.
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


@contextmanager
def blas_threads_for(layer_sizes, n_rows):
    """Run the block on one BLAS thread when the products are small.

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
        yield
        return
    with _get_controller().limit(limits=1, user_api="blas"):
        yield
