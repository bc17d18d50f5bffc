"""Sphinx configuration for skann's documentation (``pip install ".[docs]"``,
then ``sphinx-build -W -b html docs docs/_build/html``)."""

import os
import sys

from docutils import nodes

import skann

sys.path.insert(0, os.path.dirname(__file__))  # _gallery_order

project = "skann"
release = version = skann.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# examples/*.py -> a gallery page each, run at build time, in the order of
# docs/_gallery_order.py.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "within_subsection_order": "_gallery_order.GalleryOrder",
}
autosummary_generate = True
# Class pages list and document every public method, inherited ones included
# (docs/_templates/autosummary/class.rst); numpydoc renders the docstrings'
# Parameters / Attributes sections and does not add its own member tables.
templates_path = ["_templates"]
numpydoc_show_class_members = False
autodoc_default_options = {"inherited-members": True}
# No intersphinx: the build must work offline. Methods inherited from
# scikit-learn (score, get_metadata_routing, set_*_request, set_output...)
# keep their docstrings, which point at labels and glossary terms of
# scikit-learn's own documentation; those render as plain literals here.
# Only these names: any other unresolved reference still fails the -W build.
SKLEARN_LABELS = {
    "accuracy_score",
    "r2_score",
    "metadata_routing",
    "meta-estimator",
    "df_output_transform",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
}


def _sklearn_reference_as_literal(app, env, node, contnode):
    if node.get("refdomain") == "std" and node.get("reftarget", "").lower() in SKLEARN_LABELS:
        return nodes.literal(text=contnode.astext())
    return None


def setup(app):
    app.connect("missing-reference", _sklearn_reference_as_literal)


exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"
html_theme_options = {"navigation_with_keys": False}
