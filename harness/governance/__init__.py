"""Governance: what may run, what is isolated, what is verified.

In layers, each importing only those below it (and `harness.shell`, which parses commands
and resolves paths for governance and memory alike):

    commands/    what a shell command does: git, credentials, uncommitted work
    injection/   instruction-like text, and isolation of untrusted tool output
    egress/      where data goes: destinations, and the sources that vouch for them
    policy/      a call's facts -> protections and sending checks -> rules -> Policy
    governor.py  PolicyGovernor: budget, gate warnings, policy, approver, isolation,
                 verifiers (approvers.py, verifiers.py) behind the protocol in base.py
"""

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
    "TrustedText": "harness.governance.egress.destinations",
    "Provenance": "harness.governance.egress.provenance",
    "IsolationOnly": "harness.governance.governor",
    "PolicyGovernor": "harness.governance.governor",
    "InstructionDetector": "harness.governance.injection.detector",
    "Extract": "harness.governance.injection.isolation",
    "Isolation": "harness.governance.injection.isolation",
    "MODES": "harness.governance.policy.policy",
    "PROTECTIONS": "harness.governance.policy.policy",
    "GatePolicy": "harness.governance.policy.policy",
    "Policy": "harness.governance.policy.policy",
    "PolicyError": "harness.governance.policy.policy",
    "Rule": "harness.governance.policy.rules",
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
    from harness.governance.egress.destinations import TrustedText
    from harness.governance.egress.provenance import Provenance
    from harness.governance.governor import IsolationOnly, PolicyGovernor
    from harness.governance.injection.detector import InstructionDetector
    from harness.governance.injection.isolation import Extract, Isolation
    from harness.governance.policy.policy import (
        MODES,
        PROTECTIONS,
        GatePolicy,
        Policy,
        PolicyError,
    )
    from harness.governance.policy.rules import Rule
    from harness.governance.verifiers import (
        CommandVerifier,
        FunctionVerifier,
        SchemaVerifier,
        Verifier,
    )
