"""Shared test set-up: the two long single-process checks start as soon as they are collected.

The CUDA compile check (``tests/test_runtime_nvcc.py``, one long single-threaded nvcc run per
architecture) and the README check (``tests/test_readme.py``, about a minute of CLI runs in
order) start at collection in background processes, so they run on the second core while the
rest of the suite runs instead of adding their minutes at the end; their tests wait for them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# `make test` (and so CI) draws the same Hypothesis examples on every run: a submission passes or
# fails on its code, not on the draw (a fresh draw once failed CI on a case no local run had met).
# `make fuzz` draws fresh examples (ACTFIT_HYPOTHESIS=explore); a failure it finds belongs in the
# test as an @example.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile(os.environ.get("ACTFIT_HYPOTHESIS", "ci"))

_NVCC_TEST = "test_runtime_nvcc.py::test_cuda_kernel_compiles_with_nvcc"
_README_TEST = "test_readme.py::test_readme_runs_as_written"


# Tests that start processes of their own (2 DDP/FSDP ranks, a fresh interpreter, onnxruntime):
# run last, when the background README and nvcc runs are done, not while they hold the cores.
_LAST = ("test_distributed.py::", "test_build.py::test_build_ops_in_a_fresh_process",
         "test_onnx.py::")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _start_readme(config, items)
    _start_nvcc(config, items)
    last = [it for it in items if any(key in it.nodeid for key in _LAST)]
    if last:
        keep = [it for it in items if it not in last]
        items[:] = keep + last


@pytest.fixture(scope="session")
def hardswish_near_pole():
    """The issue-18 table: minimax hardswish [8,8] on [0, 4], plain, ``allow_poles=True`` (Q has
    zeros at 3 +- 0.0188i); shared by the tests that need it (about 3 s to fit)."""
    import warnings

    from actfit.approx.minimax import fit_minimax

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit_minimax("hardswish", (8, 8), (0.0, 4.0), form="plain", allow_poles=True)


def _start_readme(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(_README_TEST in it.nodeid for it in items):
        return
    from test_readme import start_run

    root = Path(tempfile.mkdtemp(prefix="actfit-readme-"))
    (root / "readme").mkdir()
    config.actfit_readme_folder = root / "readme"  # type: ignore[attr-defined]
    config.actfit_readme = start_run(root / "readme")  # type: ignore[attr-defined]


def _start_nvcc(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("nvcc") is None or not any(_NVCC_TEST in it.nodeid for it in items):
        return
    try:
        from test_runtime_nvcc import start_compile
    except ImportError:  # torch missing: the test module skips itself
        return
    folder = Path(tempfile.mkdtemp(prefix="actfit-nvcc-"))
    config.actfit_nvcc_folder = folder  # type: ignore[attr-defined]
    config.actfit_nvcc = start_compile(folder)  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    procs = [*getattr(config, "actfit_nvcc", {}).values()]
    if getattr(config, "actfit_readme", None) is not None:
        procs.append(config.actfit_readme)  # type: ignore[attr-defined]
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    readme = getattr(config, "actfit_readme_folder", None)
    for folder in (getattr(config, "actfit_nvcc_folder", None), readme and readme.parent):
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
