"""Run every benchmark question in one process and print one report.

Usage::

    python benchmarks/run.py --quick                 # about two minutes
    python benchmarks/run.py --output bench.md       # full run
    python benchmarks/run.py --threads 1 --repeats 5

Questions, in order: sgemm (the machine's peak, measured first so every
training figure can be shown as a fraction of it), train, predict, memory,
digits, onnx (onnxruntime beside skann's predict, when the onnx extra is
installed). Each module can also be run on its own.
"""

import time

import _report
import memory
import onnx_speed
import predict_speed
import sgemm
import time_to_accuracy
import train_speed
from _common import parse_args

QUESTIONS = (sgemm, train_speed, predict_speed, memory, time_to_accuracy,
             onnx_speed)


def main(argv=None):
    """Run all questions and print (and optionally write) the report."""
    options = parse_args(__doc__.splitlines()[0], argv)
    results = []
    for question in QUESTIONS:
        start = time.perf_counter()
        results += question.run(options)
        print(f"[{question.__name__} done in "
              f"{time.perf_counter() - start:.0f} s]", flush=True)
    _report.emit(results, options)


if __name__ == "__main__":
    main()
