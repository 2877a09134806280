"""Throughput of the runtime operators; figures go to benchmarks/results/runtime-<device>.json.

CPU: forward+backward of a [5,4] safe rational on 16M float32 elements against torch's own SiLU
forward+backward and against the pure-torch reference. Both: the grouped op (KAT's 8 groups of
96 channels) against one call per group. CUDA: forward and backward bandwidth for
float32 and bfloat16 as a fraction of the device's peak (from its memory clock and bus width) and
of a measured device-to-device copy, with torch.compile of the reference for comparison.

Run: ``python benchmarks/runtime.py [--device cpu|cuda|all] [--numel N] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actfit.runtime import load_library, rational_reference

A54 = [0.02, 0.5, 0.3, 0.05, 0.003, 1e-4]
B54 = [0.1, 0.4, 0.01, 0.02]


def _time_cpu(fn, reps=7):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _time_cuda(fn, reps=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def _fwd_bwd(f, x, g, params):
    def run():
        for p in params:
            p.grad = None
        x.grad = None
        f(x).backward(g)

    return run


def _grouped(timer, x: torch.Tensor, g: torch.Tensor, groups: int = 8, channels: int = 768):
    """KAT's layout: x as [tokens, 768 channels], 8 groups of 96 channels, each with its own
    [5,4] safe coefficients. The fused op (one call, x viewed as [tokens, G, 96]) against the
    per-group composition (slice, one call per group, concatenate), forward+backward."""
    dev = x.device
    rows = x.numel() // channels
    xg = x.detach()[: rows * channels].view(rows, channels).clone().requires_grad_(True)
    gg = g[: rows * channels].view(rows, channels)
    scale = 1 + 0.01 * torch.arange(groups, device=dev)[:, None]
    a = (torch.tensor(A54, device=dev) * scale).requires_grad_(True)
    b = (torch.tensor(B54, device=dev) * scale).requires_grad_(True)

    def fused(v):
        y = torch.ops.actfit.rational_fwd(v.view(rows, groups, -1), a, b, "safe")
        return y.view(v.shape)

    def composed(v):
        parts = v.chunk(groups, dim=-1)
        return torch.cat(
            [torch.ops.actfit.rational_fwd(c, a[k], b[k], "safe") for k, c in enumerate(parts)],
            dim=-1,
        )

    fused_s = timer(_fwd_bwd(fused, xg, gg, [a, b]))
    composed_s = timer(_fwd_bwd(composed, xg, gg, [a, b]))
    return {
        "shape": [rows, channels],
        "groups": groups,
        "fused_fwd_bwd_s": fused_s,
        "per_group_calls_fwd_bwd_s": composed_s,
        "per_group_calls_over_fused": composed_s / fused_s,
        # Bytes of forward+backward: x read twice, y written, g read, dx written.
        "fused_fwd_bwd_GBps": 5 * xg.numel() * xg.element_size() / fused_s / 1e9,
    }


def bench_cpu(numel: int) -> dict:
    """CPU figures: op, reference and SiLU, forward and forward+backward."""
    torch.manual_seed(0)
    x = (torch.randn(numel) * 3).requires_grad_(True)
    g = torch.randn(numel)
    a = torch.tensor(A54, requires_grad=True)
    b = torch.tensor(B54, requires_grad=True)

    def op(v):
        return torch.ops.actfit.rational_fwd(v, a, b, "safe")

    def ref(v):
        return rational_reference(v, a, b, "safe")

    res = {
        "numel": numel,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    with torch.no_grad():
        res["op_fwd_s"] = _time_cpu(lambda: op(x))
        res["silu_fwd_s"] = _time_cpu(lambda: torch.nn.functional.silu(x))
        res["reference_fwd_s"] = _time_cpu(lambda: ref(x), reps=3)
    res["op_fwd_bwd_s"] = _time_cpu(_fwd_bwd(op, x, g, [a, b]))
    # A [5,4] table with b4 = 0 (effectively [5,3], like gelu's safe lsq table): same fast path.
    b0 = torch.tensor([*B54[:-1], 0.0], requires_grad=True)
    res["op_b4_zero_fwd_bwd_s"] = _time_cpu(
        _fwd_bwd(lambda v: torch.ops.actfit.rational_fwd(v, a, b0, "safe"), x, g, [a, b0])
    )
    res["silu_fwd_bwd_s"] = _time_cpu(_fwd_bwd(torch.nn.functional.silu, x, g, []))
    res["reference_fwd_bwd_s"] = _time_cpu(_fwd_bwd(ref, x, g, [a, b]), reps=3)
    res["op_over_silu_fwd_bwd"] = res["op_fwd_bwd_s"] / res["silu_fwd_bwd_s"]
    res["op_b4_zero_over_silu_fwd_bwd"] = res["op_b4_zero_fwd_bwd_s"] / res["silu_fwd_bwd_s"]
    res["reference_over_op_fwd_bwd"] = res["reference_fwd_bwd_s"] / res["op_fwd_bwd_s"]
    res["grouped_float32"] = _grouped(_time_cpu, x, g)
    res["targets"] = {
        "op_within_2x_of_silu": res["op_over_silu_fwd_bwd"] <= 2.0,
        "op_5x_faster_than_reference": res["reference_over_op_fwd_bwd"] >= 5.0,
    }
    return res


def _peak_bandwidth() -> float | None:
    props = torch.cuda.get_device_properties(0)
    clock = getattr(props, "memory_clock_rate", None)  # kHz
    width = getattr(props, "memory_bus_width", None)  # bits
    if not clock or not width:
        return None
    return 2.0 * clock * 1e3 * width / 8


def bench_cuda(numel: int) -> dict:
    """CUDA figures: bandwidth of forward and backward per dtype, and compiled reference."""
    dev = "cuda"
    props = torch.cuda.get_device_properties(0)
    src = torch.empty(numel, device=dev, dtype=torch.float32).normal_()
    dst = torch.empty_like(src)
    copy_s = _time_cuda(lambda: dst.copy_(src))
    copy_bw = 2 * src.numel() * 4 / copy_s
    dst = None
    peak = _peak_bandwidth()
    res = {
        "device": props.name,
        "numel": numel,
        "peak_bandwidth_GBps": peak / 1e9 if peak else None,
        "copy_bandwidth_GBps": copy_bw / 1e9,
        "dtypes": {},
    }
    a = torch.tensor(A54, device=dev, requires_grad=True)
    b = torch.tensor(B54, device=dev, requires_grad=True)
    compiled_ref = torch.compile(rational_reference)
    ad, bd = a.detach(), b.detach()
    for dtype in (torch.float32, torch.bfloat16):
        x = (src * 3).to(dtype)
        gy = torch.randn_like(x)
        item = x.element_size()
        row = {}
        fwd_s = _time_cuda(lambda x=x: torch.ops.actfit.rational_fwd(x, ad, bd, "safe"))
        bwd_s = _time_cuda(
            lambda x=x, gy=gy: torch.ops.actfit.rational_bwd(gy, x, ad, bd, "safe", True)
        )
        ref_s = _time_cuda(lambda x=x: compiled_ref(x, ad, bd, "safe"))
        row["fwd_s"] = fwd_s
        row["fwd_GBps"] = 2 * numel * item / fwd_s / 1e9
        row["bwd_s"] = bwd_s
        row["bwd_GBps"] = 3 * numel * item / bwd_s / 1e9
        row["compiled_reference_fwd_s"] = ref_s
        row["compiled_reference_fwd_GBps"] = 2 * numel * item / ref_s / 1e9
        # torch's own elementwise kernels on the same tensor: what this device gives an
        # elementwise op in practice (SiLU: same bytes per element as our forward / backward).
        silu_s = _time_cuda(lambda x=x: torch.nn.functional.silu(x))
        silu_bwd_s = _time_cuda(lambda x=x, gy=gy: torch.ops.aten.silu_backward(gy, x))
        row["torch_silu_fwd_GBps"] = 2 * numel * item / silu_s / 1e9
        row["torch_silu_bwd_GBps"] = 3 * numel * item / silu_bwd_s / 1e9
        # A [5,4] table whose top denominator coefficient is 0 (effectively [5,3], like the safe
        # lsq table of gelu) runs the same fast path.
        b0 = bd.clone()
        b0[-1] = 0.0
        top0_s = _time_cuda(lambda x=x, b0=b0: torch.ops.actfit.rational_fwd(x, ad, b0, "safe"))
        row["b4_zero_fwd_GBps"] = 2 * numel * item / top0_s / 1e9
        xr = x.detach().clone().requires_grad_(True)
        row["op_fwd_bwd_s"] = _time_cuda(
            _fwd_bwd(lambda v: torch.ops.actfit.rational_fwd(v, a, b, "safe"), xr, gy, [a, b])
        )
        row["compiled_reference_fwd_bwd_s"] = _time_cuda(
            _fwd_bwd(lambda v: compiled_ref(v, a, b, "safe"), xr, gy, [a, b])
        )
        for key in ("fwd", "bwd"):
            bw = row[f"{key}_GBps"] * 1e9
            row[f"{key}_fraction_of_peak"] = bw / peak if peak else None
            row[f"{key}_fraction_of_copy"] = bw / copy_bw
        row["targets"] = {
            "fwd_85pct_of_peak": bool(peak) and row["fwd_GBps"] * 1e9 >= 0.85 * peak,
            "bwd_75pct_of_peak": bool(peak) and row["bwd_GBps"] * 1e9 >= 0.75 * peak,
        }
        row["grouped"] = _grouped(_time_cuda, x, gy)
        res["dtypes"][str(dtype).removeprefix("torch.")] = row
        del x, gy, xr
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--numel", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    load_library()
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not torch.cuda.is_available():
        if args.device == "cuda":
            print("no CUDA device", file=sys.stderr)
            return 1
        devices.remove("cuda")
    for device in devices:
        if device == "cpu":
            figures = bench_cpu(args.numel or 16 * 2**20)
        else:
            figures = bench_cuda(args.numel or 2**28)
        doc = {
            "benchmark": "runtime",
            "torch": torch.__version__,
            "machine": platform.machine(),
            "processor": platform.processor(),
            "figures": figures,
        }
        out = args.out or Path(__file__).parent / "results" / f"runtime-{device}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
