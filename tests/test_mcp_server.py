"""`harness mcp --memory DIR`: project memory served over MCP, driven by the SDK's own client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
pytest.importorskip("mcp", reason="needs the MCP SDK `mcp` (pip install -e '.[mcp]')")

import anyio  # noqa: E402  (after the skip: anyio comes with mcp)
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from harness.mcp.server import memory_server  # noqa: E402
from harness.memory import ProjectMemory  # noqa: E402

FAILED_EDIT = {"path": "calc.py", "old": "return a - b", "new": "return a * b"}


def harness_mcp(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", "mcp", *args]


def payload(result: Any) -> Any:
    """A tool result's structured content; fails the test on a tool error."""
    assert not result.is_error, result.content[0].text
    return result.structured_content


def error_text(result: Any) -> str:
    assert result.is_error, result.structured_content
    return result.content[0].text


def test_stdio_server_records_checks_recalls_and_refuses_bad_arguments(tmp_path: Path):
    root = tmp_path / ".harness" / "memory"
    params = StdioServerParameters(command=sys.executable, args=harness_mcp("--memory", str(root))[1:],
                                   cwd=tmp_path, env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"})

    async def session() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=60) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            issue = payload(await client.call_tool("record_issue", {
                "title": "add() returns the difference", "files": ["calc.py"],
                "check": "pytest test_calc.py"}))["id"]
            attempt = payload(await client.call_tool("record_attempt", {
                "approach": "multiply instead", "outcome": "failed", "tool": "edit_file",
                "args": FAILED_EDIT, "issue": issue, "error": "AssertionError: 6 != 5"}))["id"]
            # the same edit, spelled differently: path prefix and argument order
            repeat = payload(await client.call_tool("check_action", {"tool": "edit_file", "args": {
                "new": "return a * b", "old": "return a - b", "path": "./calc.py"}}))
            other = payload(await client.call_tool("check_action", {"tool": "edit_file", "args": {
                **FAILED_EDIT, "new": "return a + b"}}))
            recalled = payload(await client.call_tool("recall", {"query": "add difference"}))
            doctor = payload(await client.call_tool("doctor", {}))
            bad_outcome = error_text(await client.call_tool("record_attempt", {
                "approach": "guess", "outcome": "maybe"}))
            bad_issue = error_text(await client.call_tool("record_fix", {"issue": "i-unknown"}))
            wrong_kind = error_text(await client.call_tool("record_fix", {"issue": attempt}))
            return dict(tools=tools, issue=issue, attempt=attempt, repeat=repeat, other=other,
                        recalled=recalled, doctor=doctor, bad_outcome=bad_outcome,
                        bad_issue=bad_issue, wrong_kind=wrong_kind)

    got = anyio.run(session)

    tools = got["tools"]
    assert len(tools) >= 8
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object", tool.name
    assert tools["record_attempt"].input_schema["properties"]["outcome"]["enum"] == [
        "failed", "succeeded", "pending"]
    assert set(tools["check_action"].input_schema["required"]) == {"tool", "args"}

    [warning] = got["repeat"]["warnings"]
    assert warning["kind"] == "repeat-failure"
    assert warning["cites"] == [got["attempt"], got["issue"]]
    assert "AssertionError: 6 != 5" in warning["message"]
    assert got["other"]["warnings"] == []  # a different approach to the same file is fine

    assert got["recalled"]["items"][0]["id"] == got["issue"]
    assert got["doctor"]["healthy"] is True and got["doctor"]["events"] == 2

    assert "outcome" in got["bad_outcome"]
    assert "field 'issue'" in got["bad_issue"] and "i-unknown" in got["bad_issue"]
    assert f"{got['attempt']!r} is of kind 'attempt'" in got["wrong_kind"]

    # what the server wrote is the project's memory, and refused calls wrote nothing
    kept = ProjectMemory(root, record=False)
    assert [(e.kind, e.id, e.author) for e in kept.events()] == [
        ("issue", got["issue"], "mcp"), ("attempt", got["attempt"], "mcp")]
    kept.close()


