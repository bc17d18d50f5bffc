"""``layers__<i>__<name>``: the layers of ``layers=`` in get_params / set_params.

scikit-learn's ``BaseEstimator`` recurses into parameters that have
``get_params``, not into lists. As skorch does for its list parameters, the
estimators list each layer as ``layers__<i>`` and its parameters as
``layers__<i>__<name>``, so that ``clone``, ``GridSearchCV`` and
``RandomizedSearchCV`` reach them. ``set_params`` never changes the layer
objects it was given: it replaces ``layers`` by a new list in which each
changed layer is a changed copy.
"""

from .nn._params import clone_params

PREFIX = "layers__"


def layer_params(layers):
    """``{"layers__0": layer, "layers__0__units": 64, ...}`` for ``get_params``."""
    params = {}
    if not isinstance(layers, (list, tuple)):
        return params
    for position, layer in enumerate(layers):
        params[f"{PREFIX}{position}"] = layer
        if hasattr(layer, "get_params"):
            for name, value in layer.get_params(deep=True).items():
                params[f"{PREFIX}{position}__{name}"] = value
    return params


def split_layer_params(params):
    """``(other parameters, {position: {name: value}}, {position: layer})``.

    ``name`` is ``""`` for nothing; keys are ``layers__<i>`` (a new layer at
    position ``i``) or ``layers__<i>__<name>`` (a parameter of it).
    """
    others, changes, replaced = {}, {}, {}
    for key, value in params.items():
        if not key.startswith(PREFIX):
            others[key] = value
            continue
        index, _, name = key[len(PREFIX) :].partition("__")
        if not index.isdigit():
            raise ValueError(
                f"Invalid parameter {key!r}: layer parameters are named "
                "layers__<index>__<name>, e.g. layers__0__units."
            )
        if name:
            changes.setdefault(int(index), {})[name] = value
        else:
            replaced[int(index)] = value
    return others, changes, replaced


def updated_layers(layers, changes, replaced):
    """A new list of ``layers`` with layers replaced and copies changed."""
    if layers is None or not isinstance(layers, (list, tuple)):
        raise ValueError(
            "layers__<index> parameters need layers= to be a list of layers, "
            f"but layers={layers!r}."
        )
    new = list(layers)
    for position in sorted(set(changes) | set(replaced)):
        if position >= len(new):
            raise ValueError(
                f"Invalid parameter layers__{position}: layers has "
                f"{len(new)} layers (indices 0 to {len(new) - 1})."
            )
        if position in replaced:
            new[position] = replaced[position]
        if position in changes:
            new[position] = clone_params(new[position]).set_params(**changes[position])
    return type(layers)(new) if isinstance(layers, tuple) else new


class LayerParamsMixin:
    """``get_params`` / ``set_params`` that reach into ``layers``.

    Put before ``BaseEstimator`` in the bases.
    """

    @classmethod
    def _get_param_names(cls):
        # BaseEstimator's reads the signature of __init__ with inspect on
        # every get_params (about 100 µs, paid by each partial_fit call):
        # once per class here, in the class's own __dict__ (a subclass has
        # its own __init__).
        names = cls.__dict__.get("_param_names_cache")
        if names is None:
            names = super()._get_param_names()
            cls._param_names_cache = names = tuple(names)
        return list(names)

    def get_params(self, deep=True):
        """Get parameters for this estimator.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested objects, including each
            layer of ``layers`` as ``layers__<i>`` and its parameters as
            ``layers__<i>__<name>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            params.update(layer_params(self.layers))
        return params

    def set_params(self, **params):
        """Set the parameters of this estimator.

        ``layers__<i>`` replaces layer ``i`` and ``layers__<i>__<name>``
        sets a parameter of it. Neither changes the layer objects given
        before: ``layers`` becomes a new list whose changed layers are
        changed copies.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
            Estimator instance.
        """
        others, changes, replaced = split_layer_params(params)
        super().set_params(**others)
        if changes or replaced:
            self.layers = updated_layers(self.layers, changes, replaced)
        return self

