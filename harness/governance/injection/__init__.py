"""Prompt injection: passages of tool output that read like instructions
(`InstructionDetector`), and isolation of untrusted output behind a worker that returns
only schema-validated values (`Isolation`)."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "InstructionDetector": "harness.governance.injection.detector",
    "Extract": "harness.governance.injection.isolation",
    "Isolation": "harness.governance.injection.isolation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.governance.injection.detector import InstructionDetector
    from harness.governance.injection.isolation import Extract, Isolation
