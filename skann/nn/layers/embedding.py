"""Layers for tabular inputs: category embeddings, periodic numeric
embeddings and a per-feature scaling.

Each acts on a flat input whose columns are laid out as
:class:`~skann.tabular.TabularPreprocessor` writes them (numeric columns
first, embedding codes last) and passes the columns it does not embed
through unchanged, so the layers stack in any ``layers=`` list.
"""

import math

import numpy as np

from ..activations import zeros_row
from ..initializers import Constant, Normal
from .base import Layer, Weight, check_positive_int

__all__ = ["CategoryEmbedding", "NumericEmbedding", "Scale"]


def _flat(input_shape, name):
    if len(input_shape) != 1:
        raise ValueError(f"{name} expects flat inputs, but its input has shape {tuple(input_shape)} per sample.")
    return int(input_shape[0])


class CategoryEmbedding(Layer):
    """Learned vectors for integer category codes.

    The last ``len(cardinalities)`` input columns hold integer codes (as
    floats); column ``j`` takes codes ``0 .. cardinalities[j] - 1``, code 0
    standing for missing and unknown categories (it has its own learned
    vector). Codes outside that range and NaN are read as 0. The other
    columns pass through unchanged, first.

    Parameters
    ----------
    cardinalities : sequence of int
        Number of codes of each code column, code 0 included
        (``TabularPreprocessor.embedding_cardinalities_``).
    dim : int, default=8
        Length of each category's vector.

    Notes
    -----
    Declares one table ``E`` of shape ``(sum(cardinalities), dim)``, drawn
    from ``N(0, 1/dim)`` and not regularised. An input of ``n`` columns
    gives ``n - k + k * dim`` outputs for ``k`` code columns. The codes get
    no input gradient (0).

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import CategoryEmbedding
    >>> net = Network([CategoryEmbedding([4], dim=2)])
    >>> net.build((3,), np.float64, np.random.RandomState(0))
    (4,)
    >>> X = np.array([[0.5, -1.0, 3.0], [0.5, -1.0, 0.0]])
    >>> net.output(X)[:, :2]
    array([[ 0.5, -1. ],
           [ 0.5, -1. ]])
    """

    def __init__(self, cardinalities, dim=8):
        self.cardinalities = cardinalities
        self.dim = dim

    def _checked(self):
        cardinalities = [check_positive_int(c, "CategoryEmbedding cardinalities") for c in self.cardinalities]
        return cardinalities, check_positive_int(self.dim, "CategoryEmbedding dim")

    def compute_output_shape(self, input_shape):
        n_in = _flat(input_shape, "CategoryEmbedding")
        cardinalities, dim = self._checked()
        if len(cardinalities) > n_in:
            raise ValueError(
                f"CategoryEmbedding has {len(cardinalities)} code columns but its input has only {n_in} columns."
            )
        return (n_in - len(cardinalities) * (1 - dim),)

    def build(self, input_shape, dtype):
        shape = self.compute_output_shape(input_shape)
        cardinalities, dim = self._checked()
        return [Weight("E", (sum(cardinalities), dim), Normal(1 / math.sqrt(dim)))], shape

    def forward(self, X, ctx):
        table = ctx.params["E"]
        cardinalities = np.asarray(self.cardinalities)
        n_codes, dim = len(cardinalities), table.shape[1]
        n_pass = X.shape[1] - n_codes
        codes = np.nan_to_num(X[:, n_pass:], nan=0.0, posinf=0.0, neginf=0.0).astype(np.intp)
        codes[(codes < 0) | (codes >= cardinalities)] = 0
        codes += np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.intp)
        out = ctx.buffer("Y", (X.shape[0], n_pass + n_codes * dim), table.dtype)
        out[:, :n_pass] = X[:, :n_pass]
        out[:, n_pass:] = table[codes].reshape(X.shape[0], n_codes * dim)
        if ctx.training:
            ctx.saved["rows"] = codes
        return out

    def backward(self, dY, ctx):
        rows = ctx.saved["rows"]
        n_codes = rows.shape[1]
        n_pass = dY.shape[1] - n_codes * ctx.params["E"].shape[1]
        if ctx.grads:
            grad = ctx.grads["E"]
            grad.fill(0)
            np.add.at(grad, rows.ravel(), dY[:, n_pass:].reshape(-1, grad.shape[1]))
        if not ctx.input_grad:
            return None
        dX = ctx.buffer("dX", (dY.shape[0], n_pass + n_codes), dY.dtype)
        dX[:, :n_pass] = dY[:, :n_pass]
        dX[:, n_pass:] = 0
        return dX


