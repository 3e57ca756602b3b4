"""`WorkspaceFiles`: file access that cannot leave the workspace, even without a sandbox.

Every path is resolved beneath the workspace by the kernel: `openat2(RESOLVE_BENEATH)`
on a descriptor of the root or, where that system call is missing or filtered, a walk
one component at a time with `O_NOFOLLOW` that follows a symlink only by resolving its
target beneath the root again. Nothing is checked and then reopened by name: each
operation works on the descriptor it opened.
"""

from __future__ import annotations

import ctypes
import errno
import os
import posixpath
import stat
import sys
import weakref
from collections.abc import Iterator, Set
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import IO, Literal, NamedTuple

from harness.errors import ToolError, WorkspaceEscape

MAX_LINKS = 40
"""Symlinks followed while resolving one path, as in the kernel."""

_O_PATH = getattr(os, "O_PATH", os.O_RDONLY)
_DIR = _O_PATH | os.O_DIRECTORY
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY  # opening a FIFO or device never blocks
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
_LIBC = ctypes.CDLL(None, use_errno=True)


ESCAPE_HINT = ", which is all this agent can reach: it cannot be read or written from here"
"""Said after a refused path, instead of the workspace's own location: that differs
between runs (a temporary folder), so naming it would make identical runs send different
requests, and tells the model nothing it needs."""

class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


def _openat2(dirfd: int, path: bytes, flags: int) -> int:
    """openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (EXDEV: it would leave)."""
    how = _OpenHow(flags | os.O_CLOEXEC, 0, 0x08 | 0x02)
    fd = _LIBC.syscall(ctypes.c_long(437), ctypes.c_long(dirfd), ctypes.c_char_p(path),
                       ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), os.fsdecode(path))
    return fd


@cache
def openat2_available() -> bool:
    """Whether this kernel, and any seccomp filter, lets this process call openat2."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.close(_openat2(-100, b".", _DIR))  # AT_FDCWD
    except (OSError, AttributeError):
        return False
    return True


def shown(name: str) -> str:
    """A file name as text; bytes that are not UTF-8 appear escaped (`\\xff`)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


class Entry(NamedTuple):
    """One directory entry; a symlink is not followed."""

    name: str
    kind: Literal["dir", "file", "symlink"]
    target: str = ""
    """What a symlink contains."""


