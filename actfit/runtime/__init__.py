"""PyTorch runtime for rational activations: module, compiled operators, reference, validation.

``RationalActivation`` is the module; ``rational`` calls the compiled ``actfit::rational_fwd``
operator (CPU always, CUDA where a GPU and nvcc are present; built on first use, or ahead of it
by ``build_ops``); ``rational_reference`` is the pure-torch implementation used as test oracle
and fallback; ``validate`` checks a table in the runtime per dtype (``actfit validate``).
"""

from actfit.runtime._build import RUNTIME_MAX_DEGREE, BuildResult, RuntimeBuildError
from actfit.runtime.module import RationalActivation
from actfit.runtime.ops import build_ops, ensure_loaded, load_library, rational
from actfit.runtime.reference import rational_reference
from actfit.runtime.validate import ValidationReport, validate

__all__ = [
    "RUNTIME_MAX_DEGREE",
    "BuildResult",
    "RationalActivation",
    "RuntimeBuildError",
    "ValidationReport",
    "build_ops",
    "ensure_loaded",
    "load_library",
    "rational",
    "rational_reference",
    "validate",
]
