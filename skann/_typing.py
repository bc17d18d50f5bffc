"""Type aliases of the public API's annotations (``skann/py.typed`` ships them)."""

from typing import Union

import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

__all__ = ["ArrayLike", "MatrixLike", "NDArray"]

#: Input data: an array-like of shape (n_samples, n_features) or a scipy
#: sparse matrix / array.
MatrixLike = Union[ArrayLike, sp.spmatrix, sp.sparray]
