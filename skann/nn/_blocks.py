"""Blocks for the elementwise passes over the flat buffers.

An optimizer step makes about ten elementwise passes (numpy ufunc calls)
over the parameters, their gradients and the optimizer state. Done block by
block, each block of every array stays in cache across all the passes, and
only its first read and last write reach memory; the scratch space is one
block, not a copy of the parameters. Blocks are large because each ufunc
call costs about 1 µs: on the 2-core EPYC we measure (512 KiB L2, 32 MiB
L3), L2-sized blocks (16k elements) made a 533k-parameter float32 Adam step
slower than whole-buffer passes (1.1 ms vs 1.06 ms), while 256k-element
blocks made it faster (0.80 ms), and twice as fast at 4M parameters, whose
state no longer fits in L3 (7.4 ms vs 15.3 ms).
"""

import numpy as np

__all__ = ["BLOCK_SIZE", "blocks"]

# Elements per block: five float32 blocks (parameters, gradients, two
# moment estimates, scratch) take 5 MiB, well within a shared L3 cache.
BLOCK_SIZE = 2**18


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
