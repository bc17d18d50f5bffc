"""``class_weight``: per-class factors multiplied into the sample weights.

Classes are read from the encoded targets ``Y`` (what the network trains
on), so one rule serves every kind of target:

- multiclass (softmax, one-hot ``Y``): a row weighs its class's factor;
- binary and multilabel (logistic outputs, 0/1 columns): output ``k`` has
  two classes, 0 and 1, and a row weighs the *product* over outputs of the
  factor of its class in each output, as
  :func:`sklearn.utils.class_weight.compute_sample_weight` does for
  multi-output targets.

The factors form a *table* of shape ``(n_groups, n_classes_per_group)``: one
row of ``n_classes`` factors for a multiclass target, one row ``[factor of
0, factor of 1]`` per output for logistic outputs.
"""

import numpy as np


def class_counts(Y, sample_weight, multiclass):
    """Weighted count of each class, in the table's layout."""
    weight = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if multiclass:
        return (weight @ Y)[None, :]
    positives = weight @ Y
    return np.column_stack([weight.sum() - positives, positives])


def balanced_table(counts):
    """sklearn's "balanced" factors: ``n_samples / (n_classes * count)``
    within each group, over the classes present (count > 0)."""
    present = counts > 0
    n_present = np.maximum(present.sum(axis=1, keepdims=True), 1)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(total, n_present * counts, out=np.ones_like(counts), where=present)


def dict_table(class_weight, classes, single_label, n_outputs):
    """The factors of a dict (single-label) or list of dicts (multilabel).

    Classes missing from a dict weigh 1; keys that are not classes raise.
    """
    if single_label:
        if not isinstance(class_weight, dict):
            raise ValueError(
                "class_weight must be None, 'balanced' or a dict {class label: weight} "
                f"for a single-label target, got a {type(class_weight).__name__}."
            )
        labels = list(classes)
        _check_keys(class_weight, labels, "class_weight")
        table = np.array([[float(class_weight.get(label, 1.0)) for label in labels]])
        return table
    if not isinstance(class_weight, list) or len(class_weight) != n_outputs:
        raise ValueError(
            f"For a multilabel target of {n_outputs} outputs, class_weight must be "
            f"'balanced' or a list of {n_outputs} dicts {{0: weight, 1: weight}}, one per "
            "output (as sklearn's compute_sample_weight)."
        )
    rows = []
    for k, weights in enumerate(class_weight):
        if not isinstance(weights, dict):
            raise ValueError(f"class_weight[{k}] must be a dict {{0: weight, 1: weight}}.")
        _check_keys(weights, [0, 1], f"class_weight[{k}]")
        rows.append([float(weights.get(0, 1.0)), float(weights.get(1, 1.0))])
    return np.array(rows)


def _check_keys(weights, labels, name):
    unknown = [key for key in weights if not any(key == label for label in labels)]
    if unknown:
        raise ValueError(
            f"{name} has keys {unknown} that are not classes; the classes are "
            f"{[label.item() if hasattr(label, 'item') else label for label in labels]}."
        )
    invalid = [key for key, value in weights.items() if not 0 <= value < np.inf]
    if invalid:
        raise ValueError(f"{name} must hold finite, non-negative weights; classes {invalid} do not.")


def row_weights(Y, table, multiclass):
    """Each row's class factor (the product over outputs, for 0/1 columns)."""
    if multiclass:
        return Y @ table[0]
    # A choice, not a blend: table0 + (table1 - table0) * Y cancels to 0
    # for factors of very different size (1e20 and 1).
    factors = np.where(Y > 0.5, table[:, 1], table[:, 0])
    return np.prod(factors, axis=1)


def check_combined_weights(weights, Y, multiclass, single_label):
    """Refuse combined weights (class factors times sample weights) that
    ``sample_weight`` alone would not be allowed to be.

    The same rules as for ``sample_weight``: finite, non-negative, not all
    zero, and, for single-label targets, at least two of the classes present
    with a non-zero weight (one, when only one class is present, as in a
    ``partial_fit`` batch).
    """
    if not len(weights):
        return  # no labelled row (semi-supervised): nothing is weighted
    if not np.isfinite(weights).all():
        raise ValueError(
            "class_weight times sample_weight is not finite for some samples "
            f"(largest class factor times sample weight: {np.max(weights)}). Use "
            "finite class_weight values, small enough that their products with "
            "sample_weight stay below 1.8e308."
        )
    if (weights < 0).any():
        raise ValueError("class_weight times sample_weight must be non-negative.")
    if not weights.any():
        raise ValueError(
            "class_weight times sample_weight is zero for every sample: there is "
            "nothing to learn. Give at least two classes a non-zero class_weight."
        )
    if not single_label:
        return
    classes = Y.argmax(axis=1) if multiclass else Y[:, 0]
    present = np.unique(classes)
    weighted = np.unique(classes[weights > 0])
    if len(weighted) < min(2, len(present)):
        raise ValueError(
            "Only one class has samples with non-zero class_weight times sample_weight; "
            "MLPClassifier needs samples of at least 2 classes. Give at least two "
            "classes a non-zero class_weight."
        )
