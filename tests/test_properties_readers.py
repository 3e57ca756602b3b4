"""Properties of every reader of data from outside: on any bytes, text or structure it returns
a value or raises its documented error (never anything else), and what the writers write
reads back whole, surrogates and odd unicode included."""

import itertools
import json
import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from harness.bench.config import HarnessConfig, load_config_file  # noqa: E402
from harness.config_files import ConfigFileError, read_mapping  # noqa: E402
from harness.errors import DataError  # noqa: E402
from harness.events import (  # noqa: E402
    TaskFinished,
    ToolFinished,
    ToolRequested,
    Trajectory,
    TrajectoryError,
    TrajectoryWriter,
    event_json,
    parse_event,
)
from harness.governance.policy import Policy, PolicyError  # noqa: E402
from harness.llm import ToolCall  # noqa: E402
from harness.skills.library import scan_root  # noqa: E402
from harness.skills.skill import SkillFileError, parse_skill_file  # noqa: E402
from harness.tools import ToolContext, default_tools, tool  # noqa: E402

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Floats are finite: JSON has no infinity (pydantic writes one as null).
# Text with lone surrogates, NULs, line and paragraph separators, BOMs and astral characters.
odd_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["\ud800", "a\udcff", "\x00", "\u2028\u2029", "\ufeff", "\r\n", "\U0001f600", "\\u0000"])
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | odd_text
json_like = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(odd_text, inner, max_size=4), max_leaves=20)
any_keys = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(scalars, inner, max_size=3), max_leaves=12)
line_bytes = st.binary(max_size=200) | st.sampled_from(
    [b"\xef\xbb\xbf", b"\x00", b"\r\n", b"[" * 5000, b'{"type":', b"\xff\xfe"])
names = itertools.count()


def fresh(tmp_path_factory, suffix: str = ""):
    return tmp_path_factory.getbasetemp() / f"p{next(names)}{suffix}"


# -- trajectories --------------------------------------------------------------------------
@FAST
@given(data=st.one_of(st.text(max_size=200), st.binary(max_size=200), any_keys,
                      json_like.map(json.dumps)))
def test_parse_event_returns_an_event_or_raises_trajectory_error(data):
    if not isinstance(data, str | bytes | dict):
        data = {"type": "task_finished", "status": "success", "reason": data}
    try:
        event = parse_event(data)
    except TrajectoryError:
        return
    assert parse_event(event_json(event)).comparable() == event.comparable()


@FAST
@given(lines=st.lists(line_bytes, max_size=6))
def test_reading_any_file_keeps_every_good_line_and_names_each_bad_one(tmp_path_factory, lines):
    good = event_json(TaskFinished(status="success", reason="kept"))
    path = fresh(tmp_path_factory, ".jsonl")
    path.write_bytes(b"\n".join([good.encode(), *lines, good.encode()]))
    with _quiet():
        read = Trajectory.read(path)
    reasons = [e.reason for e in read if isinstance(e, TaskFinished)]
    assert reasons[0] == "kept" and reasons[-1] == "kept"
    assert all(p.path == str(path) and p.line >= 1 for p in read.problems)


@FAST
@given(answer=odd_text, arguments=st.dictionaries(odd_text, json_like, max_size=4),
       output=odd_text)
def test_written_events_read_back_whole(tmp_path_factory, answer, arguments, output):
    events = [ToolRequested(call=ToolCall(id=answer, name="t", arguments=arguments)),
              ToolFinished(call_id="c", tool="t", ok=True, output=output),
              TaskFinished(status="success", reason=answer, answer=answer)]
    path = fresh(tmp_path_factory, ".jsonl")
    with TrajectoryWriter(path) as writer:
        for event in events:
            writer(event)
    for read in (Trajectory.read(path, strict=True),
                 Trajectory.read(Trajectory(events).write(fresh(tmp_path_factory, ".jsonl")),
                                 strict=True)):
        assert [e.model_dump() for e in read] == [e.model_dump() for e in events]


# -- SKILL.md ------------------------------------------------------------------------------
@FAST
@given(text=st.binary(max_size=300) | any_keys.map(
    lambda front: "---\n" + json.dumps({"name": "s", "description": "d.", "metadata": front})
    + "\n---\nbody\n").map(str.encode) | odd_text.map(
    lambda t: f"---\nname: s\ndescription: {t}\n---\n".encode("utf-8", "surrogatepass")))
def test_a_skill_file_loads_or_is_a_skill_file_error(tmp_path_factory, text):
    root = fresh(tmp_path_factory)
    (root / "s").mkdir(parents=True)
    (root / "s" / "SKILL.md").write_bytes(text)
    try:
        skill, warnings = parse_skill_file(root / "s" / "SKILL.md")
    except SkillFileError as exc:
        assert exc.problem.line >= 1
        return
    finally:
        scan = scan_root(root)  # the library scan never raises either
    assert skill.name == "s" and [s.name for s in scan.skills] == ["s"]
    assert all(isinstance(k, str) for k in skill.metadata)


# -- policies, bench configs, config files ------------------------------------------------
documents = st.binary(max_size=300) | any_keys.map(
    lambda v: json.dumps(v).encode()) | json_like.map(
    lambda v: json.dumps({"mode": "plan", "rules": v, "budget": v, "memory": v}).encode())


@FAST
@given(text=documents, suffix=st.sampled_from([".toml", ".yaml", ".json"]))
def test_config_readers_return_a_value_or_raise_their_error(tmp_path_factory, text, suffix):
    path = fresh(tmp_path_factory, suffix)
    path.write_bytes(text)
    for read, error in ((read_mapping, ConfigFileError), (Policy.load, PolicyError),
                        (load_config_file, DataError)):
        try:
            value = read(path)
        except error as exc:
            assert str(path) in str(exc)
            continue
        assert isinstance(value, dict | Policy | HarnessConfig)


# -- tool arguments ------------------------------------------------------------------------
@tool
def echo(text: str, times: int = 1, tags: list[str] | None = None) -> str:
    """Repeat text."""
    return text * times


@FAST
@given(arguments=st.dictionaries(odd_text | st.sampled_from(["text", "times", "tags"]),
                                 json_like, max_size=4),
       raw=st.none() | st.text(max_size=60))
def test_a_tool_call_always_becomes_a_result_that_can_be_written(tmp_path_factory, arguments,
                                                                raw):
    call = ToolCall.from_raw("c", "echo", raw) if raw is not None else \
        ToolCall(id="c", name="echo", arguments=arguments)
    ctx = ToolContext(fresh(tmp_path_factory))
    for t in [echo, *default_tools()[:2]]:  # echo, read_file, write_file (in an empty dir)
        result = t(call.model_copy(update={"name": t.name}), ctx)
        (result.output + (result.error or "")).encode("utf-8")  # encodable for a provider
        finished = ToolFinished(call_id="c", tool=t.name, ok=result.ok, output=result.output,
                                error=result.error)
        assert parse_event(event_json(finished)).comparable() == finished.comparable()


class _quiet:
    """Silence the warnings a corrupt line raises (they are asserted elsewhere)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._w.__exit__(*exc)
