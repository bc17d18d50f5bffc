"""Layers of :class:`~skann.nn.network.Network`: each maps the shape of an
input sample to the shape of an output sample and declares its weights."""

from .base import Layer, Weight
from .dense import Dense

__all__ = ["Dense", "Layer", "Weight"]
