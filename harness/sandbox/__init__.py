"""Sandboxes: the operating system confines every tool that touches the machine.

    from harness.sandbox import Bubblewrap, NoSandbox
    agent = Agent(model, sandbox=Bubblewrap(network=False))

`Bubblewrap` (Linux, the default where it can run), `Docker` (a container of your own
Docker or Podman), `NoSandbox` (explicit; recorded as unconfined). A run's session runs
`run_shell`'s commands and gives the file tools `WorkspaceFiles`, which resolve every path
beneath the workspace in the kernel whatever the backend.
"""

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

__all__ = ["Bubblewrap", "CommandResult", "Docker", "Limits", "NoSandbox", "NoSandboxWarning",
           "Sandbox", "SandboxInfo", "SandboxSession", "SandboxUnavailable", "sandbox_named",
           "strongest_available"]
