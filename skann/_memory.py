"""A fit's memory, estimated from the declared weights before any allocation.

``hidden_layer_sizes=(10**8,)`` would otherwise allocate until a
``MemoryError`` (after many seconds) or the kernel's OOM killer ends the
process. :func:`check_fit_memory` refuses, in the plan, a fit whose
estimate exceeds the machine's memory.
"""

import os

__all__ = ["ALLOW_LARGE_NETWORKS", "available_memory", "check_fit_memory", "fit_memory_bytes"]

# Set to 1 to train networks larger than the machine's memory estimate.
ALLOW_LARGE_NETWORKS = "SKANN_ALLOW_LARGE_NETWORKS"

# Parameter-sized buffers of a fit: parameters, gradients, the optimizer's
# two moments (adam) and a snapshot of the best weights. L-BFGS-B keeps 10
# pairs of float64 correction vectors besides its parameters and gradients.
STOCHASTIC_BUFFERS = 5
LBFGS_BUFFERS = 25

# Batch-sized buffers per value of a row: forward activations, their
# gradients and scratch.
BATCH_BUFFERS = 3


def available_memory():
    """Bytes the process may use: physical memory, or the cgroup limit if
    smaller; None where neither can be read."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        memory = None
    try:
        with open("/sys/fs/cgroup/memory.max") as limit:
            value = limit.read().strip()
        if value.isdigit():
            memory = int(value) if memory is None else min(memory, int(value))
    except OSError:
        pass
    return memory


def fit_memory_bytes(network_plan, itemsize, batch_rows, lbfgs):
    """Estimated bytes of a fit's parameter and batch buffers."""
    buffers = LBFGS_BUFFERS if lbfgs else STOCHASTIC_BUFFERS
    parameters = network_plan.n_parameters() * itemsize * buffers
    batches = batch_rows * network_plan.values_per_row() * itemsize * BATCH_BUFFERS
    return parameters + batches


def check_fit_memory(network_plan, itemsize, batch_rows, lbfgs):
    """Raise a ``ValueError`` naming the size when a fit cannot fit in memory.

    Set the environment variable ``SKANN_ALLOW_LARGE_NETWORKS=1`` to skip
    the check (swap, or an estimate that is too cautious).
    """
    if os.environ.get(ALLOW_LARGE_NETWORKS, "") == "1":
        return
    memory = available_memory()
    if memory is None:
        return
    needed = fit_memory_bytes(network_plan, itemsize, batch_rows, lbfgs)
    if needed > memory:
        raise ValueError(
            f"This network needs about {needed / 2**30:.3g} GiB to train "
            f"({network_plan.n_parameters():,} parameters and batches of {batch_rows} "
            f"rows), more than this machine's {memory / 2**30:.3g} GiB of memory. "
            "Use fewer or smaller layers, a smaller batch_size, or dtype='float32'; "
            f"set the environment variable {ALLOW_LARGE_NETWORKS}=1 to train it anyway."
        )
