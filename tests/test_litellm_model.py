"""The litellm adapter, offline: litellm's own mock responses, real litellm exceptions."""

import asyncio
import os

import litellm
import pytest

from harness import Agent
from harness.events import ModelCalled, ToolFinished
from harness.llm import LiteLLMModel, Message, ModelError, ModelRequest, RetryPolicy, is_transient

READ_CALL = {"id": "call_1", "type": "function",
             "function": {"name": "read_file", "arguments": '{"path": "notes.txt"}'}}


def request(text="hello"):
    return ModelRequest(messages=[Message(role="user", content=text)])


class FlakyLiteLLM(LiteLLMModel):
    """Each provider call takes the next mock response; exceptions are raised by litellm."""

    def __init__(self, mocks, **kw):
        super().__init__("openai/gpt-4o-mini", **kw)
        self.mocks = list(mocks)

    def _call(self, kwargs):
        return super()._call({**kwargs, "mock_response": self.mocks.pop(0)})

    async def _acall(self, kwargs):
        return await super()._acall({**kwargs, "mock_response": self.mocks.pop(0)})


def rate_limit():
    return litellm.RateLimitError(message="slow down", llm_provider="openai", model="gpt-4o-mini")


def test_mock_response_with_a_tool_call_is_parsed_with_usage_and_cost():
    model = LiteLLMModel("openai/gpt-4o-mini", mock_response="reading", mock_tool_calls=[READ_CALL])
    resp = model.complete(request())
    assert resp.text == "reading"
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "read_file", {"path": "notes.txt"})]
    assert resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0
    assert resp.cost_usd is not None and resp.cost_usd > 0


def test_unknown_model_cost_is_none_not_an_error():
    model = LiteLLMModel("openai/no-such-model-xyz", mock_response="ok")
    resp = model.complete(request())
    assert resp.text == "ok" and resp.cost_usd is None


def test_agent_runs_on_litellm_mock_and_records_cost(tmp_path):
    (tmp_path / "notes.txt").write_text("the answer is 42")

    class TwoTurns(LiteLLMModel):
        async def _acall(self, kwargs):  # the agent loop calls the async path
            if kwargs["messages"][-1]["role"] == "user":
                kwargs = {**kwargs, "mock_response": "", "mock_tool_calls": [READ_CALL]}
            else:
                kwargs = {**kwargs, "mock_response": "42"}
            return await super()._acall(kwargs)

    trajectory = Agent(TwoTurns("openai/gpt-4o-mini"), workspace=tmp_path).run("what is the answer?")
    assert trajectory.of_type(ToolFinished)[0].output == "the answer is 42"
    calls = trajectory.of_type(ModelCalled)
    assert len(calls) == 2 and all(c.cost_usd and c.cost_usd > 0 for c in calls)
    assert trajectory.finished.answer == "42"
    assert trajectory.finished.cost_usd == pytest.approx(sum(c.cost_usd for c in calls))


def test_transient_failures_are_retried_with_exponential_backoff_and_jitter():
    slept = []
    policy = RetryPolicy(max_attempts=5, initial_wait=0.5, max_wait=4.0, jitter=0.1)
    model = FlakyLiteLLM([rate_limit(), "litellm.InternalServerError", "finally"],
                         retry=policy, sleep=slept.append)
    resp = model.complete(request())
    assert resp.text == "finally"
    assert model.attempts == 3
    assert slept == model.waits and len(slept) == 2
    assert 0.5 <= slept[0] <= 0.6 and 1.0 <= slept[1] <= 1.1


def test_retries_exhausted_raise_a_model_error_naming_the_attempts():
    model = FlakyLiteLLM([rate_limit()] * 3, retry=RetryPolicy(max_attempts=3), sleep=lambda s: None)
    with pytest.raises(ModelError, match="retries exhausted after 3 attempt"):
        model.complete(request())


