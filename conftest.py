"""Doctest set-up for the whole repository (the test suite's own fixtures
live in tests/conftest.py).

Examples that use an optional dependency (matplotlib, skops) are skipped,
not failed, where it is not installed; plots draw off-screen.
"""

import importlib
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

# Module of a docstring example -> the optional package it needs.
OPTIONAL_DOCTESTS = {"skann._display": "matplotlib"}


def _missing(package):
    try:
        importlib.import_module(package)
    except ImportError:
        return True
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not isinstance(item, pytest.DoctestItem):
            continue
        for module, package in OPTIONAL_DOCTESTS.items():
            if item.name.startswith(module + ".") and _missing(package):
                item.add_marker(pytest.mark.skip(reason=f"needs {package}"))
