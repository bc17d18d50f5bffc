"""Links from the estimators' HTML repr (in notebooks) to skann's API pages."""

import re

__all__ = ["API_PAGE_URL", "DocLinkMixin"]

#: Where each estimator's API page lives: the pages that docs/api.rst's
#: autosummary writes to ``generated/``, on Read the Docs, per version.
API_PAGE_URL = "https://skann.readthedocs.io/en/{version}/generated/skann.{estimator_name}.html"


def docs_version():
    """The docs version of this skann: its own for releases (``"0.1.0"``),
    "latest" for development versions (``"0.2.0.dev0"``)."""
    from . import __version__

    release = re.fullmatch(r"\d+(\.\d+)*", __version__)
    return __version__ if release else "latest"


class DocLinkMixin:
    """Point sklearn's HTML repr (the "?" icon, the parameter links) at skann.

    sklearn builds the links from these three attributes (see
    ``sklearn.utils._repr_html.base._HTMLDocumentationLinkMixin``).
    """

    _doc_link_module = "skann"
    _doc_link_template = API_PAGE_URL

    def _doc_link_url_param_generator(self):
        return {"version": docs_version(), "estimator_name": type(self).__name__}
