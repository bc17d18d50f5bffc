"""Central finite differences, shared by the engine's gradient checks."""

import numpy as np


def numerical_gradient(func, array, step=1e-6):
    """Gradient of the scalar ``func()`` with respect to ``array``, in place.

    ``array`` is perturbed element by element and restored; ``func`` must
    read it afresh on each call.
    """
    grad = np.zeros_like(array, dtype=np.float64)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    assert np.shares_memory(flat, array)
    for index in range(flat.size):
        original = flat[index]
        flat[index] = original + step
        upper = func()
        flat[index] = original - step
        lower = func()
        flat[index] = original
        flat_grad[index] = (upper - lower) / (2 * step)
    return grad
