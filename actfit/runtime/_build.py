"""Compiles and loads the actfit::rational_* operators (once per process, cached on disk).

The CPU operator is always built from ``csrc/rational_cpu.cpp``; where PyTorch sees a GPU and
``nvcc`` is present, ``csrc/rational_cuda.cu`` is built into the same library. This module only
compiles and loads the library; the Python side of the operators (fake kernels, autograd) is
registered by :func:`actfit.runtime.ops.ensure_loaded`.

The build cache lives in ``$ACTFIT_BUILD_DIR`` or ``~/.cache/actfit/torch_extensions``, one
folder per build: ``torch<version>-<isa>-<cpu|cuda>-<key>``, where the key is a hash of the
sources and of every compiler flag (:func:`cache_key`), so that two checkouts or two actfit
versions on one machine do not overwrite each other's build.

No ``-march=native`` (a cached build may be shared between machines): the CPU capability torch
reports picks one of a few portable flag sets, and the variant is part of the cache folder's name.
No ``-ffast-math`` either: it would let the compiler assume finite values and reassociate the
1/x evaluation that keeps extreme inputs finite.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from actfit.errors import ActfitError

__all__ = [
    "BUILD_MESSAGE",
    "RUNTIME_MAX_DEGREE",
    "BuildResult",
    "RuntimeBuildError",
    "build_and_load",
    "cache_key",
    "cuda_flags",
    "cxx_flags",
    "nvcc_flags",
    "source_files",
]

RUNTIME_MAX_DEGREE = 16
"""Highest numerator and denominator degree the compiled operators take.

