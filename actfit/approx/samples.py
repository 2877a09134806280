"""Recorded pre-activation samples: reading them, their density and their quantile range.

A fit calibrated on real activations weights its error by the empirical density of the values a
network's activation actually sees. The samples come from a file: ``.npy`` (one array, any
shape), ``.npz`` (the arrays it holds; :func:`actfit.runtime.capture` writes one array per module
name plus a ``__meta__`` JSON string) or ``.pt`` (a tensor, or a dict of tensors, loaded with
``torch.load(weights_only=True)``, so a file cannot run code).

Density: a binned Gaussian kernel density estimate (Silverman 1982, "Algorithm AS 176: kernel
density estimation using the fast Fourier transform"): the samples are binned on a grid of 2048
cells covering their span plus 4 bandwidths either side, the counts are convolved with the
Gaussian kernel (``scipy.ndimage.gaussian_filter1d``), and the result is interpolated linearly.
The bandwidth is Scott's rule, the default of ``scipy.stats.gaussian_kde``. Unlike
``gaussian_kde`` itself, whose evaluation costs samples x points (1e5 samples at the 4000 nodes of
a fit: 4e8 kernel evaluations), the binned estimate costs one interpolation per point.

Examples:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=20000)
    >>> f, info = density(x)
    >>> bool(abs(f(0.0) - 1 / np.sqrt(2 * np.pi)) < 0.02), info["method"]
    (True, 'binned gaussian kde')
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from actfit.errors import FileFormatError, ParameterError

__all__ = [
    "META_KEY",
    "SAMPLES_SCHEMA",
    "SampleFileError",
    "density",
    "load_samples",
    "quantile_range",
    "read_meta",
]

SAMPLES_SCHEMA = "actfit.samples"
META_KEY = "__meta__"
"""The ``.npz`` entry holding the capture's metadata (a JSON string), not samples."""
_BINS = 2048
_PAD = 4.0  # bandwidths of grid either side of the data


class SampleFileError(FileFormatError):
    """A samples file that cannot be read, or holds no usable samples."""


def _bad(path: Path | str, what: str) -> SampleFileError:
    return SampleFileError(
        f"{path}: {what}; give a .npy/.npz/.pt file of finite real pre-activation values "
        "(actfit.runtime.capture writes one)"
    )


def _arrays_from_pt(path: Path) -> dict[str, Any]:
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad(path, f"not a readable torch file ({first[:120]})") from None
    if isinstance(obj, torch.Tensor):
        return {"tensor": obj}
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return {str(k): v for k, v in obj.items()}
    raise _bad(path, f"holds a {type(obj).__name__}, not a tensor or a dict of tensors")


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor: bfloat16 has no numpy dtype
        t = value.detach().cpu()
        if t.is_floating_point():
            t = t.double()
        return t.numpy()
    return np.asarray(value)


