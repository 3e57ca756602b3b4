"""What a shell command does, judged for governance: git commands that destroy work or
rewrite shared history, commands that print credentials, deletions of uncommitted work.
Reads the facts `harness.shell` derives; the protections in `harness.governance.policy`
use these judgements."""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "prints_credentials": "harness.governance.commands._credentials",
    "git_call": "harness.governance.commands._git",
    "deletes_work": "harness.governance.commands._uncommitted",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.governance.commands._credentials import prints_credentials
    from harness.governance.commands._git import git_call
    from harness.governance.commands._uncommitted import deletes_work