The one source of truth: passed to both compilers as ``-DACTFIT_MAX_DEGREE`` (``csrc/rational.h``
has the same number as its ``#ifndef`` default, and a test checks that they agree)."""

BUILD_MESSAGE = (
    "actfit: compiling the runtime operators (first use, ~1 min; prebuild with `actfit build-ops`)"
)
"""The line printed on stderr when a build (not a cached load) starts."""

_CSRC = Path(__file__).resolve().parent / "csrc"
_LOCK = threading.Lock()
_STATE: dict[str, object] = {}


class RuntimeBuildError(ActfitError):
    """The compiled runtime operators could not be built or loaded."""


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_and_load` did.

    Attributes:
        variant: ``"cuda"`` when the CUDA implementation was built too, else ``"cpu"``.
        library: the shared library that was loaded.
        cached: True when the library came from the cache, False when it was compiled now.
        seconds: wall-clock time of the build (or of the cached load).
    """

    variant: str
    library: Path
    cached: bool
    seconds: float


def source_files(cuda: bool) -> list[Path]:
    """Gives the files the library is built from: the compiled sources first, then the headers."""
    sources = [_CSRC / "rational_cpu.cpp"]
    if cuda:
        sources.append(_CSRC / "rational_cuda.cu")
    return sources + sorted(_CSRC.glob("*.h"))


def _defines() -> list[str]:
    return [f"-DACTFIT_MAX_DEGREE={RUNTIME_MAX_DEGREE}"]


def cxx_flags(isa_flags: Sequence[str] = ()) -> list[str]:
    """Gives the host compiler's flags of the shipped build (before torch's own)."""
    return ["-O3", "-fopenmp", *isa_flags, *_defines()]


def cuda_flags() -> list[str]:
    """Gives nvcc's flags of the shipped build (before torch's own, without the architectures).

    ``-std=c++20`` as torch uses for the host compiler: its headers use C++20 features.
    The nvcc compile test (``tests/test_runtime_nvcc.py``) builds with these very flags.
    """
    return ["-O3", "-std=c++20", "--expt-relaxed-constexpr", "-lineinfo", *_defines()]


def nvcc_flags() -> list[str]:
    """Gives every nvcc flag of the shipped CUDA build except the architectures and the output.

    torch's common nvcc flags (no implicit half conversions, ...), :func:`cuda_flags`, the
    extension defines and the include folders: what ``cpp_extension.load`` passes, for compiling
    ``csrc/rational_cuda.cu`` outside it (the compile test does).
    """
    import sysconfig

    from torch.utils import cpp_extension

    includes = [str(_CSRC), *cpp_extension.include_paths(), sysconfig.get_paths()["include"]]
    return [
        *cpp_extension.COMMON_NVCC_FLAGS,
        *cuda_flags(),
        "-DTORCH_EXTENSION_NAME=actfit_rational_cuda",
        "-DTORCH_API_INCLUDE_EXTENSION_H",
        *[f"-I{p}" for p in includes],
    ]


def cache_key(files: Iterable[Path], flags: Iterable[str]) -> str:
    """Gives a short hash of the files' paths and bytes and of the flags (the build folder key).

    The full path is part of the key: torch's JIT build writes the source paths into its ninja
    file, so two checkouts with the same sources sharing one folder rebuild each other's library
    on every alternate use (seen here: 80-100 s per ``actfit validate``).

    Examples:
        >>> len(cache_key([], ["-O3"]))
        16
    """
    h = hashlib.sha256()
    for path in files:
        h.update(str(path.resolve()).encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(b"\0flags\0")
    for flag in flags:
        h.update(flag.encode() + b"\0")
    return h.hexdigest()[:16]


def _cpu_flags() -> tuple[str, list[str]]:
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    if capability in ("AVX2", "AVX512") and os.uname().machine == "x86_64":
        return "avx2", ["-mavx2", "-mfma"]
    return "base", []


def _with_cuda() -> bool:
    import torch
    from torch.utils import cpp_extension

    return (
        torch.cuda.is_available()
        and torch.version.cuda is not None
        and cpp_extension.CUDA_HOME is not None
        and os.environ.get("ACTFIT_NO_CUDA", "") != "1"
    )


def build_and_load() -> BuildResult:
    """Builds (first call only, unless cached on disk) and loads the runtime operators.

    Prints :data:`BUILD_MESSAGE` on stderr when it compiles (not on a cached load). Later calls
    in the same process give back the first call's result.

    Returns:
        What was loaded, from where, and whether it was compiled now.

    Raises:
        RuntimeBuildError: no C++ compiler, or the compilation failed.
    """
    if "result" in _STATE:
        return _STATE["result"]  # type: ignore[return-value]
    with _LOCK:
        if "result" in _STATE:
            return _STATE["result"]  # type: ignore[return-value]
        if "error" in _STATE:
            raise RuntimeBuildError(str(_STATE["error"]))
        try:
            result = _build()
        except RuntimeBuildError as exc:
            _STATE["error"] = str(exc)
            raise
        _STATE["result"] = result
        return result


def _build() -> BuildResult:
    import torch
    from torch.utils import cpp_extension

    cxx = os.environ.get("CXX", "c++")
    if shutil.which(cxx) is None:
        raise RuntimeBuildError(
            f"no C++ compiler found ('{cxx}'); install g++ or set CXX, or use "
            "RationalActivation(..., impl='reference') for the pure-torch implementation"
        )
    isa, isa_flags = _cpu_flags()
    with_cuda = _with_cuda()
    variant = "cuda" if with_cuda else "cpu"
    files = source_files(with_cuda)
    cflags = cxx_flags(isa_flags)
    nvflags = cuda_flags() if with_cuda else []
    key = cache_key(files, [*cflags, "--nvcc", *nvflags, f"CXX={cxx}"])
    tag = f"torch{torch.__version__.replace('+', '_')}-{isa}-{variant}-{key}"
    root = os.environ.get("ACTFIT_BUILD_DIR") or str(
        Path.home() / ".cache" / "actfit" / "torch_extensions"
    )
    build_dir = Path(root) / tag
    name = "actfit_rational_" + variant
    library = build_dir / f"{name}.so"
    # The cache key covers the sources' bytes and the flags, but ninja also compares mtimes: a
    # fresh checkout (sources newer than the library) rebuilds an existing library. Predict it
    # as ninja does, so that the message is printed; an unchanged library is a cached load.
    before = library.stat().st_mtime_ns if library.is_file() else None
    stale = before is not None and any(f.stat().st_mtime_ns > before for f in files)
    cached = before is not None and not stale
    verbose = os.environ.get("ACTFIT_BUILD_VERBOSE", "") == "1"
    if not cached:
        print(BUILD_MESSAGE, file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        cpp_extension.load(
            name=name,
            sources=[str(f) for f in files if f.suffix != ".h"],
            extra_cflags=cflags,
            extra_cuda_cflags=nvflags,
            extra_ldflags=["-fopenmp"],
            extra_include_paths=[str(_CSRC)],
            build_directory=str(build_dir),
            is_python_module=False,
            verbose=verbose,
        )
    except (RuntimeError, OSError, ImportError) as exc:
        raise RuntimeBuildError(
            f"building the actfit runtime operators failed in {build_dir}: {exc}; "
            "set ACTFIT_BUILD_VERBOSE=1 to see the compiler output, or use impl='reference'"
        ) from exc
    if cached and library.stat().st_mtime_ns != before:
        cached = False
    return BuildResult(variant, library, cached, time.perf_counter() - start)
