"""Usage and cost as providers report them: OpenAI, Anthropic and Gemini responses, in their
own wire formats, served from 127.0.0.1 and read through litellm by `LiteLLMModel`."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness.agent import Agent  # noqa: E402
from harness.events import ModelCalled  # noqa: E402
from harness.llm import LiteLLMModel  # noqa: E402
from harness.messages import Message, ModelRequest  # noqa: E402
from harness.metrics import cached_input_share, cost_per_solved_task, cost_usd  # noqa: E402
from tests.local_http import QuietHandler, serving  # noqa: E402

# What each provider's API answers (field for field its documented response shape), with a
# prompt that was mostly served from the provider's cache.
OPENAI = {"id": "chatcmpl-A1", "object": "chat.completion", "created": 1733580000,
          "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_1",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "done",
                                               "refusal": None},
                       "logprobs": None, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
                    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                  "accepted_prediction_tokens": 0,
                                                  "rejected_prediction_tokens": 0}}}
ANTHROPIC = {"id": "msg_01", "type": "message", "role": "assistant",
             "model": "claude-sonnet-4-5-20250929",
             "content": [{"type": "text", "text": "done"}], "stop_reason": "end_turn",
             "stop_sequence": None,
             "usage": {"input_tokens": 50, "cache_creation_input_tokens": 1000,
                       "cache_read_input_tokens": 2000, "output_tokens": 30}}
GEMINI = {"candidates": [{"content": {"parts": [{"text": "done"}], "role": "model"},
                          "finishReason": "STOP", "index": 0}],
          "usageMetadata": {"promptTokenCount": 3000, "candidatesTokenCount": 40,
                            "totalTokenCount": 3052, "cachedContentTokenCount": 2048,
                            "thoughtsTokenCount": 12},
          "modelVersion": "gemini-2.5-pro"}


@pytest.fixture(scope="module")
def provider():
    """A server on 127.0.0.1 answering each provider's endpoint with its recorded body."""
    class Handler(QuietHandler):
        def do_POST(self):
            self.read_json()
            self.send_json(GEMINI if ":generateContent" in self.path
                           else ANTHROPIC if self.path.endswith("/messages") else OPENAI)

    with serving(Handler) as url:
        yield url


def price(model: str, **tokens: int) -> float:
    """The call's price from litellm's model map, each kind of token at its own rate."""
    import litellm

    rates = litellm.model_cost[model]
    return (tokens["fresh"] * rates["input_cost_per_token"]
            + tokens.get("read", 0) * rates["cache_read_input_token_cost"]
            + tokens.get("write", 0) * rates.get("cache_creation_input_token_cost", 0)
            + tokens["out"] * rates["output_cost_per_token"])


CASES = {
    "openai": ("openai/gpt-4o-2024-08-06", "/v1", "gpt-4o-2024-08-06",
               dict(input_tokens=2006, output_tokens=300, cached_input_tokens=1920,
                    cache_write_tokens=0, reasoning_tokens=0),
               dict(fresh=86, read=1920, out=300)),
    "anthropic": ("anthropic/claude-sonnet-4-5-20250929", "", "claude-sonnet-4-5-20250929",
                  dict(input_tokens=3050, output_tokens=30, cached_input_tokens=2000,
                       cache_write_tokens=1000, reasoning_tokens=0),
                  dict(fresh=50, read=2000, write=1000, out=30)),
    "gemini": ("gemini/gemini-2.5-pro", "", "gemini/gemini-2.5-pro",
               dict(input_tokens=3000, output_tokens=52, cached_input_tokens=2048,
                    cache_write_tokens=0, reasoning_tokens=12),
               dict(fresh=952, read=2048, out=52)),
}


@pytest.mark.parametrize("name", CASES)
def test_usage_carries_cached_and_reasoning_tokens_and_cost_prices_them(provider, name):
    model, path, priced_as, usage, tokens = CASES[name]
    llm = LiteLLMModel(model, api_base=provider + path, api_key="test-key")
    reply = llm.complete(ModelRequest(messages=[Message(role="user", content="hi")]))
    assert reply.text == "done"
    assert reply.usage.model_dump() == usage
    assert reply.cost_usd == pytest.approx(price(priced_as, **tokens), rel=1e-9)
    # a cached read is cheaper than a fresh input token: the cache saved money
    assert reply.cost_usd < price(priced_as, fresh=usage["input_tokens"], out=tokens["out"])


def test_a_runs_cached_share_and_cost_per_solved_task(provider, tmp_path):
    from harness.governance.verifiers import FunctionVerifier

    model = LiteLLMModel("openai/gpt-4o-2024-08-06", api_base=provider + "/v1", api_key="k")
    graded = [FunctionVerifier(lambda answer, *_: answer.text == "done", name="says-done")]
    solved = Agent(model, workspace=tmp_path, graders=graded).run("say done")
    unchecked = Agent(model, workspace=tmp_path).run("say done")
    call = solved.of_type(ModelCalled)[0]
    assert call.usage.cached_input_tokens == 1920
    assert cached_input_share(solved) == pytest.approx(1920 / 2006)
    assert solved.finished.status == "success" and unchecked.finished.status == "answered"
    # both runs were paid for; only one solved its task
    assert cost_per_solved_task([solved, unchecked]) == pytest.approx(
        cost_usd(solved) + cost_usd(unchecked))
    assert cost_per_solved_task([unchecked]) is None


def test_cache_prompt_marks_the_stable_prefix_in_the_request_anthropic_receives(provider):
    """What reaches Anthropic's API: at most four breakpoints, on the tool schemas, the system
    message and the newest messages; OpenAI, which caches by itself, gets none."""
    from harness.llm.prompt_cache import MAX_BREAKPOINTS, breakpoints, mark_stable_prefix
    from harness.tools.builtin import default_tools

    seen: list[dict] = []
    import litellm

    original = litellm.completion

    def spy(**kwargs):
        seen.append(kwargs)
        return original(**kwargs)

    tools = [t.schema() for t in default_tools()]
    history = [Message(role="system", content="You are careful."),
               Message(role="user", content="Fix calc.py"),
               Message(role="assistant", content="reading"),
               Message(role="user", content="go on")]
    request = ModelRequest(messages=history, tools=tools)
    claude = LiteLLMModel("anthropic/claude-sonnet-4-5-20250929", api_base=provider,
                          api_key="k", cache_prompt=True)
    claude._call = lambda kwargs: spy(**kwargs)  # the kwargs as litellm gets them
    assert claude.complete(request).text == "done"
    sent = seen[-1]
    assert breakpoints(sent) == MAX_BREAKPOINTS and "cache_control" in sent["tools"][-1]
    system, *_, last = sent["messages"]
    assert system["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert last["content"][0]["text"] == "go on" and "cache_control" in last["content"][0]
    assert "cache_control" not in str(sent["messages"][1])  # only the newest messages
    openai = LiteLLMModel("openai/gpt-4o-2024-08-06", api_base=provider + "/v1", api_key="k",
                          cache_prompt=True)
    assert breakpoints(openai._kwargs(request)) == 0
    # never more than the provider allows, whatever the request
    long = ModelRequest(messages=[Message(role="user", content=str(i)) for i in range(30)])
    assert breakpoints(mark_stable_prefix(claude._kwargs(long))) <= MAX_BREAKPOINTS
