"""Cache-sized blocks for the elementwise passes over the flat buffers.

An optimizer step makes about ten elementwise passes (numpy ufunc calls)
over the parameters, their gradients and the optimizer state. Over the whole
flat buffer each pass streams megabytes through memory; done block by block,
the blocks of every array stay in the L2 cache across all ten passes, and
only the first read and the last write of each block reach memory.
"""

__all__ = ["BLOCK_SIZE", "blocks"]

# Elements per block: five float32 blocks of this size (parameters,
# gradients, two moment estimates, scratch) take 320 KiB, within a 512 KiB
# L2 cache; in float64, 640 KiB still sits in L2 on most machines. Smaller
# blocks pay more per-call overhead (about 1 µs per ufunc call).
BLOCK_SIZE = 16384


def blocks(n_elements, block_size=BLOCK_SIZE):
    """Yield ``slice`` objects that cover ``range(n_elements)`` in blocks.

    Parameters
    ----------
    n_elements : int
    block_size : int, default=BLOCK_SIZE

    Yields
    ------
    block : slice

    Examples
    --------
    >>> from skann.nn._blocks import blocks
    >>> list(blocks(5, block_size=2))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    for start in range(0, n_elements, block_size):
        yield slice(start, min(start + block_size, n_elements))
