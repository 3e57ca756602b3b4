"""Where data goes: the destinations a call names (addresses, hosts, accounts, channels),
what the user named (`TrustedText`), and the sources the task pointed to that vouch for
the destinations they show (`Provenance`)."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Destination": "harness.governance.egress.destinations",
    "TrustedText": "harness.governance.egress.destinations",
    "Provenance": "harness.governance.egress.provenance",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.governance.egress.destinations import Destination, TrustedText
    from harness.governance.egress.provenance import Provenance
