"""A run's events as OpenTelemetry spans (GenAI semantic conventions), live and after the
fact: the same tree, at the run's own times."""

import json
import os
import subprocess
import sys

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
pytest.importorskip("opentelemetry.sdk", reason="needs the otel extra: pip install -e '.[otel]'")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode  # noqa: E402

from harness import Agent, Policy, PolicyGovernor, Rule, ScriptedModel  # noqa: E402
from harness.events import (  # noqa: E402
    GateWarned,
    GateWarning,
    MemoryRecorded,
    ModelCalled,
    PolicyDecided,
    TaskFinished,
    TaskStarted,
    ToolFinished,
    ToolRequested,
    Trajectory,
    Verified,
)
from harness.messages import ModelResponse, ToolCall, Usage  # noqa: E402
from harness.telemetry import OTelSink, export_trajectory  # noqa: E402
from harness.telemetry import attributes as attr  # noqa: E402


def provider():
    exporter, tp = InMemorySpanExporter(), TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    return tp, exporter


def run_agent(workspace, sinks=()):
    """A tool call, a call the policy refuses, a final answer."""
    (workspace / "a.txt").write_text("hello")
    model = ScriptedModel([{"tool": "read_file", "args": {"path": "a.txt"}},
                           {"tool": "write_file", "args": {"path": "b.txt", "content": "x"}},
                           "done"])
    governor = PolicyGovernor(Policy(rules=[Rule(id="no-writes", effect="deny",
                                                 tools=["write_file"], reason="read-only")]))
    return Agent(model, workspace=workspace, governor=governor, sinks=sinks).run("read a.txt")


def shape(spans):
    """Each span as plain data: name, parent's name, attributes, events and times."""
    by_id = {s.context.span_id: s for s in spans}
    return sorted(
        (s.name, by_id[s.parent.span_id].name if s.parent else None,
         json.dumps(dict(s.attributes), sort_keys=True, default=list),
         json.dumps([(e.name, dict(e.attributes), e.timestamp) for e in s.events], default=list),
         s.start_time, s.end_time, s.status.status_code.name) for s in spans)


def ns(ts):
    return int(ts * 1e9)


@pytest.fixture
def live(tmp_path):
    tp, exporter = provider()
    trajectory = run_agent(tmp_path, sinks=[OTelSink(tp)])
    return trajectory, exporter.get_finished_spans()


def test_live_and_after_the_fact_export_make_the_same_spans(live):
    trajectory, live_spans = live
    tp, exporter = provider()
    assert export_trajectory(trajectory, tp) == len(live_spans) == 6
    assert shape(exporter.get_finished_spans()) == shape(live_spans)


def test_span_tree_follows_the_run_with_genai_attributes_and_its_times(live):
    trajectory, spans = live
    roots = [s for s in spans if s.parent is None]
    assert [r.name for r in roots] == ["invoke_agent"]
    root = roots[0]
    assert {s.parent.span_id for s in spans if s is not root} == {root.context.span_id}
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}

    start, end = trajectory[0], trajectory.finished
    assert (root.start_time, root.end_time) == (ns(start.ts), ns(end.ts))
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.request.model"] == "scripted"
    assert root.attributes["harness.run.id"] == trajectory.run_id
    assert root.attributes["harness.task"] == "read a.txt"
    assert root.attributes["harness.outcome.status"] == end.status == "answered"
    assert root.attributes["harness.outcome.reason"] == end.reason
    assert root.status.status_code is StatusCode.OK
    calls = trajectory.of_type(ModelCalled)
    assert root.attributes["gen_ai.usage.input_tokens"] == sum(c.usage.input_tokens for c in calls)
    assert root.attributes["gen_ai.usage.output_tokens"] == sum(c.usage.output_tokens
                                                                for c in calls)
    assert root.attributes["gen_ai.usage.input_tokens"] + \
        root.attributes["gen_ai.usage.output_tokens"] == end.tokens

    chats = sorted((s for s in spans if s.name.startswith("chat")), key=lambda s: s.end_time)
    assert [(c.attributes["gen_ai.operation.name"], c.attributes["gen_ai.request.model"],
             c.attributes["gen_ai.usage.input_tokens"], c.attributes["gen_ai.usage.output_tokens"],
             c.attributes["harness.purpose"], c.end_time) for c in chats] == \
        [("chat", "scripted", c.usage.input_tokens, c.usage.output_tokens, "agent", ns(c.ts))
         for c in calls]

    tools = {s.attributes["gen_ai.tool.name"]: s for s in spans if s.name.startswith("execute")}
    requested = {e.call.name: e for e in trajectory.of_type(ToolRequested)}
    finished = {e.tool: e for e in trajectory.of_type(ToolFinished)}
    for name, span in tools.items():
        assert span.name == f"execute_tool {name}"
        assert span.attributes["gen_ai.tool.call.id"] == requested[name].call.id
        assert (span.start_time, span.end_time) == (ns(requested[name].ts), ns(finished[name].ts))
    read, write = tools["read_file"], tools["write_file"]
    assert read.attributes["harness.tool.outcome"] == "ok"
    assert read.attributes["harness.tool.channel"] == "file"
    assert read.attributes["harness.tool.arguments_bytes"] == len('{"path":"a.txt"}')
    assert write.attributes["harness.tool.outcome"] == "refused"
    [decision] = [e for e in write.events if e.name == "policy_decided"]
    assert dict(decision.attributes) == {"harness.policy.decision": "deny",
                                         "harness.policy.rule": "no-writes",
                                         "harness.policy.reason": "read-only"}
    denied = [e for e in trajectory.of_type(PolicyDecided) if e.decision == "deny"]
    assert decision.timestamp == ns(denied[0].ts)
    assert {e.name for e in root.events} == {"context_built"}


