"""The real-model tier (`make test-real`): the reference Agent through `LiteLLMModel` on a
real OpenAI-compatible server (llama.cpp, vLLM, Ollama, LM Studio). Set HARNESS_REAL_MODEL
(e.g. openai/qwen2.5-coder-1.5b) and HARNESS_REAL_API_BASE (e.g. http://127.0.0.1:8012/v1)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness.agent import Agent  # noqa: E402
from harness.events import (  # noqa: E402
    LoopDetected,
    ModelCalled,
    ToolFinished,
    ToolRequested,
    Verified,
)
from harness.governance.verifiers import CommandVerifier, FunctionVerifier  # noqa: E402
from harness.llm import LiteLLMModel, ModelError  # noqa: E402
from harness.messages import Message, ModelRequest, ToolCall  # noqa: E402
from harness.state import Budget  # noqa: E402
from harness.tools.builtin import default_tools  # noqa: E402

MODEL = os.environ.get("HARNESS_REAL_MODEL")
API_BASE = os.environ.get("HARNESS_REAL_API_BASE")
pytestmark = [pytest.mark.real, pytest.mark.skipif(
    not (MODEL and API_BASE), reason="the real-model tier needs HARNESS_REAL_MODEL and "
    "HARNESS_REAL_API_BASE (an OpenAI-compatible server; see the README, real models)")]


def real_model() -> LiteLLMModel:
    return LiteLLMModel(MODEL, api_base=API_BASE, api_key=os.environ.get("OPENAI_API_KEY", "local"),
                        temperature=0, timeout=300)



def only(*names: str):
    """The default tools named: a small model picks better among few."""
    return [t for t in default_tools() if t.name in names]


def test_a_tool_call_parsed_from_the_server_with_the_usage_it_reports(tmp_path):
    (tmp_path / "notes.txt").write_text("the meeting moved to Thursday\n")
    agent = Agent(real_model(), workspace=tmp_path, budget=Budget(max_steps=6),
                  tools=only("read_file"))
    trajectory = agent.run("Read the file notes.txt, then answer with what it says.")
    calls = trajectory.of_type(ModelCalled)
    assert calls and all(c.usage.input_tokens > 0 and c.usage.output_tokens > 0 for c in calls)
    reads = [e for e in trajectory.of_type(ToolFinished) if e.tool == "read_file"]
    assert reads and reads[0].ok, [e.error for e in trajectory.of_type(ToolFinished)]
    end = trajectory.finished
    # a small model may re-read instead of answering: then the loop guard, not max_steps,
    # ends the run, early and on the record
    answered = "thursday" in (end.answer or "").lower()
    guarded = end.reason.startswith("loop:") and trajectory.of_type(LoopDetected)
    assert answered or (guarded and end.steps < 6), (end.status, end.reason, end.answer)


def test_a_small_fix_end_to_end_checked_by_its_test(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    check = "python -c 'from calc import add; assert add(2, 3) == 5'"
    agent = Agent(real_model(), workspace=tmp_path, budget=Budget(max_steps=8),
                  graders=[CommandVerifier(check, name="test")],
                  tools=only("read_file", "edit_file", "run_shell"))
    trajectory = agent.run(f"add() in calc.py subtracts instead of adding. Fix calc.py with "
                           f"edit_file, then run `{check}` to check it, then answer.")
    asked = [e.call.name for e in trajectory.of_type(ToolRequested)]
    assert "edit_file" in asked or "write_file" in asked, asked
    graded = [e for e in trajectory.of_type(Verified) if e.grader]
    end = trajectory.finished
    # judged by its test whenever it answered: `success` only if the test passed
    assert end.status in ("success", "failed", "stopped"), end.reason
    assert (end.status == "success") == bool(graded and graded[-1].ok)


def test_the_model_recovers_from_arguments_that_were_not_json(tmp_path):
    (tmp_path / "notes.txt").write_text("blue\n")
    bad = ToolCall.from_raw("c1", "read_file", '{"path": notes.txt')
    request = ModelRequest(tools=[t.schema() for t in default_tools() if t.name == "read_file"],
                           messages=[
        Message(role="user", content="Read notes.txt and say the colour."),
        Message(role="assistant", tool_calls=[bad]),
        Message(role="tool", tool_call_id="c1", name="read_file",
                content=f"error: {bad.parse_error}; send the arguments as a JSON object")])
    reply = real_model().complete(request)
    assert reply.tool_calls or reply.text
    assert all(c.parse_error is None for c in reply.tool_calls)


def test_a_context_window_overflow_is_reported_as_such():
    huge = "word " * 60_000  # well past a 16k window
    model = real_model()
    with pytest.raises(ModelError, match="(?i)context"):
        model.complete(ModelRequest(messages=[Message(role="user", content=huge)]))
    assert model.attempts == 1  # not retried: a longer wait does not make it fit


def test_the_answer_is_graded_not_trusted(tmp_path):
    agent = Agent(real_model(), workspace=tmp_path, budget=Budget(max_steps=3), tools=[],
                  graders=[FunctionVerifier(lambda a, *_: "paris" in a.text.lower(), name="paris")])
    end = agent.run("What is the capital of France? One word.").finished
    assert end.status in ("success", "failed") and end.status != "answered"


def test_a_streamed_reply_arrives_in_pieces_with_its_usage():
    heard: list[str] = []
    model = LiteLLMModel(MODEL, api_base=API_BASE, api_key=os.environ.get("OPENAI_API_KEY", "local"),
                         temperature=0, timeout=300, on_text=heard.append, max_tokens=64)
    reply = model.complete(ModelRequest(messages=[Message(
        role="user", content="Count from one to five in words, separated by spaces.")]))
    assert len(heard) > 1 and "".join(heard) == reply.text
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0


def test_the_servers_tokenizer_counts_what_the_server_bills():
    """The context's count of a request, with the model's own tokenizer, against the prompt
    tokens the server reports for it: close, where the 4-characters estimate is not."""
    from harness.context import ServerTokenizer, TokenCounter

    text = "def add(a, b):\n    return a - b\n" * 20 + "Fix add so that add(2, 3) == 5."
    request = ModelRequest(messages=[Message(role="user", content=text)])
    billed = real_model().complete(request).usage.input_tokens
    counted = ServerTokenizer(API_BASE).messages(request.messages)
    estimated = TokenCounter("").messages(request.messages)
    assert abs(counted - billed) <= 0.05 * billed + 16, (counted, billed)
    assert abs(counted - billed) < abs(estimated - billed), (counted, estimated, billed)