def load_samples(path: str | os.PathLike[str], key: str | None = None) -> np.ndarray:
    """Gives the samples in a ``.npy``/``.npz``/``.pt`` file as a flat float64 array.

    Args:
        path: The file. Arrays of any shape are flattened.
        key: For a file of several arrays (``.npz``, a dict in a ``.pt``): the one to read.
            Default: all of them, pooled (a capture of several modules gives one sample of the
            values every activation saw).

    Raises:
        SampleFileError: the file is missing or unreadable, has another suffix, holds no such
            ``key``, is empty, has a non-real dtype (bool, integer, complex, text, objects) or
            holds NaN or Inf (the message gives how many and the first position).

    Examples:
        >>> # x = load_samples("preacts.npz")
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz", ".pt", ".pth"):
        raise _bad(p, f"unknown suffix {p.suffix!r} (expected .npy, .npz or .pt)")
    if not p.is_file():
        raise _bad(p, "no such file")
    if suffix in (".pt", ".pth"):
        arrays = _arrays_from_pt(p)
    else:
        try:
            loaded = np.load(p, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    arrays = {k: loaded[k] for k in loaded.files if k != META_KEY}
            else:
                arrays = {"array": loaded}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _bad(p, f"not a readable numpy file ({first[:120]})") from None
    if key is not None:
        if key not in arrays:
            raise _bad(p, f"has no array {key!r} (it holds {', '.join(sorted(arrays)) or 'none'})")
        arrays = {key: arrays[key]}
    if not arrays:
        raise _bad(p, "holds no arrays")
    parts = []
    for name, value in arrays.items():
        arr = _as_array(value)
        if arr.dtype.kind != "f":
            raise _bad(p, f"array {name!r} has dtype {arr.dtype}, not a floating-point type")
        parts.append(arr.astype(np.float64, copy=False).ravel())
    x = np.concatenate(parts)
    if x.size == 0:
        raise _bad(p, "holds no samples (empty array)")
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argmax(bad))
        raise _bad(p, f"holds {int(bad.sum())} NaN/Inf value(s), the first at flat index {first}")
    return x


def _check_samples(samples: Any) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2 or not np.isfinite(x).all():
        raise ParameterError(
            f"need at least 2 finite samples, got {x.size} values"
            + ("" if np.isfinite(x).all() else " with NaN/Inf")
            + "; read them with load_samples"
        )
    return x


def density(samples: Any) -> tuple[Callable[[Any], np.ndarray], dict[str, Any]]:
    """Gives the samples' density (binned Gaussian KDE, see the module docstring) and its
    description.

    Returns:
        ``(f, info)``: ``f(x)`` the density at ``x`` (0 beyond the padded grid), vectorised;
        ``info`` a JSON-ready dict: method, bandwidth and its rule, bins, sample count, the grid's
        span.

    Raises:
        ParameterError: fewer than 2 samples, NaN/Inf, or all samples equal.
    """
    from scipy.ndimage import gaussian_filter1d

    x = _check_samples(samples)
    std = float(np.std(x, ddof=1))
    if not std > 0:
        raise ParameterError(
            f"all {x.size} samples equal {x[0]:g}: they have no density to weight a fit with"
        )
    h = std * x.size ** (-1.0 / 5.0)  # Scott's rule in one dimension
    lo = float(x.min()) - _PAD * h
    hi = float(x.max()) + _PAD * h
    counts, edges = np.histogram(x, bins=_BINS, range=(lo, hi))
    width = (hi - lo) / _BINS
    smooth = gaussian_filter1d(counts.astype(np.float64), h / width, mode="constant", truncate=6)
    dens = smooth / (x.size * width)
    centres = (edges[:-1] + edges[1:]) / 2

    def f(v: Any) -> np.ndarray:
        return np.interp(np.asarray(v, dtype=np.float64), centres, dens, left=0.0, right=0.0)

    info = {
        "method": "binned gaussian kde",
        "bandwidth": h,
        "bandwidth_rule": "scott",
        "bins": _BINS,
        "samples": int(x.size),
        "span": [lo, hi],
    }
    return f, info


def quantile_range(samples: Any, tail: float = 0.001) -> tuple[float, float]:
    """Gives ``(q_tail, q_{1-tail})``: the range holding all but ``tail`` of the samples at each
    end (``tail=0``: min and max).

    Raises:
        ParameterError: ``tail`` not in [0, 0.5), NaN/Inf samples, or an empty range (the
            quantiles coincide).

    Examples:
        >>> quantile_range(np.arange(1001.0), tail=0.01)
        (10.0, 990.0)
    """
    t = float(tail)
    if not (math.isfinite(t) and 0 <= t < 0.5):
        raise ParameterError(f"tail must be in [0, 0.5), got {tail!r}; e.g. 0.001")
    x = _check_samples(samples)
    lo, hi = (float(v) for v in np.quantile(x, [t, 1 - t]))
    if not lo < hi:
        raise ParameterError(
            f"the samples' {t:g} and {1 - t:g} quantiles are both {lo:g}: no range to fit on; "
            "use a smaller tail or give the range"
        )
    return lo, hi


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Gives the metadata of a capture ``.npz`` (``{}`` when it has none).

    Raises:
        SampleFileError: unreadable file or metadata.
    """
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            if META_KEY not in z.files:
                return {}
            return json.loads(str(z[META_KEY]))
    except (OSError, ValueError, zipfile.BadZipFile, AttributeError) as exc:
        raise _bad(p, f"no readable capture metadata ({type(exc).__name__})") from None