def test_attribute_names_are_those_the_installed_conventions_define():
    genai = pytest.importorskip("opentelemetry.semconv._incubating.attributes.gen_ai_attributes",
                                reason="needs opentelemetry-semantic-conventions")
    defined = {v for k, v in vars(genai).items() if k.startswith("GEN_AI_")}
    ours = {v for k, v in vars(attr).items() if isinstance(v, str) and v.startswith("gen_ai.")}
    assert ours - defined == set()
    operations = {v.value for v in genai.GenAiOperationNameValues}
    assert {attr.INVOKE_AGENT, attr.CHAT, attr.EXECUTE_TOOL} <= operations


def stamped(run_id, *events):
    for seq, event in enumerate(events):
        event.stamp(run_id, seq, 1)
        event.ts = 1000.0 + seq
    return Trajectory(events)


def test_gate_warnings_and_verdicts_are_events_on_the_tool_span_and_an_unfinished_run_ends():
    call = ToolCall(id="c1", name="run_shell", arguments={"command": "make"})
    trajectory = stamped(
        "r1", TaskStarted(task="build", model="m"), ToolRequested(call=call),
        GateWarned(call_id="c1", tool="run_shell", warnings=[
            GateWarning(message="this fix failed before", cites=["m:3"], kind="repeat")]),
        PolicyDecided(call_id="c1", tool="run_shell", decision="allow", rule="default"),
        ToolFinished(call_id="c1", tool="run_shell", ok=False, error="exit 2", channel="shell"),
        Verified(call_id="c1", verifier="tests", ok=False, detail="2 failed"),
        MemoryRecorded(memory_ids=["m:9"], kind="attempt"))
    tp, exporter = provider()
    assert export_trajectory(trajectory, tp) == 2
    spans = {s.name: s for s in exporter.get_finished_spans()}
    tool, root = spans["execute_tool run_shell"], spans["invoke_agent"]
    assert [e.name for e in tool.events] == ["gate_warned", "policy_decided", "verified"]
    warned, _, verdict = tool.events
    assert warned.attributes["harness.gate.message"] == "this fix failed before"
    assert tuple(warned.attributes["harness.gate.cites"]) == ("m:3",)
    assert (verdict.attributes["gen_ai.evaluation.name"],
            verdict.attributes["gen_ai.evaluation.score.label"],
            verdict.attributes["gen_ai.evaluation.explanation"]) == ("tests", "fail", "2 failed")
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.attributes["error.type"] == "tool_error"
    assert tool.end_time == ns(1005.0)  # its last verdict, after the call finished at 1004
    assert [e.name for e in root.events] == ["memory_recorded"]
    assert root.attributes["harness.run.finished"] is False  # no TaskFinished: ended at 1006
    assert root.end_time == ns(1006.0)


def test_cached_and_reasoning_tokens_use_the_conventions_names_on_the_call_and_the_root():
    usage = Usage(input_tokens=1200, output_tokens=80, cached_input_tokens=1000,
                  cache_write_tokens=150, reasoning_tokens=30)
    trajectory = stamped(
        "r2", TaskStarted(task="t", model="m"),
        ModelCalled(model="m", request_digest="d", response=ModelResponse(text="x"),
                    usage=usage, latency_s=0.5),
        ModelCalled(model="m", request_digest="e", response=ModelResponse(text="y"),
                    usage=Usage(input_tokens=10, output_tokens=5, cached_input_tokens=4)),
        TaskFinished(status="answered", reason="final answer", tokens=1295))
    tp, exporter = provider()
    export_trajectory(trajectory, tp)
    spans = exporter.get_finished_spans()
    first = min((s for s in spans if s.name == "chat m"), key=lambda s: s.start_time)
    assert {k: first.attributes[k] for k in first.attributes if k.startswith("gen_ai.usage")} == {
        "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_creation.input_tokens": 150,
        "gen_ai.usage.reasoning.output_tokens": 30}
    assert (first.start_time, first.end_time) == (ns(1001.0) - ns(0.5), ns(1001.0))
    [root] = [s for s in spans if s.parent is None]
    assert root.attributes["gen_ai.usage.cache_read.input_tokens"] == 1004
    assert root.attributes["gen_ai.usage.input_tokens"] == 1210


