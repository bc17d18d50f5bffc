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


def test_docs_url_is_configurable(monkeypatch):
    estimator = MLPClassifier()
    monkeypatch.setenv("SKANN_DOCS_URL", "file:///srv/skann-docs/")
    assert estimator._get_doc_link() == "file:///srv/skann-docs/generated/skann.MLPClassifier.html"
    monkeypatch.setenv("SKANN_DOCS_URL", "https://mirror.example/skann/{version}")
    assert estimator._get_doc_link() == f"https://mirror.example/skann/{docs_version()}/generated/skann.MLPClassifier.html"
    monkeypatch.delenv("SKANN_DOCS_URL")
    # sklearn's pattern: one instance's template overrides the default.
    estimator._doc_link_template = "https://example.org/{estimator_name}.html"
    assert estimator._get_doc_link() == "https://example.org/MLPClassifier.html"
    assert MLPClassifier()._get_doc_link().startswith("https://skann.readthedocs.io/en/")


def test_parameter_links_match_the_rendered_text():
    # The links' text fragments quote the docstring's type line with straight
    # quotes; Sphinx's smartquotes would render them curly and the fragment
    # would not match, so docs/conf.py turns smartquotes off.
    conf = (Path(__file__).parents[1] / "docs" / "conf.py").read_text()
    assert re.search(r"^smartquotes = False$", conf, re.MULTILINE)
    html = MLPClassifier()._repr_html_()
    assert "#:~:text=activation,-%7B%22identity%22" in html
