"""Optimizers: one in-place step over the flat parameter buffer.

An optimizer is configured by its ``__init__`` arguments, allocates its
state in :meth:`Optimizer.build` and takes steps with
:meth:`Optimizer.step`, given the learning rate by a schedule
(:mod:`skann.nn.schedules`). It decides nothing else: stopping belongs to
the training loop's hooks.

Steps run block by block (:mod:`skann.nn._blocks`) so that the several
elementwise passes of one step work on data in cache: on a 533k-parameter
float32 network this makes an Adam step several times faster than passes
over the whole buffer.
"""

import math

import numpy as np

from ._blocks import BLOCK_SIZE, blocks
from ._params import Params

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "OPTIMIZERS", "clip_by_global_norm"]


class Optimizer(Params):
    """Base class of optimizers.

    :meth:`step` applies, in Keras' order: gradient clipping to a global
    norm (``clip_norm``), decoupled weight decay of the regularised
    parameters (``weight_decay``, the leading ``n_regularized`` entries of
    the flat buffer: the weights that layers declare ``regularized``, not
    biases or scales), then the subclass's :meth:`update`.

    Parameters
    ----------
    weight_decay : float, default=0.0
        Each step first shrinks the regularised parameters by
        ``learning_rate * weight_decay``, independently of the gradient.
    clip_norm : float or None, default=None
        Scale the gradient down to this global L2 norm before the step.
    """

    def __init__(self, weight_decay=0.0, clip_norm=None):
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm

    def build(self, n_params, n_regularized, dtype):
        """Allocate the state for ``n_params`` parameters (the first
        ``n_regularized`` of them regularised).

        Parameters
        ----------
        n_params : int
            Size of the network's flat parameter buffer.
        n_regularized : int
            How many of them, from the start, are weights (not biases).
        dtype : dtype
            The network's compute dtype.

        Returns
        -------
        self : Optimizer
        """
        self.n_params_, self.n_regularized_ = int(n_params), int(n_regularized)
        self.n_steps_ = 0
        self._allocate(np.dtype(dtype))
        return self

    def _allocate(self, dtype):
        """Allocate the optimizer's own arrays."""

    def step(self, params, grads, learning_rate, consume_grads=False):
        """Take one step on ``params`` (in place) along ``grads``.

        Clips ``grads`` in place (``clip_norm``), decays the regularised
        parameters (``weight_decay``), then calls :meth:`update`.

        Parameters
        ----------
        params, grads : ndarray of shape (n_params,)
            The flat parameter buffer and its gradient.
        learning_rate : float
        consume_grads : bool, default=False
            Let the step use ``grads`` as its scratch space, leaving them
            meaningless: the step then allocates no buffer of its own. The
            training loop's gradients, recomputed at every step, are.
        """
        self.n_steps_ += 1
        if self.clip_norm is not None:
            clip_by_global_norm(grads, self.clip_norm)
        shrink = 1.0 - float(learning_rate) * float(self.weight_decay)
        if shrink != 1.0:
            params[: self.n_regularized_] *= shrink
        # The step's permission, read by _step_space, lives only for the step.
        self._consume_grads = consume_grads
        try:
            self.update(params, grads, learning_rate)
        finally:
            del self._consume_grads

    def update(self, params, grads, learning_rate):
        """The optimizer's own update of ``params`` along ``grads`` (in place)."""
        raise NotImplementedError

    def _scratch(self, dtype):
        # Block-sized scratch of the step: training space, not state (not
        # pickled, see __getstate__).
        buffer = self.__dict__.get("_step_buffer")
        if buffer is None or buffer.dtype != dtype:
            buffer = self._step_buffer = np.empty(min(self.n_params_, BLOCK_SIZE), dtype)
        return buffer

    def _step_space(self, grads, block):
        """Scratch for one block of the step: that block of ``grads`` itself
        when the step may consume them (see :meth:`step`; an update using
        it reads the block's gradient before writing there), else the
        block-sized buffer."""
        if self.__dict__.get("_consume_grads"):
            return grads[block]
        return self._scratch(grads.dtype)[: block.stop - block.start]

    def _whole_step_space(self, grads):
        """:meth:`_step_space` of a step in one block (the whole buffers)."""
        if self.__dict__.get("_consume_grads"):
            return grads
        return self._scratch(grads.dtype)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_step_buffer", None)
        return state


