"""Governance: what may run, what is isolated, what is verified."""

from harness.governance.approvers import Approver, AutoApprover, CallbackApprover, ConsoleApprover
from harness.governance.base import Action, AllowAll, Decision, FinalAnswer, Governor, Verdict
from harness.governance.destinations import TrustedText
from harness.governance.detector import InstructionDetector
from harness.governance.governor import IsolationOnly, PolicyGovernor
from harness.governance.isolation import Extract, Isolation
from harness.governance.policy import MODES, PROTECTIONS, GatePolicy, Policy, PolicyError
from harness.governance.rules import Rule
from harness.governance.verifiers import CommandVerifier, FunctionVerifier, SchemaVerifier, Verifier

__all__ = [
    "Action", "AllowAll", "Approver", "AutoApprover", "CallbackApprover", "CommandVerifier",
    "ConsoleApprover", "Decision", "Extract", "FinalAnswer", "FunctionVerifier", "GatePolicy",
    "Governor", "InstructionDetector", "Isolation", "IsolationOnly", "MODES", "PROTECTIONS",
    "Policy", "PolicyError", "PolicyGovernor", "Rule", "SchemaVerifier", "TrustedText", "Verdict",
    "Verifier",
]
