"""Loss functions fused with their output activation.

Every loss here pairs with its canonical output activation (softmax with the
multiclass log-loss, logistic with the binary log-loss, identity with the
squared error, exp with the Poisson deviance), so the gradient with respect
to the last layer's pre-activation is simply ``(P - Y) * w / sum(w)``. The
network never differentiates the output activation separately.

Loss values are weighted means over samples (``sum_i w_i l_i / sum_i w_i``)
and sums over outputs, so that the value and the gradient agree exactly.
"""

import numpy as np
from scipy.special import expit, xlogy

try:  # The C functions behind np.clip and np.einsum, without their Python wrappers.
    from numpy._core.multiarray import c_einsum
    from numpy._core.umath import clip as _clip
except ImportError:  # numpy < 2, or one that moved them: the public functions (same results)
    c_einsum, _clip = np.einsum, np.clip

__all__ = ["Loss", "LOSSES", "get_loss", "row_reduce"]


# np.finfo(dtype).eps by dtype: a dictionary look-up per batch instead of
# np.finfo's Python call.
_EPS = {np.dtype(dtype): np.finfo(dtype).eps for dtype in (np.float16, np.float32, np.float64, np.longdouble)}


def _eps(dtype):
    eps = _EPS.get(dtype)
    return np.finfo(dtype).eps if eps is None else eps


def _sample_mean(per_sample, sample_weight):
    """Weighted mean over rows of a per-sample loss vector.

    Rows of zero weight count for nothing: a batch whose weights are all 0
    has loss 0 (and, in :meth:`Loss.gradient`, a zero gradient).
    """
    if sample_weight is None:
        # per_sample.mean() without its Python wrapper (a call per batch):
        # the same sum and division; mean() itself where there is no row.
        n_rows = per_sample.shape[0]
        return float(np.add.reduce(per_sample) / n_rows) if n_rows else float(per_sample.mean())
    total = sample_weight.sum()
    if total <= 0:
        return 0.0
    return float(np.dot(per_sample, sample_weight) / total)


# Rows from which a row reduction goes column by column (below), and the
# widest rows it does so for: sums below 8 columns, maxima up to 16.
COLUMN_REDUCE_ROWS, COLUMN_REDUCE_WIDTH, COLUMN_MAX_WIDTH = 32, 8, 16


def row_reduce(ufunc, Z):
    """``ufunc.reduce(Z, axis=1, keepdims=True)``, fast for narrow ``Z``.

    numpy reduces a short last axis one row at a time: the softmax's row
    maximum of 10,000 x 3 float64 scores took 272 µs, against 22 µs as a
    vectorised pass per column. Below 8 columns numpy adds a row left to
    right, as the column passes do, so the results are the same bits; a
    maximum does not depend on the order of its operands (where a -0.0 and
    a 0.0 maximum differ, the softmax that subtracts it does not), so
    maxima go column by column up to 16 columns (the 10-class softmax of a
    200-row batch: 5.1 µs instead of 6.9 µs). Wider or short ``Z`` keeps
    numpy's reduction (its pairwise sums).

    Parameters
    ----------
    ufunc : numpy.ufunc
        ``np.add`` or ``np.maximum``.
    Z : ndarray of shape (n_rows, n_columns)

    Returns
    -------
    reduced : ndarray of shape (n_rows, 1), or a scalar for one row

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.losses import row_reduce
    >>> Z = np.arange(120.0).reshape(40, 3)
    >>> np.array_equal(row_reduce(np.add, Z), Z.sum(axis=1, keepdims=True))
    True
    """
    n_rows, width = Z.shape
    if n_rows == 1:
        # A scalar: it broadcasts as the (1, 1) array would, and numpy's
        # operations with a scalar cost half those with an array to
        # broadcast (6,400 against 13,800 instructions for 3 values).
        return ufunc.reduce(Z[0])
    widest = COLUMN_MAX_WIDTH if ufunc is np.maximum else COLUMN_REDUCE_WIDTH - 1
    if n_rows < COLUMN_REDUCE_ROWS or not 2 <= width <= widest:
        return ufunc.reduce(Z, axis=1, keepdims=True)
    reduced = ufunc(Z[:, 0], Z[:, 1])
    for column in range(2, width):
        ufunc(reduced, Z[:, column], out=reduced)
    return reduced[:, None]


