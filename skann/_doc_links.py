"""Links from the estimators' HTML repr (in notebooks) to skann's API pages."""

import os
import re

__all__ = ["API_PAGE_URL", "DOCS_URL", "DocLinkMixin", "docs_url"]

#: Where the documentation is published: Read the Docs builds the site from
#: the repository (``.readthedocs.yaml``, the same ``sphinx-build`` as CI)
#: under one URL per version. The ``SKANN_DOCS_URL`` environment variable
#: replaces it, e.g. ``file:///path/to/skann/docs/_build/html`` for a local
#: build or the address of a mirror (``{version}`` is filled in there too).
DOCS_URL = "https://skann.readthedocs.io/en/{version}"

#: An estimator's API page under the documentation's root: the pages that
#: docs/api.rst's autosummary writes to ``generated/``.
API_PAGE = "/generated/skann.{estimator_name}.html"

#: The default link of an estimator's API page.
API_PAGE_URL = DOCS_URL + API_PAGE


def docs_version():
    """The docs version of this skann: its own for releases (``"0.1.0"``),
    "latest" for development versions (``"0.2.0.dev0"``)."""
    from . import __version__

    release = re.fullmatch(r"\d+(\.\d+)*", __version__)
    return __version__ if release else "latest"


def docs_url():
    """The documentation root the links point to: ``SKANN_DOCS_URL`` when
    set, else :data:`DOCS_URL` (still with its ``{version}`` field)."""
    return os.environ.get("SKANN_DOCS_URL", DOCS_URL).rstrip("/")


class DocLinkMixin:
    """Point sklearn's HTML repr (the "?" icon, the parameter links) at skann.

    sklearn builds the links from ``_doc_link_module``,
    ``_doc_link_template`` and ``_doc_link_url_param_generator`` (see
    ``sklearn.utils._repr_html.base._HTMLDocumentationLinkMixin``). As in
    sklearn, the template is a property that an instance may override
    (``est._doc_link_template = "https://.../{estimator_name}.html"``); by
    default it is :func:`docs_url` followed by the API page's path.
    """

    _doc_link_module = "skann"

    @property
    def _doc_link_template(self):
        return getattr(self, "__doc_link_template", docs_url() + API_PAGE)

    @_doc_link_template.setter
    def _doc_link_template(self, value):
        setattr(self, "__doc_link_template", value)

    def _doc_link_url_param_generator(self):
        return {"version": docs_version(), "estimator_name": type(self).__name__}
