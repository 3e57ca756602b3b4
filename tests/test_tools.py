"""Tools: schemas from type hints, validation errors the model can act on, workspace confinement."""

import os

import pytest

from harness import Agent, ScriptedModel
from harness.events import ToolFinished
from harness.llm import ToolCall
from harness.tools import ToolContext, Toolset, WorkspaceEscape, default_tools, make_run_shell, tool


@tool
def scale(values: list[float], factor: float = 2.0, label: str | None = None) -> list[float]:
    """Multiply every value by a factor.

    Args:
        values: the numbers to scale.
        factor: what to multiply by.
        label: an optional tag, unused.
    """
    return [v * factor for v in values]


def call(name, args=None, raw=None):
    if raw is not None:
        return ToolCall.from_raw("c1", name, raw)
    return ToolCall(id="c1", name=name, arguments=args or {})


def test_schema_comes_from_type_hints_and_docstring():
    fn = scale.schema()["function"]
    assert fn["name"] == "scale"
    assert fn["description"] == "Multiply every value by a factor."
    props = fn["parameters"]["properties"]
    assert props["values"] == {"type": "array", "items": {"type": "number"},
                               "description": "the numbers to scale."}
    assert props["factor"]["default"] == 2.0
    assert fn["parameters"]["required"] == ["values"]


def test_valid_arguments_run_and_are_coerced(tmp_path):
    result = scale(call("scale", {"values": [1, "2.5"]}), ToolContext(tmp_path))
    assert result.ok and result.output == "[2.0, 5.0]"


def test_invalid_arguments_become_a_tool_error_naming_the_field(tmp_path):
    ctx = ToolContext(tmp_path)
    bad_type = scale(call("scale", {"values": "abc"}), ctx)
    assert not bad_type.ok and "'values'" in bad_type.error and "valid list" in bad_type.error
    missing = scale(call("scale", {}), ctx)
    assert "'values': Field required" in missing.error
    extra = scale(call("scale", {"values": [1], "colour": "red"}), ctx)
    assert "'colour': Extra inputs are not permitted" in extra.error


def test_invalid_json_arguments_go_back_to_the_model(tmp_path):
    broken = call("scale", raw='{"values": [1, 2')
    assert broken.parse_error and broken.arguments == {}
    result = scale(broken, ToolContext(tmp_path))
    assert not result.ok and "not valid JSON" in result.error
    not_object = call("scale", raw="[1, 2]")
    assert "must be a JSON object" in scale(not_object, ToolContext(tmp_path)).error


def test_agent_survives_invalid_arguments_and_the_model_sees_the_error(tmp_path):
    seen = []

    def policy(req):
        seen.append(req.messages[-1].content)
        if len(seen) == 1:
            from harness.llm import ModelResponse

            return ModelResponse(tool_calls=[ToolCall.from_raw("c1", "write_file", '{"path": ')])
        if len(seen) == 2:
            return {"tool": "write_file", "args": {"path": "a.txt"}}
        return "gave up"

    trajectory = Agent(ScriptedModel(policy), workspace=tmp_path).run("write a file")
    assert "not valid JSON" in seen[1]
    assert "'content': Field required" in seen[2]
    assert trajectory.finished.status == "answered"
    assert [f.ok for f in trajectory.of_type(ToolFinished)] == [False, False]


def test_unknown_tool_is_an_error_listing_the_available_ones(tmp_path):
    result = Toolset(default_tools()).execute(call("rm_everything"), ToolContext(tmp_path))
    assert not result.ok and "unknown tool 'rm_everything'" in result.error
    assert "read_file" in result.error


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "sub/../../x", "~/.ssh/id_rsa"])
def test_paths_escaping_the_workspace_are_refused(tmp_path, path):
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    with pytest.raises(WorkspaceEscape):
        ToolContext(ws).files.write_text(path, "x")
    tools = Toolset(default_tools())
    result = tools.execute(call("write_file", {"path": path, "content": "x"}), ToolContext(ws))
    assert not result.ok and "outside the workspace" in result.error
    assert not (tmp_path / "outside.txt").exists()


def test_symlinks_out_of_the_workspace_are_refused(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "secret.txt").write_text("s3cret")
    os.symlink(tmp_path / "secret.txt", ws / "link.txt")
    os.symlink(tmp_path, ws / "linkdir")
    tools = Toolset(default_tools())
    for p in ("link.txt", "linkdir/secret.txt"):
        result = tools.execute(call("read_file", {"path": p}), ToolContext(ws))
        assert not result.ok and "outside the workspace" in result.error
    inside = ws / "real.txt"
    inside.write_text("ok")
    os.symlink(inside, ws / "alias.txt")
    assert tools.execute(call("read_file", {"path": "alias.txt"}), ToolContext(ws)).output == "ok"


