"""What ships: py.typed, extras that each stand for code, docs and tests,
and no optional dependency imported with skann."""

import ast
import importlib.resources
import os
import subprocess
import sys
from pathlib import Path

import skann

REPO_ROOT = Path(__file__).parents[1]

# extra -> (module it installs, code that uses it, the docs page, the tests)
EXTRA_USES = {
    "plot": ("matplotlib", "skann/_display.py", "docs/plotting.rst", "tests/test_display.py"),
    "persist": ("skops", "skann/_persistence.py", "docs/persistence.rst", "tests/test_persistence.py"),
    "dask": ("dask_ml", "docs/scaling.rst", "docs/scaling.rst", "tests/test_dask.py"),
    "onnx": ("skl2onnx", "skann/onnx/_estimators.py", "docs/onnx.rst", "tests/test_onnx.py"),
    "progress": ("rich", "examples/plot_callbacks.py", "docs/callbacks.rst", "tests/test_callbacks.py"),
    "docs": ("sphinx", "docs/conf.py", "README.rst", None),
}


def _extras():
    """setup.py's EXTRAS, read without running setup(): its assignments of
    upper-case names (lists of requirements and the EXTRAS dict)."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text())
    namespace = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            target = node.targets[0]
            name = target.value.id if isinstance(target, ast.Subscript) else getattr(target, "id", "")
            if name.isupper() and name not in ("HERE", "VERSION"):
                exec(compile(ast.Module([node], []), "setup.py", "exec"), namespace)
    return namespace["EXTRAS"]


def test_py_typed_ships():
    assert importlib.resources.files("skann").joinpath("py.typed").is_file()
    assert '"py.typed"' in (REPO_ROOT / "setup.py").read_text()


def test_every_extra_has_code_docs_and_tests():
    extras = _extras()
    assert set(extras) == set(EXTRA_USES) | {"test"}
    for extra, (module, code, docs, tests) in EXTRA_USES.items():
        assert module.replace("_", "-") in " ".join(extras[extra]).replace("_", "-"), extra
        assert module.split(".")[0] in (REPO_ROOT / code).read_text(), (extra, code)
        docs_text = (REPO_ROOT / docs).read_text()
        assert f"skann[{extra}]" in docs_text or f'".[{extra}]"' in docs_text, (extra, docs)
        if tests is not None:
            assert f'importorskip("{module}' in (REPO_ROOT / tests).read_text(), (extra, tests)


def test_test_extra_installs_every_tested_extra():
    extras = _extras()
    for extra, (_, _, _, tests) in EXTRA_USES.items():
        if tests is not None:
            assert set(extras[extra]) <= set(extras["test"]), extra


def test_optional_dependencies_are_not_imported_with_skann():
    code = (
        "import sys, skann, skann.nn, skann.layers, skann.exceptions\n"
        "assert skann.__file__.startswith(sys.argv[1]), skann.__file__\n"
        "print(sorted(m for m in ('matplotlib', 'skops', 'dask', 'dask_ml', 'distributed')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO_ROOT)], cwd=REPO_ROOT, capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, check=True,
    )
    assert result.stdout.strip() == "[]"


def test_public_api_is_annotated():
    import inspect

    methods = {
        skann.MLPClassifier: ["fit", "partial_fit", "predict", "predict_proba", "predict_log_proba"],
        skann.MLPRegressor: ["fit", "partial_fit", "predict"],
        skann.AutoEncoder: ["fit", "partial_fit", "transform", "inverse_transform", "score"],
        skann.LossCurveDisplay: ["plot", "from_estimator"],
    }
    for cls, names in methods.items():
        for name in names:
            signature = inspect.signature(getattr(cls, name))
            assert signature.return_annotation is not inspect.Signature.empty, (cls, name)
            assert "X" not in signature.parameters or signature.parameters["X"].annotation != inspect.Parameter.empty
    assert inspect.signature(skann.make_labelled_scorer).return_annotation == "LabelledScorer"
