"""The user pages' code runs, and the pages read as documentation.

Every ``>>>`` example of ``docs/*.rst`` runs as a doctest (one namespace
per page, as a reader types them in order), and every ``.. code-block::
python`` block without prompts is executed in order in a namespace that
first defines the data its prose assumes (``X``, ``y``, a fitted
``model``...). A block that cannot run in a test (it starts a cluster or
reads the reader's own files) is preceded by an rST comment
``.. not-executed: <why>``. The gallery's examples are run by the docs
build, not here.
"""

import doctest
import re
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
PAGES = sorted(path.name for path in DOCS.glob("*.rst"))

# Page -> the optional packages its code needs (skipped without them).
NEEDS = {
    "onnx.rst": ["skl2onnx", "onnx", "onnxruntime"],
    "plotting.rst": ["matplotlib"],
    "persistence.rst": ["skops"],
    "scaling.rst": ["dask_ml"],
    "callbacks.rst": ["sklearn.callback", "rich"],
}

# What the prose of a page assumes before its first code block.
DIGITS = """
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skann import MLPClassifier
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
"""
SETUP = {
    "callbacks.rst": DIGITS,
    "persistence.rst": DIGITS + "model = MLPClassifier(max_iter=20, random_state=0).fit(X, y)\n",
    "plotting.rst": DIGITS + (
        "small_model = MLPClassifier((32,), max_iter=20, early_stopping=True).fit(X, y)\n"
        "large_model = MLPClassifier((256,), max_iter=20, early_stopping=True).fit(X, y)\n"
    ),
    "user_guide.rst": DIGITS,
}

BLOCK = re.compile(
    r"^(?P<indent>[ ]*)\.\. code-block:: python\n(?:(?P=indent)[ ]+:\w+:.*\n)*\n"
    r"(?P<body>(?:(?P=indent)[ ]+.*\n|\n)+)",
    re.MULTILINE,
)
SKIP = re.compile(r"[ ]*\.\. not-executed: ")


def _blocks(text):
    """The prompt-less python code blocks of a page, in order, dedented,
    without those marked ``.. not-executed:``."""
    blocks = []
    for match in BLOCK.finditer(text):
        body = match.group("body")
        lines = body.splitlines()
        first = next(line for line in lines if line.strip())
        if first.lstrip().startswith(">>>"):
            continue  # a doctest, run by test_page_doctests
        if SKIP.match(text[: match.start()].rstrip().rsplit("\n", 1)[-1]):
            continue
        indent = len(first) - len(first.lstrip())
        blocks.append("\n".join(line[indent:] for line in lines).strip() + "\n")
    return blocks


def _needs(page):
    for module in NEEDS.get(page, []):
        pytest.importorskip(module)


@pytest.mark.parametrize("page", PAGES)
def test_page_doctests(page, tmp_path, monkeypatch):
    _needs(page)
    monkeypatch.chdir(tmp_path)  # examples that save files save them here
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testfile(str(DOCS / page), module_relative=False, optionflags=flags)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {page} failed"


@pytest.mark.parametrize("page", [page for page in PAGES if _blocks((DOCS / page).read_text())])
def test_page_code_blocks(page, tmp_path, monkeypatch):
    _needs(page)
    import sklearn

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs.{page}"}
    with warnings.catch_warnings(), sklearn.config_context():
        warnings.simplefilter("ignore")
        exec(SETUP.get(page, ""), namespace)
        for number, block in enumerate(_blocks((DOCS / page).read_text()), 1):
            try:
                exec(compile(block, f"{page}, code block {number}", "exec"), namespace)
            except Exception as error:
                raise AssertionError(f"{page}, code block {number} fails:\n{block}") from error


def test_the_code_block_finder():
    text = (
        "Intro:\n\n.. code-block:: python\n\n    a = 1\n\n    b = a + 1\n\nText.\n\n"
        ".. code-block:: python\n\n    >>> 1\n    1\n\n"
        ".. not-executed: needs a cluster\n\n.. code-block:: python\n\n    start_cluster()\n\n"
        "- item:\n\n  .. code-block:: python\n\n      c = 3\n"
    )
    assert _blocks(text) == ["a = 1\n\nb = a + 1\n", "c = 3\n"]


# Words of a development log, not of documentation: a reader cannot follow
# an issue number, and a page reports what the library does, measured.
DEVELOPMENT_LOG = re.compile(
    r"\bissue \d+|\bissue's\b|\bthe \w+ issue\b|(?-i:\bPASS\b|\bMISS\b)|\bverdict\b"
    r"|\bprototype's\b|\btargets? of issue|\bour target\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("page", PAGES)
def test_pages_carry_no_development_log(page):
    text = (DOCS / page).read_text()
    found = [match.group(0) for match in DEVELOPMENT_LOG.finditer(text)]
    assert not found, f"{page}: {found}"


def test_no_docstring_shows_a_format_escape():
    import skann

    for name in ("MLPClassifier", "MLPRegressor", "AutoEncoder"):
        cls = getattr(skann, name)
        for attribute in ("__doc__", "fit", "partial_fit", "predict", "transform", "score"):
            obj = getattr(cls, attribute, None)
            doc = obj if isinstance(obj, str) else getattr(obj, "__doc__", None) or ""
            assert "{{" not in doc and "}}" not in doc, (name, attribute)
