"""Train small networks on scikit-learn's digits with ReLU, GELU and rational activations.

The 8x8 digits dataset ships with scikit-learn (1797 images, no download). Two models, a small
MLP and a small CNN, each with six activations: ReLU, GELU, and RationalActivation initialised
from the [5, 4] safe least-squares fits of leaky_relu (slope 0.1) and of gelu on [-3, 3], with
fixed and with learnable coefficients. The rational modules come from
``actfit.runtime.replace_activations`` on the ``nn.LeakyReLU`` / ``nn.GELU`` model (fits cached
on disk). Each configuration trains for a few epochs on the CPU with several seeds.

Writes to ``--out`` (default ``examples/results/``):

* ``digits_results.md``: test accuracy (mean +- std over the seeds), time per epoch, the number of
  non-finite losses, and how far the learnable coefficients moved;
* ``digits_results.json``: the same per run;
* ``digits_activations.png``: the learned activations (every layer, every seed) against their
  initialisation.

Run:
    python examples/train_digits.py                      # 2 models x 6 activations x 3 seeds
    python examples/train_digits.py --epochs 1 --seeds 1 --models mlp   # a quick check
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from actfit.runtime import RationalActivation, replace_activations

ACTIVATIONS = (
    "relu",
    "gelu",
    "rational-leaky-fixed",
    "rational-leaky-learned",
    "rational-gelu-fixed",
    "rational-gelu-learned",
)
MODELS = ("mlp", "cnn")


def load_data(seed: int = 0) -> tuple[torch.Tensor, ...]:
    """The digits as float32 tensors in [0, 1], split 75/25, stratified, with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.images.astype(np.float32) / 16.0
    y = digits.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    return tuple(torch.from_numpy(a) for a in (xtr, ytr, xte, yte))


def _base_activation(kind: str) -> nn.Module:
    if kind == "relu":
        return nn.ReLU()
    if "leaky" in kind:
        return nn.LeakyReLU(0.1)
    return nn.GELU()


def build_model(model: str, activation: str, cache_dir: str | None = None) -> nn.Module:
    """The MLP or CNN with the given activation (rational ones via replace_activations)."""
    act = _base_activation(activation)
    if model == "mlp":
        net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, 64),
            act,
            nn.Linear(64, 64),
            _base_activation(activation),
            nn.Linear(64, 10),
        )
    else:
        net = nn.Sequential(
            nn.Unflatten(1, (1, 8)),
            nn.Conv2d(1, 16, 3, padding=1),
            act,
            nn.Conv2d(16, 32, 3, padding=1, stride=2),
            _base_activation(activation),
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 10),
        )
    if activation.startswith("rational"):
        kind = nn.LeakyReLU if "leaky" in activation else nn.GELU
        target = ("leaky_relu", {"slope": 0.1}) if "leaky" in activation else "gelu"
        replace_activations(
            net,
            {kind: target},
            order=(5, 4),
            form="safe",
            range=(-3, 3),
            learnable=activation.endswith("learned"),
            cache_dir=cache_dir,
        )
    return net


def _coefficients(net: nn.Module) -> list[torch.Tensor]:
    return [
        torch.cat([m.numerator.detach().flatten(), m.denominator.detach().flatten()]).clone()
        for m in net.modules()
        if isinstance(m, RationalActivation)
    ]


