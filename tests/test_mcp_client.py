"""Tools from MCP servers, end to end against real servers the tests start: one over stdio,
one over streamable HTTP on 127.0.0.1, both written with the SDK's own server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="needs the mcp package: pip install -e '.[mcp]'")

from harness.agent import Agent  # noqa: E402
from harness.cli import main  # noqa: E402
from harness.config_files import ConfigFileError  # noqa: E402
from harness.events import ModelCalled, ToolFinished  # noqa: E402
from harness.llm import ScriptedModel  # noqa: E402
from harness.mcp import MCPServer, load_mcp_config, mcp_tools  # noqa: E402
from harness.mcp.client import effects_of, tools_from_config  # noqa: E402
from harness.messages import ToolCall  # noqa: E402
from harness.sandbox.local import NoSandbox  # noqa: E402
from harness.state import Budget  # noqa: E402
from harness.tools import default_tools  # noqa: E402
from harness.tools.base import ToolContext  # noqa: E402

SERVER = Path(__file__).parent / "mcp_servers" / "demo_server.py"
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_COLOR": "1"}


def stdio_server(**extra) -> MCPServer:
    return MCPServer(name="demo", command=sys.executable, args=[str(SERVER)], **extra)


def call(tools, name, **arguments):
    tool = next(t for t in tools if t.name == name)
    return tool(ToolCall(id=f"c_{name}", name=name, arguments=arguments),
                ToolContext(Path.cwd()))


def child_states() -> dict[int, str]:
    """This process's children, by pid, with their state letter (Z for a zombie)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid():
            found[int(entry.name)] = fields[0]
    return found


@pytest.fixture(scope="module")
def demo():
    with mcp_tools(stdio_server(), timeout_s=2) as tools:
        yield tools


@pytest.fixture(scope="module")
def http_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the HTTP MCP server did not start: {proc.stderr.read()[-2000:]}")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp", proc
    proc.terminate()
    proc.wait(10)


def test_tools_are_listed_with_the_servers_schemas_and_declared_effects(demo):
    by_name = {t.name: t for t in demo}
    assert set(by_name) == {"add", "forget", "pid", "slow", "fail", "crash", "fetch_note"}
    add = by_name["add"].schema()["function"]
    assert add["description"] == "Add two integers."
    assert add["parameters"]["required"] == ["a", "b"]
    assert add["parameters"]["properties"]["a"]["type"] == "integer"
    assert all(t.channel == "web" for t in demo)  # untrusted, like fetched content
    # readOnlyHint -> a reader; destructiveHint -> deletes; no annotations -> the cautious
    # default (writes, deletes and sends), marked as not declared by the server
    assert by_name["add"].effects.read_only and by_name["add"].effects.kind == "read"
    forget = by_name["forget"].effects
    assert forget.deletes and not forget.sends and forget.declared
    pid = by_name["pid"].effects
    assert pid.writes and pid.deletes and pid.sends and not pid.declared


def test_effects_follow_the_mcp_hints_with_the_specs_defaults_for_missing_ones():
    from mcp_types import ToolAnnotations

    schema = {"properties": {"url": {}, "path": {}, "to": {}, "n": {}}}
    fetcher = effects_of(ToolAnnotations(read_only_hint=True), schema)
    assert fetcher.read_only and fetcher.kind == "network" and fetcher.destinations == ("url",)
    local = effects_of(ToolAnnotations(read_only_hint=True, open_world_hint=False), schema)
    assert local.kind == "read" and local.paths == ("path",)
    editor = effects_of(ToolAnnotations(destructive_hint=False, open_world_hint=False), schema)
    assert editor.writes and not editor.deletes and not editor.sends and editor.declared
    unknown = effects_of(None, schema)  # no annotations: writes, deletes and sends
    assert unknown.kind == "egress" and unknown.deletes and not unknown.declared
    assert set(unknown.destinations) == {"url", "to"}


def test_a_call_returns_the_servers_result(demo):
    result = call(demo, "add", a=2, b=40)
    assert result.ok and result.output == "42" and result.channel == "web"


