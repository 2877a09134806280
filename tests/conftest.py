"""Shared test set-up: the nvcc compile check starts as soon as it is collected.

The CUDA compile check (``tests/test_runtime_nvcc.py``) is one long single-threaded nvcc run
per architecture; started at collection it runs on the second core while the rest of the suite
runs, instead of adding its minute at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

_NVCC_TEST = "test_runtime_nvcc.py::test_cuda_kernel_compiles_with_nvcc"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
    for proc in getattr(config, "actfit_nvcc", {}).values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    folder = getattr(config, "actfit_nvcc_folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
