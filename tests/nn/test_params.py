"""The parameter protocol of layers, optimizers and schedules: what
scikit-learn's clone and grid search rely on."""


import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skann.nn import SGD, Adam, AdamW, Cosine, Dense, Network, RMSprop
from skann.nn._params import Params, clone_params


class _Block(Params):
    """A Params object with a nested Params value."""

    def __init__(self, layer=None, scale=1.0, name="block"):
        self.layer = layer
        self.scale = scale
        self.name = name


def test_get_params_lists_the_init_arguments():
    assert Dense(3).get_params() == {"activation": "relu", "init": "auto", "units": 3}
    steps = {"clip_norm": None, "weight_decay": 0.0}  # every optimizer's step pipeline
    assert Adam(beta_1=0.5).get_params() == {"beta_1": 0.5, "beta_2": 0.999, "epsilon": 1e-8, **steps}
    assert AdamW().get_params() == {**steps, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "weight_decay": 0.01}
    assert SGD(nesterov=False).get_params(deep=False) == {"momentum": 0.9, "nesterov": False, **steps}


def test_set_params_returns_self_and_rejects_unknown_names():
    layer = Dense(3)
    assert layer.set_params(units=5, activation="tanh") is layer
    assert (layer.units, layer.activation) == (5, "tanh")
    with pytest.raises(ValueError, match="Invalid parameter 'width' for Dense"):
        layer.set_params(width=4)
    assert layer.units == 5


def test_nested_parameters():
    block = _Block(Dense(4, "tanh"), scale=2.0)
    params = block.get_params()
    assert params["layer__units"] == 4 and params["layer__activation"] == "tanh"
    assert params["layer"] is block.layer and params["scale"] == 2.0
    assert "layer__units" not in block.get_params(deep=False)
    block.set_params(layer__units=8, scale=3.0)
    assert block.layer.units == 8 and block.scale == 3.0
    with pytest.raises(ValueError, match="Invalid parameter 'size' for Dense"):
        block.set_params(layer__size=2)
    # A class as a value is not a nested object.
    assert _Block(Dense).get_params() == {"layer": Dense, "name": "block", "scale": 1.0}


def test_repr_shows_the_arguments_that_differ_from_their_defaults():
    assert repr(Dense(3)) == "Dense(units=3)"
    assert repr(Dense(3, activation="tanh", init="he_uniform")) == "Dense(activation='tanh', init='he_uniform', units=3)"
    assert repr(Adam()) == "Adam()"
    assert repr(SGD(momentum=0.0)) == "SGD(momentum=0.0)"
    assert repr(RMSprop(rho=0.5)) == "RMSprop(rho=0.5)"
    # Equal in value but not in type is shown; arrays compare by identity.
    assert repr(Cosine(n_epochs=200.0)) == "Cosine(n_epochs=200.0)"
    assert repr(Cosine(n_epochs=200)) == "Cosine()"
    assert repr(_Block(np.zeros(2))) == "_Block(layer=array([0., 0.]))"
    assert repr(_Block(Dense(2))) == "_Block(layer=Dense(units=2))"


def test_clone_params_gives_an_equal_copy():
    layer = Dense(3, activation="gelu")
    built = Network([layer]).layers[0]
    built.build((4,), np.dtype(np.float64))
    copy = clone_params(built)
    assert type(copy) is Dense and copy is not built
    assert copy.get_params() == built.get_params()
    assert vars(copy) == vars(built) == vars(layer)  # building writes nothing on a layer


def test_clone_params_clones_nested_params_and_shares_other_values():
    shared = object()
    block = _Block(Dense(2), name=shared)
    copy = clone_params(block)
    assert copy.layer is not block.layer and copy.layer.get_params() == block.layer.get_params()
    assert copy.name is shared


@pytest.mark.parametrize(
    "obj", [Dense(7, activation="elu", init="he_uniform"), AdamW(weight_decay=0.1), SGD(momentum=0.5), Cosine(0.1, 10)],
    ids=repr,
)
def test_sklearn_clone(obj):
    copy = clone(obj)
    assert type(copy) is type(obj) and copy is not obj
    assert copy.get_params() == obj.get_params()
    assert repr(copy) == repr(obj)


def test_sklearn_clone_of_a_built_dense_and_of_nested_params():
    layer = Dense(3)
    layer.build((2,), np.dtype(np.float32))
    copy = clone(layer)
    assert copy.get_params() == {"activation": "relu", "init": "auto", "units": 3}
    assert vars(copy) == vars(layer)
    block = clone(_Block(Dense(5), scale=0.5))
    assert block.layer.units == 5 and block.scale == 0.5


def test_built_optimizer_clones_unbuilt_and_pickles_built():
    optimizer = Adam(beta_2=0.99).build(4, 2, np.float64)
    optimizer.step(np.ones(4), np.ones(4), 0.1)
    copy = clone(optimizer)
    assert not hasattr(copy, "first_moment_") and copy.get_params() == optimizer.get_params()
    restored = pickle.loads(pickle.dumps(optimizer))
    np.testing.assert_array_equal(restored.first_moment_, optimizer.first_moment_)