def test_auth_and_bad_request_errors_are_never_retried():
    auth = litellm.AuthenticationError(message="bad key", llm_provider="openai", model="gpt-4o-mini")
    model = FlakyLiteLLM([auth, "unused"], sleep=lambda s: pytest.fail("must not sleep"))
    with pytest.raises(ModelError, match="AuthenticationError"):
        model.complete(request())
    assert model.attempts == 1
    bad = litellm.BadRequestError(message="bad", llm_provider="openai", model="gpt-4o-mini")
    assert not is_transient(bad)
    assert is_transient(litellm.Timeout(message="t", llm_provider="openai", model="m"))
    no_key = litellm.InternalServerError(message="Missing credentials. Please pass an `api_key`",
                                         llm_provider="openai", model="m")
    assert not is_transient(no_key)


def test_async_completion_uses_litellm_acompletion():
    model = LiteLLMModel("openai/gpt-4o-mini", mock_response="async ok")
    resp = asyncio.run(model.acomplete(request()))
    assert resp.text == "async ok" and resp.usage.output_tokens > 0


def test_unreachable_model_stops_the_run_with_a_recorded_error(tmp_path):
    model = FlakyLiteLLM([rate_limit()] * 2, retry=RetryPolicy(max_attempts=2, initial_wait=0.01,
                                                               jitter=0.01))
    end = Agent(model, workspace=tmp_path).run("anything").finished
    assert end.status == "error"
    assert "model error" in end.reason and "RateLimitError" in end.reason


def test_a_missing_key_is_named_from_the_environment_before_any_call():
    from harness.llm.credentials import CredentialsError, missing_key

    assert missing_key("openai/gpt-4o-mini", environ={}).variable == "OPENAI_API_KEY"
    assert missing_key("gpt-4o-mini", environ={}).variable == "OPENAI_API_KEY"  # bare name
    assert missing_key("claude-3-5-haiku", environ={}).variable == "ANTHROPIC_API_KEY"
    assert "GEMINI_API_KEY or GOOGLE_API_KEY" in str(missing_key("gemini/gemini-2.0", environ={}))
    assert missing_key("gemini/gemini-2.0", environ={"GOOGLE_API_KEY": "k"}) is None
    assert missing_key("openai/gpt-4o-mini", {"api_key": "sk-x"}, environ={}) is None
    assert missing_key("openai/gpt-4o-mini", environ={"OPENAI_API_KEY": "sk-x"}) is None
    # providers without an environment key (local servers, cloud auth) are not checked
    assert missing_key("ollama/qwen2.5-coder", environ={}) is None
    assert missing_key("bedrock/anthropic.claude-3", environ={}) is None
    model = LiteLLMModel("openai/gpt-4o-mini", api_key="")
    if not os.environ.get("OPENAI_API_KEY"):
        with pytest.raises(CredentialsError, match="set OPENAI_API_KEY"):
            model.check_credentials()
        assert model.attempts == 0 and model.credentials_error is not None


def test_a_rejected_key_fails_at_the_first_answer_naming_the_variable():
    from harness.llm.credentials import CredentialsError

    auth = litellm.AuthenticationError(message="Incorrect API key provided",
                                       llm_provider="openai", model="gpt-4o-mini")
    model = FlakyLiteLLM([auth, "unused"], sleep=lambda s: pytest.fail("must not sleep"))
    with pytest.raises(CredentialsError, match="rejected the API key.*OPENAI_API_KEY") as err:
        model.complete(request())
    assert model.attempts == 1 and err.value.variable == "OPENAI_API_KEY"
    assert model.credentials_error is err.value
    no_key = litellm.InternalServerError(message="Missing credentials. Please pass an `api_key`",
                                         llm_provider="openai", model="m")
    model = FlakyLiteLLM([no_key, "unused"], sleep=lambda s: pytest.fail("must not sleep"))
    with pytest.raises(CredentialsError):
        model.complete(request())
    assert model.attempts == 1


def test_the_key_table_agrees_with_litellms_own_check(monkeypatch):
    from harness.llm.credentials import PROVIDER_KEYS, key_variables

    for provider in PROVIDER_KEYS:
        model = f"{provider}/some-model"
        for name in key_variables(model):
            monkeypatch.delenv(name, raising=False)
        missing = litellm.validate_environment(model)["missing_keys"]
        assert set(missing) & set(key_variables(model)), (provider, missing)