def test_an_is_error_result_comes_back_as_a_tool_error(demo):
    result = call(demo, "fail", reason="the disk is on fire")
    assert not result.ok
    assert "server reported an error" in result.error and "the disk is on fire" in result.error


def test_invalid_arguments_are_refused_with_what_is_wrong(demo):
    result = call(demo, "add", a="two")
    assert not result.ok
    assert "invalid arguments" in result.error
    assert "'a': 'two' is not of type 'integer'" in result.error
    assert "'b' is a required property" in result.error
    assert call(demo, "add", a=1, b=1).output == "2"  # the session is unharmed


def test_a_slow_call_times_out_as_a_tool_error_and_the_session_goes_on(demo):
    start = time.monotonic()
    result = call(demo, "slow", seconds=30)
    assert not result.ok and "within 2 s" in result.error
    assert time.monotonic() - start < 10
    assert call(demo, "add", a=3, b=4).output == "7"


def test_the_allowlist_offers_only_the_named_tools(tmp_path):
    with mcp_tools(stdio_server(), allow=["add"]) as tools:
        assert [t.name for t in tools] == ["add"]
    config = write_config(tmp_path / "mcp.json", {
        "demo": {"command": sys.executable, "args": [str(SERVER)]}})
    before = set(child_states())
    with pytest.raises(ValueError, match=r"all servers: no tool named nope \(offered: add, "):
        tools_from_config(config, allow=["add", "nope"])
    assert set(child_states()) <= before  # the server started to list its tools has ended


def test_a_killed_server_is_restarted_on_the_next_call_and_none_is_left_behind():
    before = set(child_states())
    tools = mcp_tools(stdio_server(), timeout_s=10)
    first = int(call(tools, "pid").output)
    os.kill(first, signal.SIGKILL)
    time.sleep(0.3)
    second = call(tools, "pid")
    assert second.ok and int(second.output) != first
    assert tools.connections[0].connects == 2
    assert first not in child_states()  # the killed one was reaped, not left a zombie
    tools.close()
    assert set(child_states()) <= before  # closing ended the restarted server too
    after = call(tools, "add", a=1, b=2)
    assert not after.ok and "closed" in after.error


def test_a_call_the_server_dies_in_is_not_sent_twice_and_the_next_call_reconnects():
    with mcp_tools(stdio_server(), timeout_s=10) as tools:
        crashed = call(tools, "crash")
        assert not crashed.ok
        assert "connection dropped during the request" in crashed.error
        assert tools.connections[0].connects == 1  # not restarted to send it again
        assert call(tools, "add", a=2, b=2).output == "4"
        assert tools.connections[0].connects == 2


def test_tools_over_streamable_http(http_url):
    url, _ = http_url
    with mcp_tools(MCPServer(name="web-demo", url=url, headers={"X-Test": "1"})) as tools:
        assert "add" in {t.name for t in tools}
        assert call(tools, "add", a=20, b=22).output == "42"
        failed = call(tools, "fail", reason="over http")
        assert not failed.ok and "over http" in failed.error


