"""Fitted weights of the estimators: ``coefs_``, ``intercepts_``, ``layer_weights_``.

All are views of the fitted network's flat parameter buffer (see
:class:`~skann.nn.network.Network`), read when asked for.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .nn import Dense


class FittedWeightsMixin:
    """The weights of ``network_`` as fitted attributes."""

    def _dense_weights(self, name):
        check_is_fitted(self, "network_")
        network = self.network_
        others = [
            type(layer).__name__
            for position, layer in enumerate(network.layers)
            if not isinstance(layer, Dense) and (network.weights(position) or network.weights(position, False))
        ]
        if others:
            raise AttributeError(
                "coefs_ and intercepts_ describe networks of Dense layers only; "
                f"this network also has weights in {sorted(set(others))} layers. "
                "Use layer_weights_ (one dict of arrays per layer) instead."
            )
        return [
            network.weights(position)[name]
            for position, layer in enumerate(network.layers)
            if isinstance(layer, Dense)
        ]

    @property
    def layer_weights_(self):
        """Weights of every layer of the fitted network, input to output.

        One dict per layer (``{}`` for layers without weights, such as
        Dropout, Flatten and pooling): name to array, views of the fitted
        parameters (writing into them changes the model). Dense and Conv2D
        have ``"W"`` and ``"b"``; BatchNorm ``"gamma"``, ``"beta"`` and its
        running statistics ``"moving_mean"``, ``"moving_var"``; LayerNorm
        ``"gamma"``, ``"beta"``. The last dict is the output layer's.
        """
        check_is_fitted(self, "network_")
        network = self.network_
        return [
            {**network.weights(position), **network.weights(position, trainable=False)}
            for position in range(len(network.layers))
        ]

    @property
    def coefs_(self):
        return self._dense_weights("W")

    @coefs_.setter
    def coefs_(self, values):
        self._assign_weights("W", values, "coefs_")

    @property
    def intercepts_(self):
        return self._dense_weights("b")

    @intercepts_.setter
    def intercepts_(self, values):
        self._assign_weights("b", values, "intercepts_")

    def _assign_weights(self, key, values, name):
        current = self._dense_weights(key)
        if len(values) != len(current) or any(
            np.shape(new) != old.shape for new, old in zip(values, current)
        ):
            raise ValueError(
                f"{name} must be a list of {len(current)} arrays of shapes "
                f"{[old.shape for old in current]}."
            )
        for new, old in zip(values, current):
            old[...] = new

