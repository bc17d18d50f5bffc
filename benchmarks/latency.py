"""latency: predict_proba latency from 1 to 10,000 rows, one thread.

A small classifier (20 features, hidden ``(100,)``, 3 classes) is fitted
once by skann and by scikit-learn on the same 2,000 rows. skann's model is
exported with ``skann.onnx`` (float32 graph, probabilities as a tensor) and
run by onnxruntime, and its weights are copied into a PyTorch
``Sequential`` (float32, ``inference_mode``), so onnxruntime and PyTorch
compute skann's model. One measurement is the mean wall time of a burst of
calls on the same fresh rows (many calls for small inputs, few for large
ones); the libraries run in turn, the order rotating, and the median of
the repeats is reported. skann and scikit-learn get float64 rows, as users
pass them; onnxruntime and PyTorch float32 rows, converted outside the
timing. Everything runs on one thread (BLAS, OpenMP, onnxruntime's intra-
and inter-op pools, PyTorch).

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/latency.py \\
        --repeats 31 --output benchmarks/results/latency.txt
"""

import functools
import sys
import warnings

import numpy as np
from _common import (
    PROBLEMS,
    Config,
    interleaved_medians,
    make_data,
    optional_torch,
    parse_args,
    pinned_threads,
    record_problem,
)
from _peers import estimator_class, optional_skann
from onnx_speed import optional_onnx, session

CONFIG = Config("latency", 2_000, 2_000, 20, (100,), 200)
ROW_COUNTS = (1, 10, 100, 1_000, 10_000)
LIBRARIES = ("sklearn", "skann", "onnxruntime", "torch")
# Calls per measurement: enough for about a millisecond of work or more.
CALLS = {1: 400, 10: 400, 100: 200, 1_000: 30, 10_000: 4}
MAX_ITER = 50


def fitted(library, X, y, **params):
    """Return ``MLPClassifier`` of ``library`` fitted on ``(X, y)``."""
    with warnings.catch_warnings(), pinned_threads(1):
        warnings.simplefilter("ignore")  # ConvergenceWarning
        estimator = estimator_class(library, "classification")
        return estimator(hidden_layer_sizes=CONFIG.hidden_layer_sizes,
                         max_iter=MAX_ITER, random_state=0,
                         **params).fit(X, y)


def onnx_predict_proba(model):
    """Return ``predict_proba`` of ``model`` through onnxruntime, or None."""
    found = optional_onnx()
    if found is None:
        return None
    to_onnx, onnxruntime = found
    onx = to_onnx(model, np.zeros((1, CONFIG.n_features), np.float32),
                  options={"zipmap": False})
    sess = session(onnxruntime, onx.SerializeToString(), 1)
    name = sess.get_inputs()[0].name
    return lambda X: sess.run(["probabilities"], {name: X})[0]


def torch_predict_proba(model):
    """Return ``predict_proba`` of ``model``'s weights in PyTorch, or None."""
    torch = optional_torch()
    if torch is None:
        record_problem("import torch", "not installed, torch column skipped")
        return None
    layers = []
    for W, b in zip(model.coefs_, model.intercepts_):
        linear = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.asarray(W, np.float32).T))
            linear.bias.copy_(torch.from_numpy(np.asarray(b, np.float32)))
        layers += [linear, torch.nn.ReLU()]
    network = torch.nn.Sequential(*layers[:-1], torch.nn.Softmax(dim=1))
    network.eval()

    def predict_proba(X):
        with torch.inference_mode():
            return network(torch.from_numpy(X)).numpy()

    return predict_proba


def seconds_per_call(predict_proba, X, calls):
    """Return the mean wall time of ``calls`` calls of ``predict_proba(X)``."""
    from time import perf_counter

    start = perf_counter()
    for _ in range(calls):
        predict_proba(X)
    return (perf_counter() - start) / calls


def predictors(skann_model, sklearn_model):
    """Return ``{library: (predict_proba, input dtype)}`` of what imports."""
    found = {"sklearn": (sklearn_model.predict_proba, np.float64),
             "skann": (skann_model.predict_proba, np.float64)}
    for library, make in (("onnxruntime", onnx_predict_proba),
                          ("torch", torch_predict_proba)):
        predict_proba = make(skann_model)
        if predict_proba is not None:
            found[library] = (predict_proba, np.float32)
    return found


