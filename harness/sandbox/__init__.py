"""Sandboxes: the operating system confines every tool that touches the machine.

    from harness.sandbox import Bubblewrap, NoSandbox
    agent = Agent(model, sandbox=Bubblewrap(network=False))

`Bubblewrap` (Linux, the default where it can run), `Docker` (a container of your own
Docker or Podman), `NoSandbox` (explicit; recorded as unconfined). A run's session runs
`run_shell`'s commands and gives the file tools `WorkspaceFiles`, which resolve every path
beneath the workspace in the kernel whatever the backend.
"""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Bubblewrap": "harness.sandbox.bubblewrap",
    "CommandResult": "harness.sandbox.base",
    "Docker": "harness.sandbox.docker",
    "Limits": "harness.sandbox.base",
    "NoSandbox": "harness.sandbox.local",
    "NoSandboxWarning": "harness.sandbox.choose",
    "Sandbox": "harness.sandbox.base",
    "SandboxInfo": "harness.sandbox.base",
    "SandboxSession": "harness.sandbox.base",
    "SandboxUnavailable": "harness.sandbox.base",
    "sandbox_named": "harness.sandbox.choose",
    "strongest_available": "harness.sandbox.choose",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.sandbox.base import (
        CommandResult,
        Limits,
        Sandbox,
        SandboxInfo,
        SandboxSession,
        SandboxUnavailable,
    )
    from harness.sandbox.bubblewrap import Bubblewrap
    from harness.sandbox.choose import NoSandboxWarning, sandbox_named, strongest_available
    from harness.sandbox.docker import Docker
    from harness.sandbox.local import NoSandbox
