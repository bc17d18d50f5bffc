"""The HTML repr's "?" icon and parameter links lead to skann's API pages."""

import re
from pathlib import Path

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skann
from skann import AutoEncoder, MLPClassifier, MLPRegressor
from skann._doc_links import API_PAGE_URL, docs_version


@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor(), AutoEncoder()])
def test_repr_links_to_the_api_page(estimator):
    name = type(estimator).__name__
    page = f"https://skann.readthedocs.io/en/{docs_version()}/generated/skann.{name}.html"
    assert estimator._get_doc_link() == page
    html = estimator._repr_html_()
    links = set(re.findall(r'href="([^"]+)"', html))
    assert page in links
    # Parameter links: the page, with a text fragment naming the parameter.
    assert f"{page}#:~:text=hidden_layer_sizes" in html
    assert f"{page}#:~:text=learning_rate_init" in html
    assert not [link for link in links if "scikit-learn.org" in link]


def test_pipeline_repr_links_each_step_to_its_library():
    html = make_pipeline(StandardScaler(), MLPClassifier())._repr_html_()
    assert "generated/skann.MLPClassifier.html" in html
    assert "sklearn.preprocessing.StandardScaler.html" in html


def test_the_page_is_the_one_autosummary_writes():
    # docs/api.rst lists the estimators under ``currentmodule:: skann`` with
    # ``:toctree: generated``: the pages are generated/skann.<Name>.html.
    api = (Path(__file__).parents[1] / "docs" / "api.rst").read_text()
    section = api[api.index(".. currentmodule:: skann\n") :]
    section = section[: section.index(".. currentmodule::", 1)]
    assert ":toctree: generated" in section
    for name in ("MLPClassifier", "MLPRegressor", "AutoEncoder"):
        assert re.search(rf"^   {name}$", section, re.MULTILINE), name
    assert API_PAGE_URL.endswith("/generated/skann.{estimator_name}.html")


@pytest.mark.parametrize("version, expected", [("0.1.0", "0.1.0"), ("1.2", "1.2"), ("0.2.0.dev0", "latest"), ("0.2.0rc1", "latest")])
def test_docs_version(monkeypatch, version, expected):
    monkeypatch.setattr(skann, "__version__", version)
    assert docs_version() == expected
