"""Sphinx configuration for skann's documentation (``pip install ".[docs]"``,
then ``sphinx-build -b html docs docs/_build/html``)."""

import skann

project = "skann"
release = version = skann.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
