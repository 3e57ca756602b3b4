"""Governance: what may run, what is isolated, what is verified."""

from harness.governance.base import (Action, AllowAll, Decision, FinalAnswer, Governor,
                                     Verdict)

__all__ = ["Action", "AllowAll", "Decision", "FinalAnswer", "Governor", "Verdict"]
