"""The JSON a call is sent as is encoded once and reused, and never goes stale."""

import json

import pytest

from harness.messages import Message, ModelRequest, ModelResponse, ToolCall, Usage


def test_call_arguments_json_is_the_sorted_encoding_and_follows_replaced_arguments():
    call = ToolCall(id="c1", name="edit", arguments={"path": "é.py", "b": [1, {"z": 2, "a": 1}]})
    assert call.arguments_json() == json.dumps(call.arguments, sort_keys=True)
    assert call.to_openai()["function"]["arguments"] == call.arguments_json()
    moved = call.model_copy(update={"arguments": {"path": "other.py"}})
    assert moved.arguments_json() == '{"path": "other.py"}'
    assert call.arguments_json() == json.dumps(call.arguments, sort_keys=True)
    assert moved == ToolCall(id="c1", name="edit", arguments={"path": "other.py"})  # cache unseen
    assert "_arguments_json" not in moved.model_dump()


@pytest.mark.parametrize("arguments", [
    {}, {"b": 1, "a": "x"}, {"path": "é\n\"q\"", "flag": True, "off": False, "n": -12},
    {"x": 1.5}, {"x": None}, {"x": [1, "a"]}, {"x": {"z": 1, "a": 2}},
    {"big": 10**30}, {"nan": float("nan")},
])
def test_call_arguments_json_equals_the_sorted_encoding_for_every_kind_of_value(arguments):
    call = ToolCall(id="c", name="t", arguments=arguments)
    assert call.arguments_json() == json.dumps(arguments, sort_keys=True)


