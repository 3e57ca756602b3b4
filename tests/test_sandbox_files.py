"""WorkspaceFiles: the file tools cannot reach outside the workspace, even without a sandbox.

Every escape test runs twice: with openat2 (the kernel resolves beneath the root) and with
the component-by-component walk used where openat2 is missing.
"""

import json
import os
import stat
import threading
import time

import pytest

from harness.llm import ToolCall
from harness.sandbox import Limits, NoSandbox
from harness.sandbox.files import WorkspaceFiles, openat2_available
from harness.sandbox.local import LocalSession
from harness.tools import ToolContext, ToolError, Toolset, WorkspaceEscape, default_tools

SECRET = "s3cret-outside"


class Session(LocalSession):
    """A real unconfined session whose file access is the `WorkspaceFiles` under test."""

    def __init__(self, files: WorkspaceFiles):
        super().__init__(files.root, NoSandbox().info(), Limits(), {})
        self.chosen = files

    @property
    def files(self) -> WorkspaceFiles:
        return self.chosen


@pytest.fixture(params=["openat2", "walk"])
def resolver(request):
    if request.param == "openat2" and not openat2_available():
        pytest.skip("openat2 is not available here")
    return request.param


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "ws" / "sub").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "notes.txt").write_text(SECRET)
    return tmp_path / "ws"


def files_for(ws, resolver, **kw) -> WorkspaceFiles:
    return WorkspaceFiles(ws, use_openat2=resolver == "openat2", **kw)


def run(files: WorkspaceFiles, name: str, **args):
    ctx = ToolContext(files.root, session=Session(files))
    return Toolset(default_tools()).execute(ToolCall(id="c1", name=name, arguments=args), ctx)


def assert_refused(result, words="outside the workspace"):
    assert not result.ok and words in result.error, result.error
    assert SECRET not in result.content()


@pytest.mark.parametrize("path", ["../secret.txt", "sub/../../secret.txt", "..", "sub/../.."])
def test_dotdot_that_climbs_out_of_the_workspace_is_refused(ws, resolver, path):
    files = files_for(ws, resolver)
    with pytest.raises(WorkspaceEscape, match="outside the workspace"):
        files.read_text(path)
    for tool, args in [("read_file", {}), ("write_file", {"content": "x"}),
                       ("edit_file", {"old": "s", "new": "x"}), ("list_dir", {}),
                       ("search_files", {"pattern": "s"})]:
        assert_refused(run(files, tool, path=path, **args))
    assert (ws.parent / "secret.txt").read_text() == SECRET


def test_dotdot_that_stays_inside_is_fine(ws, resolver):
    (ws / "a.txt").write_text("hello")
    files = files_for(ws, resolver)
    assert files.read_text("sub/../a.txt") == "hello"
    assert run(files, "write_file", path="sub/../b.txt", content="hi").output == \
        "wrote 2 characters to b.txt"


def test_absolute_paths_are_accepted_only_inside_the_workspace(ws, resolver):
    (ws / "a.txt").write_text("hello")
    files = files_for(ws, resolver)
    assert run(files, "read_file", path=str(ws / "a.txt")).output == "hello"
    assert run(files, "read_file", path=f"{ws}/./sub/../a.txt").output == "hello"
    for path in ["/etc/passwd", str(ws.parent / "secret.txt"), f"{ws}/../secret.txt",
                 "~/.ssh/id_rsa", f"{ws}x/a.txt"]:
        assert_refused(run(files, "read_file", path=path))
        assert_refused(run(files, "write_file", path=path, content="x"))
        assert f"path '{path}'" in run(files, "read_file", path=path).error
    assert (ws.parent / "secret.txt").read_text() == SECRET


