"""pytest at the repository root (the test suite's own fixtures live in
tests/conftest.py): what to collect and run depends on the extras installed.

Examples that use an optional dependency (matplotlib, skops) are skipped,
not failed, where it is not installed; plots draw off-screen.
``skann/onnx/`` imports skl2onnx and onnx (the ``onnx`` extra); without
them its doctests are not collected (tests/test_onnx.py skips itself).
"""

import importlib
import importlib.util
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

# Module of a docstring example -> the optional package it needs.
OPTIONAL_DOCTESTS = {"skann._display": "matplotlib"}

collect_ignore_glob = []
if any(importlib.util.find_spec(name) is None for name in ("skl2onnx", "onnx")):
    collect_ignore_glob.append("skann/onnx/*")


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