def test_request_digest_is_the_hash_of_the_canonical_json_of_messages_and_tools():
    import hashlib

    call = ToolCall(id="c1", name="add", arguments={"b": 2, "a": 1})
    messages = [Message(role="user", content="añadir"), Message(role="assistant", tool_calls=[call])]
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"z": 1, "a": {}}}}]
    request = ModelRequest(messages=messages, tools=tools)
    def canonical(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

    tools_hash = hashlib.sha256(canonical(tools).encode()).hexdigest()
    payload = canonical({"m": [m.to_openai() for m in messages], "t": tools_hash})
    assert request.digest() == hashlib.sha256(payload.encode()).hexdigest()[:16]
    other = ModelRequest(messages=messages, tools=[{**tools[0], "type": "other"}])
    assert other.digest() != request.digest()


def test_incremental_digests_of_requests_that_grow_shrink_and_change_equal_full_digests():
    import random

    from harness.messages import RequestDigests

    rng, digests = random.Random(5), RequestDigests()
    pool = [Message(role="system", content="rules")] + [
        Message(role=rng.choice(["user", "tool"]), content=f"m{i} " + "é" * rng.randrange(3),
                tool_call_id=f"c{i}") for i in range(30)]
    messages: list[Message] = []
    for _ in range(300):
        keep = rng.randrange(len(messages) + 1) if rng.random() < 0.3 else len(messages)
        messages = messages[:keep] + rng.sample(pool, rng.randrange(3))
        if messages and rng.random() < 0.2:  # an equal copy in place of a message
            i = rng.randrange(len(messages))
            messages[i] = messages[i].model_copy()
        tools = rng.choice([[], [{"type": "function", "function": {"name": "t"}}]])
        request = ModelRequest(messages=messages, tools=tools)
        assert digests.digest(request) == request.digest()


def test_a_message_is_digested_as_the_canonical_json_of_what_the_provider_gets():
    import random

    from harness._fast import CANONICAL as _CANONICAL

    rng = random.Random(11)
    texts = [None, "", "plain", 'quote " and \\ backslash', "ünïcödé ☃ 🚀", "line\nbreak\ttab\x00",
             "</untrusted>"]
    for _ in range(400):
        calls = []
        for i in range(rng.randrange(3)):
            if rng.random() < 0.2:
                calls.append(ToolCall.from_raw(f"c{i}", rng.choice(["add", "é"]), "{not json"))
            else:
                calls.append(ToolCall(id=rng.choice(texts[2:]), name="edit", arguments={
                    rng.choice(texts[2:]): rng.choice([1, 2.5, None, True, "x", [1, "é"],
                                                       {"z": 1, "a": [None]}])}))
        m = Message(role=rng.choice(["system", "user", "assistant", "tool"]),
                    content=rng.choice(texts), tool_calls=calls,
                    tool_call_id=rng.choice([None, *texts[1:]]), name=rng.choice([None, "add"]))
        assert m.openai_json() == _CANONICAL.encode(m.to_openai())


def test_digests_of_a_runs_requests_with_its_toolset_equal_full_digests():
    from harness.messages import RequestDigests
    from harness.tools import Toolset, default_tools

    tools = Toolset(default_tools())
    digests = RequestDigests(tools)
    messages = [Message(role="user", content="task")]
    for schemas in (tools.schemas(), tools.schemas(), tools.schemas()[:2], [], tools.schemas()):
        messages = [*messages, Message(role="assistant", content=f"step {len(messages)}")]
        request = ModelRequest(messages=messages, tools=schemas)
        assert digests.digest(request) == request.digest()


def test_a_request_made_with_of_is_what_model_construct_makes():
    msgs = [Message(role="user", content="hi")]
    tools = [{"type": "function", "function": {"name": "f"}}]
    for params in (None, {"max_tokens": 5}):
        fast = ModelRequest.of(msgs, tools, params)
        slow = ModelRequest.model_construct(messages=msgs, tools=tools, params=params or {})
        assert fast == slow and fast.model_dump() == slow.model_dump()
        assert fast.messages is msgs and fast.tools is tools  # not copied, not validated
        for attr in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
            assert getattr(fast, attr) == getattr(slow, attr)
        assert fast.model_copy(update={"params": {"x": 1}}).params == {"x": 1}


def test_validated_makes_and_checks_what_the_constructor_does():
    from pydantic import ValidationError

    from harness._fast import validated
    from harness.events import ContextManifest, PolicyDecided, SectionInfo, ToolFinished

    info = SectionInfo(name="history", tokens=3, items=["step 1: verbatim"])
    for cls, fields in [(ToolFinished, {"call_id": "c1", "tool": "add", "ok": True}),
                        (SectionInfo, {"name": "history", "tokens": 3, "items": ["a"]}),
                        (ContextManifest, {"sections": [info], "total_tokens": 3}),
                        (Message, {"role": "assistant", "tool_calls": [ToolCall(id="c", name="f")]})]:
        made, built = validated(cls, **fields), cls(**fields)
        assert type(made) is cls and made.__pydantic_fields_set__ == built.__pydantic_fields_set__
        assert made.model_dump(exclude={"ts"}) == built.model_dump(exclude={"ts"})
        assert list(made.__dict__) == list(built.__dict__)  # the same field order, when written
    for bad in [{"call_id": "c1", "tool": "add", "ok": True, "decision": "maybe"},
                {"call_id": "c1", "tool": "add", "decision": "allow", "colour": "red"}]:
        with pytest.raises(ValidationError):
            validated(PolicyDecided, **bad)


def test_updated_makes_what_model_copy_makes():
    from harness._fast import updated

    call = ToolCall(id="c1", name="add", arguments={"a": 1})
    resp = ModelResponse(tool_calls=[call], usage=Usage(input_tokens=3), raw={"id": "x"})
    for update in ({}, {"model": "m"}, {"model": "m", "cost_usd": 0.5}):
        fast, slow = updated(resp, update), resp.model_copy(update=update)
        assert fast == slow and fast.model_dump_json() == slow.model_dump_json()
        assert fast.__pydantic_fields_set__ == slow.__pydantic_fields_set__
        assert fast is not resp and fast.tool_calls is resp.tool_calls  # shallow, as model_copy
    assert resp.model == "" and resp.cost_usd is None  # the original is left as it was


def test_digests_of_a_run_whose_summaries_keep_replacing_its_tail_equal_full_digests():
    """The pattern of the summarise strategy: a new summary replaces the last steps, just
    past where the previous one did; now and then a merge replaces all summaries."""
    import random

    from harness.messages import RequestDigests

    rng, digests = random.Random(9), RequestDigests()
    head = [Message(role="system", content="rules"), Message(role="user", content="task")]
    summaries: list[Message] = []
    recent: list[Message] = []
    for i in range(200):
        recent.append(Message(role="user", content=f"step {i}"))
        if len(recent) > 3:
            summaries.append(Message(role="user", content=f"summary {i} " + "s" * i))
            recent = recent[-1:]
        if len(summaries) > 6 and rng.random() < 0.3:
            summaries = [Message(role="user", content=f"merged at {i}")]
        request = ModelRequest(messages=head + summaries + recent, tools=[])
        assert digests.digest(request) == request.digest(), i


def test_arguments_that_were_not_json_are_sent_back_as_a_json_object_holding_them():
    """A server that parses the history (llama.cpp's) refuses a request holding invalid JSON
    arguments: the history carries them inside an object, and the model still sees them."""
    import json as _json

    from harness.messages import Message, ToolCall

    bad = ToolCall.from_raw("c1", "read_file", '{"path": notes.txt')
    sent = bad.to_openai()["function"]["arguments"]
    assert _json.loads(sent) == {"unparsed_arguments": '{"path": notes.txt'}
    message = Message(role="assistant", tool_calls=[bad])
    assert _json.loads(message.openai_json()) == message.to_openai()
