"""Compile check of the CUDA kernel with nvcc (compile only; skipped where nvcc is absent).

CI has no GPU but may have nvcc: this keeps rational_cuda.cu building for Hopper (sm_90) and
Ampere (sm_80) against the installed torch headers.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

NVCC = shutil.which("nvcc")
CSRC = Path(__file__).resolve().parents[1] / "actfit" / "runtime" / "csrc"


@pytest.mark.skipif(NVCC is None, reason="nvcc not found")
@pytest.mark.timeout(600)
def test_cuda_kernel_compiles_with_nvcc(tmp_path):
    from torch.utils.cpp_extension import include_paths

    # CPU wheels ship the c10/cuda headers but not the CMake-generated macro header.
    shim = tmp_path / "shim" / "c10" / "cuda" / "impl"
    shim.mkdir(parents=True)
    (shim / "cuda_cmake_macros.h").write_text("#pragma once\n")
    common = [
        "-std=c++20",
        "-O1",
        "--expt-relaxed-constexpr",
        f"-I{CSRC}",
        *[f"-I{p}" for p in include_paths()],
        f"-I{tmp_path / 'shim'}",
        f"-I{sysconfig.get_paths()['include']}",
    ]
    # One nvcc per architecture, run side by side (the build is long and single-threaded).
    procs = {
        arch: subprocess.Popen(
            [
                NVCC,
                "-c",
                str(CSRC / "rational_cuda.cu"),
                "-o",
                str(tmp_path / f"rational_cuda_{arch}.o"),
                f"-gencode=arch=compute_{arch},code=sm_{arch}",
                *common,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for arch in ("90", "80")
    }
    for arch, proc in procs.items():
        _, err = proc.communicate()
        assert proc.returncode == 0, f"sm_{arch}: {err[-4000:]}"
