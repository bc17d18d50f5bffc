"""Layers to stack in an estimator's ``layers=`` parameter.

The engine's layer classes (:mod:`skann.nn.layers`), public under this
name. Each is configured by its ``__init__`` arguments only, so ``clone``,
``GridSearchCV`` (``layers__0__filters``) and ``set_params`` reach them.
"""

from .nn.layers import (
    AvgPool2D,
    BatchNorm,
    CategoryEmbedding,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    LayerNorm,
    MaxPool2D,
    NumericEmbedding,
    Scale,
)

__all__ = [
    "AvgPool2D",
    "BatchNorm",
    "CategoryEmbedding",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "Layer",
    "LayerNorm",
    "MaxPool2D",
    "NumericEmbedding",
    "Scale",
]
