"""Bad input never crashes a run or a reader, and never loses a recorded event: each case a
session found by feeding harness malformed input, kept as a regression test."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness import Agent, FunctionModel, ScriptedModel
from harness.bench.config import (
    HarnessConfig,
    build_agent,
    build_component,
    load_config,
    load_config_file,
)
from harness.errors import DataError
from harness.events import (
    TaskFinished,
    ToolFinished,
    ToolRequested,
    Trajectory,
    TrajectoryError,
    TrajectoryWriter,
    event_json,
    parse_event,
)
from harness.governance.policy import Policy, PolicyError
from harness.llm import ModelResponse, ToolCall
from harness.messages import Usage
from harness.skills.library import SkillLibrary
from harness.tools import ToolContext, default_tools
from harness.tools.base import MAX_ARGUMENT_DEPTH

REPO = Path(__file__).resolve().parents[1]


def nested(depth: int) -> dict:
    """{"a": {"a": ... {}}}, `depth` levels, built without recursion."""
    root: dict = {}
    node = root
    for _ in range(depth - 1):
        node["a"] = node = {}
    return root


def written_and_read(trajectory: Trajectory, path: Path) -> Trajectory:
    trajectory.write(path)
    return Trajectory.read(path, strict=True)


# -- tools ---------------------------------------------------------------------------------
def test_list_dir_and_search_show_a_file_name_that_is_not_utf8(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    with open(os.fsencode(ws) + b"/caf\xe9-\xff.txt", "wb") as fh:
        fh.write(b"needle\n")
    model = ScriptedModel([{"tool": "list_dir", "args": {}},
                           {"tool": "search_files", "args": {"pattern": "needle"}}, "done"])
    with TrajectoryWriter(tmp_path / "run.jsonl") as sink:
        trajectory = Agent(model, workspace=ws, sinks=[sink]).run("look")
    listed, searched = [e for e in trajectory if isinstance(e, ToolFinished)]
    assert listed.ok and listed.output == r"caf\xe9-\xff.txt"
    assert searched.ok and searched.output == r"caf\xe9-\xff.txt:1: needle"
    again = Trajectory.read(tmp_path / "run.jsonl", strict=True)
    assert again.comparable() == trajectory.comparable()


def test_arguments_nested_past_the_limit_are_a_tool_error_naming_it(tmp_path):
    write_file = {t.name: t for t in default_tools()}["write_file"]
    result = write_file(ToolCall(id="c1", name="write_file",
                                 arguments={"path": "a", "content": nested(100_000)}),
                        ToolContext(tmp_path))
    assert not result.ok
    assert f"nest deeper than {MAX_ARGUMENT_DEPTH} levels" in result.error
    assert not (tmp_path / "a").exists()
    flat_enough = write_file(ToolCall(id="c2", name="write_file",
                                      arguments={"path": "a", "content": nested(3)}),
                             ToolContext(tmp_path))
    assert "nest deeper" not in flat_enough.error  # refused by type, not by depth


def test_a_run_given_arguments_100000_deep_goes_on_and_its_record_is_written(tmp_path):
    replies = iter([ModelResponse(tool_calls=[ToolCall(
        id="c1", name="write_file", arguments={"path": "a", "content": nested(100_000)})],
        usage=Usage(input_tokens=1, output_tokens=1))])

    def policy(request):
        return next(replies, ModelResponse(text="gave up", usage=Usage(input_tokens=1)))

    with TrajectoryWriter(tmp_path / "run.jsonl") as sink:
        trajectory = Agent(FunctionModel(policy), workspace=tmp_path / "ws", sinks=[sink]) \
            .run("write")
    (finished,) = trajectory.of_type(ToolFinished)
    assert "nest deeper than 64 levels" in finished.error
    assert trajectory.finished.status != "error", trajectory.finished.reason
    for path in (tmp_path / "run.jsonl", trajectory.write(tmp_path / "again.jsonl")):
        read = Trajectory.read(path, strict=True)
        assert [e.type for e in read] == [e.type for e in trajectory]
        request = read.of_type(ToolRequested)[0]
        assert "[cut: nested deeper than" in json.dumps(request.call.arguments)


def test_arguments_100000_deep_from_a_litellm_model_go_back_to_the_model(tmp_path):
    pytest.importorskip("litellm", reason="litellm is not installed")
    from harness.llm import LiteLLMModel

    deep = '{"path": "a", "content": ' + "[" * 100_000 + "]" * 100_000 + "}"

    class TwoTurns(LiteLLMModel):
        async def _acall(self, kwargs):
            if kwargs["messages"][-1]["role"] == "user":
                kwargs = {**kwargs, "mock_response": "", "mock_tool_calls": [{
                    "id": "c1", "type": "function",
                    "function": {"name": "write_file", "arguments": deep}}]}
            else:
                kwargs = {**kwargs, "mock_response": "sorry \ud800"}
            return await super()._acall(kwargs)

    os.environ.setdefault("OPENAI_API_KEY", "sk-offline-test")
    trajectory = Agent(TwoTurns("openai/gpt-4o-mini"), workspace=tmp_path / "ws").run("w")
    (finished,) = trajectory.of_type(ToolFinished)
    assert "arguments nest deeper than 64 levels" in finished.error
    assert trajectory.finished.answer == "sorry \ud800"
    assert written_and_read(trajectory, tmp_path / "t.jsonl").finished.answer == "sorry \ud800"


# -- trajectories --------------------------------------------------------------------------
def test_lone_surrogates_in_arguments_and_answer_are_written_and_read_back(tmp_path):
    model = ScriptedModel([{"tool": "write_file", "args": {"path": "a\ud800.txt",
                                                           "content": "x\udcff"}},
                           "answer \ud800 and \U0001f600"])
    (tmp_path / "ws").mkdir()
    with TrajectoryWriter(tmp_path / "run.jsonl") as sink:
        trajectory = Agent(model, workspace=tmp_path / "ws", sinks=[sink]).run("go \udcff")
    assert trajectory.finished.answer == "answer \ud800 and \U0001f600"
    for path in (tmp_path / "run.jsonl", trajectory.write(tmp_path / "again.jsonl")):
        path.read_bytes().decode("utf-8")  # the file is UTF-8
        read = Trajectory.read(path, strict=True)
        assert read.comparable() == trajectory.comparable()
        assert read.of_type(ToolRequested)[0].call.arguments["path"] == "a\ud800.txt"
    (error,) = [e.error for e in trajectory.of_type(ToolFinished)]
    assert "\\ud800" in error  # what reaches the model is encodable: the escape


def test_corrupt_lines_are_problems_with_their_line_and_the_rest_is_read(tmp_path):
    good = event_json(TaskFinished(status="success", reason="done", answer="ok"))
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"\r\n"  # a BOM and CRLF: fine
                     + good[:20].encode() + b"\n"                 # truncated
                     + b"\x00\x00\n"                              # NUL bytes
                     + b"[1, 2]\n"                                # wrong JSON type
                     + b'{"type": "task_finished", "status": 3}\n'  # wrong field type
                     + b"[" * 100_000 + b"\n"                      # nested past any parser
                     + good.encode().replace(b"done", b"d\xffne") + b"\n"  # not UTF-8
                     + good.encode())                              # no final newline
    with pytest.warns(UserWarning):
        read = Trajectory.read(path)
    assert [p.line for p in read.problems] == [2, 3, 4, 5, 6]
    assert "field 'task_finished.status'" in str(read.problems[3])
    assert [e.reason for e in read] == ["done", "d\ufffdne", "done"]
    with pytest.raises(TrajectoryError, match="t.jsonl line 2"):
        Trajectory.read(path, strict=True)


def test_a_line_over_the_size_limit_is_a_problem_not_a_memory_blow_up(tmp_path, monkeypatch):
    import harness.events as events

    monkeypatch.setattr(events, "MAX_LINE_BYTES", 1000)
    good = event_json(TaskFinished(status="success", reason="done"))
    path = tmp_path / "t.jsonl"
    path.write_text(good + "\n" + json.dumps({"x": "y" * 5000}) + "\n" + good + "\n")
    with pytest.warns(UserWarning, match="line 2: line is longer than 1000 bytes"):
        read = Trajectory.read(path)
    assert len(read) == 2


def test_parse_event_raises_only_its_documented_error():
    for bad in ("", "nul\x00", "[]", '"text"', "1e999", '{"type": 1}', b"\xff", {"type": []}):
        with pytest.raises(TrajectoryError):
            parse_event(bad)


def test_writing_over_a_trajectory_keeps_the_old_file_until_the_new_one_is_whole(tmp_path):
    path = tmp_path / "t.jsonl"
    Trajectory([TaskFinished(status="success", reason="first")]).write(path)

    class Unwritable(TaskFinished):
        def model_dump_json(self, **kw):
            raise OSError("disk full")

    with pytest.raises(OSError):
        Trajectory([TaskFinished(status="success", reason="second"),
                    Unwritable(status="error", reason="x")]).write(path)
    assert [e.reason for e in Trajectory.read(path)] == ["first"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]


# -- skills --------------------------------------------------------------------------------
def skill(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name / "SKILL.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_one_bad_skill_is_a_problem_for_that_skill_and_the_others_load(tmp_path):
    skill(tmp_path, "good", "---\nname: good\ndescription: Fine.\n---\nbody\n")
    skill(tmp_path, "numkey", "---\nname: numkey\ndescription: D.\nmetadata:\n  1: one\n---\n")
    skill(tmp_path, "deep", "---\nname: deep\ndescription: D.\nmetadata: "
          + "[" * 20_000 + "]" * 20_000 + "\n---\n")
    skill(tmp_path, "laughs", "---\nname: laughs\ndescription: D.\nmetadata:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n"
          + "".join(f"  {c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                    for p, c in zip("abcdefgh", "bcdefghi", strict=True)) + "---\n")
    skill(tmp_path, "plain", "no front matter here\n")
    skill(tmp_path, "latin1", b"---\nname: latin1\ndescription: caf\xe9\n---\n")
    library = SkillLibrary([tmp_path])
    assert library.names() == ["good", "numkey"]
    assert library["numkey"].metadata == {"1": "one"}
    problems = {Path(p.path).parent.name: p for p in library.problems}
    assert problems["numkey"].severity == "warning" and problems["numkey"].field == "metadata.1"
    assert problems["numkey"].line == 4
    deep = problems["deep"]
    assert (deep.line, deep.field) == (4, "metadata") and "deeper than 32 levels" in deep.message
    assert problems["laughs"].field == "metadata" and "values (the limit" in problems["laughs"].message
    assert problems["plain"].line == 1 and "front matter" in problems["plain"].message
    assert problems["latin1"].line == 3 and "not UTF-8" in problems["latin1"].message


def test_harness_run_goes_on_with_a_broken_skill_in_the_project(tmp_path):
    skill(tmp_path / "skills", "deep", "---\nname: deep\ndescription: D.\nmetadata: "
          + "{a: " * 20_000 + "}" * 20_000 + "\n---\n")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["done"]))
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "say done", "--model",
                           f"scripted:{script}", "--sandbox", "none"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HARNESS_SKILLS_HOME": str(tmp_path / "none")})
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]


# -- policies and bench configs ------------------------------------------------------------
def test_a_policy_file_that_is_not_utf8_or_has_an_unknown_key_names_file_line_and_field(tmp_path):
    latin1 = tmp_path / "p.toml"
    latin1.write_bytes(b'mode = "plan"\n# caf\xe9\n')
    with pytest.raises(PolicyError, match=r"p.toml: not UTF-8 text .* \(line 2\)"):
        Policy.load(latin1)
    unknown = tmp_path / "q.yaml"
    unknown.write_text("mode: plan\ncolour: red\n")
    with pytest.raises(PolicyError, match=r"q.yaml: field 'colour': Extra .* \(line 2\)"):
        Policy.load(unknown)
    deep = tmp_path / "r.toml"
    deep.write_text("rules = " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(PolicyError, match="r.toml: nested too deeply"):
        Policy.load(deep)
    crlf_bom = tmp_path / "s.toml"
    crlf_bom.write_bytes(b'\xef\xbb\xbfmode = "plan"\r\n')
    assert Policy.load(crlf_bom).mode == "plan"


@pytest.mark.parametrize("name, text, expected", [
    ("c.yaml", "context:\n  variant: budgeted\n  params:\n    budget_tokens: lots\n",
     "c.yaml: field 'context.params.budget_tokens': Input should be a valid integer"),
    ("c.toml", '[memory]\nvariant = "project"\n[memory.params]\nrecall_k = "three"\n',
     "c.toml: field 'memory.params.recall_k': Input should be a valid integer"),
    ("c.json", '{"budget": {"max_steps": [1]}}', "c.json: field 'budget.max_steps'"),
])
def test_a_bench_config_value_of_the_wrong_type_is_refused_as_it_loads(tmp_path, name, text,
                                                                       expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_config(str(path))
    assert expected in str(err.value)
    assert "(line " in str(err.value)


def test_a_bench_config_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")
    with pytest.raises(DataError, match=r"c.yaml: not UTF-8 text .* \(line 2\)"):
        load_config_file(path)


def test_a_project_memory_in_a_config_lives_in_the_run_workspace(tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ws = tmp_path / "ws"
    for params, where in (({}, ws / ".harness" / "memory"), ({"root": "mem"}, ws / "mem")):
        config = HarnessConfig(memory={"variant": "project", "params": params},
                               sandbox="none")
        agent = build_agent(config, ScriptedModel(["done"]), workspace=ws)
        agent.run("remember")
        agent.memory.close()
        assert where.is_dir() and any(where.iterdir())
    assert list(elsewhere.iterdir()) == []
    outside = HarnessConfig(memory={"variant": "project", "params": {"root": "../out"}})
    with pytest.raises(DataError, match="memory.params.root.*inside the run's workspace"):
        build_component("memory", outside.memory, workspace=ws)


SUITE = '''
from harness.bench.config import build_agent, resolve_config, HarnessConfig
from harness.bench.suite import Suite, SuiteResult
from harness.bench.tasks import save_trajectory
from harness.llm import ScriptedModel


class Tiny(Suite):
    name = "tiny"
    harness_configs = {"ok": HarnessConfig(name="ok", sandbox="none")}
    configs = ("ok",)
    default_config = "ok"

    def run(self, opts, progress):
        config = resolve_config(opts, self.harness_configs, "ok")
        for i in range(2):
            agent = build_agent(config, ScriptedModel(["done"]), workspace=opts.out / f"ws{i}")
            save_trajectory(opts, f"task{i}", agent.run("say done"))
        return SuiteResult(suite=self.name, config=config.name, metrics={"n": 2}, cases=2)


SUITE = Tiny()
'''


def test_bench_exits_non_zero_and_says_why_when_every_run_of_a_suite_dies(tmp_path):
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "tiny.py").write_text(SUITE)
    (tmp_path / "dying.py").write_text(textwrap.dedent('''
        from harness.context.base import FullHistoryContext

        class Dying(FullHistoryContext):
            def build(self, state):
                raise RuntimeError("this context cannot be built")
        '''))
    (tmp_path / "dies.yaml").write_text('name: dies\ncontext: "dying:Dying"\nsandbox: none\n')
    env = {**os.environ, "HARNESS_BENCHMARKS": str(tmp_path / "suites"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}

    def bench(*args):
        return subprocess.run([sys.executable, "-m", "harness", "bench", "tiny", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)

    dies = bench("--config", "dies.yaml", "--json")
    assert dies.returncode == 1, dies.stderr[-2000:]
    assert ("every run of config dies (2 runs) ended in error: unrecoverable error at step 1: "
            "RuntimeError: this context cannot be built") in dies.stderr
    assert json.loads(dies.stdout)["config"] == "dies"  # the figures are still reported
    fine = bench("--json")
    assert fine.returncode == 0, fine.stderr[-2000:]


def test_arguments_nested_past_the_limit_are_a_tool_error_from_any_model(tmp_path):
    """A scripted (dict) or provider (text) call nested 100,000 deep: the run goes on, the
    model is told why, and the trajectory is whole."""
    from harness.messages import ToolCall

    deep: dict = {}
    for _ in range(100_000):
        deep = {"a": deep}
    text = '{"a":' * 100_000 + "1" + "}" * 100_000
    for raw in (deep, text):
        call = ToolCall.from_raw("c1", "read_file", raw)
        assert call.arguments == {} and "nest deeper than" in call.parse_error
    agent = Agent(ScriptedModel([{"tool": "read_file", "args": deep}, "gave up"]),
                  workspace=tmp_path)
    trajectory = agent.run("read")
    assert trajectory.finished.status == "answered"
    path = tmp_path / "run.jsonl"
    trajectory.write(path)
    assert len(type(trajectory).read(path)) == len(trajectory)