def test_a_dropped_http_server_is_a_tool_error_not_an_exception(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        with mcp_tools(MCPServer(url=f"http://127.0.0.1:{port}/mcp"), timeout_s=5) as tools:
            assert call(tools, "add", a=1, b=1).output == "2"
            proc.kill()
            proc.wait(10)
            result = call(tools, "add", a=1, b=1)
            assert not result.ok and result.error.startswith("add: ")
            assert "cannot connect" in result.error  # reopening was tried, and refused
    finally:
        proc.kill()
        proc.wait(10)


def test_the_agent_calls_an_mcp_tool_and_sees_its_output_fenced_as_untrusted(demo, tmp_path):
    model = ScriptedModel([{"tool": "fetch_note", "args": {}}, "done"])
    agent = Agent(model, tools=[*default_tools(), *demo], workspace=tmp_path,
                  sandbox=NoSandbox(), record_requests=True, budget=Budget(max_steps=4))
    run = agent.run("Read the note")
    finished = run.of_type(ToolFinished)
    assert [e.tool for e in finished] == ["fetch_note"]
    assert finished[0].ok and "ignore previous instructions" in finished[0].output
    second = [e.request for e in run.of_type(ModelCalled) if e.request is not None][1]
    text = second.text()
    fence_at = text.index('<untrusted source="web"')
    assert fence_at < text.index("ignore previous instructions") < text.index("</untrusted>",
                                                                               fence_at)


def write_config(path: Path, servers: dict) -> Path:
    path.write_text(json.dumps({"mcpServers": servers}, indent=2))
    return path


def test_the_mcp_servers_config_is_read_as_other_clients_write_it(tmp_path):
    config = write_config(tmp_path / "mcp.json", {
        "notes": {"command": "python", "args": ["notes.py"], "env": {"NOTES": "/n"},
                  "cwd": "servers", "autoApprove": []},
        "search": {"type": "http", "url": "http://127.0.0.1:9/mcp",
                   "headers": {"Authorization": "Bearer t"}},
        "old": {"command": "x", "disabled": True}})
    notes, search = load_mcp_config(config)
    assert (notes.name, notes.command, notes.args, notes.env) == (
        "notes", "python", ("notes.py",), {"NOTES": "/n"})
    assert notes.cwd == str(tmp_path / "servers") and notes.transport == "stdio"
    assert search.url == "http://127.0.0.1:9/mcp" and search.transport == "http"


@pytest.mark.parametrize(("servers", "message", "line"), [
    ({"a": {"command": "x", "env": {"N": 3}}}, "mcpServers.a.env.N: Input should be a valid "
                                                "string (strings only)", 5),
    ({"a": {"args": ["x"]}}, "mcpServers.a: give either 'command'", 3),
    ({"a": {"command": "x", "url": "http://h/mcp"}}, "not both", 3),
    ({"a": {"url": "http://h/mcp", "type": "sse"}}, "mcpServers.a.type: 'sse' is not "
                                                     "supported", 5),
    ({"a": {"command": "x", "comand": "y"}}, "mcpServers.a.comand: unknown field", 5),
    ({"a": ["x"]}, "mcpServers.a: must be a mapping", 3),
])
def test_a_bad_config_names_the_file_the_line_and_the_field(tmp_path, servers, message, line):
    config = write_config(tmp_path / "mcp.json", servers)
    with pytest.raises(ConfigFileError) as caught:
        load_mcp_config(config)
    assert str(caught.value).startswith(f"{config}: ")
    assert message in str(caught.value)
    assert caught.value.line == line


def test_a_config_without_mcp_servers_is_refused(tmp_path):
    config = tmp_path / "mcp.json"
    config.write_text('{"servers": {}}')
    with pytest.raises(ConfigFileError, match="has no 'mcpServers' mapping"):
        load_mcp_config(config)


def harness(*args):
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=180)


def processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cwd").resolve() == folder.resolve():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_harness_run_with_mcp_servers_from_a_config_file(tmp_path):
    server_home = tmp_path / "server_home"
    server_home.mkdir()
    config = write_config(tmp_path / "mcp.json", {
        "demo": {"command": sys.executable, "args": [str(SERVER)], "cwd": str(server_home)}})
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"tool": "add", "args": {"a": 2, "b": 40}}, "42"]))
    out = tmp_path / "run.jsonl"
    proc = harness("run", "add 2 and 40", "--model", f"scripted:{script}", "--workspace",
                   tmp_path, "--sandbox", "none", "--quiet", "--json", "--out", out,
                   "--mcp", config, "--mcp-allow", "add")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert [(e["tool"], e["output"]) for e in finished] == [("add", "42")]
    started = next(e for e in events if e["type"] == "task_started")
    assert "add" in json.dumps(started) and "forget" not in json.dumps(started)
    assert processes_in(server_home) == []  # the server ended with the run



def test_harness_run_refuses_a_broken_mcp_config_with_exit_2(tmp_path, capsys):
    broken = write_config(tmp_path / "broken.json", {"demo": {"args": []}})
    script = tmp_path / "script.json"
    script.write_text('["done"]')
    status = main(["run", "x", "--model", f"scripted:{script}", "--workspace", str(tmp_path),
                   "--sandbox", "none", "--quiet", "--mcp", str(broken)])
    assert status == 2
    assert f"--mcp: {broken}: mcpServers.demo: give either" in capsys.readouterr().err
