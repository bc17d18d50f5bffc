"""The linear blend of the Tabular estimators.

A linear model (sklearn's ``LogisticRegression`` or ``Ridge`` at their
defaults) is fitted on the preprocessor's output of the training rows,
with their sample weights, beside the network. Predictions are
``(1 - w) * network + w * linear`` (probabilities for classifiers,
values for regressors), with ``w`` the point of ``BLEND_GRID`` whose
blend has the lowest loss on the validation rows (the smallest such
``w`` on ties). On small or nearly linear tables the network can lose
to the linear model; the blend lets the validation data decide how
much of each to keep.

Blends are expressed as raw scores, so that every prediction method
works on them unchanged: log-probabilities (softmax of them gives the
blended probabilities), logits (binary) or standardised values.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

__all__ = ["BLEND_GRID", "blend_kind", "blended_scores", "fit_blend"]

BLEND_GRID = np.linspace(0.0, 1.0, 11)


def blend_kind(encoder, loss):
    """"softmax", "logistic", "values" or None (no blend for this target)."""
    name = getattr(encoder, "loss_name", None)
    if name == "log_loss":
        return "softmax"
    if name == "binary_log_loss":
        return "logistic" if encoder.binarizer.y_type_ == "binary" else None  # not multilabel
    if type(loss).__name__ == "SquaredError":
        return "values"
    return None


def _softmax(scores):
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return scores / scores.sum(axis=1, keepdims=True)


def _network_outputs(kind, scores):
    scores = np.asarray(scores, dtype=np.float64)
    if kind == "softmax":
        return _softmax(scores)
    if kind == "logistic":
        return 1.0 / (1.0 + np.exp(-scores))
    return scores


def _linear_outputs(kind, linear, X):
    if kind == "softmax":
        return linear.predict_proba(X)
    if kind == "logistic":
        return linear.predict_proba(X)[:, 1:]
    prediction = linear.predict(X)
    return prediction.reshape(prediction.shape[0], -1)


def _losses(kind, network, linear, Y, weight):
    """Weighted validation loss of the blend at each point of ``BLEND_GRID``."""
    tiny = np.finfo(np.float64).tiny
    losses = []
    for w in BLEND_GRID:
        blend = (1 - w) * network + w * linear
        if kind == "softmax":
            rows = -np.sum(Y * np.log(np.maximum(blend, tiny)), axis=1)
        elif kind == "logistic":
            blend = np.clip(blend, tiny, 1 - np.finfo(np.float64).epsneg)
            rows = -np.sum(Y * np.log(blend) + (1 - Y) * np.log1p(-blend), axis=1)
        else:
            rows = np.sum((Y - blend) ** 2, axis=1)
        losses.append(np.average(rows, weights=weight))
    return np.asarray(losses)


def fit_blend(data, loss, network_scores):
    """The linear model and blend weight for a fit, as fitted attributes.

    Parameters
    ----------
    data : FitData
        The fit's encoded data, with its validation rows.
    loss : Loss
        The network's loss (regressors blend squared-error fits only).
    network_scores : callable
        Raw scores of the fitted network for encoded rows.

    Returns
    -------
    attributes : dict
        ``linear_model_`` (None when the weight is 0 or there is no
        validation data or linear model for this target) and
        ``linear_weight_``.
    """
    none = {"linear_model_": None, "linear_weight_": 0.0}
    kind = blend_kind(data.encoder, loss)
    if kind is None or data.validation is None:
        return none
    X_val, Y_val, weight_val = data.validation
    X, Y, weight = data.X, np.asarray(data.Y), data.sample_weight
    if kind == "values":
        linear, target = Ridge(), Y if Y.shape[1] > 1 else Y.ravel()
    else:
        target = np.argmax(Y, axis=1) if kind == "softmax" else Y.ravel().astype(int)
        n_classes = Y.shape[1] if kind == "softmax" else 2
        present = target if weight is None else target[weight > 0]
        if len(np.unique(present)) < n_classes:
            return none  # a class missing from the training rows
        linear = LogisticRegression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear.fit(X, target, sample_weight=weight)
    network = _network_outputs(kind, network_scores(X_val))
    losses = _losses(kind, network, _linear_outputs(kind, linear, X_val), np.asarray(Y_val, float), weight_val)
    if not np.all(np.isfinite(losses)):
        return none
    w = float(BLEND_GRID[int(np.argmin(losses))])
    return none if w == 0 else {"linear_model_": linear, "linear_weight_": w}


def blended_scores(scores, kind, linear, w, X):
    """``scores`` of the network for encoded ``X`` blended with ``linear``
    at weight ``w``, as raw scores of the same dtype."""
    network = _network_outputs(kind, scores)
    blend = (1 - w) * network + w * _linear_outputs(kind, linear, X)
    tiny = np.finfo(np.float64).tiny
    if kind == "softmax":
        blend = np.log(np.maximum(blend, tiny))
    elif kind == "logistic":
        blend = np.clip(blend, tiny, 1 - np.finfo(np.float64).epsneg)
        blend = np.log(blend) - np.log1p(-blend)
    return blend.astype(scores.dtype, copy=False)
