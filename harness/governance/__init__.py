"""Governance: what may run, what is isolated, what is verified."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Approver": "harness.governance.approvers",
    "AutoApprover": "harness.governance.approvers",
    "CallbackApprover": "harness.governance.approvers",
    "ConsoleApprover": "harness.governance.approvers",
    "Action": "harness.governance.base",
    "AllowAll": "harness.governance.base",
    "Decision": "harness.governance.base",
    "FinalAnswer": "harness.governance.base",
    "Governor": "harness.governance.base",
    "Verdict": "harness.governance.base",
    "TrustedText": "harness.governance.destinations",
    "InstructionDetector": "harness.governance.detector",
    "IsolationOnly": "harness.governance.governor",
    "PolicyGovernor": "harness.governance.governor",
    "Extract": "harness.governance.isolation",
    "Isolation": "harness.governance.isolation",
    "MODES": "harness.governance.policy",
    "PROTECTIONS": "harness.governance.policy",
    "GatePolicy": "harness.governance.policy",
    "Policy": "harness.governance.policy",
    "PolicyError": "harness.governance.policy",
    "Provenance": "harness.governance.provenance",
    "Rule": "harness.governance.rules",
    "CommandVerifier": "harness.governance.verifiers",
    "FunctionVerifier": "harness.governance.verifiers",
    "SchemaVerifier": "harness.governance.verifiers",
    "Verifier": "harness.governance.verifiers",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.governance.approvers import (
        Approver,
        AutoApprover,
        CallbackApprover,
        ConsoleApprover,
    )
    from harness.governance.base import Action, AllowAll, Decision, FinalAnswer, Governor, Verdict
    from harness.governance.destinations import TrustedText
    from harness.governance.detector import InstructionDetector
    from harness.governance.governor import IsolationOnly, PolicyGovernor
    from harness.governance.isolation import Extract, Isolation
    from harness.governance.policy import MODES, PROTECTIONS, GatePolicy, Policy, PolicyError
    from harness.governance.provenance import Provenance
    from harness.governance.rules import Rule
    from harness.governance.verifiers import (
        CommandVerifier,
        FunctionVerifier,
        SchemaVerifier,
        Verifier,
    )
