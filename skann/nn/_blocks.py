"""Blocks for the elementwise passes over the flat buffers, and reusable
scratch buffers.

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

__all__ = ["BLOCK_SIZE", "SCRATCH", "blocks", "scratch"]

# Attribute under which objects keep their scratch buffers; __getstate__
# methods drop it (scratch space is not state).
SCRATCH = "_scratch_buffers"

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


def scratch(owner, key, shape, dtype):
    """A reusable array of ``shape``, kept on ``owner`` and grown when needed.

    Hot paths run once per batch on arrays of the same shape; reusing one
    flat buffer per ``key`` avoids an allocation (and its page faults) per
    call. The result is a C-contiguous view, valid until the next call with
    the same ``owner`` and ``key``.

    Parameters
    ----------
    owner : object
        Keeps the buffers in ``owner.__dict__[SCRATCH]``.
    key : hashable
    shape : int or tuple of int
    dtype : dtype

    Returns
    -------
    buffer : ndarray of ``shape``

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn._blocks import scratch
    >>> class Owner:
    ...     pass
    >>> owner = Owner()
    >>> first = scratch(owner, "Z", (4, 3), np.float32)
    >>> scratch(owner, "Z", (2, 3), np.float32).base is first.base
    True
    """
    # Called several times per batch: plain Python arithmetic, no np.prod.
    if isinstance(shape, int):
        shape = (shape,)
    size = 1
    for extent in shape:
        size *= extent
    buffers = owner.__dict__.get(SCRATCH)
    if buffers is None:
        buffers = owner.__dict__[SCRATCH] = {}
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = buffers[key] = np.empty(max(size, 1), dtype=dtype)
    return buffer[:size].reshape(shape)
