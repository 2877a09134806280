"""Compiles and loads the actfit::rational_* operators (once per process, cached on disk).

The CPU operator is always built from ``csrc/rational_cpu.cpp``; where PyTorch sees a GPU and
``nvcc`` is present, ``csrc/rational_cuda.cu`` is built into the same library. The build cache
lives in ``$ACTFIT_BUILD_DIR`` or ``~/.cache/actfit/torch_extensions/<torch>-<variant>``.

No ``-march=native`` (a cached build may be shared between machines): the CPU capability torch
reports picks one of a few portable flag sets, and the variant is part of the cache folder's name.
No ``-ffast-math`` either: it would let the compiler assume finite values and reassociate the
1/x evaluation that keeps extreme inputs finite.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from actfit.errors import ActfitError

__all__ = ["RuntimeBuildError", "load_library"]

_CSRC = Path(__file__).resolve().parent / "csrc"
_LOCK = threading.Lock()
_STATE: dict[str, object] = {}


class RuntimeBuildError(ActfitError):
    """The compiled runtime operators could not be built or loaded."""


def _cpu_flags() -> tuple[str, list[str]]:
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    if capability in ("AVX2", "AVX512") and os.uname().machine == "x86_64":
        return "avx2", ["-mavx2", "-mfma"]
    return "base", []


def load_library() -> str:
    """Builds (first call only) and loads the runtime operators; gives back "cpu" or "cuda".

    Returns:
        ``"cuda"`` when the CUDA implementation was built too, else ``"cpu"``.

    Raises:
        RuntimeBuildError: no C++ compiler, or the compilation failed.
    """
    if "variant" in _STATE:
        return _STATE["variant"]  # type: ignore[return-value]
    with _LOCK:
        if "variant" in _STATE:
            return _STATE["variant"]  # type: ignore[return-value]
        if "error" in _STATE:
            raise RuntimeBuildError(str(_STATE["error"]))
        try:
            variant = _build()
        except RuntimeBuildError as exc:
            _STATE["error"] = str(exc)
            raise
        from actfit.runtime import ops

        ops._register_python_kernels()
        _STATE["variant"] = variant
        return variant


def _build() -> str:
    import torch
    from torch.utils import cpp_extension

    cxx = os.environ.get("CXX", "c++")
    if shutil.which(cxx) is None:
        raise RuntimeBuildError(
            f"no C++ compiler found ('{cxx}'); install g++ or set CXX, or use "
            "RationalActivation(..., impl='reference') for the pure-torch implementation"
        )
    isa, isa_flags = _cpu_flags()
    with_cuda = (
        torch.cuda.is_available()
        and torch.version.cuda is not None
        and cpp_extension.CUDA_HOME is not None
        and os.environ.get("ACTFIT_NO_CUDA", "") != "1"
    )
    sources = [str(_CSRC / "rational_cpu.cpp")]
    cuda_flags: list[str] = []
    if with_cuda:
        sources.append(str(_CSRC / "rational_cuda.cu"))
        cuda_flags = ["-O3", "-std=c++17", "--expt-relaxed-constexpr", "-lineinfo"]
    tag = f"torch{torch.__version__.replace('+', '_')}-{isa}-{'cuda' if with_cuda else 'cpu'}"
    root = os.environ.get("ACTFIT_BUILD_DIR") or str(
        Path.home() / ".cache" / "actfit" / "torch_extensions"
    )
    build_dir = Path(root) / tag
    build_dir.mkdir(parents=True, exist_ok=True)
    try:
        cpp_extension.load(
            name="actfit_rational_" + ("cuda" if with_cuda else "cpu"),
            sources=sources,
            extra_cflags=["-O3", "-fopenmp", *isa_flags],
            extra_cuda_cflags=cuda_flags,
            extra_ldflags=["-fopenmp"],
            extra_include_paths=[str(_CSRC)],
            build_directory=str(build_dir),
            is_python_module=False,
            verbose=os.environ.get("ACTFIT_BUILD_VERBOSE", "") == "1",
        )
    except (RuntimeError, OSError, ImportError) as exc:
        raise RuntimeBuildError(
            f"building the actfit runtime operators failed in {build_dir}: {exc}; "
            "set ACTFIT_BUILD_VERBOSE=1 to see the compiler output, or use impl='reference'"
        ) from exc
    return "cuda" if with_cuda else "cpu"
