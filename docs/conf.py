"""Sphinx configuration for skann's documentation (``pip install ".[docs]"``,
then ``sphinx-build -W --keep-going -b html docs docs/_build/html``; CI and
Read the Docs build it the same way, see .ci/run and .readthedocs.yaml)."""

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
# Signatures read like scikit-learn's (``predict(X)``): the annotations
# (numpy.typing's ArrayLike expands to its internals) stay in the code for
# type checkers; the types a reader needs are in the numpydoc Parameters.
autodoc_typehints = "none"
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


def _data_docstring(app, what, name, obj, options, lines):
    """``skann.SKOPS_TRUSTED_TYPES`` is a list re-exported from
    ``skann._persistence``: autodoc would show ``list``'s own docstring. Use
    the ``#:`` comment above its definition, then the names it holds."""
    if what == "data" and name == "skann.SKOPS_TRUSTED_TYPES":
        from sphinx.pycode import ModuleAnalyzer

        comment = ModuleAnalyzer.for_module("skann._persistence").find_attr_docs()
        lines[:] = ["The skann types a saved model may contain, to trust when loading it with skops.", ""]
        lines += list(comment[("", "SKOPS_TRUSTED_TYPES")])
        lines += ["", "The types, one fully qualified name each:", ""]
        lines += [f"- ``{name}``" for name in obj]


def setup(app):
    app.connect("missing-reference", _sklearn_reference_as_literal)
    app.connect("autodoc-process-docstring", _data_docstring)


# Straight quotes stay straight: the HTML repr's parameter links find a
# parameter by a text fragment of its docstring's type line
# (``{"identity", "logistic", ...}``), which curly quotes would not match.
smartquotes = False
exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"
html_title = f"skann {release}"
html_theme_options = {
    "navigation_with_keys": False,
    # Every top-level page in the top bar, none under "More".
    "header_links_before_dropdown": 7,
    "show_nav_level": 1,
    "navigation_depth": 2,
    # Gallery pages give their width to code and output, not to a page TOC.
    # The search field beside six links wrapped the top bar: an icon instead.
    "navbar_persistent": ["search-button"],
    "secondary_sidebar_items": {
        "**": ["page-toc", "sourcelink"],
        # Wide tables (the comparison, the API summaries) need the room.
        "index": [],
        "api": [],
        **{f"auto_examples/{name[:-3]}": [] for name in os.listdir(
            os.path.join(os.path.dirname(__file__), "..", "examples")) if name.endswith(".py")},
    },
}
# Pages with nothing below them get no left sidebar (it would show an empty
# "Section Navigation"); the user guide, the API reference and the gallery
# list their pages there.
html_sidebars = {page: [] for page in ("index", "choosing", "changelog", "performance")}
html_static_path = ["_static"]
html_css_files = ["skann.css"]