class WorkspaceFiles:
    """Read, write, list and search files beneath `root`, and nowhere else.

    `allow_multilinked`: write files with several hard links (safe only when a sandbox
    keeps tools from linking files outside). `read_only`: workspace-relative paths not to
    be written, at or beneath them. `use_openat2=False` forces the component walk."""

    def __init__(self, root: Path, allow_multilinked: bool = False,
                 read_only: tuple[str, ...] = (), *, use_openat2: bool | None = None):
        self.root = Path(root).resolve()
        self.allow_multilinked = allow_multilinked
        self.read_only = tuple(posixpath.normpath(p.strip("/")) for p in read_only)
        self.use_openat2 = openat2_available() if use_openat2 is None else use_openat2
        self._prefixes = {tuple(_split(os.path.abspath(root))), tuple(_split(str(self.root)))}
        self._fd = os.open(self.root, _DIR | os.O_CLOEXEC)
        self.close = weakref.finalize(self, os.close, self._fd)
        """Close the workspace's descriptor (also done when this object is collected)."""

    def relative(self, path: str) -> str:
        """`path` relative to the root, for messages ('.' for the root)."""
        return shown(posixpath.normpath("/".join(self._parts(path)) or "."))

    def read_text(self, path: str, errors: str = "replace") -> str:
        """The file's text (UTF-8). FileNotFoundError or NotADirectoryError if missing;
        ToolError for a directory, a FIFO or a device."""
        with open(_regular(self._open(self._parts(path), _READ, path), path), "rb") as fh:
            data = fh.read()
        try:
            return data.decode("utf-8", errors)
        except UnicodeDecodeError as exc:
            raise ToolError(f"'{path}' is not UTF-8 text ({exc.reason} at byte "
                            f"{exc.start})") from None

    def write_text(self, path: str, text: str) -> None:
        """Create or overwrite the file and any missing parent directories. A symlink is
        followed only to a target beneath the root; a file with several hard links, a FIFO
        or device, and a read-only path are refused before the file is changed."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ToolError(f"the content for '{path}' is not valid Unicode: {exc}") from None
        try:
            fd = _regular(self._create(self._parts(path), path), path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ToolError(f"'{path}': {exc.strerror}") from None
        with open(fd, "wb") as fh:
            links = os.fstat(fd).st_nlink
            if links > 1 and not self.allow_multilinked:
                raise ToolError(f"'{path}' has {links} hard links; one could point outside "
                                f"the workspace, so it is not written")
            os.ftruncate(fd, 0)  # only now, after the checks
            fh.write(data)

    def list_dir(self, path: str = ".") -> list[Entry]:
        """The entries of a directory, directories first, then by name. FileNotFoundError
        or NotADirectoryError if it is not a directory."""
        fd = self._open(self._parts(path), os.O_RDONLY | os.O_DIRECTORY, path)
        entries = []
        try:
            with os.scandir(fd) as it:
                for e in it:
                    with suppress(OSError):  # an entry removed meanwhile
                        if e.is_symlink():
                            target = shown(os.readlink(e.name, dir_fd=fd))
                            entries.append(Entry(shown(e.name), "symlink", target))
                        else:
                            is_dir = e.is_dir(follow_symlinks=False)
                            entries.append(Entry(shown(e.name), "dir" if is_dir else "file"))
        finally:
            os.close(fd)
        return sorted(entries, key=lambda e: (e.kind != "dir", e.name))

    def walk(self, path: str = ".", skip: Set[str] = frozenset()) -> Iterator[tuple[str, IO[str]]]:
        """Each regular file beneath directory `path` as (relative path, UTF-8 text
        stream), a directory's files before its subdirectories, by name; the stream closes
        when the next file is asked for. Never descends through a symlink; a symlinked file
        is read only if it resolves beneath the root. Skips directories named in `skip`."""
        parts = self._parts(path)
        fd = self._open(parts, os.O_RDONLY | os.O_DIRECTORY, path)
        try:
            yield from self._walk(fd, "/".join(parts), skip)
        finally:
            os.close(fd)

    def _walk(self, fd: int, rel: str, skip: Set[str]) -> Iterator[tuple[str, IO[str]]]:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            child = posixpath.join(rel, e.name)
            if e.is_dir(follow_symlinks=False):
                continue
            try:  # opened from the root again: a symlink must resolve beneath it
                f = _regular(self._open(_split(child), _READ, child), child)
            except (OSError, ToolError):
                continue
            with open(f, encoding="utf-8") as fh:
                yield shown(posixpath.normpath(child)), fh
        for e in entries:
            if not e.is_dir(follow_symlinks=False) or e.name in skip:
                continue
            try:
                sub = os.open(e.name, _READ | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                              dir_fd=fd)
            except OSError:
                continue
            try:
                yield from self._walk(sub, posixpath.join(rel, e.name), skip)
            finally:
                os.close(sub)

    def _parts(self, path: str) -> list[str]:
        """The components of `path` from the root; an absolute one must lie under it."""
        if "\x00" in path:
            raise ToolError(f"path {path!r} contains a NUL byte")
        return self._follow([], os.path.expanduser(path) if path[:1] == "~" else path, path)

    def _follow(self, dirs: list[str], target: str, path: str) -> list[str]:
        """Where `target`, relative to directory `dirs`, leads from the root (lexically)."""
        if not target.startswith("/"):
            return dirs + _split(target)
        parts = _split(target)
        for prefix in self._prefixes:
            if tuple(parts[:len(prefix)]) == prefix:
                return parts[len(prefix):]
        raise WorkspaceEscape(f"path '{path}' is outside the workspace{ESCAPE_HINT}")

    def _open(self, parts: list[str], flags: int, path: str) -> int:
        """Open `parts` beneath the root. openat2 refuses absolute symlinks even to inside
        (EXDEV), so for those, and for escapes, the walk decides."""
        if self.use_openat2:
            try:
                return _openat2(self._fd, os.fsencode("/".join(parts) or "."), flags)
            except OSError as exc:  # EAGAIN: a rename raced the lookup
                if exc.errno not in (errno.EXDEV, errno.EAGAIN, errno.ENOSYS, errno.EPERM):
                    raise _tool_error(exc, path) from None
        return self._walk_open(parts, flags, path)

    def _walk_open(self, parts: list[str], flags: int, path: str) -> int:
        """Open `parts` one component at a time with O_NOFOLLOW, each from a descriptor
        beneath the root; `..` returns to the directory it came from, never above the root.
        (`flags` with O_PATH need O_DIRECTORY: O_PATH | O_NOFOLLOW opens a link itself.)"""
        stack, todo, links = [os.dup(self._fd)], parts[::-1], 0
        try:
            while todo:
                name = todo.pop()
                if name == "..":
                    if len(stack) == 1:
                        raise WorkspaceEscape(f"path '{path}' is outside the "
                                              f"workspace{ESCAPE_HINT}")
                    os.close(stack.pop())
                    continue
                last = not todo
                try:
                    fd = os.open(name, (flags if last else _DIR) | os.O_NOFOLLOW | os.O_CLOEXEC,
                                 dir_fd=stack[-1])
                except OSError as exc:
                    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise _tool_error(exc, path) from None
                    try:
                        target = os.readlink(name, dir_fd=stack[-1])
                    except OSError:
                        raise _tool_error(exc, path) from None  # not a symlink after all
                    links += 1
                    if links > MAX_LINKS:
                        raise ToolError(f"'{path}': too many levels of symbolic links") from None
                    todo.extend(reversed(self._follow([], target, path)))
                    while target.startswith("/") and len(stack) > 1:
                        os.close(stack.pop())
                    continue
                if last:
                    return fd
                stack.append(fd)
            return os.open(".", flags | os.O_CLOEXEC, dir_fd=stack[-1])
        finally:
            for fd in stack:
                os.close(fd)

    def _create(self, parts: list[str], path: str) -> int:
        """Open file `parts` for writing, creating it and its directories; a symlink at the
        end is followed by resolving its target beneath the root again."""
        for _ in range(MAX_LINKS):
            if not parts or parts[-1] == "..":
                os.close(self._open(parts, _DIR, path))  # WorkspaceEscape if it leaves
                raise ToolError(f"'{path}' is a directory")
            self._refuse_read_only(parts, path)
            parent = self._mkdirs(parts[:-1], path)
            try:
                self._refuse_read_only(parts, path, parent)
                return os.open(parts[-1], _WRITE | os.O_CLOEXEC, 0o666, dir_fd=parent)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise _tool_error(exc, path) from None
                with suppress(OSError):  # else it is no longer a symlink: try again
                    parts = self._follow(parts[:-1], os.readlink(parts[-1], dir_fd=parent), path)
            finally:
                os.close(parent)
        raise ToolError(f"'{path}': too many levels of symbolic links")

    def _mkdirs(self, parts: list[str], path: str) -> int:
        """A descriptor of directory `parts`, made with its parents beneath the root."""
        try:
            return self._open(parts, _DIR, path)
        except FileNotFoundError:
            if not parts:
                raise
        parent = self._mkdirs(parts[:-1], path)
        try:
            self._refuse_read_only(parts, path, parent)
            os.mkdir(parts[-1], dir_fd=parent)
        except FileExistsError:  # made meanwhile: it is opened beneath the root below
            pass
        except OSError as exc:
            raise _tool_error(exc, path) from None
        finally:
            os.close(parent)
        return self._open(parts, _DIR, path)

    def _refuse_read_only(self, parts: list[str], path: str, dirfd: int | None = None) -> None:
        """Refuse `parts` at or beneath a read-only path: as written, or, given the
        directory `dirfd` holding `parts[-1]`, where the kernel says that directory is."""
        if not self.read_only:
            return
        if dirfd is not None:
            try:
                parts = [*self._follow([], os.readlink(f"/proc/self/fd/{dirfd}"), path), parts[-1]]
            except (OSError, WorkspaceEscape):
                raise ToolError(f"'{path}': cannot tell where it is, so it is not written") from None
        rel = posixpath.normpath("/".join(parts) or ".")
        for ro in self.read_only:
            if rel == ro or rel.startswith(ro + "/"):
                raise ToolError(f"'{path}' is read-only: tools may not change {ro}")


def _split(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


def _regular(fd: int, path: str) -> int:
    """`fd` if it is a regular file; else it is closed and a ToolError says what it is."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise ToolError(f"'{path}' is a directory, not a file")
    raise ToolError(f"'{path}' is not a regular file (a FIFO, socket or device)")


def _tool_error(exc: OSError, path: str) -> OSError | ToolError:
    """A missing file stays FileNotFoundError or NotADirectoryError (the tools word those);
    anything else becomes a ToolError naming the path."""
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return type(exc)(exc.errno, exc.strerror, path)
    if exc.errno == errno.ENXIO:
        return ToolError(f"'{path}' is not a regular file (a FIFO or device)")
    return ToolError(f"'{path}': {exc.strerror or exc}")