def check_same_model(found, X):
    """Record a problem when a peer's probabilities differ from skann's."""
    expected = found["skann"][0](X)
    for library in ("onnxruntime", "torch"):
        if library in found:
            proba = found[library][0](X.astype(np.float32))
            if not np.allclose(proba, expected, atol=1e-5):
                record_problem(library, "probabilities differ from skann's")


def run(options, skann_params=None):
    """Measure predict_proba latency at every row count.

    Parameters
    ----------
    options : argparse.Namespace
        From :func:`_common.parse_args` (``repeats`` is used).
    skann_params : dict, default=None
        Extra parameters of skann's model (e.g. ``dtype="float32"``).

    Returns
    -------
    seconds : dict of int to dict of str to float
        Median seconds per call, by row count and library.
    """
    if optional_skann() is None:
        return {}
    X, y = make_data(CONFIG, "classification", CONFIG.n_samples)
    skann_model = fitted("skann", X, y, **(skann_params or {}))
    sklearn_model = fitted("sklearn", X, y)
    found = predictors(skann_model, sklearn_model)
    fresh = make_data(CONFIG, "classification", max(ROW_COUNTS),
                      random_state=1)[0]
    check_same_model(found, fresh[:1000])
    seconds = {}
    for n_rows in ROW_COUNTS:
        measures = {
            library: functools.partial(
                seconds_per_call, predict_proba,
                np.ascontiguousarray(fresh[:n_rows], dtype=dtype),
                CALLS[n_rows])
            for library, (predict_proba, dtype) in found.items()}
        seconds[n_rows] = interleaved_medians(
            measures, options.repeats, 1, f"latency {n_rows} rows")
    return seconds


def duration(value):
    """Return seconds as text in µs or ms."""
    return f"{value * 1e6:.0f} µs" if value < 1e-3 else f"{value * 1e3:.2f} ms"


def table(seconds):
    """Return the latency table as reStructuredText (plain-text readable)."""
    header = ["rows", *LIBRARIES, "skann vs sklearn", "skann vs onnxruntime"]
    rows = []
    for n_rows, by_library in seconds.items():
        cells = [f"{n_rows:,}"]
        cells += [duration(by_library[name]) if name in by_library else "-"
                  for name in LIBRARIES]
        skann = by_library.get("skann")
        for peer in ("sklearn", "onnxruntime"):
            ratio = by_library[peer] / skann if skann and peer in by_library else None
            cells.append("-" if ratio is None else f"{ratio:.2f}x")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("=" * width for width in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join([*lines, rule])


def report(seconds, options, title):
    """Return the table with how it was measured."""
    import platform

    import sklearn

    share = options.cpu_monitor.others_share()
    notes = [
        title,
        "",
        table(seconds),
        "",
        ("Median seconds per predict_proba call (lower is better); ratios are "
         "speeds, the peer's time over skann's (above 1: skann is faster)."),
        (f"{options.repeats} repeats; one thread; {platform.processor() or platform.machine()}, "
         f"numpy {np.__version__}, scikit-learn {sklearn.__version__}."),
    ]
    if share is not None:
        notes.append(f"Other processes used {share:.0%} of the CPUs during the run.")
    notes += [f"! {problem}" for problem in PROBLEMS]
    return "\n".join(notes) + "\n"


def main(argv=None):
    """Run the latency question, print the tables, optionally write them.

    Two skann models: the default one (``dtype="auto"``, which computes
    this small network in float64, as scikit-learn does for float64 rows)
    and the same model trained with ``dtype="float32"`` (the dtype of
    onnxruntime's and PyTorch's graphs).
    """
    options = parse_args(__doc__.splitlines()[0], argv)
    title = "predict_proba latency, 20 features, hidden (100,), 3 classes"
    text = "\n".join([
        report(run(options), options, f"{title}; skann dtype='auto' (float64 here)"),
        report(run(options, {"dtype": "float32"}), options, f"{title}; skann dtype='float32'"),
        ("Command: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/latency.py "
         + " ".join(argv if argv is not None else sys.argv[1:])),
    ])
    print(text)
    if options.output:
        with open(options.output, "w", encoding="utf-8") as stream:
            stream.write(text)


if __name__ == "__main__":
    main()