def test_duplicates_merge_and_facts_supersede(tmp_path: Path):
    server = memory_server(tmp_path / "memory", workspace=tmp_path)

    async def session() -> tuple[dict, dict, dict, dict, str]:
        async with Client(server) as client:
            first = payload(await client.call_tool("record_issue", {"title": "flaky network test"}))
            again = payload(await client.call_tool("record_issue", {"title": "Flaky network test"}))
            old = payload(await client.call_tool("record_fact", {
                "subject": "test command", "claim": "make test"}))
            new = payload(await client.call_tool("record_fact", {
                "subject": "test command", "claim": "pytest -q", "replaces_older": True}))
            summary = (await client.call_tool("summary", {})).content[0].text
            return first, again, old, new, summary

    first, again, old, new, summary = anyio.run(session)
    assert again == {"id": first["id"], "merged": True}
    assert "pytest -q" in summary and "make test" not in summary
    memory = ProjectMemory(tmp_path / "memory", record=False)
    assert [(e.kind, getattr(e, "old", None)) for e in memory.events()][-1] == ("supersede",
                                                                                old["id"])
    assert memory.hygiene().healthy
    memory.close()


def test_fragile_files_and_decisions_warn_before_a_change(tmp_path: Path):
    server = memory_server(tmp_path / "memory", workspace=tmp_path)

    async def session() -> tuple[str, str, dict, dict, dict]:
        async with Client(server) as client:
            fragile = payload(await client.call_tool("mark_fragile", {
                "path": "migrations/", "reason": "applied in production"}))["id"]
            decision = payload(await client.call_tool("record_decision", {
                "title": "no print in the library", "rule": "no print()",
                "files": ["lib/"]}))["id"]
            shell = payload(await client.call_tool("check_action", {
                "tool": "run_shell", "args": {"command": "rm migrations/0001_init.sql"}}))
            edit = payload(await client.call_tool("check_action", {
                "tool": "write_file", "args": {"path": "lib/core.py",
                                               "content": "print('debug')\n"}}))
            read = payload(await client.call_tool("check_action", {
                "tool": "read_file", "args": {"path": "migrations/0001_init.sql"}}))
            return fragile, decision, shell, edit, read

    fragile, decision, shell, edit, read = anyio.run(session)
    assert [(w["kind"], w["cites"]) for w in shell["warnings"]] == [("fragile", [fragile])]
    assert [(w["kind"], w["cites"]) for w in edit["warnings"]] == [("decision", [decision])]
    assert read["warnings"] == []


def test_a_torn_log_line_is_reported_and_kept(tmp_path: Path, capsys: pytest.CaptureFixture):
    root = tmp_path / "memory"
    memory = ProjectMemory(root, record=False)
    kept_id = memory.note("the build needs python 3.11")
    memory.close()
    with (root / "events.jsonl").open("a", encoding="utf-8") as log:
        log.write('{"kind": "note", "text": "half a line\n')
    server = memory_server(root, workspace=tmp_path)
    assert "events.jsonl" in capsys.readouterr().err

    async def session() -> tuple[dict, dict]:
        async with Client(server) as client:
            doctor = payload(await client.call_tool("doctor", {}))
            added = payload(await client.call_tool("record_note", {"text": "ci runs on linux"}))
            return doctor, added

    doctor, added = anyio.run(session)
    assert doctor["healthy"] is False
    assert [p["line"] for p in doctor["log_problems"]] == [2]
    lines = (root / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["id"] == kept_id and lines[1].startswith('{"kind": "note"')
    assert json.loads(lines[2])["id"] == added["id"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_mode_serves_on_localhost(tmp_path: Path):
    port = free_port()
    proc = subprocess.Popen(harness_mcp("--memory", str(tmp_path / "memory"), "--http", str(port)),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "harness mcp --http did not start"
                time.sleep(0.1)

        async def session() -> tuple[int, str, dict]:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                count = len((await client.list_tools()).tools)
                fragile = payload(await client.call_tool("mark_fragile", {"path": "setup.cfg"}))
                check = payload(await client.call_tool("check_action", {
                    "tool": "edit_file", "args": {"path": "setup.cfg", "old": "a", "new": "b"}}))
                return count, fragile["id"], check

        count, fragile, check = anyio.run(session)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert count >= 8
    assert [w["cites"] for w in check["warnings"]] == [[fragile]]


def test_cli_refuses_a_memory_path_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture):
    from harness.cli import main

    not_a_dir = tmp_path / "events.jsonl"
    not_a_dir.write_text("", encoding="utf-8")
    assert main(["mcp", "--memory", str(not_a_dir)]) == 2
    assert f"--memory {not_a_dir}: not a directory" in capsys.readouterr().err
