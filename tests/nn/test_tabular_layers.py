"""Gradients, shapes and code handling of the tabular layers
(CategoryEmbedding, NumericEmbedding, Scale), against finite differences."""

import pickle

import numpy as np
import pytest

from skann.nn import Network
from skann.nn.layers import CategoryEmbedding, Dense, NumericEmbedding, Scale
from skann.nn.workspace import LayerContext

from ._gradcheck import numerical_gradient

N_ROWS = 5


def _built(layer, n_in, dtype=np.float64):
    net = Network([layer])
    net.build((n_in,), dtype, np.random.RandomState(0))
    net.params += 0.3 * np.random.RandomState(1).normal(size=net.params.shape).astype(dtype)
    return net


def _context(net, training=True):
    return LayerContext(
        training, None, net.weights(0, True), net.weights(0, True, net.grads) if training else {},
        net.weights(0, False), input_grad=True,
    )


def _inputs(n_in, n_codes=0, cardinalities=()):
    rng = np.random.RandomState(2)
    X = rng.normal(size=(N_ROWS, n_in))
    for j, card in enumerate(cardinalities):
        X[:, n_in - n_codes + j] = rng.randint(0, card, N_ROWS)
    return X


CASES = [
    ("category", CategoryEmbedding([3, 5], dim=3), 4, (3, 5)),
    ("category-only-codes", CategoryEmbedding([4], dim=2), 1, (4,)),
    ("numeric-relu", NumericEmbedding(n_columns=2, n_frequencies=3, dim=4, sigma=0.5), 3, ()),
    ("numeric-all-identity", NumericEmbedding(n_frequencies=2, dim=2, activation="identity"), 2, ()),
    ("scale", Scale(), 3, ()),
]


@pytest.mark.parametrize("name, layer, n_in, cardinalities", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(name, layer, n_in, cardinalities):
    net = _built(layer, n_in)
    layer = net.layers[0]
    X = _inputs(n_in, len(cardinalities), cardinalities)
    assert layer.compute_output_shape((n_in,)) == net.output_shape
    R = np.random.RandomState(3).normal(size=(N_ROWS, *net.output_shape))

    def objective(inputs=X):
        return float(np.sum(layer.forward(inputs, _context(net)) * R))

    ctx = _context(net)
    layer.forward(X, ctx)
    net.grads.fill(np.nan)  # backward writes every gradient
    dX = layer.backward(R.copy(), ctx).copy()
    assert np.isfinite(net.grads).all()
    for weight, view in net.weights(0, True).items():
        np.testing.assert_allclose(ctx.grads[weight], numerical_gradient(objective, view),
                                   rtol=1e-5, atol=1e-7, err_msg=weight)
    n_continuous = n_in - len(cardinalities)  # codes have no gradient
    X_probe = X.copy()
    numeric = numerical_gradient(lambda: objective(X_probe), X_probe)
    np.testing.assert_allclose(dX[:, :n_continuous], numeric[:, :n_continuous], rtol=1e-5, atol=1e-7)
    assert not dX[:, n_continuous:].any()


@pytest.mark.parametrize("name, layer, n_in, cardinalities", CASES, ids=[c[0] for c in CASES])
def test_float32_inference_and_pickle(name, layer, n_in, cardinalities):
    net = _built(layer, n_in, np.float32)
    X = _inputs(n_in, len(cardinalities), cardinalities).astype(np.float32)
    Y = net.output(X)
    assert Y.dtype == np.float32 and Y.shape == (N_ROWS, *net.output_shape)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(net)).output(X), Y)


def test_category_embedding_reads_bad_codes_as_missing():
    net = _built(CategoryEmbedding([3], dim=2), 2)
    table = net.weights(0)["E"]
    X = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 7.0], [1.0, -1.0], [1.0, np.nan]])
    Y = net.output(X)
    np.testing.assert_array_equal(Y[:, 0], 1.0)
    np.testing.assert_array_equal(Y[1, 1:], table[2])
    for row in (0, 2, 3, 4):  # code 0, too large, negative, NaN: the missing vector
        np.testing.assert_array_equal(Y[row, 1:], table[0])


def test_layers_stack_into_a_network_that_trains():
    from skann import MLPClassifier

    rng = np.random.RandomState(0)
    codes = rng.randint(1, 6, 300)
    x = rng.normal(size=300)
    y = (codes % 2 == 0) ^ (x > 0.5)
    X = np.column_stack([x, codes]).astype(float)
    layers = [CategoryEmbedding([6], dim=4), NumericEmbedding(n_columns=1), Scale(), Dense(32)]
    clf = MLPClassifier(layers=layers, max_iter=300, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert layers[0].get_params() == {"cardinalities": [6], "dim": 4}  # not mutated


@pytest.mark.parametrize("layer, match", [
    (CategoryEmbedding([3, 0]), "cardinalities"),
    (CategoryEmbedding([3, 3, 3]), "code columns"),
    (CategoryEmbedding([3], dim=0), "dim"),
    (NumericEmbedding(n_columns=5), "n_columns"),
    (NumericEmbedding(sigma=-1.0), "sigma"),
    (NumericEmbedding(activation="tanh"), "activation"),
])
def test_bad_parameters_raise(layer, match):
    with pytest.raises(ValueError, match=match):
        layer.compute_output_shape((2,))
