"""scikit-learn's parameter protocol, without importing scikit-learn.

Layers, optimizers and schedules are configured by their ``__init__``
arguments and nothing else, as estimators are. :class:`Params` gives them
``get_params`` / ``set_params`` and a readable ``repr``, so that
``sklearn.base.clone`` copies them and ``GridSearchCV`` reaches their
arguments (``layers__0__units``) through an estimator.
"""

import functools
import inspect

__all__ = ["Params", "clone_params"]


class Params:
    """Base class of objects configured by their ``__init__`` arguments.

    Subclasses store every ``__init__`` argument unchanged under its own
    name and derive everything else later (in ``build``).

    Examples
    --------
    >>> from skann.nn._params import Params
    >>> class Scale(Params):
    ...     def __init__(self, factor=1.0, shift=0.0):
    ...         self.factor = factor
    ...         self.shift = shift
    >>> Scale(2.0)
    Scale(factor=2.0)
    >>> Scale(2.0).set_params(shift=1.0).get_params()
    {'factor': 2.0, 'shift': 1.0}
    """

    @classmethod
    def _get_param_names(cls):
        return list(_init_param_names(cls))

    def get_params(self, deep=True):
        """Parameters of this object.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested objects that have
            ``get_params``, as ``name__parameter``.

        Returns
        -------
        params : dict
        """
        params = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", val) for key, val in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params):
        """Set parameters (``name`` or ``name__parameter`` of a nested object).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : object
        """
        valid = self._get_param_names()
        nested = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are {valid}."
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self):
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
        }
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            if default is inspect.Parameter.empty or not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


@functools.lru_cache(maxsize=None)
def _init_param_names(cls):
    """Sorted names of ``cls.__init__``'s arguments (cached: signature
    inspection costs more than a small training step)."""
    init = cls.__init__
    if init is object.__init__:
        return ()
    parameters = inspect.signature(init).parameters.values()
    return tuple(
        sorted(
            p.name
            for p in parameters
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )
    )


def _same(value, default):
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):  # arrays and other ambiguous comparisons
        return value is default


def clone_params(obj):
    """A fresh, unbuilt copy of ``obj`` from its parameters.

    Nested :class:`Params` values are cloned too; other values are shared,
    as ``sklearn.base.clone(safe=False)`` would share them.

    Examples
    --------
    >>> from skann.nn.layers import Dense
    >>> from skann.nn._params import clone_params
    >>> layer = Dense(3)
    >>> copy = clone_params(layer)
    >>> copy is layer, copy.get_params() == layer.get_params()
    (False, True)
    """
    params = {
        name: clone_params(value) if isinstance(value, Params) else value
        for name, value in obj.get_params(deep=False).items()
    }
    return type(obj)(**params)
