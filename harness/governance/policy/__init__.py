"""Permission policy, in layers: a call's facts (`_facts`: what its tool declares it does,
the paths, commands and destinations involved) -> the built-in protections and sending
checks (`_protections`, `_sending`) -> ordered `Rule`s -> `Policy` (rules, protections,
then a permission mode)."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "MODES": "harness.governance.policy.policy",
    "PROTECTIONS": "harness.governance.policy.policy",
    "GatePolicy": "harness.governance.policy.policy",
    "Policy": "harness.governance.policy.policy",
    "PolicyConfig": "harness.governance.policy.policy",
    "PolicyError": "harness.governance.policy.policy",
    "Rule": "harness.governance.policy.rules",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.governance.policy.policy import (
        MODES,
        PROTECTIONS,
        GatePolicy,
        Policy,
        PolicyConfig,
        PolicyError,
    )
    from harness.governance.policy.rules import Rule
