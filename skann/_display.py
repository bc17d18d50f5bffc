"""LossCurveDisplay: the training (and validation) loss of a fit, per epoch.

matplotlib is imported only when something is drawn, so skann runs without
it (``pip install "skann[plot]"`` installs it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._base import BaseNetwork
from ._compat import check_matplotlib_support

__all__ = ["LossCurveDisplay"]


class LossCurveDisplay:
    """Loss curves of a fitted skann estimator, from its ``history_``.

    Draws the training loss of every epoch (every iteration for lbfgs) and,
    when the fit monitored validation data (``early_stopping=True``), the
    validation loss, with a marker on the epoch whose weights the fit kept
    (``"restored"`` in ``history_``). Create it with :meth:`from_estimator`;
    the constructor takes data already extracted, as sklearn's Display
    objects do.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers (``history_``'s ``"epoch"``).
    loss : array-like of shape (n_epochs,)
        Training loss of each epoch.
    val_loss : array-like of shape (n_epochs,), default=None
        Validation loss of each epoch, or None when there was none.
    best_epochs : array-like of shape (n_best,), default=None
        Epochs whose weights a fit restored (one per early-stopped fit).
    estimator_name : str, default=None
        Name of the estimator, used as the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the curves.
    figure_ : matplotlib Figure
        Figure containing the curves.
    lines_ : dict of str to matplotlib Line2D
        The drawn artists: ``"loss"``, and ``"val_loss"`` and
        ``"best_epoch"`` (the marker, on the validation curve) when
        drawn.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores by training-set size.

    Notes
    -----
    The losses are those the network minimised: without the L2 penalty for
    the validation loss, with it for the training loss (as
    ``loss_curve_``), and on the scaled target of :class:`MLPRegressor` and
    :class:`AutoEncoder` (``scale_target=True``). With ``warm_start``,
    ``history_`` and so the curves continue across fits.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skann import LossCurveDisplay, MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(early_stopping=True, max_iter=30, random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['best_epoch', 'loss', 'val_loss']
    >>> display.ax_.get_xlabel()
    'Epoch'
    """

    def __init__(
        self,
        *,
        epochs: Any,
        loss: Any,
        val_loss: Any = None,
        best_epochs: Any = None,
        estimator_name: str | None = None,
    ) -> None:
        self.epochs = epochs
        self.loss = loss
        self.val_loss = val_loss
        self.best_epochs = best_epochs
        self.estimator_name = estimator_name

    def plot(
        self,
        ax: Any = None,
        *,
        name: str | None = None,
        loss_kw: dict | None = None,
        val_loss_kw: dict | None = None,
        best_epoch_kw: dict | None = None,
    ) -> LossCurveDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes are created if None.
        name : str, default=None
            Title of the axes; by default ``estimator_name``.
        loss_kw, val_loss_kw, best_epoch_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``plot`` for the
            training loss, the validation loss and the best-epoch marker.

        Returns
        -------
        display : LossCurveDisplay
            This object, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        epochs = np.asarray(self.epochs)
        curve = np.asarray(self.loss, dtype=float)
        lines = {"loss": ax.plot(epochs, curve, **{"label": "Training loss", **(loss_kw or {})})[0]}
        if self.val_loss is not None:
            curve = np.asarray(self.val_loss, dtype=float)
            lines["val_loss"] = ax.plot(
                epochs, curve, **{"label": "Validation loss", **(val_loss_kw or {})}
            )[0]
        best = np.isin(epochs, [] if self.best_epochs is None else self.best_epochs)
        if best.any():  # on the monitored curve: the validation loss if any
            style = {"linestyle": "none", "marker": "o", "color": "black",
                     "label": "Restored (best) epoch", **(best_epoch_kw or {})}
            lines["best_epoch"] = ax.plot(epochs[best], curve[best], **style)[0]
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Loss")
        title = name if name is not None else self.estimator_name
        if title is not None:
            ax.set_title(title)
        ax.legend()
        self.ax_, self.figure_, self.lines_ = ax, ax.figure, lines
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        ax: Any = None,
        name: str | None = None,
        loss_kw: dict | None = None,
        val_loss_kw: dict | None = None,
        best_epoch_kw: dict | None = None,
    ) -> LossCurveDisplay:
        """Draw the loss curves of a fitted estimator.

        Parameters
        ----------
        estimator : MLPClassifier, MLPRegressor, AutoEncoder or Pipeline
            Fitted; for a pipeline, its last step is drawn.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes are created if None.
        name : str, default=None
            Title of the axes; by default the estimator's class name.
        loss_kw, val_loss_kw, best_epoch_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``plot`` for the
            training loss, the validation loss and the best-epoch marker.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        if isinstance(estimator, BaseNetwork):
            check_is_fitted(estimator, "history_")
        elif not hasattr(estimator, "history_"):
            raise TypeError(
                f"{cls.__name__} draws the history_ of a fitted skann estimator "
                f"(or of a Pipeline ending in one); {type(estimator).__name__} has no history_."
            )
        history = estimator.history_
        if not history:
            raise ValueError(f"{type(estimator).__name__}.history_ is empty: nothing to draw.")
        # Fits without validation data (warm start) leave gaps in the curve.
        has_validation = any("val_loss" in record for record in history)
        display = cls(
            epochs=[record["epoch"] for record in history],
            loss=[record["loss"] for record in history],
            val_loss=[record.get("val_loss", np.nan) for record in history] if has_validation else None,
            best_epochs=[record["epoch"] for record in history if record.get("restored")],
            estimator_name=type(estimator).__name__,
        )
        return display.plot(
            ax=ax, name=name, loss_kw=loss_kw, val_loss_kw=val_loss_kw, best_epoch_kw=best_epoch_kw
        )
