"""A short run of examples/train_digits.py: finite losses, above chance, coefficients moved."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"


def _example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_run(tmp_path):
    example = _example()
    out = tmp_path / "out"
    argv = [
        "--epochs",
        "1",
        "--seeds",
        "1",
        "--models",
        "mlp",
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    runs = example.main(argv)
    assert [r["activation"] for r in runs] == list(example.ACTIVATIONS)
    for r in runs:
        assert r["losses_finite"] and math.isfinite(r["final_loss"]) and r["nonfinite"] == 0
        assert r["accuracy"] > 0.3, r  # chance is 0.1
        learned = r["activation"].startswith("rational") and r["activation"].endswith("learned")
        assert (r["coefficient_change"] > 1e-3) == learned, r
    saved = json.loads((out / "digits_results.json").read_text())
    assert len(saved) == len(runs) and "_modules" not in saved[0]
    text = (out / "digits_results.md").read_text()
    assert "| mlp | rational-gelu-learned |" in text and " ± " in text
    assert (out / "digits_activations.png").stat().st_size > 10_000
