"""Shell command lines and paths, read the way the shell and the OS would read them.

`parse` takes a command line apart into the simple commands it would run (through
`&&`, pipes, substitutions, `sh -c`, wrappers, escapes); `locate` gives each the folder
and variables it runs with; `PathResolver` says where a path lands (`~`, variables, `..`,
symlinks, globs) and whether it is a credential; `shell_accesses` and `changed_paths` say
which files a command reads, writes and deletes. Governance judges these facts; memory
compares them. This package sits below the components: it imports none of them.
"""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "Access": "harness.shell.accesses",
    "AccessMode": "harness.shell.accesses",
    "changed_paths": "harness.shell.accesses",
    "shell_accesses": "harness.shell.accesses",
    "ParsedCommand": "harness.shell.command",
    "Pipeline": "harness.shell.command",
    "Scope": "harness.shell.command",
    "SimpleCommand": "harness.shell.command",
    "expand_braces": "harness.shell.globs",
    "glob_match": "harness.shell.globs",
    "parse": "harness.shell.parser",
    "PathRef": "harness.shell.paths",
    "PathResolver": "harness.shell.paths",
    "locate": "harness.shell.scope",
    "ShellParseError": "harness.shell.substitutions",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.shell.accesses import Access, AccessMode, changed_paths, shell_accesses
    from harness.shell.command import ParsedCommand, Pipeline, Scope, SimpleCommand
    from harness.shell.globs import expand_braces, glob_match
    from harness.shell.parser import parse
    from harness.shell.paths import PathRef, PathResolver
    from harness.shell.scope import locate
    from harness.shell.substitutions import ShellParseError
