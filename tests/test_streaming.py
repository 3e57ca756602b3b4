"""A streamed reply: text handed on as it arrives, and the reply, its tool calls and usage
as the stream adds them up, from a server on 127.0.0.1 speaking OpenAI's SSE format."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness.llm import LiteLLMModel  # noqa: E402
from harness.messages import Message, ModelRequest  # noqa: E402
from tests.local_http import QuietHandler, serving  # noqa: E402


def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> dict:
    return {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1,
            "model": "local", "choices": [] if usage else
            [{"index": 0, "delta": delta, "finish_reason": finish}],
            **({"usage": usage} if usage else {})}


TEXT = [chunk({"role": "assistant", "content": ""}), chunk({"content": "The meeting "}),
        chunk({"content": "moved to "}), chunk({"content": "Thursday."}), chunk({}, "stop"),
        chunk({}, usage={"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49})]
CALL = [chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": "read_file", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"path": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"notes.txt"}'}}]}),
        chunk({}, "tool_calls"),
        chunk({}, usage={"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42})]


@pytest.fixture(scope="module")
def server():
    class Handler(QuietHandler):
        def do_POST(self):
            body = self.read_json()
            assert body.get("stream") is True
            wants_call = "read" in body["messages"][-1]["content"]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for event in CALL if wants_call else TEXT:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

    with serving(Handler) as url:
        yield f"{url}/v1"


def ask(text: str) -> ModelRequest:
    return ModelRequest(messages=[Message(role="user", content=text)])


def test_streamed_text_arrives_in_pieces_and_adds_up_to_the_reply(server):
    heard: list[str] = []
    model = LiteLLMModel("openai/local", api_base=server, api_key="k", on_text=heard.append)
    reply = model.complete(ask("when is the meeting?"))
    assert heard == ["The meeting ", "moved to ", "Thursday."]
    assert reply.text == "The meeting moved to Thursday."
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (42, 7)


def test_a_streamed_tool_call_is_assembled_from_its_pieces_sync_and_async(server):
    model = LiteLLMModel("openai/local", api_base=server, api_key="k", stream=True)
    for reply in (model.complete(ask("read notes")),
                  asyncio.run(model.acomplete(ask("read notes")))):
        [call] = reply.tool_calls
        assert (call.name, call.arguments, call.parse_error) == (
            "read_file", {"path": "notes.txt"}, None)
        assert reply.usage.output_tokens == 12
