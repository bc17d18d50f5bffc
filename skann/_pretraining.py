"""The autoencoder's decoder, and starting other networks from its encoder."""

from .nn import Dense
from .nn.layers import Flatten


def mirrored_decoder(encoder):
    """Decoder layers of ``layers=`` autoencoders: Flatten, then mirrored Dense.

    The Dense layers of the encoder, but its last, in reverse order (same
    units and activation). The Flatten makes a convolutional encoder's
    output a flat code (it does nothing to a flat one).
    """
    dense = [(layer.units, layer.activation) for layer in encoder if isinstance(layer, Dense)]
    return [Flatten(), *(Dense(units, activation) for units, activation in dense[-2::-1])]


def check_compatible(autoencoder, estimator):
    """Raise unless ``estimator``'s first hidden layers match the encoder."""
    from ._base import BaseNetwork

    if not isinstance(estimator, BaseNetwork):
        raise TypeError(
            "init_network needs a skann MLPClassifier, MLPRegressor or "
            f"AutoEncoder, got {type(estimator).__name__}."
        )
    name = type(estimator).__name__
    if autoencoder.layers is None and estimator.layers is None:
        encoder = autoencoder._encoder_sizes()
        hidden = estimator._hidden_layer_sizes()
        if hidden[: len(encoder)] != encoder:
            raise ValueError(
                f"{name}'s hidden_layer_sizes {tuple(hidden)} must begin with the "
                f"encoder's hidden_layer_sizes {tuple(encoder)} so that its first "
                "layers can take the encoder's weights."
            )
        if estimator.activation != autoencoder.activation:
            raise ValueError(
                f"{name} has activation={estimator.activation!r} but the encoder "
                f"was trained with activation={autoencoder.activation!r}; they "
                "must be the same."
            )
    encoder = autoencoder._encoder_layers()
    first = estimator._hidden_layers()[: len(encoder)]
    if [_config(layer) for layer in first] != [_config(layer) for layer in encoder]:
        raise ValueError(
            f"{name}'s first layers {first} must be the encoder's layers "
            f"{encoder} (same classes and parameters) so that they can take "
            "the encoder's weights."
        )


def _config(layer):
    return type(layer), layer.get_params(deep=False)


def copy_encoder(source, n_layers, target, name):
    """Copy the first ``n_layers`` layers' weights and state of the network
    ``source`` into the network ``target``; nothing is copied unless every
    shape matches (a ``ValueError`` naming the layer otherwise).

    Parameters
    ----------
    source, target : Network
    n_layers : int
        The encoder's layers.
    name : str
        The target estimator's name, for the error message.
    """
    pairs = []
    for position in range(n_layers):
        for trainable in (True, False):
            found = target.weights(position, trainable)
            for key, value in source.weights(position, trainable).items():
                if key not in found or found[key].shape != value.shape:
                    shape = found[key].shape if key in found else None
                    raise ValueError(
                        f"Layer {position} of {name} has weights {key!r} of shape "
                        f"{shape} but the encoder's are {value.shape}: X must have the "
                        f"{source.n_features} features the autoencoder was fit on."
                    )
                pairs.append((found[key], value))
    for destination, value in pairs:
        destination[...] = value
