"""Fences a model does not copy: the untrusted-content fence around tool output comes off
the text a model writes, as the context showed it, nested too; look-alikes stay."""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pytest  # noqa: E402

from harness import Agent, ScriptedModel  # noqa: E402
from harness.events import ToolFinished, ToolRequested, Trajectory  # noqa: E402
from harness.fencing import fence, unfence, unfence_arguments  # noqa: E402
from harness.messages import ModelRequest, ToolCall  # noqa: E402
from harness.tools.base import ToolContext, tool  # noqa: E402
from harness.tools.builtin import default_tools  # noqa: E402
from harness.tools.effects import Effects  # noqa: E402

REAL = "def add(a, b):\n    return a + b\n"


def copier(source: str, make_call):
    """A model that reads `source`, then writes what the context showed it of that read
    (`make_call(seen)` -> the write call), then answers."""

    def policy(request: ModelRequest):
        shown = [m.content or "" for m in request.messages if m.role == "tool"]
        if not shown:
            return {"tool": "read_file", "args": {"path": source}}
        if len(shown) == 1:
            return make_call(shown[0])
        return "written"

    return ScriptedModel(policy)


def run(ws, model, tools=None) -> Trajectory:
    return Agent(model, workspace=ws, tools=tools, loop_guard=None).run("copy the file")


def finished(trajectory: Trajectory, tool_name: str) -> ToolFinished:
    return next(e for e in trajectory.of_type(ToolFinished) if e.tool == tool_name)


def test_write_file_of_the_fenced_read_writes_the_file_text(tmp_path):
    (tmp_path / "calc.py").write_text(REAL)
    seen = []

    def write(shown):
        seen.append(shown)
        return {"tool": "write_file", "args": {"path": "copy.py", "content": shown}}

    trajectory = run(tmp_path, copier("calc.py", write))
    assert seen[0] == f'<untrusted source="file" tool="read_file" ref="call_0_0">\n{REAL}\n</untrusted>'
    assert (tmp_path / "copy.py").read_text() == REAL
    request = trajectory.of_type(ToolRequested)[1]
    assert request.call.arguments["content"] == seen[0]  # the record keeps what was asked
    assert finished(trajectory, "write_file").output.endswith(
        "copied from the context off the text before writing it: 1 from `content`]")


def test_a_file_polluted_by_an_earlier_copy_comes_back_clean_nested_twice(tmp_path):
    # calc.py holds a fence from an earlier copy; reading it shows a fence in a fence
    # (the inner one defused by the context); the model wraps all that in one more fence
    (tmp_path / "calc.py").write_text(fence(REAL, "file", tool="read_file", ref="call_0_0"))

    def write(shown):
        assert shown.count("untrusted source=") == 2 and "‹untrusted" in shown
        head, tail = shown.split("\n", 1)[0], "\n</untrusted>"
        return {"tool": "write_file", "args": {"path": "copy.py",
                                               "content": f"{head}\n{shown}{tail}"}}

    trajectory = run(tmp_path, copier("calc.py", write))
    assert (tmp_path / "copy.py").read_text() == REAL
    assert "3 from `content`" in finished(trajectory, "write_file").output


def test_edit_file_new_text_loses_copied_fences(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    fixed = "    return a + b"
    new = fence(fixed, "file", tool="read_file", ref="call_1_0")
    trajectory = run(tmp_path, ScriptedModel([
        {"tool": "edit_file", "args": {"path": "calc.py", "old": "    return a - b", "new": new}},
        "fixed"]))
    assert (tmp_path / "calc.py").read_text() == REAL
    assert "1 from `new`" in finished(trajectory, "edit_file").output


def test_a_tool_is_cleaned_by_what_it_declares_not_by_its_name(tmp_path):
    @tool(effects=Effects.writer("target"))
    def save_note(target: str, body: str, ctx: ToolContext) -> str:
        """Save a note."""
        ctx.files.write_text(target, body)
        return "saved"

    @tool(effects=Effects.reader("path"))
    def write_log(path: str, text: str) -> str:
        """Despite its name, only reads: echoes `text` back."""
        return text

    fenced = fence("a note", "shell", tool="run_shell", ref="call_2_0")
    trajectory = run(tmp_path, ScriptedModel([
        [{"tool": "save_note", "args": {"target": "note.txt", "body": fenced}},
         {"tool": "write_log", "args": {"path": "x", "text": fenced}}], "done"]),
        tools=[save_note, write_log, *default_tools()])
    assert (tmp_path / "note.txt").read_text() == "a note"
    assert finished(trajectory, "write_log").output == fenced


LOOKALIKES = [
    "<untrusted>\nno source\n</untrusted>",                       # not as fence() writes it
    '<untrusted source="file">inline</untrusted>',                 # no newlines
    '<untrusted source="file">\nnever closed',                     # an opening tag alone
    "closed, never opened\n</untrusted>",
    '‹untrusted source="file">\ndefused, outside any fence\n‹/untrusted>',
    '<untrusted  source="file">\ntwo spaces\n</untrusted>',
    '<UNTRUSTED source="file">\nupper case\n</UNTRUSTED>',
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_text_that_only_looks_like_a_fence_is_written_as_it_is(tmp_path, text):
    trajectory = run(tmp_path, ScriptedModel([
        {"tool": "write_file", "args": {"path": "doc.md", "content": text}}, "done"]))
    assert (tmp_path / "doc.md").read_text() == text
    assert "fences" not in finished(trajectory, "write_file").output


def test_unfence_pairs_tags_and_keeps_what_lies_around_them():
    a = fence("one", "file", tool="read_file", ref="c1")
    b = fence("two", "section:memory", items="m1,m2")
    assert unfence(f"before\n{a}\nbetween {b} after") == ("before\none\nbetween two after", 2)
    assert unfence(fence("", "summary", steps="1-3", by="x")) == ("", 1)
    # an unpaired opening tag stays; the pair after it comes off
    lone = '<untrusted source="file">\n'
    assert unfence(lone + a) == (lone + "one", 1)
    assert unfence("no fence here") == ("no fence here", 0)


def test_calls_that_write_nothing_are_left_alone():
    call = ToolCall(id="c", name="run_shell", arguments={"command": fence("ls", "shell")})
    assert unfence_arguments(call, Effects.shell()) == (call, "")
    assert unfence_arguments(call, None) == (call, "")
    path = ToolCall(id="c", name="write_file", arguments={"path": "a", "content": "plain"})
    assert unfence_arguments(path, Effects.writer())[1] == ""


def test_a_fence_copied_with_its_ref_but_without_its_newlines_comes_off(tmp_path):
    """Seen with a 1.5B model: it wrote `calc.py` as the empty fence of the file it had just
    read, tags on one line. The tags carry the context's ref, so they are the fence's."""
    ref = 'source="file" tool="read_file" ref="Mqp6Y1zNkSq3C95Hxj1emV0YZItdh9ME"'
    trajectory = run(tmp_path, ScriptedModel([
        [{"tool": "write_file", "args": {"path": "calc.py",
                                         "content": f"<untrusted {ref}></untrusted>"}},
         {"tool": "write_file", "args": {"path": "b.py",
                                         "content": f"<untrusted {ref}>x = 1</untrusted>\n"}}],
        "done"]))
    assert (tmp_path / "calc.py").read_text() == ""
    assert (tmp_path / "b.py").read_text() == "x = 1\n"
    assert "took untrusted-content fences" in finished(trajectory, "write_file").output