class Loss:
    """Base class of losses.

    Attributes
    ----------
    name : str
        Registry name.
    output_activation : str
        Name of the activation applied to the network's last layer; matches
        sklearn's ``out_activation_``.
    """

    name = None
    output_activation = None

    def output(self, Z, out):
        """Apply the output activation to raw scores ``Z``, into ``out``.

        ``out`` may be ``Z`` itself (in place) or ``None`` (a new array).

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
        out : ndarray or None
        """
        raise NotImplementedError

    def per_sample(self, Y, P):
        """Loss of each sample (summed over outputs), shape ``(n_samples,)``.

        Parameters
        ----------
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets.
        P : ndarray of shape (n_samples, n_outputs)
            Predictions (after the output activation).
        """
        raise NotImplementedError

    def value(self, Y, P, sample_weight=None):
        """Weighted mean loss of predictions ``P`` against targets ``Y``.

        Parameters
        ----------
        Y, P : ndarray of shape (n_samples, n_outputs)
            As in :meth:`per_sample`.
        sample_weight : ndarray of shape (n_samples,), default=None
        """
        return _sample_mean(self.per_sample(Y, P), sample_weight)

    def gradient(self, Y, P, sample_weight=None, out=None):
        """Gradient of :meth:`value` with respect to the raw scores.

        Parameters
        ----------
        Y : ndarray of shape (n_samples, n_outputs)
        P : ndarray of shape (n_samples, n_outputs)
            Output of :meth:`output`.
        sample_weight : ndarray of shape (n_samples,), default=None
        out : ndarray, default=None
            Buffer for the result; may be ``P`` itself.

        Returns
        -------
        dZ : ndarray of shape (n_samples, n_outputs)
        """
        dZ = np.subtract(P, Y, out=out)
        if sample_weight is None:
            # A scalar of dZ's dtype: the same rounded factor as a 0-d array, cheaper.
            dZ *= dZ.dtype.type(1.0 / P.shape[0])
            return dZ
        total = sample_weight.sum()
        if total <= 0:  # no row counts: no gradient (not 0 / 0)
            dZ[...] = 0
            return dZ
        # The ratio in the weights' own dtype (float64 in the estimators),
        # so that weights beyond float32's range still scale correctly.
        dZ *= (sample_weight / total).astype(dZ.dtype, copy=False)[:, None]
        return dZ

    def __repr__(self):
        return f"{type(self).__name__}()"


class LogLoss(Loss):
    """Multiclass cross-entropy with a softmax output."""

    name = "log_loss"
    output_activation = "softmax"

    def output(self, Z, out):
        out = np.subtract(Z, row_reduce(np.maximum, Z), out=out)
        np.exp(out, out=out)
        out /= row_reduce(np.add, out)
        return out

    def per_sample(self, Y, P):
        # np.clip's own ufunc, without its Python wrappers (a call per batch).
        return -np.add.reduce(xlogy(Y, _clip(P, _eps(P.dtype), 1)), axis=1)

    def value(self, Y, P, sample_weight=None):
        n_rows = P.shape[0]
        if sample_weight is not None or not n_rows:
            return super().value(Y, P, sample_weight)
        # The unweighted mean of per_sample in place, negated once at the
        # end: the same sums with their signs flipped, so the same bits.
        terms = _clip(P, _eps(P.dtype), 1)
        xlogy(Y, terms, out=terms)
        return float(-np.add.reduce(np.add.reduce(terms, axis=1)) / n_rows)


class BinaryLogLoss(Loss):
    """Binary (and multilabel) cross-entropy with a logistic output."""

    name = "binary_log_loss"
    output_activation = "logistic"

    def output(self, Z, out):
        return expit(Z, out=out)

    def per_sample(self, Y, P):
        eps = _eps(P.dtype)
        P = _clip(P, eps, 1 - eps)
        return -(xlogy(Y, P) + xlogy(1 - Y, 1 - P)).sum(axis=1)


class SquaredError(Loss):
    """Half the squared error, with an identity output."""

    name = "squared_error"
    output_activation = "identity"

    def output(self, Z, out):
        if out is None:
            return Z.copy()
        if out is not Z:
            np.copyto(out, Z)
        return out

    def per_sample(self, Y, P):
        residual = P - Y
        # np.einsum's own C function, without its Python wrapper.
        return 0.5 * c_einsum("ij,ij->i", residual, residual)


class PoissonLoss(Loss):
    """Half the Poisson deviance, with an exponential output (log link)."""

    name = "poisson"
    output_activation = "exp"

    def output(self, Z, out):
        return np.exp(Z, out=out)

    def per_sample(self, Y, P):
        return (xlogy(Y, Y / P) - Y + P).sum(axis=1)


LOSSES = {cls.name: cls for cls in (LogLoss, BinaryLogLoss, SquaredError, PoissonLoss)}


def get_loss(name):
    """Return a new loss object from its registry name.

    Parameters
    ----------
    name : str or Loss
        One of ``LOSSES`` or a :class:`Loss` instance.

    Returns
    -------
    loss : Loss

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.losses import get_loss
    >>> loss = get_loss("squared_error")
    >>> Y, P = np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]])
    >>> loss.value(Y, P)
    0.0625
    >>> loss.gradient(Y, P)
    array([[0.25],
           [0.  ]])
    """
    if isinstance(name, Loss):
        return name
    try:
        return LOSSES[name]()
    except (KeyError, TypeError):
        raise ValueError(f"Unknown loss {name!r}; choose one of {sorted(LOSSES)}.") from None