def test_the_workspace_may_be_named_through_a_symlink(ws, resolver):
    os.symlink(ws, ws.parent / "alias")
    files = files_for(ws.parent / "alias", resolver)
    for spelling in (ws, ws.parent / "alias"):
        assert run(files, "write_file", path=f"{spelling}/sub/a.txt", content="x").output == \
            "wrote 1 characters to sub/a.txt"
    assert_refused(run(files, "read_file", path=f"{ws.parent / 'alias'}/../secret.txt"))


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_a_symlink_to_outside_at_the_last_component_is_refused(ws, resolver, target):
    secret = ws.parent / "secret.txt"
    os.symlink(secret if target == "absolute" else "../secret.txt", ws / "link.txt")
    os.symlink(secret if target == "absolute" else "../../secret.txt", ws / "sub" / "deep")
    files = files_for(ws, resolver)
    for path in ("link.txt", "sub/deep"):
        assert_refused(run(files, "read_file", path=path))
        assert_refused(run(files, "write_file", path=path, content="changed"))
        assert_refused(run(files, "edit_file", path=path, old=SECRET, new="changed"))
    assert secret.read_text() == SECRET


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_a_symlink_to_outside_at_a_middle_component_is_refused(ws, resolver, target):
    outside = ws.parent / "outside"
    os.symlink(outside if target == "absolute" else "../outside", ws / "linkdir")
    files = files_for(ws, resolver)
    assert_refused(run(files, "read_file", path="linkdir/notes.txt"))
    assert_refused(run(files, "write_file", path="linkdir/new.txt", content="x"))
    assert_refused(run(files, "write_file", path="linkdir/deeper/new.txt", content="x"))
    assert_refused(run(files, "list_dir", path="linkdir"))
    assert_refused(run(files, "search_files", pattern="s3cret", path="linkdir"))
    assert sorted(os.listdir(outside)) == ["notes.txt"]


def test_a_symlink_loop_is_an_error_not_a_hang(ws, resolver):
    os.symlink("b", ws / "a")
    os.symlink("a", ws / "b")
    files = files_for(ws, resolver)
    for tool, args in [("read_file", {}), ("write_file", {"content": "x"}), ("list_dir", {})]:
        result = run(files, tool, path="a", **args)
        assert not result.ok and "symbolic links" in result.error, result.error
    assert_refused(run(files, "read_file", path="a/x"), "symbolic links")


def test_symlinks_that_stay_inside_are_followed(ws, resolver):
    (ws / "sub" / "real.txt").write_text("ok")
    os.symlink("sub/real.txt", ws / "rel.txt")
    os.symlink(ws / "sub" / "real.txt", ws / "abs.txt")
    os.symlink(ws / "sub", ws / "subdir")
    files = files_for(ws, resolver)
    for path in ("rel.txt", "abs.txt", "subdir/real.txt", "subdir/../rel.txt"):
        assert files.read_text(path) == "ok"
    assert run(files, "edit_file", path="abs.txt", old="ok", new="edited").ok
    assert (ws / "sub" / "real.txt").read_text() == "edited"
    assert (ws / "abs.txt").is_symlink()
    assert run(files, "list_dir", path="subdir").output == "real.txt"


def test_write_file_refuses_a_hard_link_to_a_file_outside(ws, resolver):
    secret = ws.parent / "secret.txt"
    os.link(secret, ws / "hard.txt")
    files = files_for(ws, resolver)
    assert_refused(run(files, "write_file", path="hard.txt", content="changed"), "hard link")
    assert_refused(run(files, "edit_file", path="hard.txt", old=SECRET, new="x"), "hard link")
    assert secret.read_text() == SECRET
    confined = files_for(ws, resolver, allow_multilinked=True)
    assert run(confined, "write_file", path="hard.txt", content="changed").ok
    assert secret.read_text() == "changed"


