"""Reading every file kind actfit writes (load, load_all) and writing outputs all or none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import actfit
from actfit.errors import FileFormatError, OutputPathError
from actfit.export import check_output_path, load, load_all, save, write_all
from actfit.export.table import save_tables, write_table
from actfit.fit import make_fit
from actfit.rational import Rational
from actfit.targets import get_target


def _fit(target: str = "gelu", params: dict | None = None, scale: float = 1.0):
    return make_fit(
        get_target(target, params),
        Rational([0.01 * scale, 0.5, 0.3], [0.2 * scale, 0.1], "safe"),
        method="lsq",
        settings={"weight": "uniform"},
        range=(-3.0, 3.0),
        allow_poles=True,
    )


def test_top_level_names() -> None:
    assert actfit.load is load and actfit.load_all is load_all
    assert "load_all" in dir(actfit)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_result_file_loads_as_one_fit(tmp_path: Path, suffix: str) -> None:
    fit = _fit()
    p = save(fit, tmp_path / f"f{suffix}")
    assert load(p) == fit and load_all(p) == [fit]
    assert load(p, name=0) == fit


def test_tables_file(tmp_path: Path) -> None:
    fits = [_fit("leaky_relu", {"slope": 0.2}), _fit("gelu"), _fit("gelu", scale=2.0)]
    p = save_tables(fits, tmp_path / "t.json")
    assert load_all(p) == fits
    assert load(p, name="fits[1]") == fits[1]
    assert load(p, name=2) == fits[2] and load(p, name="#2") == fits[2]
    assert load(p, name="leaky_relu(slope=0.2)") == fits[0]
    assert load(p, name="leaky_relu_0.2") == fits[0]
    with pytest.raises(FileFormatError, match=r"holds 3 fits.*load_all"):
        load(p)
    with pytest.raises(FileFormatError, match=r"several tables named 'gelu'.*fits\[1\]"):
        load(p, name="gelu")
    with pytest.raises(FileFormatError, match="no table named 'swish'"):
        load(p, name="swish")
    one = save_tables(fits[:1], tmp_path / "one.json")
    assert load(one) == fits[0]


def test_rational_activations_file_written_by_actfit(tmp_path: Path) -> None:
    fits = [_fit("leaky_relu", {"slope": 0.01}), _fit("gelu")]
    p = write_table(fits, tmp_path / "t.rational_activations.json", "rational_activations")
    back = load_all(p)
    assert [f.rational.numerator.tolist() for f in back] == [
        f.rational.numerator.tolist() for f in fits
    ]
    assert load(p, name="gelu").form == "safe"


@pytest.mark.parametrize(
    "content, match", [(b"", "empty"), (b"PK\x03\x04", "corrupt")]
)
def test_bad_npz_is_a_file_format_error(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "bad.npz"
    p.write_bytes(content)
    for reader in (load, load_all):
        with pytest.raises(FileFormatError, match=match):
            reader(p)


def test_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="is a folder"):
        load(tmp_path)


def test_output_checks(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_text("{}")
    with pytest.raises(OutputPathError, match=r"is a file, not a folder"):
        check_output_path(f / "x.json")
    with pytest.raises(OutputPathError, match=r"is a file, not a folder"):
        check_output_path(f / "deeper" / "x.json")
    with pytest.raises(OutputPathError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "x.json")
    with pytest.raises(OutputPathError, match="does not take new files"):
        check_output_path("/proc/actfit.json")
    assert sorted(os.listdir(tmp_path)) == ["f.json"]  # the probe file is gone


def test_write_all_writes_all_or_none(tmp_path: Path) -> None:
    def ok(tmp: Path) -> None:
        tmp.write_text("ok")

    def boom(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("plotting failed")

    with pytest.raises(RuntimeError):
        write_all([(tmp_path / "a.json", ok), (tmp_path / "b.png", boom)])
    assert os.listdir(tmp_path) == []
    with pytest.raises(OutputPathError, match="named twice"):
        write_all([(tmp_path / "a.json", ok), (tmp_path / "a.json", ok)])
    assert write_all([(tmp_path / "a.json", ok), (tmp_path / "b.md", ok)])
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.md"]
    assert (tmp_path / "a.json").read_text() == "ok"


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fail_at=st.integers(0, 4), n=st.integers(1, 4))
def test_write_all_leaves_nothing_on_any_failure(tmp_path: Path, fail_at: int, n: int) -> None:
    folder = tmp_path / f"w{fail_at}{n}"
    folder.mkdir(exist_ok=True)
    for p in folder.iterdir():
        p.unlink()
    calls = []

    def writer(tmp: Path) -> None:
        calls.append(tmp)
        if len(calls) - 1 == fail_at:
            raise OSError(28, "No space left on device", str(tmp))
        tmp.write_text("x")

    outs = [(folder / f"o{i}.json", writer) for i in range(n)]
    if fail_at < n:
        with pytest.raises(OutputPathError, match=r"o\d.json.: No space left"):
            write_all(outs)
        assert list(folder.iterdir()) == []
    else:
        write_all(outs)
        assert sorted(p.name for p in folder.iterdir()) == [f"o{i}.json" for i in range(n)]
