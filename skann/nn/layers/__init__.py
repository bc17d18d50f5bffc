"""Layers of :class:`~skann.nn.network.Network`: each maps the shape of an
input sample to the shape of an output sample and declares its weights."""

from .base import Layer, Weight
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .embedding import CategoryEmbedding, NumericEmbedding, Scale
from .normalization import BatchNorm, LayerNorm
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from .reshape import Flatten

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
    "Weight",
]
