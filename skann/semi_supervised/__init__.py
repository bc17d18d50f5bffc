"""Learning from unlabelled samples: markers, methods, training and scoring.

- :mod:`._markers`: which samples are unlabelled;
- :mod:`._objectives`: the unsupervised loss term of each method;
- :mod:`._perturbations`: perturbed views (noise, feature dropout, mixup);
- :mod:`._training`: the batch plan and objective run by the engine's loop;
- :mod:`._graph`, :mod:`._vat`, :mod:`._graph_training`: the graph-aware
  method (neighbour graph, LabelSpreading's soft targets, virtual
  adversarial rows; its plan and objective);
- :mod:`._guard`: the supervised fallback guard and ``transduction_``;
- :mod:`._scoring`: scoring the labelled samples of a test set.
"""

from ._guard import HeldOutJudge, guard_split, transduction
from ._markers import Marking, check_labelled, marker_mask, marking, resolve_marker, unlabelled_mask
from ._objectives import CLASSIFICATION_METHODS, LABELLED_ONLY, METHODS, REGRESSION_METHODS
from ._scoring import LabelledScorer, make_labelled_scorer

__all__ = [
    "CLASSIFICATION_METHODS",
    "LABELLED_ONLY",
    "HeldOutJudge",
    "LabelledScorer",
    "Marking",
    "METHODS",
    "REGRESSION_METHODS",
    "check_labelled",
    "guard_split",
    "make_labelled_scorer",
    "marker_mask",
    "marking",
    "resolve_marker",
    "transduction",
    "unlabelled_mask",
]
