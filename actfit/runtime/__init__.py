"""PyTorch runtime for rational activations: module, compiled operators, reference, validation.

``RationalActivation`` is the module; ``rational`` calls the compiled ``actfit::rational_fwd``
operator (CPU always, CUDA where a GPU and nvcc are present; built on first use, or ahead of it
by ``build_ops``); ``rational_reference`` is the pure-torch implementation used as test oracle
and fallback; ``validate`` checks a table in the runtime per dtype (``actfit validate``).

For training: ``replace_activations`` converts a model (cached fits), ``capture`` records
pre-activations for data-calibrated fits, ``gain`` gives the ``torch.nn.init`` gain, and
``RationalActivation.to_fit``/``save`` and ``load_learned`` (a saved state_dict) turn learned
coefficients back into result documents.
"""

from actfit.runtime._build import RUNTIME_MAX_DEGREE, BuildResult, RuntimeBuildError
from actfit.runtime.capture import NoMatchingModuleError, capture
from actfit.runtime.convert import CacheDirError, cached_fit, replace_activations
from actfit.runtime.initialization import gain
from actfit.runtime.module import RationalActivation
from actfit.runtime.ops import build_ops, ensure_loaded, load_library, rational
from actfit.runtime.reference import rational_reference
from actfit.runtime.state import load_learned
from actfit.runtime.validate import ValidationReport, validate

__all__ = [
    "RUNTIME_MAX_DEGREE",
    "BuildResult",
    "CacheDirError",
    "NoMatchingModuleError",
    "RationalActivation",
    "RuntimeBuildError",
    "ValidationReport",
    "build_ops",
    "cached_fit",
    "capture",
    "ensure_loaded",
    "gain",
    "load_learned",
    "load_library",
    "rational",
    "rational_reference",
    "replace_activations",
    "validate",
]
