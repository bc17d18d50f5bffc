"""Scoring partly labelled data: model selection on labelled samples only."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring

from .._compat import _safe_indexing
from .._typing import ArrayLike, MatrixLike
from ._markers import marker_mask

__all__ = ["LabelledScorer", "make_labelled_scorer"]


class LabelledScorer:
    """A scorer that scores the labelled samples of a test set only.

    Cross-validation of a semi-supervised estimator splits unlabelled
    samples into the test folds too; an ordinary scorer would count their
    marker as a wrong answer. This one drops them first. Build it with
    :func:`make_labelled_scorer`.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        The scorer to apply to the labelled samples (as in
        :func:`sklearn.metrics.check_scoring`); None uses the estimator's
        ``score`` method.
    unlabelled_marker : str, int or float, default="auto"
        Target value of unlabelled samples. "auto" takes the estimator's
        own ``unlabelled_marker`` (also inside a pipeline) when it names
        one, else -1 for classifiers and NaN for regressors.
    """

    def __init__(
        self, scoring: str | Callable | None = None, unlabelled_marker: str | float = "auto"
    ) -> None:
        self.scoring = scoring
        self.unlabelled_marker = unlabelled_marker

    def __call__(
        self, estimator: Any, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Score ``estimator`` on the labelled rows of ``(X, y)``.

        Returns NaN when no row is labelled (``GridSearchCV`` ranks such
        candidates last).
        """
        labelled = np.flatnonzero(~marker_mask(y, self._marker(estimator)))
        if not len(labelled):
            return np.nan
        scorer = check_scoring(estimator, self.scoring)
        kwargs = {}
        if sample_weight is not None:
            kwargs["sample_weight"] = np.asarray(sample_weight)[labelled]
        return scorer(
            estimator, _safe_indexing(X, labelled), _safe_indexing(y, labelled), **kwargs
        )

    def _marker(self, estimator):
        marker = self.unlabelled_marker
        if not (isinstance(marker, str) and marker == "auto"):
            return marker
        for name, value in estimator.get_params().items():
            if name.endswith("unlabelled_marker") and not (
                isinstance(value, str) and value == "auto"
            ):
                return value
        return -1 if is_classifier(estimator) else np.nan

    def __repr__(self):
        return (
            f"make_labelled_scorer(scoring={self.scoring!r}, "
            f"unlabelled_marker={self.unlabelled_marker!r})"
        )


def make_labelled_scorer(
    scoring: str | Callable | None = None, *, unlabelled_marker: str | float = "auto"
) -> LabelledScorer:
    """Make a scorer that ignores unlabelled samples, for model selection.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        The scorer for the labelled samples; None uses the estimator's
        ``score`` (accuracy, or R²).
    unlabelled_marker : str, int or float, default="auto"
        Target value of unlabelled samples; "auto" follows the estimator's
        ``unlabelled_marker`` (-1 for classifiers, NaN for regressors).

    Returns
    -------
    scorer : LabelledScorer
        A callable ``scorer(estimator, X, y)`` for ``GridSearchCV``,
        ``cross_val_score`` and friends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skann import MLPClassifier, make_labelled_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> y_partial = np.where(np.random.RandomState(0).rand(len(y)) < 0.7, -1, y)
    >>> search = GridSearchCV(
    ...     MLPClassifier(max_iter=50, random_state=0),
    ...     {"semi_supervised": ["labelled_only", "pseudo_label", "entropy"]},
    ...     scoring=make_labelled_scorer(), cv=3,
    ... ).fit(X, y_partial)
    >>> search.best_params_["semi_supervised"] in ("labelled_only", "pseudo_label", "entropy")
    True

    ``"labelled_only"`` is the baseline: the same network trained on the
    labelled samples alone (``None`` would train the marker ``-1`` as a
    class).
    """
    return LabelledScorer(scoring, unlabelled_marker)