def test_fifos_and_devices_are_refused_without_blocking(ws, resolver):
    os.mkfifo(ws / "pipe")
    names = ["pipe"]
    try:
        os.mknod(ws / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        names.append("null")
    except PermissionError:
        pass
    files = files_for(ws, resolver)
    for name in names:
        assert_refused(run(files, "read_file", path=name), "not a regular file")
        assert_refused(run(files, "write_file", path=name, content="x"), "not a regular file")
    assert run(files, "search_files", pattern="x").output == "no matches"


def test_read_only_paths_cannot_be_changed_by_any_route(ws, resolver):
    git = ws / ".git"
    (git / "hooks").mkdir(parents=True)
    (git / "config").write_text("[core]\n")
    os.symlink(".git/hooks", ws / "hooks")
    os.symlink(".git", ws / "g")
    os.symlink(".git/config", ws / "config-alias")
    files = files_for(ws, resolver, read_only=(".git/hooks", ".git/config"))
    for path in [".git/config", ".git/hooks/pre-commit", "./.git//hooks/x/y", "sub/../.git/config",
                 str(git / "config"), "hooks/pre-commit", "g/config", "g/hooks/new/x",
                 "config-alias", ".git/hooks"]:
        result = run(files, "write_file", path=path, content="evil")
        assert not result.ok and "read-only" in result.error, (path, result.error)
    edit = run(files, "edit_file", path="g/config", old="[core]", new="[evil]")
    assert not edit.ok and "read-only" in edit.error
    os.link(git / "config", ws / "config-link")
    assert_refused(run(files, "write_file", path="config-link", content="evil"), "hard link")
    assert (git / "config").read_text() == "[core]\n"
    assert os.listdir(git / "hooks") == []
    assert run(files, "read_file", path=".git/config").output == "[core]\n"
    assert run(files, "write_file", path=".git/HEAD", content="ref").ok


def test_a_file_name_that_is_not_utf8_is_listed_and_searched_escaped(ws, resolver):
    with open(os.path.join(os.fsencode(ws), b"bad\xffname.txt"), "w") as fh:
        fh.write("needle\n")
    files = files_for(ws, resolver)
    listing = run(files, "list_dir")
    assert listing.output == "sub/\nbad\\xffname.txt"
    hits = run(files, "search_files", pattern="needle")
    assert hits.output == "bad\\xffname.txt:1: needle"
    for result in (listing, hits):
        json.dumps(result.model_dump())
        result.output.encode("utf-8")


def test_search_and_list_do_not_follow_symlinks_that_point_outside(ws, resolver):
    os.symlink(ws.parent / "outside", ws / "out")
    os.symlink("../../secret.txt", ws / "sub" / "leak.txt")
    (ws / "sub" / "real.txt").write_text("needle here\n")
    os.symlink("real.txt", ws / "sub" / "alias.txt")
    os.symlink("..", ws / "sub" / "up")
    files = files_for(ws, resolver)
    assert run(files, "list_dir").output == f"sub/\nout -> {ws.parent / 'outside'}"
    assert run(files, "list_dir", path="sub").output == \
        "alias.txt -> real.txt\nleak.txt -> ../../secret.txt\nreal.txt\nup -> .."
    assert run(files, "search_files", pattern="s3cret").output == "no matches"
    assert run(files, "search_files", pattern="needle").output == \
        "sub/alias.txt:1: needle here\nsub/real.txt:1: needle here"


def test_missing_files_and_directories_keep_their_messages(ws, resolver):
    (ws / "a.txt").write_text("x")
    files = files_for(ws, resolver)
    assert run(files, "read_file", path="nope.txt").error == "read_file: no such file: nope.txt"
    assert run(files, "read_file", path="a.txt/b").error == "read_file: no such file: a.txt/b"
    assert run(files, "list_dir", path="nope").error == "list_dir: no such directory: nope"
    assert run(files, "list_dir", path="a.txt").error == "list_dir: no such directory: a.txt"
    assert "is a directory" in run(files, "read_file", path="sub").error
    assert run(files, "list_dir", path="sub").output == "(empty)"
    assert run(files, "write_file", path="new/deep/f.txt", content="abc").output == \
        "wrote 3 characters to new/deep/f.txt"


def test_swapping_a_path_for_a_symlink_during_the_calls_never_leaks_or_changes_outside(
        ws, resolver):
    secret = ws.parent / "secret.txt"
    target, files = ws / "target.txt", files_for(ws, resolver)
    target.write_text("public")
    stop = threading.Event()

    def swap():
        while not stop.is_set():
            os.symlink(secret, ws / ".link")
            os.replace(ws / ".link", target)
            (ws / ".file").write_text("public")
            os.replace(ws / ".file", target)

    swapper = threading.Thread(target=swap)
    swapper.start()
    outcomes = set()
    try:
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:
            for call in (dict(name="read_file", path="target.txt"),
                         dict(name="write_file", path="target.txt", content="mine")):
                result = run(files, **call)
                assert SECRET not in result.content()
                outcomes.add(result.ok)
    finally:
        stop.set()
        swapper.join()
    assert secret.read_text() == SECRET
    assert outcomes == {True, False}  # both sides of the swap were seen


def test_openat2_is_used_where_the_kernel_has_it(ws):
    files = WorkspaceFiles(ws)
    assert files.use_openat2 == openat2_available()
    with pytest.raises(ToolError):
        WorkspaceFiles(ws).read_text("\x00")