class NumericEmbedding(Layer):
    """Periodic embeddings of numeric columns (PLR; Gorishniy et al. 2022).

    Each of the first ``n_columns`` input columns ``x`` becomes
    ``[x, f(W [cos(2 pi c x), sin(2 pi c x)] + b)]``: its value, then
    ``dim`` features of learned frequencies ``c`` (``n_frequencies`` per
    column) through a per-column linear map and activation ``f``. The
    other columns pass through unchanged, after them.

    Parameters
    ----------
    n_columns : int or None, default=None
        How many leading columns to embed; None embeds every column.
    n_frequencies : int, default=8
        Frequencies per column.
    dim : int, default=8
        Embedding features per column (besides the value itself).
    sigma : float, default=0.1
        Standard deviation of the initial frequencies.
    activation : {"relu", "identity"}, default="relu"

    Notes
    -----
    Declares ``c`` of shape ``(m, n_frequencies)``, ``W`` of shape
    ``(m, 2 * n_frequencies, dim)`` (regularised) and ``b`` of shape
    ``(m, dim)``, for ``m`` embedded columns; ``m`` columns give
    ``m * (dim + 1)`` outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import NumericEmbedding
    >>> net = Network([NumericEmbedding(n_columns=2, dim=4)])
    >>> net.build((3,), np.float64, np.random.RandomState(0))
    (11,)
    """

    def __init__(self, n_columns=None, n_frequencies=8, dim=8, sigma=0.1, activation="relu"):
        self.n_columns = n_columns
        self.n_frequencies = n_frequencies
        self.dim = dim
        self.sigma = sigma
        self.activation = activation

    def _sizes(self, n_in):
        m = n_in if self.n_columns is None else int(self.n_columns)
        if not 0 <= m <= n_in or isinstance(self.n_columns, bool):
            raise ValueError(f"NumericEmbedding n_columns must be in 0..{n_in}, got {self.n_columns!r}.")
        if self.activation not in ("relu", "identity"):
            raise ValueError(f"NumericEmbedding activation must be 'relu' or 'identity', got {self.activation!r}.")
        if not (isinstance(self.sigma, int | float) and self.sigma > 0):
            raise ValueError(f"NumericEmbedding sigma must be a positive number, got {self.sigma!r}.")
        k = check_positive_int(self.n_frequencies, "NumericEmbedding n_frequencies")
        return m, k, check_positive_int(self.dim, "NumericEmbedding dim")

    def compute_output_shape(self, input_shape):
        n_in = _flat(input_shape, "NumericEmbedding")
        m, _, dim = self._sizes(n_in)
        return (n_in + m * dim,)

    def build(self, input_shape, dtype):
        shape = self.compute_output_shape(input_shape)
        m, k, dim = self._sizes(int(input_shape[0]))
        weights = [
            Weight("W", (m, 2 * k, dim), Normal(1 / math.sqrt(2 * k)), regularized=True),
            Weight("c", (m, k), Normal(self.sigma)),
            Weight("b", (m, dim), Constant(0.0)),
        ]
        return weights, shape

    def forward(self, X, ctx):
        W, c, b = ctx.params["W"], ctx.params["c"], ctx.params["b"]
        m, k, dim = W.shape[0], c.shape[1], W.shape[2]
        n = X.shape[0]
        x = X[:, :m]
        angle = ctx.buffer("angle", (m, n, k), W.dtype)
        np.multiply(x.T[:, :, None], (2 * np.pi) * c[:, None, :], out=angle)
        V = ctx.buffer("V", (m, n, 2 * k), W.dtype)
        np.cos(angle, out=V[:, :, :k])
        np.sin(angle, out=V[:, :, k:])
        Z = ctx.buffer("Z", (m, n, dim), W.dtype)
        np.matmul(V, W, out=Z)
        Z += b[:, None, :]
        if self.activation == "relu":
            np.maximum(Z, zeros_row(dim, Z.dtype), out=Z)
        out = ctx.buffer("Y", (n, X.shape[1] + m * dim), W.dtype)
        out[:, :m] = x
        out[:, m : m + m * dim].reshape(n, m, dim)[...] = Z.transpose(1, 0, 2)
        out[:, m + m * dim :] = X[:, m:]
        if ctx.training:
            ctx.saved["x"], ctx.saved["V"], ctx.saved["Z"] = x, V, Z
        return out

    def backward(self, dY, ctx):
        W, c = ctx.params["W"], ctx.params["c"]
        m, k, dim = W.shape[0], c.shape[1], W.shape[2]
        x, V, Z = ctx.saved["x"], ctx.saved["V"], ctx.saved["Z"]
        n = dY.shape[0]
        dZ = ctx.buffer("dZ", (m, n, dim), W.dtype)
        dZ[...] = dY[:, m : m + m * dim].reshape(n, m, dim).transpose(1, 0, 2)
        if self.activation == "relu":
            dZ *= Z > 0
        dV = ctx.buffer("dV", (m, n, 2 * k), W.dtype)
        np.matmul(dZ, W.transpose(0, 2, 1), out=dV)
        # d cos(a) = -sin(a) da, d sin(a) = cos(a) da; a = 2 pi c x
        d_angle = dV[:, :, k:] * V[:, :, :k]
        d_angle -= dV[:, :, :k] * V[:, :, k:]
        d_angle *= 2 * np.pi
        if ctx.grads:
            np.matmul(V.transpose(0, 2, 1), dZ, out=ctx.grads["W"])
            dZ.sum(axis=1, out=ctx.grads["b"])
            np.einsum("mnk,nm->mk", d_angle, x, out=ctx.grads["c"])
        if not ctx.input_grad:
            return None
        dX = ctx.buffer("dX", (n, dY.shape[1] - m * dim), W.dtype)
        dX[:, :m] = dY[:, :m]
        dX[:, :m] += np.einsum("mnk,mk->nm", d_angle, c)
        dX[:, m:] = dY[:, m + m * dim :]
        return dX


class Scale(Layer):
    """A learned scale per input column: ``Y = X * s`` (RealMLP's scaling
    layer), ``s`` starting at 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Network
    >>> from skann.nn.layers import Scale
    >>> net = Network([Scale()])
    >>> net.build((2,), np.float64, np.random.RandomState(0))
    (2,)
    >>> net.output(np.array([[1.0, -2.0]]))
    array([[ 1., -2.]])
    """

    def compute_output_shape(self, input_shape):
        return (_flat(input_shape, "Scale"),)

    def build(self, input_shape, dtype):
        shape = self.compute_output_shape(input_shape)
        return [Weight("s", shape, Constant(1.0))], shape

    def forward(self, X, ctx):
        out = ctx.buffer("Y", X.shape, ctx.params["s"].dtype)
        np.multiply(X, ctx.params["s"], out=out)
        if ctx.training:
            ctx.saved["X"] = X
        return out

    def backward(self, dY, ctx):
        if ctx.grads:
            np.einsum("ij,ij->j", dY, ctx.saved["X"], out=ctx.grads["s"])
        if not ctx.input_grad:
            return None
        dY *= ctx.params["s"]
        return dY