def train_one(
    model: str, activation: str, seed: int, epochs: int, data: tuple, cache_dir: str | None
) -> dict:
    """Trains one configuration; gives its accuracy, timings, non-finite losses and the
    learned rational modules."""
    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    net = build_model(model, activation, cache_dir)
    before = _coefficients(net)
    initial = [copy.deepcopy(m) for m in net.modules() if isinstance(m, RationalActivation)]
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    losses, nonfinite, times = [], 0, []
    for _ in range(epochs):
        net.train()
        t0 = time.perf_counter()
        for idx in torch.randperm(len(xtr), generator=gen).split(64):
            loss = nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
            if not torch.isfinite(loss):
                nonfinite += 1
                continue
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        times.append(time.perf_counter() - t0)
    net.eval()
    with torch.no_grad():
        out = net(xte)
        accuracy = (out.argmax(1) == yte).double().mean().item()
        nonfinite += int((~torch.isfinite(out)).any())
    after = _coefficients(net)
    moved = max(
        (float((a - b).abs().max()) for a, b in zip(after, before, strict=True)), default=0.0
    )
    rationals = [m for m in net.modules() if isinstance(m, RationalActivation)]
    return {
        "model": model,
        "activation": activation,
        "seed": seed,
        "accuracy": accuracy,
        "seconds_per_epoch": statistics.mean(times),
        "nonfinite": nonfinite,
        "final_loss": losses[-1] if losses else math.nan,
        "losses_finite": bool(losses) and all(math.isfinite(v) for v in losses),
        "coefficient_change": moved,
        "_modules": rationals,
        "_initial": initial,
    }


def table(runs: list[dict]) -> str:
    """The Markdown results table, one row per (model, activation)."""
    lines = [
        "| model | activation | test accuracy | time / epoch | NaN/Inf losses "
        "| max coefficient change |",
        "|---|---|---|---|---|---|",
    ]
    keys = dict.fromkeys((r["model"], r["activation"]) for r in runs)
    for model, act in keys:
        rs = [r for r in runs if (r["model"], r["activation"]) == (model, act)]
        acc = [100 * r["accuracy"] for r in rs]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        t = statistics.mean(r["seconds_per_epoch"] for r in rs)
        change = max(r["coefficient_change"] for r in rs)
        change_text = f"{change:.3g}" if act.startswith("rational") else "-"
        lines.append(
            f"| {model} | {act} | {statistics.mean(acc):.2f} ± {sd:.2f} % | {t * 1e3:.0f} ms | "
            f"{sum(r['nonfinite'] for r in rs)} | {change_text} |"
        )
    return "\n".join(lines) + "\n"


def plot(runs: list[dict], path: Path) -> None:
    """Learned activations (thin) against their initialisation (dashed), per model and init."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    learned = [r for r in runs if r["activation"].endswith("learned")]
    panels = list(dict.fromkeys((r["model"], r["activation"]) for r in learned))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), squeeze=False)
    x = torch.linspace(-4, 4, 401)
    for ax, (model, act) in zip(axes[0], panels, strict=True):
        rs = [r for r in learned if (r["model"], r["activation"]) == (model, act)]
        with torch.no_grad():
            for r in rs:
                for i, m in enumerate(r["_modules"]):
                    label = f"learned, layer {i + 1}" if r is rs[0] else None
                    ax.plot(x, m(x), lw=1, alpha=0.7, color=f"C{i}", label=label)
            ax.plot(x, rs[0]["_initial"][0](x), "k--", lw=1.2, label="initialisation")
        target = rs[0]["_modules"][0].init_target
        ax.plot(x, target(x.numpy()), ":", color="grey", lw=1, label=f"{target.label} (target)")
        ax.set_title(f"{model}, {act}")
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    """Runs the experiment; gives the runs (without the modules) and writes the outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--activations", default=",".join(ACTIVATIONS))
    parser.add_argument("--cache-dir", default=None, help="fit cache (default: actfit's)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_data()
    runs = []
    for model in args.models.split(","):
        for act in args.activations.split(","):
            for seed in range(args.seeds):
                r = train_one(model, act, seed, args.epochs, data, args.cache_dir)
                runs.append(r)
                print(
                    f"{model:4s} {act:24s} seed {seed}: accuracy {r['accuracy']:.4f}",
                    file=sys.stderr,
                )
    (out / "digits_results.md").write_text(
        f"Command: `python examples/train_digits.py --epochs {args.epochs} --seeds {args.seeds}"
        f" --models {args.models}`\n\n" + table(runs)
    )
    plain = [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs]
    (out / "digits_results.json").write_text(json.dumps(plain, indent=1))
    plot(runs, out / "digits_activations.png")
    return runs


if __name__ == "__main__":
    main()