def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that its L2 norm is at most ``max_norm``.

    Returns
    -------
    norm : float
        The norm before clipping.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import clip_by_global_norm
    >>> grads = np.array([3.0, 4.0])
    >>> clip_by_global_norm(grads, 1.0), grads
    (5.0, array([0.6, 0.8]))
    """
    norm = float(np.sqrt(np.dot(grads, grads)))
    if norm > max_norm:
        grads *= max_norm / norm
    return norm


class SGD(Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum.

    Parameters
    ----------
    momentum : float, default=0.9
    nesterov : bool, default=True
    weight_decay, clip_norm : float, float or None
        As :class:`Optimizer` (0 and None: neither).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import SGD
    >>> params, grads = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    >>> SGD(momentum=0.0).build(2, 2, params.dtype).step(params, grads, 0.1)
    >>> params
    array([0.95, 2.05])
    """

    def __init__(self, momentum=0.9, nesterov=True, weight_decay=0.0, clip_norm=None):
        super().__init__(weight_decay, clip_norm)
        self.momentum = momentum
        self.nesterov = nesterov

    def _allocate(self, dtype):
        self.velocity_ = np.zeros(self.n_params_, dtype) if self.momentum else None

    def update(self, params, grads, learning_rate):
        learning_rate, momentum = float(learning_rate), float(self.momentum)
        if params.size <= BLOCK_SIZE:  # one block: the whole buffers, unsliced
            velocity = self.velocity_ if momentum else None
            self._update_block(params, grads, velocity, self._whole_step_space(grads), learning_rate, momentum)
            return
        for block in blocks(params.size):
            velocity = self.velocity_[block] if momentum else None
            self._update_block(
                params[block], grads[block], velocity, self._step_space(grads, block), learning_rate, momentum,
            )

    def _update_block(self, params, grads, velocity, step, learning_rate, momentum):
        np.multiply(grads, learning_rate, out=step)
        if not momentum:
            params -= step
            return
        velocity *= momentum
        velocity -= step
        if self.nesterov:
            # params += momentum * velocity - learning_rate * grads
            params -= step
            params += np.multiply(velocity, momentum, out=step)
        else:
            params += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), bias-corrected, in place.

    Parameters
    ----------
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
    weight_decay, clip_norm : float, float or None
        As :class:`Optimizer` (0 and None: neither; :class:`AdamW` decays by
        default).

    Notes
    -----
    With ``t`` steps taken, ``m`` and ``v`` the moment estimates,
    ``params -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``
    (the form sklearn uses).

    To save two of the step's elementwise passes, the moments are stored
    without their ``(1 - beta)`` factors: ``first_moment_`` holds
    ``M = m / (1 - beta_1)``, updated as ``M = beta_1 * M + g``, and
    ``second_moment_`` holds ``V = v / (1 - beta_2)``, updated as
    ``V = beta_2 * V + g**2``. The factors move into the scalars:
    ``params -= c * M / (sqrt(V) + epsilon / sqrt(1 - beta_2))`` with
    ``c = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * (1 - beta_1) / sqrt(1 - beta_2)``,
    which is the same step.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import Adam
    >>> params = np.array([1.0, 2.0])
    >>> Adam().build(2, 2, params.dtype).step(params, np.array([0.5, -0.5]), 0.1)
    >>> params.round(6)
    array([0.9, 2.1])
    """

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(weight_decay, clip_norm)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _allocate(self, dtype):
        self.first_moment_ = np.zeros(self.n_params_, dtype)
        self.second_moment_ = np.zeros(self.n_params_, dtype)

    def update(self, params, grads, learning_rate):
        beta_1, beta_2 = self.beta_1, self.beta_2
        # Python floats, so that float32 buffers stay in float32 loops; math
        # rather than numpy scalars (the same correctly rounded square roots,
        # a fraction of the cost per step).
        root_1_minus_beta_2 = math.sqrt(1 - beta_2)
        step_size = (
            float(learning_rate)
            * math.sqrt(1 - beta_2**self.n_steps_)
            / (1 - beta_1**self.n_steps_)
            * (1 - beta_1)
            / root_1_minus_beta_2
        )
        epsilon = float(self.epsilon / root_1_minus_beta_2)
        if params.size <= BLOCK_SIZE:  # one block: the whole buffers, unsliced
            self._update_block(params, grads, self.first_moment_, self.second_moment_,
                               self._whole_step_space(grads), beta_1, beta_2, epsilon, step_size)
            return
        for block in blocks(params.size):
            self._update_block(
                params[block], grads[block], self.first_moment_[block], self.second_moment_[block],
                self._step_space(grads, block), beta_1, beta_2, epsilon, step_size,
            )

    @staticmethod
    def _update_block(params, grad, first, second, step, beta_1, beta_2, epsilon, step_size):
        # ``step`` may be ``grad`` itself (a consumed gradient): grad's last
        # read is its square, into step.
        first *= beta_1
        first += grad
        second *= beta_2
        second += np.multiply(grad, grad, out=step)
        np.sqrt(second, out=step)
        step += epsilon
        np.divide(first, step, out=step)
        step *= step_size
        params -= step


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Parameters
    ----------
    weight_decay : float, default=0.01
        Each step first shrinks the regularised parameters (the weights,
        not the biases) by ``learning_rate * weight_decay``, independently
        of the gradient, then takes an Adam step.
    beta_1, beta_2, epsilon : float
        As :class:`Adam`.
    clip_norm : float or None, default=None
        As :class:`Optimizer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import AdamW
    >>> params = np.array([1.0, 2.0])
    >>> opt = AdamW(weight_decay=0.5).build(2, 1, params.dtype)
    >>> opt.step(params, np.zeros(2), 0.1)
    >>> params
    array([0.95, 2.  ])
    """

    def __init__(self, weight_decay=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8, clip_norm=None):
        super().__init__(beta_1, beta_2, epsilon, weight_decay, clip_norm)


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton, 2012): steps scaled by a running RMS.

    Parameters
    ----------
    rho : float, default=0.9
        Decay rate of the running mean of squared gradients.
    epsilon : float, default=1e-8
    weight_decay, clip_norm : float, float or None
        As :class:`Optimizer` (0 and None: neither).

    Notes
    -----
    ``v = rho * v + (1 - rho) * g**2``; ``params -= lr * g / (sqrt(v) + epsilon)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.optimizers import RMSprop
    >>> params = np.array([1.0])
    >>> RMSprop(rho=0.0).build(1, 1, params.dtype).step(params, np.array([2.0]), 0.1)
    >>> params.round(6)
    array([0.9])
    """

    def __init__(self, rho=0.9, epsilon=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(weight_decay, clip_norm)
        self.rho = rho
        self.epsilon = epsilon

    def _allocate(self, dtype):
        self.mean_square_ = np.zeros(self.n_params_, dtype)

    def update(self, params, grads, learning_rate):
        rho, epsilon = float(self.rho), float(self.epsilon)
        learning_rate = float(learning_rate)
        buffer = self._scratch(params.dtype)
        for block in blocks(params.size):
            grad, mean_square = grads[block], self.mean_square_[block]
            step = buffer[: block.stop - block.start]
            mean_square *= rho
            np.multiply(grad, grad, out=step)
            step *= 1.0 - rho
            mean_square += step
            np.sqrt(mean_square, out=step)
            step += epsilon
            np.divide(grad, step, out=step)
            step *= learning_rate
            params[block] -= step


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
