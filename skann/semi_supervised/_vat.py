"""Virtual adversarial perturbations (Miyato et al., 2018).

The direction in which a small step of the input changes the network's
prediction the most, found with one power iteration: one forward pass of
the slightly moved rows and one backward pass to the input only
(:meth:`skann.nn.Network.input_gradient`), no weight gradient.
"""

import numpy as np

__all__ = ["VirtualAdversarial"]

# Length of the power iteration's probe step: Miyato et al.'s 1e-6 in
# float64; float32 would round so small a step of the inputs away, so there
# it is this share of the radius.
PROBE_STEP = 1e-6
FLOAT32_PROBE_SHARE = 1e-2


class VirtualAdversarial:
    """The virtual adversarial rows ``X + r`` of a batch.

    Parameters
    ----------
    radius : float
        Euclidean length of each row's perturbation ``r``, in the units of
        X; see :func:`~skann.semi_supervised._graph.perturbation_radius`.
    output : callable
        ``output(scores, out) -> P``, the output activation (a softmax:
        the loss's ``output``).
    rng : numpy.random.Generator
        Draws the probe directions (and dropout masks of the probe pass).
    probe_step : float, default=None
        Length of the probe step ``d``; 1e-6 for float64 networks, 1e-2 of
        ``radius`` for float32 ones.

    Notes
    -----
    With ``p`` the network's prediction on the clean rows (held fixed),
    ``u`` a random unit direction and ``q(x) = softmax(f(x))``:

    .. math::

        g = \\nabla_d \\, \\mathrm{KL}(p \\,\\|\\, q(x + d)) \\big|_{d = \\xi u},
        \\qquad r = \\epsilon \\, g / \\|g\\|,

    row by row. The gradient at the output is ``q - p``; the network
    carries it to the input. The probe pass runs in training mode in a
    context of its own (dropout draws its own masks), so the caller's
    context and the network's ``grads`` are left as they were.

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn import Dense, Network, get_loss
    >>> from skann.semi_supervised._vat import VirtualAdversarial
    >>> net = Network([Dense(8, "tanh"), Dense(3, "identity")])
    >>> _ = net.build((2,), np.float64, np.random.RandomState(0))
    >>> X = np.random.RandomState(1).normal(size=(4, 2))
    >>> softmax = get_loss("log_loss").output
    >>> vat = VirtualAdversarial(0.5, softmax, np.random.default_rng(0))
    >>> X_adv = vat(net, X, softmax(net.output(X), None))
    >>> np.linalg.norm(X_adv - X, axis=1).round(6).tolist()
    [0.5, 0.5, 0.5, 0.5]
    """

    def __init__(self, radius, output, rng, probe_step=None):
        if not np.isfinite(radius) or radius <= 0:
            raise ValueError(f"The perturbation radius must be a positive number, got {radius!r}.")
        self.radius = float(radius)
        self.output = output
        self.rng = rng
        self.probe_step = probe_step
        self._network = self._ctx = None

    def __call__(self, network, X, P):
        """The perturbed rows, a new array.

        Parameters
        ----------
        network : Network
        X : ndarray of shape (n_rows, n_features)
            Dense rows in the network's compute dtype.
        P : ndarray of shape (n_rows, n_outputs)
            The network's (output-activated) prediction on ``X``.

        Returns
        -------
        X_adv : ndarray of shape (n_rows, n_features)
        """
        if self._network is not network:  # one probe context per network, reused
            self._network, self._ctx = network, network.context(training=True, rng=self.rng)
        dtype = X.dtype
        step = self.probe_step
        if step is None:
            step = PROBE_STEP if dtype == np.float64 else FLOAT32_PROBE_SHARE * self.radius
        direction = self.rng.standard_normal(X.shape, dtype=dtype)
        _unit_rows(direction)
        probe = np.multiply(direction, dtype.type(step))
        probe += X
        scores = network.forward(probe, self._ctx)
        Q = self.output(scores, out=self._ctx.buffers.get("probe", scores.shape, scores.dtype))
        Q -= P  # the gradient of KL(p || q) at the scores
        gradient = network.input_gradient(Q, self._ctx)
        np.copyto(direction, gradient)
        _unit_rows(direction)
        direction *= dtype.type(self.radius)
        direction += X
        return direction


def _unit_rows(array):
    """Scale each row of ``array`` to unit length in place (zero rows stay zero)."""
    norms = np.sqrt(np.einsum("ij,ij->i", array, array))
    norms[norms == 0] = 1
    array /= norms[:, None]
    return array
