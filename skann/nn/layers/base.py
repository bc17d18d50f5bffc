"""The layer contract: layers declare their weights, the network owns them.

A layer is configured by its ``__init__`` arguments (:class:`Params`), and
built by the network from the shape of one input sample:
:meth:`Layer.compute_output_shape` maps an input shape to an output shape
(no build needed), and :meth:`Layer.build` returns the weights the layer
needs (:class:`Weight`) with that output shape. The network allocates
every weight in its flat buffers and hands the layer views of them,
together with the per-call buffers, through the ``ctx`` argument of
:meth:`Layer.forward` and :meth:`Layer.backward` (a
:class:`~skann.nn.workspace.LayerContext`).

A layer's parameters are all it holds: neither ``build`` nor a pass writes
anything on it. What a layer derives from its parameters and the input
shape (window geometry, activation objects, scales) comes from pure,
cached functions of them, called with the shape of the batch
(``X.shape[1:]``) in :meth:`Layer.forward`, so one layer object may be
shared by networks, copies and threads.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._params import Params

__all__ = ["Layer", "Weight"]


def check_positive_int(value, what):
    """``value`` as an int, or a ValueError naming ``what`` (bools refused)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class Weight:
    """A weight a layer declares in :meth:`Layer.build`.

    Parameters
    ----------
    name : str
        Key of the weight in ``ctx.params`` (and ``ctx.grads``, ``ctx.state``).
    shape : tuple of int
    init : callable
        ``init(rng, shape, dtype) -> ndarray``; see :mod:`skann.nn.initializers`.
    trainable : bool, default=True
        Trained by the optimizer (in the network's ``params``) or
        non-trainable state (in ``state``, e.g. running statistics).
    regularized : bool, default=False
        Whether the L2 penalty (and AdamW's decay) applies to it.
    """

    name: str
    shape: tuple
    init: Any
    trainable: bool = True
    regularized: bool = False

    @property
    def size(self):
        """Number of elements."""
        return int(math.prod(self.shape))


class Layer(Params):
    """Base class of layers.

    Subclasses store their ``__init__`` arguments unchanged and implement
    :meth:`compute_output_shape`, :meth:`forward` and :meth:`backward`;
    layers with weights also override :meth:`build`.

    The contract:

    - ``compute_output_shape(input_shape)`` needs no build, and raises a
      ``ValueError`` naming the fix for a parameter or an input shape the
      layer cannot take (the same error ``build`` raises);
    - ``build(input_shape, dtype)`` is a pure declaration: it returns
      ``(weights, compute_output_shape(input_shape))`` and writes nothing
      on the layer;
    - ``forward`` and ``backward`` write only into ``ctx``; what they derive
      from the parameters and the input shape comes from cached pure
      functions, never from attributes set by ``build``.

    Examples
    --------
    >>> from skann.nn.layers import Conv2D, Dense
    >>> Conv2D(4, 3, padding="same").compute_output_shape((8, 8, 1))
    (8, 8, 4)
    >>> weights, shape = Dense(3).build((5,), "float64")
    >>> [(w.name, w.shape) for w in weights], shape
    ([('W', (5, 3)), ('b', (3,))], (3,))
    """

    def compute_output_shape(self, input_shape):
        """Shape of one output sample for inputs of ``input_shape``.

        Needs no build; raises the ``ValueError`` that :meth:`build`
        raises for parameters or input shapes the layer cannot take.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one input sample, e.g. ``(64,)`` or ``(8, 8, 1)``.

        Returns
        -------
        output_shape : tuple of int
        """
        if type(self).build is not Layer.build:  # a layer that only declares build
            return tuple(self.build(tuple(input_shape), np.dtype(np.float64))[1])
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_output_shape (or build)."
        )

    def build(self, input_shape, dtype):
        """Declare the weights for inputs of ``input_shape`` (one sample).

        A pure declaration: writes nothing on the layer. The default
        declares no weights.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one input sample, e.g. ``(64,)`` or ``(8, 8, 1)``.
        dtype : numpy dtype
            Compute dtype.

        Returns
        -------
        weights : list of Weight
        output_shape : tuple of int
            :meth:`compute_output_shape` of ``input_shape``.
        """
        return [], self.compute_output_shape(input_shape)

    def forward(self, X, ctx):
        """Output for the batch ``X`` (shape ``(n, *input_shape)``).

        Saves in ``ctx.saved`` what :meth:`backward` needs when
        ``ctx.training``; returns an array that may be one of ``ctx``'s
        buffers.

        Parameters
        ----------
        X : ndarray
            Of shape ``(n, *input_shape)``.
        ctx : LayerContext
            This layer's part of the per-call context.
        """
        raise NotImplementedError

    def backward(self, dY, ctx):
        """Write the weights' gradients into ``ctx.grads``; return ``dX``.

        Returns ``None`` when ``ctx.input_grad`` is False. Computes no
        weight gradient when ``ctx.grads`` is empty (an input gradient,
        :meth:`~skann.nn.network.Network.input_gradient`). ``dY`` may be
        overwritten.

        Parameters
        ----------
        dY : ndarray
            Gradient of the loss at this layer's output, of shape
            ``(n, *output_shape)``.
        ctx : LayerContext
            The context of the :meth:`forward` pass.
        """
        raise NotImplementedError