def test_absolute_paths_inside_the_workspace_are_fine(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    result = Toolset(default_tools()).execute(
        call("read_file", {"path": str(tmp_path / "a.txt")}), ToolContext(tmp_path))
    assert result.output == "hello"


def test_edit_file_fails_clearly_when_old_text_is_absent_or_ambiguous(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\nx = 1\ny = 2\n")
    tools, ctx = Toolset(default_tools()), ToolContext(tmp_path)
    absent = tools.execute(call("edit_file", {"path": "a.py", "old": "z = 3", "new": ""}), ctx)
    assert "not found in a.py" in absent.error
    twice = tools.execute(call("edit_file", {"path": "a.py", "old": "x = 1", "new": "x = 9"}), ctx)
    assert "occurs 2 times" in twice.error
    assert (tmp_path / "a.py").read_text() == "x = 1\nx = 1\ny = 2\n"
    ok = tools.execute(call("edit_file", {"path": "a.py", "old": "y = 2", "new": "y = 3"}), ctx)
    assert ok.ok and (tmp_path / "a.py").read_text().endswith("y = 3\n")


def test_list_dir_and_search_files(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("import os\nTIMEOUT = 3\n")
    (tmp_path / "README").write_text("The TIMEOUT is documented\n")
    tools, ctx = Toolset(default_tools()), ToolContext(tmp_path)
    assert tools.execute(call("list_dir", {}), ctx).output == "pkg/\nREADME"
    hits = tools.execute(call("search_files", {"pattern": r"^TIMEOUT\b"}), ctx).output
    assert hits == "pkg/m.py:2: TIMEOUT = 3"
    bad = tools.execute(call("search_files", {"pattern": "("}), ctx)
    assert "invalid regular expression" in bad.error


def test_run_shell_runs_in_the_workspace_reports_status_and_truncates(tmp_path):
    tools, ctx = Toolset(default_tools()), ToolContext(tmp_path)
    ok = tools.execute(call("run_shell", {"command": "pwd"}), ctx)
    assert ok.ok and ok.output == f"exit code 0\n{tmp_path}\n"
    failed = tools.execute(call("run_shell", {"command": "echo oops >&2; exit 3"}), ctx)
    assert not failed.ok and failed.error.startswith("run_shell: exit code 3") and "oops" in failed.error
    small = Toolset([make_run_shell(max_chars=100)])
    long = small.execute(call("run_shell", {"command": "seq 1 1000"}), ctx)
    assert "characters truncated" in long.output and long.output.rstrip().endswith("1000")


def test_run_shell_timeout_is_a_tool_error(tmp_path):
    quick = Toolset([make_run_shell(timeout_s=0.3)])
    result = quick.execute(call("run_shell", {"command": "sleep 5"}), ToolContext(tmp_path))
    assert not result.ok and "timed out after 0.3s" in result.error


def test_a_tool_that_raises_is_reported_not_crashed(tmp_path):
    @tool
    def explode() -> str:
        """Always fails."""
        raise RuntimeError("kaboom")

    result = explode(call("explode"), ToolContext(tmp_path))
    assert not result.ok and result.error == "explode raised RuntimeError: kaboom"


def test_run_shell_sees_a_same_size_edit_made_within_the_same_second(tmp_path):
    tools, ctx = Toolset(default_tools()), ToolContext(tmp_path)
    (tmp_path / "m.py").write_text("X = 1\n")
    check = call("run_shell", {"command": "python -c 'import m; print(m.X)'"})
    assert tools.execute(check, ctx).output.endswith("1\n")
    edit = tools.execute(call("edit_file", {"path": "m.py", "old": "X = 1", "new": "X = 2"}), ctx)
    assert edit.ok
    assert tools.execute(check, ctx).output.endswith("2\n")  # no stale bytecode


def test_schema_json_is_the_schemas_json_kept_per_tool_and_renewed_when_the_schema_changes():
    import json

    @tool
    def greet(name: str, times: int = 1) -> str:
        """Say hello.

        Args:
            name: who to greet (é ☃).
        """
        return "hi " * times + name

    tools = Toolset([*default_tools(), greet, scale])
    schemas = tools.schemas()
    assert tools.schemas_json() == json.dumps(schemas, sort_keys=True, separators=(",", ":"))
    assert tools.schemas_json(compact=False) == json.dumps(schemas, sort_keys=True)
    assert Toolset().schemas_json() == Toolset().schemas_json(compact=False) == "[]"
    greet.description = "Say hello, loudly."  # a changed schema is encoded again
    assert json.loads(greet.schema_json())["function"]["description"] == "Say hello, loudly."
    assert greet.schema_json(compact=False) == json.dumps(greet.schema(), sort_keys=True)


def test_a_tools_result_is_written_as_json_whatever_its_type(tmp_path):
    import json

    values = [0, -3, 2**80, True, None, 1.5, "plain", [1, "é"], {"b": 2, "a": None}]

    @tool
    def give(i: int) -> object:
        """Return the i-th value."""
        return values[i]

    ctx = ToolContext(workspace=tmp_path)
    for i, v in enumerate(values):
        out = give(ToolCall(id=f"c{i}", name="give", arguments={"i": i}), ctx).output
        assert out == ("" if v is None else v if isinstance(v, str) else json.dumps(v))


def test_tool_context_resolve_still_refuses_escapes_and_says_to_use_files(tmp_path):
    with pytest.warns(DeprecationWarning, match="ctx.files"):
        assert ToolContext(tmp_path).resolve("a.txt") == tmp_path.resolve() / "a.txt"
    with pytest.warns(DeprecationWarning), pytest.raises(WorkspaceEscape):
        ToolContext(tmp_path).resolve("../x")
