"""L-BFGS-B over the network's flat parameter buffer, reporting to hooks.

The full-batch counterpart of :class:`~skann.nn.training.TrainingLoop`:
scipy's L-BFGS-B minimises the objective over all rows at once, and each of
its iterations is reported to the same hooks as a loop's epoch (records,
divergence checks, printing, stopping).
"""

import time

import numpy as np
import scipy.optimize

from .hooks import History

__all__ = ["LbfgsLoop", "minimize_lbfgs"]


def minimize_lbfgs(loss_and_gradient, params, max_iter, max_fun, tol, callback=None):
    """Minimise with scipy's L-BFGS-B over the flat buffer ``params``.

    Parameters
    ----------
    loss_and_gradient : callable
        Called with no argument after ``params`` holds the point to evaluate;
        returns ``(loss, grads)`` with ``grads`` a flat array.
    params : ndarray of shape (n_params,)
        Start point; holds the solution on return.
    max_iter, max_fun : int
        Limits on iterations and on function evaluations.
    tol : float
        Tolerance on the projected gradient (``gtol``), as sklearn.
    callback : callable, default=None
        ``callback(loss)`` after each iteration, with ``params`` holding the
        iterate; it may raise ``StopIteration`` to stop.

    Returns
    -------
    result : scipy.optimize.OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from skann.nn.lbfgs import minimize_lbfgs
    >>> params = np.array([3.0])
    >>> result = minimize_lbfgs(
    ...     lambda: ((params[0] - 1) ** 2, 2 * (params - 1)), params, 100, 100, 1e-10
    ... )
    >>> round(float(params[0]), 6)
    1.0
    """

    def fun(point):
        params[...] = point
        loss, grads = loss_and_gradient()
        # scipy keeps the previous gradient, and ``grads`` is overwritten by
        # the next call: hand over a copy.
        return loss, np.array(grads, dtype=np.float64)

    def report(intermediate_result):
        params[...] = intermediate_result.x
        callback(float(intermediate_result.fun))

    result = scipy.optimize.minimize(
        fun,
        params.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        callback=None if callback is None else report,
    )
    params[...] = result.x
    return result


class LbfgsLoop:
    """Full-batch L-BFGS-B training with the training loop's hooks.

    Parameters
    ----------
    network : Network
    objective : callable
        ``objective(network, batch, ctx) -> loss``, as for the loop.
    hooks : list of Hook, default=()

    Each iteration is an epoch to the hooks. ``on_epoch_begin`` of the
    next iteration is called right after an iteration, before scipy decides
    whether to go on: when it stops (converged, ``max_iter``), that last
    epoch began and never ends.

    Attributes
    ----------
    records : list of dict
        One per iteration: ``epoch`` (the iteration, from 1), ``loss``,
        ``samples``, ``seconds`` (``learning_rate`` is None).
    result : scipy.optimize.OptimizeResult
    stopped, stop_reason
        As :class:`~skann.nn.training.TrainingLoop`.
    """

    schedule = None

    def __init__(self, network, objective, hooks=()):
        self.network = network
        self.objective = objective
        self.history = History()
        self.hooks = [*hooks, self.history]

    def run(self, batch, max_iter, max_fun, tol):
        """Minimise the objective over ``batch`` (all rows); return the records.

        Parameters
        ----------
        batch : Batch
            Every training row.
        max_iter, max_fun : int
            Limits on iterations and on function evaluations.
        tol : float
            Tolerance on the projected gradient (see :func:`minimize_lbfgs`).

        Returns
        -------
        records : list of dict
            One per iteration.
        """
        network = self.network
        ctx = network.context(training=True)
        self.stopped, self.stop_reason = False, None
        for hook in self.hooks:
            hook.on_fit_begin(self)
        for hook in self.hooks:
            hook.on_epoch_begin(self, 1)
        started = [time.perf_counter()]

        def loss_and_gradient():
            return self.objective(network, batch, ctx), network.grads

        def iteration(loss):
            record = {
                "epoch": len(self.history.records) + 1,
                "loss": loss,
                "learning_rate": None,
                "samples": batch.n_rows,
                "seconds": time.perf_counter() - started[0],
            }
            started[0] = time.perf_counter()
            stop = [hook.on_epoch_end(self, record) for hook in self.hooks]
            if any(stop):
                self.stopped = True
                raise StopIteration
            for hook in self.hooks:  # scipy may end here, leaving it unfinished
                hook.on_epoch_begin(self, record["epoch"] + 1)

        self.result = minimize_lbfgs(
            loss_and_gradient, network.params, max_iter, max_fun, tol, callback=iteration
        )
        for hook in self.hooks:
            hook.on_fit_end(self)
        return self.history.records

    @property
    def records(self):
        """The iterations run so far (the :class:`~skann.nn.hooks.History` hook's)."""
        return getattr(self.history, "records", [])