def test_a_corrupt_line_is_skipped_and_named_on_the_root(live, tmp_path):
    trajectory, _ = live
    path = trajectory.write(tmp_path / "run.jsonl")
    lines = path.read_text().splitlines()
    second_call = [i for i, line in enumerate(lines) if '"model_called"' in line][1]
    lines[second_call] = lines[second_call][:40]  # a torn write
    path.write_text("\n".join(lines) + "\n")
    before = path.read_bytes()
    with pytest.warns(UserWarning, match=f"line {second_call + 1}"):
        damaged = Trajectory.read(path)
    tp, exporter = provider()
    export_trajectory(damaged, tp)
    spans = exporter.get_finished_spans()
    assert sum(s.name.startswith("chat") for s in spans) == 2
    [root] = [s for s in spans if s.parent is None]
    [skipped] = [e for e in root.events if e.name == "trajectory_line_skipped"]
    assert skipped.attributes["harness.trajectory.line"] == second_call + 1
    assert skipped.attributes["harness.trajectory.path"] == str(path)
    assert "not valid JSON" in skipped.attributes["harness.trajectory.error"]
    assert root.attributes["harness.outcome.status"] == "answered"
    assert path.read_bytes() == before


def harness_cli(*args):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})


def test_cli_console_prints_each_span_as_json(live, tmp_path):
    trajectory, _ = live
    path = trajectory.write(tmp_path / "run.jsonl")
    with path.open("a") as fh:
        fh.write("{not json\n")
    done = harness_cli("export", "otel", str(path), "--console")
    assert done.returncode == 0, done.stderr
    spans = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(s["name"] for s in spans) == sorted(
        ["invoke_agent", "execute_tool read_file", "execute_tool write_file"]
        + ["chat scripted"] * 3)
    [root] = [s for s in spans if s["parent_id"] is None]
    assert root["attributes"]["harness.run.id"] == trajectory.run_id
    assert root["resource"]["attributes"]["service.name"] == "harness"
    assert f"{path} line {len(trajectory) + 1}: not valid JSON" in done.stderr
    assert "exported 6 spans of 1 run(s) to stdout" in done.stderr


def test_cli_without_a_destination_says_which_flags_give_one(live, tmp_path):
    path = live[0].write(tmp_path / "run.jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_EXPORTER_OTLP")}
    done = subprocess.run([sys.executable, "-m", "harness", "export", "otel", str(path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert "--endpoint URL or --console" in done.stderr


def otlp_installed():
    try:
        import opentelemetry.exporter.otlp.proto.http.trace_exporter  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not otlp_installed(), reason="needs opentelemetry-exporter-otlp")
def test_cli_endpoint_posts_the_spans_to_an_otlp_collector(live, tmp_path):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from tests.local_http import QuietHandler, serving

    received = []

    class Collector(QuietHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

    with serving(Collector) as url:
        path = live[0].write(tmp_path / "run.jsonl")
        done = harness_cli("export", "otel", str(path), "--endpoint", url)
    assert done.returncode == 0, done.stderr
    assert {p for p, _ in received} == {"/v1/traces"}
    names = []
    for _, body in received:
        request = ExportTraceServiceRequest.FromString(body)
        names += [s.name for rs in request.resource_spans for ss in rs.scope_spans
                  for s in ss.spans]
    assert sorted(names) == sorted(["invoke_agent", "execute_tool read_file",
                                    "execute_tool write_file"] + ["chat scripted"] * 3)


def test_cli_endpoint_without_the_otlp_exporter_names_the_pip_command(live, tmp_path):
    path = live[0].write(tmp_path / "run.jsonl")
    # the exporter made unimportable in the child, as in an install without it
    hide = ("import sys; sys.modules['opentelemetry.exporter.otlp.proto.http.trace_exporter']"
            " = None; from harness.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", hide, "export", "otel", str(path),
                           "--endpoint", "http://127.0.0.1:4318"], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert done.returncode == 2, done.stderr
    assert "pip install opentelemetry-exporter-otlp" in done.stderr
