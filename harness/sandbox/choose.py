"""Choosing a backend: by name, or the strongest one this machine can run."""

from __future__ import annotations

import warnings
from functools import cache

from harness.sandbox.base import Sandbox
from harness.sandbox.bubblewrap import Bubblewrap, available
from harness.sandbox.local import NoSandbox

NAMES = ("auto", "bwrap", "bubblewrap", "docker", "none")


class NoSandboxWarning(UserWarning):
    """No sandbox backend can run here: tools run unconfined, under the policy alone."""


_warned = False


@cache
def _default_bubblewrap() -> Bubblewrap:
    return Bubblewrap()  # one for every Agent that takes the default: its settings are read once


def strongest_available(*, warn: bool = True) -> Sandbox:
    """`Bubblewrap` where it can make a sandbox, else `NoSandbox` (with one warning per
    process saying so). Docker is never chosen by itself: it needs an image you pick."""
    global _warned
    if available():
        return _default_bubblewrap()
    if warn and not _warned:
        _warned = True
        warnings.warn("no sandbox available (bubblewrap is not installed or cannot make "
                      "namespaces here): tools run unconfined, under the policy alone. "
                      "Install bubblewrap, or pass sandbox=NoSandbox() to say so.",
                      NoSandboxWarning, stacklevel=3)
    return NoSandbox()


def sandbox_named(name: str, *, network: bool = False) -> Sandbox:
    """A backend from its CLI name: auto (bwrap where it runs, else none), bwrap
    (bubblewrap), docker, none. `network` lets sandboxed commands reach the network."""
    if name == "auto":
        name = "bwrap" if available() else "none"
    if name in ("bwrap", "bubblewrap"):
        return Bubblewrap(network=network)
    if name == "docker":
        from harness.sandbox.docker import Docker

        return Docker(network=network)
    if name == "none":
        return NoSandbox()
    raise ValueError(f"unknown sandbox '{name}'; choose from: {', '.join(NAMES)}")
