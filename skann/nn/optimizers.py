"""Optimizers that update a flat parameter buffer in place.

Stochastic optimizers implement ``update(params, grads)`` (one step, in
place, on flat arrays) and ``end_epoch(n_samples_seen, plateau)``, which
applies the learning-rate schedule and returns whether training should stop.
:func:`minimize_lbfgs` drives scipy's L-BFGS-B over the same flat buffer.

Steps run block by block (:mod:`skann.nn._blocks`) so that the several
elementwise passes of one step work on data in cache: on a 533k-parameter
float32 network this makes an Adam step several times faster than passes
over the whole buffer.
"""

import numpy as np
import scipy.optimize

from ._blocks import BLOCK_SIZE, SCRATCH, blocks, scratch

__all__ = ["Optimizer", "SGD", "Adam", "OPTIMIZERS", "minimize_lbfgs"]


class Optimizer:
    """Base class of stochastic optimizers.

    Parameters
    ----------
    learning_rate : float
        Step size.
    """

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def update(self, params, grads):
        """Take one step on ``params`` (in place) along ``grads``."""
        raise NotImplementedError

    def end_epoch(self, n_samples_seen, plateau):
        """Apply the schedule at the end of an epoch.

        Parameters
        ----------
        n_samples_seen : int
            Samples processed since training started (sklearn's ``t_``).
        plateau : bool
            Whether the monitored score stopped improving.

        Returns
        -------
        stop : bool
            Whether training should stop.
        """
        return plateau

    def _scratch(self, grads):
        """A reusable block-sized buffer in the dtype of ``grads``."""
        return scratch(self, "step", min(grads.size, BLOCK_SIZE), grads.dtype)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop(SCRATCH, None)
        return state


class SGD(Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum and schedules.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Initial step size.
    schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        ``invscaling`` sets the step to ``learning_rate / (t + 1) ** power_t``
        after each epoch; ``adaptive`` divides it by 5 on a plateau and stops
        once it falls below ``1e-6``.
    momentum : float, default=0.9
    nesterov : bool, default=True
    power_t : float, default=0.5

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import SGD
    >>> params, grads = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    >>> SGD(learning_rate=0.1, momentum=0.0).update(params, grads)
    >>> params
    array([0.95, 2.05])
    """

    def __init__(
        self,
        learning_rate=0.001,
        schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        super().__init__(learning_rate)
        self.initial_learning_rate = learning_rate
        self.schedule = schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = None

    def update(self, params, grads):
        buffer = self._scratch(grads)
        learning_rate = float(self.learning_rate)
        if self.momentum and self.velocity is None:
            self.velocity = np.zeros_like(params)
        for block in blocks(params.size):
            step = buffer[: block.stop - block.start]
            np.multiply(grads[block], learning_rate, out=step)
            block_params = params[block]
            if not self.momentum:
                block_params -= step
                continue
            velocity = self.velocity[block]
            velocity *= self.momentum
            velocity -= step
            if self.nesterov:
                # params += momentum * velocity - learning_rate * grads
                block_params -= step
                block_params += np.multiply(velocity, self.momentum, out=step)
            else:
                block_params += velocity

    def end_epoch(self, n_samples_seen, plateau):
        if self.schedule == "invscaling":
            self.learning_rate = self.initial_learning_rate / (
                (n_samples_seen + 1) ** self.power_t
            )
        if not plateau:
            return False
        if self.schedule != "adaptive":
            return True
        if self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        return False


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), bias-corrected, in place.

    Parameters
    ----------
    learning_rate : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8

    Notes
    -----
    With ``t`` steps taken, ``m`` and ``v`` the moment estimates,
    ``params -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``
    (the form sklearn uses).

    To save two of the step's elementwise passes, the moments are stored
    without their ``(1 - beta)`` factors: ``first_moment`` holds
    ``M = m / (1 - beta_1)``, updated as ``M = beta_1 * M + g``, and
    ``second_moment`` holds ``V = v / (1 - beta_2)``, updated as
    ``V = beta_2 * V + g**2``. The factors move into the scalars:
    ``params -= c * M / (sqrt(V) + epsilon / sqrt(1 - beta_2))`` with
    ``c = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * (1 - beta_1) / sqrt(1 - beta_2)``,
    which is the same step.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import Adam
    >>> params = np.array([1.0, 2.0])
    >>> Adam(learning_rate=0.1).update(params, np.array([0.5, -0.5]))
    >>> params.round(6)
    array([0.9, 2.1])
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_steps = 0
        self.first_moment = None
        self.second_moment = None

    def update(self, params, grads):
        if self.first_moment is None:
            self.first_moment = np.zeros_like(params)
            self.second_moment = np.zeros_like(params)
        self.n_steps += 1
        beta_1, beta_2 = self.beta_1, self.beta_2
        # Python floats, so that float32 buffers stay in float32 loops.
        root_1_minus_beta_2 = float(np.sqrt(1 - beta_2))
        step_size = float(
            self.learning_rate
            * np.sqrt(1 - beta_2**self.n_steps)
            / (1 - beta_1**self.n_steps)
            * (1 - beta_1)
            / root_1_minus_beta_2
        )
        epsilon = float(self.epsilon / root_1_minus_beta_2)
        buffer = self._scratch(grads)
        for block in blocks(params.size):
            grad, first, second = grads[block], self.first_moment[block], self.second_moment[block]
            step = buffer[: block.stop - block.start]
            first *= beta_1
            first += grad
            second *= beta_2
            second += np.multiply(grad, grad, out=step)
            np.sqrt(second, out=step)
            step += epsilon
            np.divide(first, step, out=step)
            step *= step_size
            params[block] -= step


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def minimize_lbfgs(loss_and_gradient, params, max_iter, max_fun, tol, verbose=False):
    """Minimise with scipy's L-BFGS-B over the flat buffer ``params``.

    Parameters
    ----------
    loss_and_gradient : callable
        Called with no argument after ``params`` holds the point to evaluate;
        returns ``(loss, grads)`` with ``grads`` a flat array.
    params : ndarray of shape (n_params,)
        Start point; holds the solution on return.
    max_iter, max_fun : int
        Limits on iterations and on function evaluations.
    tol : float
        Tolerance on the projected gradient (``gtol``), as sklearn.
    verbose : bool, default=False

    Returns
    -------
    result : scipy.optimize.OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import minimize_lbfgs
    >>> params = np.array([3.0])
    >>> result = minimize_lbfgs(
    ...     lambda: ((params[0] - 1) ** 2, 2 * (params - 1)), params, 100, 100, 1e-10
    ... )
    >>> round(float(params[0]), 6)
    1.0
    """

    def fun(point):
        params[...] = point
        loss, grads = loss_and_gradient()
        # scipy keeps the previous gradient, and ``grads`` is overwritten by
        # the next call: hand over a copy.
        return loss, np.array(grads, dtype=np.float64)

    def report(intermediate_result):
        print(f"L-BFGS-B: loss = {intermediate_result.fun:.8f}")

    result = scipy.optimize.minimize(
        fun,
        params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={
            "maxfun": max_fun,
            "maxiter": max_iter,
            "gtol": tol,
        },
        callback=report if verbose else None,
    )
    params[...] = result.x
    return result
