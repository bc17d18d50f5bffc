"""A small ONNX graph writer, emitted into a skl2onnx container or a model.

The layer and estimator converters write nodes and constants through
:class:`Graph`, which knows the graph's float dtype and opset. The same
nodes then go either into skl2onnx's container (estimators inside
``to_onnx``) or into a standalone :class:`onnx.ModelProto` (networks of the
engine, :func:`skann.onnx.convert_network`).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["Graph", "MIN_OPSET", "UnsupportedError"]

# The converters write opset-13 semantics (Softmax over one axis, Clip
# bounds as inputs); ReduceMean moved its axes to an input in opset 18.
MIN_OPSET = 13
FLOAT_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


class UnsupportedError(ValueError):
    """A model, layer or option that skann cannot write as ONNX."""


class Graph:
    """ONNX nodes and constants being written, computing in one float dtype.

    Parameters
    ----------
    dtype : {numpy.float32, numpy.float64}
        Float dtype of every computed tensor and float constant.
    opset : int
        Target opset of the default ONNX domain (at least 13).
    unique_name : callable
        ``unique_name(hint) -> str``: a name not used yet in the graph.
    """

    def __init__(self, dtype, opset, unique_name):
        self.dtype = np.dtype(dtype)
        if self.dtype not in FLOAT_TYPES:
            raise UnsupportedError(
                f"ONNX graphs of skann compute in float32 or float64, not {self.dtype}."
            )
        if opset < MIN_OPSET:
            raise UnsupportedError(
                f"skann's ONNX converters need target_opset >= {MIN_OPSET}, got {opset}."
            )
        self.opset = int(opset)
        self.onnx_type = FLOAT_TYPES[self.dtype]
        self._unique_name = unique_name
        self.nodes = []  # (op_type, inputs, outputs, domain, attributes)
        self.constants = []  # (name, ndarray)

    def name(self, hint):
        """A fresh tensor name starting with ``hint``."""
        return self._unique_name(hint)

    def const(self, hint, value, dtype=None):
        """A constant tensor (float constants in the graph's dtype); its name."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.name(hint)
        self.constants.append((name, array))
        return name

    def op(self, op_type, inputs, hint=None, output=None, domain="", **attributes):
        """Add one node of one output; return the output's name."""
        output = output or self.name(hint or op_type.lower())
        self.nodes.append((op_type, list(inputs), [output], domain, attributes))
        return output

    def reduce_mean(self, x, axes, hint="mean"):
        """``ReduceMean`` over ``axes``, keeping them (axes moved to an input in opset 18)."""
        if self.opset >= 18:
            return self.op("ReduceMean", [x, self.const("axes", axes, np.int64)], hint, keepdims=1)
        return self.op("ReduceMean", [x], hint, axes=list(axes), keepdims=1)

    def reshape(self, x, shape, hint="reshaped"):
        """``x`` reshaped to ``shape`` (a tuple of ints, -1 allowed)."""
        return self.op("Reshape", [x, self.const("shape", shape, np.int64)], hint)

    # ------------------------------------------------------------------
    # Emission
    # ------------------------------------------------------------------
    def emit_to_container(self, container, unique_operator_name):
        """Write the constants and nodes into a skl2onnx container."""
        for name, array in self.constants:
            if array.dtype.kind in "OUS":
                content = [str(value).encode("utf-8") for value in array.ravel()]
                container.add_initializer(name, TensorProto.STRING, list(array.shape), content)
            else:
                onnx_type = helper.np_dtype_to_tensor_dtype(array.dtype)
                container.add_initializer(name, onnx_type, list(array.shape), array.ravel())
        for op_type, inputs, outputs, domain, attributes in self.nodes:
            container.add_node(
                op_type, inputs, outputs, op_domain=domain,
                name=unique_operator_name(op_type), **attributes,
            )

    def to_model(self, inputs, outputs, graph_name="skann"):
        """A standalone, checked ModelProto of this graph.

        Parameters
        ----------
        inputs, outputs : list of ValueInfoProto
        graph_name : str, default="skann"
        """
        nodes = [
            helper.make_node(op, ins, outs, name=f"{op}_{k}", domain=domain, **attributes)
            for k, (op, ins, outs, domain, attributes) in enumerate(self.nodes)
        ]
        initializers = [numpy_helper.from_array(array, name) for name, array in self.constants]
        graph = helper.make_graph(nodes, graph_name, inputs, outputs, initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.producer_name = "skann"
        onnx.checker.check_model(model)
        return model


def name_counter():
    """A ``unique_name`` function for standalone graphs."""
    used = {}

    def unique_name(hint):
        count = used.get(hint, 0)
        used[hint] = count + 1
        return hint if count == 0 else f"{hint}_{count}"

    return unique_name
