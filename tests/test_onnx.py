"""Deployment: torch.export and ONNX (dynamo exporter, run by onnxruntime) of RationalActivation.

Under ``torch.onnx.export`` the module traces the pure-torch reference (standard operators), so
the ONNX model needs no custom operator; torch.export keeps the compiled ``actfit`` operator.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from actfit.approx.lsq import fit_lsq  # noqa: E402
from actfit.runtime import RationalActivation, load_library  # noqa: E402


@pytest.fixture(scope="module")
def model():
    load_library()
    torch.manual_seed(0)
    fit = fit_lsq("gelu", order=(5, 4), range=(-3, 3), form="safe")
    grouped = RationalActivation.from_fit(fit, groups=2)
    with torch.no_grad():
        grouped.denominator[1, 3] = 0.01  # the groups differ, one with full degree
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 8), RationalActivation.from_fit(fit), torch.nn.Linear(8, 8), grouped
    )
    return net.eval()


def _inputs(n):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, generator=gen) * 3
    x[0] = torch.tensor([1e3, -1e3, 50.0, 0.0])  # the 1/x branch too
    return x


def test_torch_export_keeps_the_operator(model):
    x = _inputs(16)
    ep = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    assert "actfit.rational_fwd" in ep.graph_module.code
    y = _inputs(33)
    torch.testing.assert_close(ep.module()(y), model(y), rtol=0, atol=0)


def _onnx_run(module, x, y, path):
    program = torch.onnx.export(
        module, (x,), dynamo=True, dynamic_shapes=({0: torch.export.Dim("batch")},)
    )
    ops = {node.op_type for node in program.model_proto.graph.node}
    assert not any("actfit" in op or "rational" in op for op in ops), ops
    program.save(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: y.numpy()})[0]
    with torch.no_grad():
        want = module(y).numpy()
    assert got.dtype == np.float32 and got.shape == want.shape
    return float((np.abs(got - want) / np.maximum(np.abs(want), 1.0)).max())


@pytest.mark.parametrize("index", [1, 3], ids=["ungrouped", "grouped"])
def test_onnx_activation_matches_the_module(model, tmp_path, index):
    act = model[index]
    x = torch.randn(16, 8)
    y = torch.cat([torch.linspace(-12, 12, 4000), torch.tensor([1e3, -1e3, 4e4, -1e5])])
    y = torch.cat([y, torch.zeros(4)]).reshape(-1, 8)
    assert _onnx_run(act, x, y, tmp_path / "act.onnx") <= 1e-6
    # Still the compiled operator outside the export.
    assert act.impl == "op" and not torch.onnx.is_in_onnx_export()
