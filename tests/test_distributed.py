"""DistributedDataParallel and FSDP (fully_shard) on the CPU with gloo, 2 real processes.

Each rank trains on its half of a global batch for a few SGD steps; every rank's coefficients and
gradients must equal a single-process run over the whole batch (float64, to rounding). Both
wrappers run in the same two processes, one after the other, to pay the start-up once.
"""

from __future__ import annotations

import os
import socket

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

import torch.multiprocessing as mp  # noqa: E402

from actfit.runtime import RationalActivation, load_library  # noqa: E402

STEPS = 3
BATCH = 16
# gelu's safe [5, 4] lsq table, rounded (b4 = 0 exactly: it must train under both wrappers).
NUM = [-1.0118e-03, 4.987e-01, 4.0619e-01, 1.0847e-01, 1.0597e-02, 4.491e-04]
DEN = [1.4578e-11, 2.1048e-01, 4.701e-03, 0.0]


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 8),
        RationalActivation(NUM, DEN, "safe", dtype=torch.float64, impl="op"),
        torch.nn.Linear(8, 8),
        RationalActivation(NUM, DEN, "safe", dtype=torch.float64, impl="op", groups=2),
        torch.nn.Linear(8, 3),
    ).double()


def _data():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH, 6, generator=gen, dtype=torch.float64) * 2
    y = torch.randn(BATCH, 3, generator=gen, dtype=torch.float64)
    return x, y


def _train(model, x, y, full=lambda t: t):
    """STEPS SGD steps; the coefficient values and gradients after each step."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    record = []
    for _ in range(STEPS):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        grads = {n: full(p.grad).detach().clone() for n, p in model.named_parameters()}
        opt.step()
        values = {n: full(p.data).detach().clone() for n, p in model.named_parameters()}
        record.append((grads, values))
    return record


def _worker(rank, port, out):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        load_library()
        x, y = _data()
        half = slice(rank * BATCH // 2, (rank + 1) * BATCH // 2)
        ddp = torch.nn.parallel.DistributedDataParallel(_model())
        results = {"ddp": _train(ddp, x[half], y[half])}
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (2,))
        model = _model()
        for layer in model:
            if isinstance(layer, RationalActivation | torch.nn.Linear):
                fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        results["fsdp"] = _train(model, x[half], y[half], full=lambda t: t.full_tensor())
        torch.save(results, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_and_fsdp_match_a_single_process(tmp_path):
    load_library()
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    x, y = _data()
    single = _train(_model(), x, y)
    for rank in (0, 1):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        for wrapper, record in got.items():
            for step, ((grads, values), (g1, v1)) in enumerate(zip(record, single, strict=True)):
                for name, want in g1.items():
                    name_w = name if wrapper == "fsdp" else f"module.{name}"
                    what = f"{wrapper} rank {rank} step {step} {name}"
                    torch.testing.assert_close(
                        grads[name_w], want, rtol=1e-12, atol=1e-14, msg=what
                    )
                    torch.testing.assert_close(
                        values[name_w], v1[name], rtol=1e-12, atol=1e-14, msg=what
                    )
    # The exact-zero coefficient trained (the safe form's subgradient at 0).
    assert single[-1][1]["1.denominator"][3] != 0
