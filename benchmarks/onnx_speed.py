"""onnx: inference rows/s of onnxruntime beside skann's predict, same model.

Each config's skann model is trained for one epoch (outside the timing),
converted with ``skann.onnx`` (float32 graph, probabilities as a tensor),
and then ``predict`` and onnxruntime's ``InferenceSession.run`` are timed
on the same fresh float32 rows: 100,000 (10,000 with --quick). BLAS is
pinned by threadpoolctl for skann; onnxruntime gets the same thread count
through ``SessionOptions.intra_op_num_threads`` (and one inter-op thread).
Needs the ``onnx`` extra (skl2onnx, onnx, onnxruntime); without it the
question records one problem and returns no figure.
"""

import functools
import warnings

import numpy as np

from _common import (CONFIGS, TASKS, Result, interleaved_medians, make_data,
                     parse_args, pinned_threads, record_problem, stopwatch)
from _peers import make_model, optional_skann

N_ROWS, N_ROWS_QUICK = 100_000, 10_000


def optional_onnx():
    """Return ``(skl2onnx.to_onnx, onnxruntime)``, or None when missing."""
    if optional_skann() is None:
        return None
    try:
        import onnxruntime
        from skl2onnx import to_onnx

        import skann.onnx  # noqa: F401 - registers the converters
    except ImportError as error:
        record_problem("import skann.onnx (onnx question skipped)", error)
        return None
    return to_onnx, onnxruntime


def session(onnxruntime, model_bytes, n_threads):
    """Return an onnxruntime CPU session limited to ``n_threads``."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = n_threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        model_bytes, options, providers=["CPUExecutionProvider"])


def skann_rate(model, X):
    """Return the rows/s of one ``model.predict(X)``."""
    return X.shape[0] / stopwatch(lambda: model.predict(X))


def onnx_rate(sess, X):
    """Return the rows/s of one run of the session on X (labels and scores)."""
    feed = {sess.get_inputs()[0].name: X}
    return X.shape[0] / stopwatch(lambda: sess.run(None, feed))


def converted(to_onnx, task, config, n_samples):
    """Return the skann model trained one epoch and its ONNX bytes."""
    X, y = make_data(config, task, n_samples)
    with warnings.catch_warnings(), pinned_threads(1):
        warnings.simplefilter("ignore")
        model = make_model("skann", task, config, 1).fit(X, y)
    options = {"zipmap": False} if task == "classification" else None
    onx = to_onnx(model, X[:1].astype(np.float32), options=options)
    return model, onx.SerializeToString()


def check_agreement(model, sess, X, label):
    """Record a problem when onnxruntime's labels or values differ from skann's."""
    outputs = sess.run(None, {sess.get_inputs()[0].name: X})
    expected = model.predict(X)
    actual = outputs[0].reshape(expected.shape)
    if expected.dtype.kind == "f":
        differ = not np.allclose(actual, expected, rtol=1e-4, atol=1e-4)
    else:
        differ = np.any(actual != expected)
    if differ:
        record_problem(label, "onnxruntime's predictions differ from skann's")


def run(options):
    """Measure skann and onnxruntime inference for every config and task.

    Parameters
    ----------
    options : argparse.Namespace
        From :func:`_common.parse_args`.

    Returns
    -------
    results : list of Result
    """
    found = optional_onnx()
    if found is None:
        return []
    to_onnx, onnxruntime = found
    n_rows = N_ROWS_QUICK if options.quick else N_ROWS
    results = []
    for task in TASKS:
        for config in CONFIGS:
            label = f"onnx {config.name} {task}"
            try:
                model, model_bytes = converted(to_onnx, task, config,
                                               config.rows(options.quick))
            except Exception as error:  # noqa: BLE001 - reported, row skipped
                record_problem(f"{label} [convert]", error)
                continue
            X = make_data(config, task, n_rows, random_state=1)[0]
            X = np.ascontiguousarray(X, dtype=np.float32)
            for threads in options.threads:
                sess = session(onnxruntime, model_bytes, threads)
                check_agreement(model, sess, X[:1000], label)
                measures = {
                    "skann": functools.partial(skann_rate, model, X),
                    "onnxruntime": functools.partial(onnx_rate, sess, X)}
                medians = interleaved_medians(measures, options.repeats,
                                              threads, label)
                results += [Result("onnx", config.name, task, threads,
                                   library, value, "rows/s")
                            for library, value in medians.items()]
    return results


def main(argv=None):
    """Run this question alone and print its table."""
    import _report

    options = parse_args(__doc__.splitlines()[0], argv)
    _report.emit(run(options), options)


if __name__ == "__main__":
    main()
