"""Tests of the runtime build: cache key, one source of the max degree, build message, build_ops.

The message tests replace torch's compiler driver by a stub that only writes the library file,
so they run in milliseconds; one test builds (or loads from the cache) the real library in a
fresh process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from actfit.runtime import _build  # noqa: E402
from actfit.runtime._build import (  # noqa: E402
    BUILD_MESSAGE,
    RUNTIME_MAX_DEGREE,
    cache_key,
    cuda_flags,
    cxx_flags,
    source_files,
)

CSRC = Path(_build.__file__).resolve().parent / "csrc"
ROOT = Path(__file__).resolve().parents[1]


def test_cache_key_changes_with_a_source_byte_and_with_a_flag(tmp_path):
    for f in source_files(cuda=True):
        shutil.copy(f, tmp_path / f.name)
    files = [tmp_path / f.name for f in source_files(cuda=True)]
    flags = [*cxx_flags(), *cuda_flags()]
    key = cache_key(files, flags)
    assert key == cache_key(files, list(flags))
    header = tmp_path / "rational.h"
    data = bytearray(header.read_bytes())
    data[-2] ^= 1
    header.write_bytes(bytes(data))
    assert cache_key(files, flags) != key
    data[-2] ^= 1
    header.write_bytes(bytes(data))
    assert cache_key(files, flags) == key
    assert cache_key(files, [*flags, "-DX"]) != key
    assert cache_key(files, [f.replace("-O3", "-O2") for f in flags]) != key


def test_every_header_and_source_is_hashed():
    names = {f.name for f in source_files(cuda=True)}
    assert names == {p.name for p in CSRC.iterdir() if p.suffix in (".h", ".cpp", ".cu")}
    assert "rational_cuda.cu" not in {f.name for f in source_files(cuda=False)}


def test_max_degree_has_one_value():
    header = (CSRC / "rational.h").read_text()
    default = re.search(r"#define ACTFIT_MAX_DEGREE (\d+)", header)
    assert default is not None and int(default.group(1)) == RUNTIME_MAX_DEGREE
    assert "constexpr int kMaxDegree = ACTFIT_MAX_DEGREE;" in header
    define = f"-DACTFIT_MAX_DEGREE={RUNTIME_MAX_DEGREE}"
    assert define in cxx_flags() and define in cuda_flags()


def test_cuda_flags_match_torch_host_standard():
    # torch compiles the host side with -std=c++20 (its headers need it); nvcc must agree.
    assert "-std=c++20" in cuda_flags()


@pytest.fixture
def stub_build(tmp_path, monkeypatch):
    """_build._build with a stub compiler driver writing the library; counts its calls."""
    from torch.utils import cpp_extension

    calls = []

    def load(*, name, build_directory, **kwargs):
        # like ninja: write the library when it is missing or its sources are "newer"
        calls.append(name)
        lib = Path(build_directory) / f"{name}.so"
        if not lib.is_file() or os.environ.get("STUB_SOURCES_TOUCHED") == "1":
            lib.write_bytes(b"stub")
            os.utime(lib, ns=(lib.stat().st_atime_ns, lib.stat().st_mtime_ns + 10**9))

    monkeypatch.setattr(cpp_extension, "load", load)
    monkeypatch.setenv("ACTFIT_BUILD_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ACTFIT_NO_CUDA", "1")
    return calls


def test_build_message_once_on_a_fresh_build_dir_and_not_on_a_cached_load(stub_build, capfd):
    first = _build._build()
    err = capfd.readouterr().err
    assert err.count(BUILD_MESSAGE) == 1 and err.strip() == BUILD_MESSAGE
    assert not first.cached and first.library.is_file()
    second = _build._build()
    assert capfd.readouterr().err == ""
    assert second.cached and second.library == first.library
    assert len(stub_build) == 2  # torch's loader still runs: it loads the cached library


def test_a_rebuild_by_ninja_is_not_reported_as_cached(stub_build, monkeypatch):
    assert not _build._build().cached
    monkeypatch.setenv("STUB_SOURCES_TOUCHED", "1")
    assert not _build._build().cached  # the library existed, but it was compiled again
    monkeypatch.delenv("STUB_SOURCES_TOUCHED")
    assert _build._build().cached


def test_sources_newer_than_the_library_are_a_build_with_its_message(
    stub_build, monkeypatch, tmp_path, capfd
):
    assert not _build._build().cached
    capfd.readouterr()
    source = tmp_path / "rational.h"
    source.write_text("// touched by a fresh checkout")
    lib = _build._build().library
    os.utime(source, ns=(lib.stat().st_atime_ns, lib.stat().st_mtime_ns + 10**9))
    real = _build.source_files
    monkeypatch.setattr(_build, "source_files", lambda cuda: [*real(cuda), source])
    monkeypatch.setenv("STUB_SOURCES_TOUCHED", "1")
    capfd.readouterr()
    result = _build._build()
    assert not result.cached and capfd.readouterr().err.count(BUILD_MESSAGE) == 1


def test_build_folder_names_torch_isa_variant_and_key(stub_build, tmp_path):
    result = _build._build()
    folder = result.library.parent
    assert folder.parent == tmp_path / "cache"
    assert re.fullmatch(r"torch.+-(avx2|base)-cpu-[0-9a-f]{16}", folder.name), folder.name


def test_build_ops_in_a_fresh_process():
    """The real build (or cached load): the message at most once, and only when it compiles."""
    code = (
        "import json, sys\n"
        "from actfit.runtime import build_ops\n"
        "r = build_ops(); again = build_ops()\n"
        "assert again is r\n"
        "import torch; x = torch.linspace(-3, 3, 7)\n"
        "y = torch.ops.actfit.rational_fwd(x, torch.tensor([0., 1.]), torch.tensor([0., 1.]),"
        " 'safe')\n"
        "print(json.dumps({'cached': r.cached, 'lib': str(r.library), 'variant': r.variant}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append(proc)
    import json

    first, second = (json.loads(p.stdout.strip().splitlines()[-1]) for p in runs)
    assert Path(first["lib"]).is_file() and first["variant"] in ("cpu", "cuda")
    # A cached load prints nothing. A build prints the message once when it is foreseen (no
    # library, or sources newer than it); ninja may also recompile for a changed command line,
    # which only shows after torch has written its build file: then the result says "built"
    # but no message was printed before.
    assert runs[0].stderr.count(BUILD_MESSAGE) == 0 if first["cached"] else (
        runs[0].stderr.count(BUILD_MESSAGE) <= 1
    )
    assert second["cached"] and second["lib"] == first["lib"]
    assert BUILD_MESSAGE not in runs[1].stderr
