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
    extras_require={
        # CI installs this extra: the ONNX tests run there.
        "test": ["pytest>=7", "pandas>=2", *ONNX],
        "benchmark": ["pandas>=2", *ONNX],
        "docs": ["sphinx>=7", "numpydoc>=1.6", "sphinx-gallery>=0.15", *ONNX],
        "plot": ["matplotlib>=3.7"],
        "persist": ["skops>=0.9"],
        "distributed": ["dask-ml>=2024.4"],
        "onnx": ONNX,
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Framework :: scikit-learn",
    ],
)
