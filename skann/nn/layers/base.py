"""The layer contract: layers declare their weights, the network owns them.

A layer is configured by its ``__init__`` arguments (:class:`Params`), and
built by the network from the shape of one input sample:
:meth:`Layer.build` returns the weights it needs (:class:`Weight`) and the
shape of one output sample. The network allocates every weight in its flat
buffers and hands the layer views of them, together with the per-call
buffers, through the ``ctx`` argument of :meth:`Layer.forward` and
:meth:`Layer.backward` (a :class:`~skann.nn.workspace.LayerContext`). A
layer never keeps batch-sized arrays on itself.
"""

from dataclasses import dataclass
from typing import Any

from .._params import Params

__all__ = ["Layer", "Weight"]


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
        size = 1
        for extent in self.shape:
            size *= int(extent)
        return size


class Layer(Params):
    """Base class of layers.

    Subclasses store their ``__init__`` arguments unchanged and implement
    :meth:`build`, :meth:`forward` and :meth:`backward`.
    """

    def build(self, input_shape, dtype):
        """Declare the weights for inputs of ``input_shape`` (one sample).

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
        """
        raise NotImplementedError

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
