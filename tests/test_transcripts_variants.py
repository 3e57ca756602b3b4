"""Transcript files from other versions of tau-bench and SWE-agent load the same way."""

import json

import pytest

from harness.context.transcripts import TranscriptError, load_transcripts

RUN = {"task_id": 1, "traj": [
    {"role": "system", "content": "policy"},
    {"role": "user", "content": "book a flight"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "function": {"name": "search", "arguments": "{}"}}]},
    {"role": "tool", "content": "flights", "name": "search"},
    {"role": "assistant", "content": "done"}]}


def test_tool_message_without_id_pairs_with_its_call(tmp_path):
    f = tmp_path / "runs.json"
    f.write_text(json.dumps([RUN]))
    [t] = load_transcripts(f)
    assert t.history[1].tool_call_id == "c1"


def test_byte_order_mark_and_a_single_run_object_are_read(tmp_path):
    f = tmp_path / "run.json"
    f.write_text("\ufeff" + json.dumps(RUN), encoding="utf-8")
    [t] = load_transcripts(f)
    assert t.task == "book a flight" and t.steps == 2


def test_swe_agent_action_given_as_list_of_lines_is_one_command(tmp_path):
    f = tmp_path / "run.traj"
    f.write_text(json.dumps({"history": [
        {"role": "user", "content": "fix the bug"},
        {"role": "assistant", "content": "look", "action": ["ls -la", "cat x.py"]},
        {"role": "user", "content": "x.py"}]}))
    [t] = load_transcripts(f)
    call = t.history[0].tool_calls[0]
    assert call.name == "ls" and call.arguments == {"command": "ls -la\ncat x.py"}
    assert t.history[1].role == "tool" and t.history[1].tool_call_id == call.id


def test_malformed_action_and_empty_file_are_rejected_by_name(tmp_path):
    f = tmp_path / "run.traj"
    f.write_text(json.dumps({"history": [{"role": "user", "content": "task"},
                                         {"role": "assistant", "content": "", "action": 3}]}))
    with pytest.raises(TranscriptError, match=r"run.traj: field 'history\[1\].action'"):
        load_transcripts(f)
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(TranscriptError, match="no transcripts"):
        load_transcripts(empty)
