"""Warnings and errors skann raises that are its own."""

__all__ = ["InconsistentVersionWarning"]


class InconsistentVersionWarning(UserWarning):
    """A model saved by one skann version is loaded by another.

    As :class:`sklearn.exceptions.InconsistentVersionWarning`, for skann's
    own version: skann's internals (and so what a saved model holds) may
    change between versions. Retrain, or load with the version that saved
    the model.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    current_version : str
        The running skann version.
    original_version : str
        The skann version that saved the model ("unknown" for a model saved
        before skann recorded its version).

    Examples
    --------
    >>> from skann.exceptions import InconsistentVersionWarning
    >>> print(InconsistentVersionWarning(
    ...     estimator_name="MLPClassifier", current_version="0.2.0",
    ...     original_version="0.1.0"))  # doctest: +NORMALIZE_WHITESPACE
    Loading MLPClassifier saved by skann 0.1.0 with skann 0.2.0; it may fail
    or predict differently. Retrain it, or load it with skann 0.1.0.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Loading {self.estimator_name} saved by skann {self.original_version} "
            f"with skann {self.current_version}; it may fail or predict differently. "
            f"Retrain it, or load it with skann {self.original_version}."
        )
