"""Shared fixtures: one BLAS thread per test process, fixed seeds."""

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import skann

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# When skann is imported from this checkout without being installed (pytest
# put the repository root on sys.path), child processes (GridSearchCV's
# n_jobs workers, the fresh interpreter of the joblib test) must find it too.
if os.path.dirname(os.path.dirname(os.path.abspath(skann.__file__))) == REPO_ROOT:
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    if REPO_ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([REPO_ROOT, *paths])


@pytest.fixture(autouse=True)
def _single_blas_thread():
    # The suite runs on small matrices, where BLAS threads only contend
    # with each other (and with GridSearchCV's workers).
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def rng():
    return np.random.RandomState(0)


# ----------------------------------------------------------------------
# Fuzzing (tests/test_fuzz.py): hypothesis profiles and the outcome table
# ----------------------------------------------------------------------
# 7 fuzz tests: "ci" runs ~2,800 cases in all (about 30 s on one core),
# "thorough" ~24,000 (about 6 minutes). Select with SKANN_FUZZ_PROFILE=thorough.
try:
    from hypothesis import HealthCheck, settings

    _fuzz_settings = dict(
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    settings.register_profile("ci", max_examples=400, derandomize=True, **_fuzz_settings)
    settings.register_profile("thorough", max_examples=3500, **_fuzz_settings)
    settings.register_profile("quick", max_examples=25, derandomize=True, **_fuzz_settings)
    settings.load_profile(os.environ.get("SKANN_FUZZ_PROFILE", "ci"))
except ImportError:  # the fuzz tests skip without hypothesis
    pass


def pytest_terminal_summary(terminalreporter):
    try:
        from tests._fuzz import MESSAGES, outcome_table
    except ImportError:
        return
    rows = outcome_table()
    if not rows:
        return
    write = terminalreporter.write_line
    write("")
    write(f"fuzz outcomes (profile {os.environ.get('SKANN_FUZZ_PROFILE', 'ci')}):")
    write(f"{'test':<24}{'fitted':>8}{'ValueError':>12}{'TypeError':>11}{'total':>8}")
    for test, fitted, value_error, type_error, total in rows:
        write(f"{test:<24}{fitted:>8}{value_error:>12}{type_error:>11}{total:>8}")
    if os.environ.get("SKANN_FUZZ_MESSAGES"):
        common = MESSAGES.most_common(30)
        rare_type_errors = [
            item for item in MESSAGES.most_common() if item[0][1].startswith("TypeError")
        ]
        for (test, message), count in common + [e for e in rare_type_errors if e not in common]:
            write(f"{count:>6}  {test:<22} {message}")
