"""Turn the results of the benchmark scripts into tables.

Three tables: the machine's sgemm speed, the raw figures side by side (one
column per library), and the ratios against the project's performance
targets with PASS / MISS. Printed as reStructuredText simple tables (readable as plain
text) and, with ``--output``, written as Markdown (``.md``) or rst.
"""

import dataclasses
import datetime
import os
import platform
import sys

from _common import CONFIGS, PROBLEMS, blas_info, optional_torch
from sgemm import peak_gflops

COLUMNS = ("skann", "sklearn", "torch", "onnxruntime", "input")
CONFIG_BY_NAME = {config.name: config for config in CONFIGS}


@dataclasses.dataclass(frozen=True)
class RatioSpec:
    """One row family of the ratio table: skann's figure over a peer's.

    Parameters
    ----------
    figure : str
        Label in the table.
    question : str
        ``Result.question`` the figures come from.
    peer : str
        Library in the denominator.
    targets : dict of str to float
        Config name to target ratio; configs not listed have no target.
    higher_is_better : bool, default=True
        PASS when ratio >= target (else when ratio <= target).
    """

    figure: str
    question: str
    peer: str
    targets: dict
    higher_is_better: bool = True


ALL = ("tabular", "wide", "small", "digits")
RATIO_SPECS = (
    RatioSpec("train samples/s vs sklearn", "train", "sklearn",
              {"tabular": 2.5, "wide": 2.5, "small": 3.5}),
    RatioSpec("train samples/s vs torch", "train", "torch",
              {"tabular": 1.1, "wide": 1.1, "small": 2.5}),
    RatioSpec("predict rows/s vs sklearn", "predict", "sklearn",
              dict.fromkeys(ALL, 2.0)),
    RatioSpec("predict rows/s vs torch", "predict", "torch",
              dict.fromkeys(ALL, 1.5)),
    RatioSpec("fit peak memory vs sklearn", "memory", "sklearn",
              dict.fromkeys(ALL, 0.5), higher_is_better=False),
    RatioSpec("digits time to accuracy vs sklearn", "digits", "sklearn",
              dict.fromkeys(ALL, 0.3), higher_is_better=False),
)
PEAK_TARGETS = {("wide", 1): 0.80}


def index(results):
    """Return ``{(question, config, task, threads): {library: value}}``."""
    table = {}
    for result in results:
        key = (result.question, result.config, result.task, result.threads)
        table.setdefault(key, {})[result.library] = result
    return table


def format_value(value, unit):
    """Return ``value`` as text with a precision that suits its unit."""
    if unit.endswith("/s") and unit != "GFLOP/s":
        return f"{value:,.0f}"
    if unit == "mean CV accuracy":
        return f"{value:.4f}"
    if unit == "max_iter":
        return f"{value:.0f}"
    if unit.startswith("fit s"):
        return f"{value:.3f}"
    return f"{value:.1f}"


def peak_fraction(result, results):
    """Return a training figure as a fraction of the sgemm peak, or None.

    FLOPs per epoch row: ``3 * 2 * sum(fan_in * fan_out)`` (forward, plus a
    backward counted as twice the forward).
    """
    peak = peak_gflops(results, result.threads)
    if result.question != "train" or not peak:
        return None
    flops = CONFIG_BY_NAME[result.config].training_flops_per_sample(
        result.task)
    return result.value * flops / 1e9 / peak


def figures_rows(results):
    """Return the rows of the side-by-side table (sgemm excluded)."""
    rows = []
    for key, by_library in index(results).items():
        if key[0] == "sgemm":
            continue
        cells = []
        for library in COLUMNS:
            result = by_library.get(library)
            if result is None:
                cells.append("-")
                continue
            text = format_value(result.value, result.unit)
            fraction = peak_fraction(result, results)
            cells.append(text if fraction is None
                         else f"{text} ({fraction:.0%} pk)")
        unit = next(iter(by_library.values())).unit
        rows.append([key[0], key[1], key[2], str(key[3] or "-"), *cells,
                     unit])
    return rows


def status(ratio, target, higher_is_better):
    """Return "PASS", "MISS", "n/a" (no figure) or "" (no target)."""
    if ratio is None:
        return "n/a"
    if target is None:
        return ""
    passed = ratio >= target if higher_is_better else ratio <= target
    return "PASS" if passed else "MISS"


