"""pytest at the repository root: what to collect depends on the extras installed.

``skann/onnx/`` imports skl2onnx and onnx (the ``onnx`` extra); without
them its doctests are not collected (tests/test_onnx.py skips itself).
"""

import importlib.util

collect_ignore_glob = []
if any(importlib.util.find_spec(name) is None for name in ("skl2onnx", "onnx")):
    collect_ignore_glob.append("skann/onnx/*")