def ratio_rows(results):
    """Return the rows of the ratio table, targets and status included."""
    rows = []
    table = index(results)
    for spec in RATIO_SPECS:
        for key, by_library in table.items():
            if key[0] != spec.question or spec.peer not in by_library:
                continue
            ratio = None
            if "skann" in by_library:
                ratio = by_library["skann"].value / by_library[spec.peer].value
            target = spec.targets.get(key[1])
            sign = ">=" if spec.higher_is_better else "<="
            rows.append([spec.figure, key[1], key[2], str(key[3] or "-"),
                         "-" if ratio is None else f"{ratio:.2f}x",
                         "-" if target is None else f"{sign} {target}x",
                         status(ratio, target, spec.higher_is_better)])
    for key, by_library in table.items():
        if key[0] == "train" and "skann" in by_library:
            fraction = peak_fraction(by_library["skann"], results)
            target = PEAK_TARGETS.get((key[1], key[3]))
            rows.append(["train fraction of sgemm peak", key[1], key[2],
                         str(key[3]),
                         "-" if fraction is None else f"{fraction:.0%}",
                         "-" if target is None else f">= {target:.0%}",
                         status(fraction, target, True)])
    return rows


def sgemm_rows(results):
    """Return one row per sgemm shape, one column per thread count."""
    shapes, threads = {}, sorted({r.threads for r in results
                                  if r.question == "sgemm"})
    for result in results:
        if result.question == "sgemm":
            shapes.setdefault(result.config, {})[result.threads] = result.value
    rows = [[shape, *(f"{by_threads.get(t, float('nan')):.1f}"
                      for t in threads)]
            for shape, by_threads in shapes.items()]
    return [f"{t} thread GFLOP/s" for t in threads], rows


def render(headers, rows, style):
    """Return a table as rst simple-table text or Markdown.

    Parameters
    ----------
    headers : list of str
    rows : list of list of str
    style : {"rst", "md"}

    Returns
    -------
    text : str
    """
    if style == "md":
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(cell)) for cell in column)
              for column in zip(headers, *rows, strict=True)]
    rule = "  ".join("=" * width for width in widths)
    lines = [rule, headers, rule, *rows, rule]
    return "\n".join(
        line if line is rule else "  ".join(
            str(cell).ljust(width)
            for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines)


def environment_lines(options):
    """Return what the run was measured on, one fact per line."""
    import numpy
    import sklearn

    from _peers import optional_skann

    torch, skann = optional_torch(), optional_skann()
    versions = [f"python {platform.python_version()}",
                f"numpy {numpy.__version__}", f"sklearn {sklearn.__version__}",
                f"torch {torch.__version__ if torch else 'missing'}",
                f"skann {skann.__version__ if skann else 'missing'}"]
    env = [f"{name}={value}" for name, value in sorted(os.environ.items())
           if name.startswith(("OPENBLAS", "OMP_", "MKL_"))]
    share = options.cpu_monitor.others_share()
    load = ("unknown" if share is None else f"{share:.0%} of all CPUs"
            + (" (figures with 2 threads are unreliable)" if share > 0.05
               else ""))
    return [f"date: {datetime.datetime.now():%Y-%m-%d %H:%M}",
            f"machine: {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} logical CPUs",
            "versions: " + ", ".join(versions),
            f"mode: {'quick' if options.quick else 'full'}, threads "
            f"{options.threads}, median of {options.repeats} repeats",
            "thread pools: " + "; ".join(blas_info()),
            "environment: " + (" ".join(env) or "no OPENBLAS_/OMP_/MKL_ "
                               "variables set"),
            f"other processes used {load} during the run"]


def tables(results, options, style):
    """Return the whole report (environment, three tables, problems)."""
    sgemm_headers, sgemm_body = sgemm_rows(results)
    parts = [("Environment", None, environment_lines(options)),
             ("sgemm (numpy float32 matmul)", ["shape (m x k x n)",
                                               *sgemm_headers], sgemm_body),
             ("Figures (medians)", ["figure", "config", "task", "threads",
                                    *COLUMNS, "unit"], figures_rows(results)),
             ("Ratios against the performance targets",
              ["ratio (skann / peer)", "config", "task", "threads", "value",
               "target", "status"], ratio_rows(results)),
             ("Problems", None, PROBLEMS or ["none"])]
    text = []
    for title, headers, body in parts:
        underline = "-" * len(title)
        text += [f"### {title}" if style == "md" else f"{title}\n{underline}",
                 ""]
        if headers is None:
            text += [f"- {line}" for line in body]
        elif body:
            text.append(render(headers, body, style))
        else:
            text.append("(nothing measured)")
        text.append("")
    return "\n".join(text)


def emit(results, options):
    """Print the report and write it to ``options.output`` if given.

    Parameters
    ----------
    results : list of Result
    options : argparse.Namespace
    """
    print(tables(results, options, "rst"))
    sys.stdout.flush()
    if options.output:
        style = "rst" if options.output.endswith(".rst") else "md"
        with open(options.output, "w", encoding="utf-8") as stream:
            stream.write(tables(results, options, style))
        print(f"written to {options.output}")
