"""The response cache: `LiteLLMModel(response_cache=...)` and `harness bench --cache DIR`,
against an OpenAI-compatible server on 127.0.0.1 that counts the requests reaching it."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import warnings
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness.agent import Agent  # noqa: E402
from harness.events import ModelCalled  # noqa: E402
from harness.llm import LiteLLMModel, ResponseCache, ResponseCacheError, request_key  # noqa: E402
from harness.messages import Message, ModelRequest, ModelResponse, ToolCall, Usage  # noqa: E402
from tests.local_http import QuietHandler  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = "openai/gpt-4o-2024-08-06"  # priced in litellm's map, so a fresh call costs > 0
TOOLS = [{"type": "function", "function": {
    "name": "read_file", "description": "Read a file.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                   "required": ["path"]}}}]


def completion(message: dict) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1733580000,
            "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": {"role": "assistant", **message},
                         "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}}


TEXT_REPLY = completion({"content": "done"})
TOOL_REPLY = completion({"content": None, "tool_calls": [{
    "id": "call_1", "type": "function",
    "function": {"name": "read_file", "arguments": '{"path": "README.md"}'}}]})


class Provider:
    """Answers `/v1/chat/completions`: a tool call when tools are offered and no tool has
    answered yet, else the text "done"; `requests` counts what reached it."""

    def __init__(self) -> None:
        self.requests = 0
        provider = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.read_json()
                provider.requests += 1
                answered = any(m.get("role") == "tool" for m in body["messages"])
                reply = TOOL_REPLY if body.get("tools") and not answered else TEXT_REPLY
                if not self.path.endswith("/chat/completions"):
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_json(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}/v1"


@pytest.fixture(scope="module")
def provider():
    p = Provider()
    threading.Thread(target=p.server.serve_forever, daemon=True).start()
    yield p
    p.server.shutdown()


def ask(text: str, tools: list | None = None, **params) -> ModelRequest:
    return ModelRequest(messages=[Message(role="user", content=text)], tools=tools or [],
                        params=params)


def model(provider: Provider, cache: Path | ResponseCache, **params) -> LiteLLMModel:
    return LiteLLMModel(MODEL, api_base=provider.base, api_key="test-key",
                        response_cache=cache, **params)


def test_a_repeated_request_is_answered_from_the_cache_and_recorded_cached_at_cost_0(
        provider, tmp_path):
    llm = model(provider, tmp_path / "cache")
    before = provider.requests
    first = llm.complete(ask("hi"))
    assert provider.requests == before + 1 and first.cost_usd and first.cost_usd > 0
    again = llm.complete(ask("hi"))
    assert provider.requests == before + 1  # the provider was not asked again
    assert (again.text, again.usage, again.cost_usd) == ("done", first.usage, 0.0)
    assert llm.attempts == 1 and llm.response_cache.hits == 1

    # a fresh model on the same directory (a later run) hits too; the run records it
    run = Agent(model(provider, tmp_path / "cache"), workspace=tmp_path).run("hi")
    calls = run.of_type(ModelCalled)
    assert len(calls) == 2  # a tool call, then "done": requests the cache has not seen
    assert provider.requests == before + 3
    rerun = Agent(model(provider, tmp_path / "cache"), workspace=tmp_path).run("hi")
    again_calls = rerun.of_type(ModelCalled)
    assert provider.requests == before + 3
    assert [c.cached for c in calls] == [False, False]
    assert [c.cached for c in again_calls] == [True, True]
    assert all(c.cost_usd == 0.0 for c in again_calls) and all(c.cost_usd > 0 for c in calls)
    # tokens as the replies reported them, so a run's token figures do not change
    assert [c.usage for c in again_calls] == [c.usage for c in calls]
    assert rerun.finished.tokens == run.finished.tokens
    # the recorded trajectory keeps `cached` and reads back
    path = tmp_path / "rerun.jsonl"
    rerun.write(path)
    assert type(rerun).read(path).of_type(ModelCalled)[0].cached is True


def test_a_tool_call_reply_comes_back_from_the_cache_whole(provider, tmp_path):
    llm = model(provider, tmp_path / "cache")
    before = provider.requests
    fresh = llm.complete(ask("read it", TOOLS))
    cached = llm.complete(ask("read it", TOOLS))
    assert provider.requests == before + 1
    assert cached.tool_calls == fresh.tool_calls == [
        ToolCall(id="call_1", name="read_file", arguments={"path": "README.md"})]
    assert cached.text is None and cached.model == fresh.model


def test_the_async_path_shares_the_cache(provider, tmp_path):
    import asyncio

    llm = model(provider, tmp_path / "cache")
    before = provider.requests
    fresh = asyncio.run(llm.acomplete(ask("async hi")))
    hit = llm.complete(ask("async hi"))
    again = asyncio.run(llm.acomplete(ask("async hi")))
    assert provider.requests == before + 1
    assert fresh.text == hit.text == again.text == "done"
    assert (hit.cost_usd, again.cost_usd) == (0.0, 0.0)


@pytest.mark.parametrize("change", ["message", "tools", "parameter", "model parameter"])
def test_a_request_that_differs_in_anything_sent_misses(provider, tmp_path, change):
    base = model(provider, tmp_path / "cache")
    base.complete(ask("hi", TOOLS, temperature=0))
    before = provider.requests
    other_tools = [{**TOOLS[0], "function": {**TOOLS[0]["function"], "description": "Read."}}]
    llm, request = {
        "message": (base, ask("hello", TOOLS, temperature=0)),
        "tools": (base, ask("hi", other_tools, temperature=0)),
        "parameter": (base, ask("hi", TOOLS, temperature=0.5)),
        "model parameter": (model(provider, tmp_path / "cache", top_p=0.5),
                            ask("hi", TOOLS, temperature=0)),
    }[change]
    reply = llm.complete(request)
    assert provider.requests == before + 1 and not getattr(reply, "cached", False)


def test_the_key_leaves_out_credentials_timeouts_and_retries():
    sent = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
    key = request_key(sent)
    assert request_key({**sent, "api_key": "other", "timeout": 5, "num_retries": 3}) == key
    assert request_key(dict(reversed(sent.items()))) == key  # order does not matter
    assert request_key({**sent, "temperature": 1}) != key
    assert request_key({**sent, "api_base": "http://127.0.0.1:1/v1"}) != key
    assert request_key(sent, sample=0) == key and request_key(sent, sample=1) != key


def test_bench_repeats_keep_their_own_replies_and_a_rerun_replays_them(
        provider, tmp_path, monkeypatch):
    from harness.bench.suite import BenchOptions, real_model

    monkeypatch.setenv("OPENAI_API_BASE", provider.base)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    before = provider.requests
    for seed in (0, 1, 0, 1):  # two repeats (seed + r), then the same command again
        llm = real_model(BenchOptions(model=MODEL, cache=tmp_path / "cache", seed=seed))
        llm.complete(ask("sample me"))
    assert provider.requests == before + 2
    assert real_model(BenchOptions(model=MODEL)).response_cache is None
    assert real_model(BenchOptions(cache=tmp_path / "cache")) is None


def _write_replies(directory: str, writer: int, count: int) -> None:
    """One process's writes: `count` keys of its own and `count` keys shared with the other
    writer, from four threads at once."""
    cache = ResponseCache(directory)

    def write(part: int) -> None:
        for i in range(part, count, 4):
            cache.put(f"own-{writer}-{i}", ModelResponse(text=f"{writer}:{i}", model="m",
                                                         usage=Usage(input_tokens=i)))
            cache.put(f"shared-{i}", ModelResponse(text=f"shared:{i}", model="m"))

    threads = [threading.Thread(target=write, args=(part,)) for part in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_processes_writing_one_cache_at_once_leave_it_consistent(tmp_path):
    directory, count = str(tmp_path / "cache"), 200
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_replies, args=(directory, w, count)) for w in (0, 1)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]
    cache = ResponseCache(directory)
    assert len(cache) == 3 * count
    for w in (0, 1):
        for i in range(count):
            reply = cache.get(f"own-{w}-{i}")
            assert reply is not None and reply.text == f"{w}:{i}"
            assert reply.usage.input_tokens == i
    assert all(cache.get(f"shared-{i}").text == f"shared:{i}" for i in range(count))
    assert cache._store.check() == []  # diskcache's own consistency check finds nothing


@pytest.mark.parametrize("damage", ["half a reply", "garbage bytes in the database"])
def test_a_corrupt_entry_is_a_miss_and_the_next_reply_replaces_it(provider, tmp_path, damage):
    import sqlite3

    import diskcache

    llm = model(provider, tmp_path / "cache")
    request = ask(f"corrupt me: {damage}")
    llm.complete(request)
    key = request_key(llm._kwargs(request))
    if damage == "half a reply":
        with diskcache.Cache(str(tmp_path / "cache")) as raw:
            raw[key] = '{"text": "half a rep'
    else:  # the row claims a pickled value that is not one
        with sqlite3.connect(tmp_path / "cache" / "cache.db") as db:
            changed = db.execute("UPDATE Cache SET mode = 4, value = ? WHERE key = ?",
                                 (b"\x80\x05garbage", key)).rowcount
        assert changed == 1
    before = provider.requests
    with pytest.warns(UserWarning, match=rf"cache entry {key[:16]} unreadable"):
        reply = llm.complete(request)
    assert provider.requests == before + 1 and reply.text == "done"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert llm.complete(request).text == "done"  # repaired: a clean hit
    assert provider.requests == before + 1


def test_a_directory_that_is_not_a_cache_is_refused_by_name(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "cache.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ResponseCacheError, match=rf"{tmp_path / 'cache'}: cannot open"):
        ResponseCache(tmp_path / "cache")
    assert (tmp_path / "cache" / "cache.db").read_bytes().startswith(b"this is not")
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ResponseCacheError, match=str(afile)):
        ResponseCache(afile)


def test_import_harness_does_not_import_diskcache():
    code = ("import sys, harness, harness.llm.litellm_model, harness.bench.suite; "
            "print('diskcache' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def _bench(provider: Provider, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_BASE": provider.base, "OPENAI_API_KEY": "test-key",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([sys.executable, "-m", "harness.cli", "bench", "smoke",
                           "--model", "openai/x", "--out", str(out), *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_bench_with_cache_twice_sends_nothing_the_second_time_and_agrees(provider, tmp_path):
    from harness.bench.runner import comparable

    cache = tmp_path / "cache"
    before = provider.requests
    first = _bench(provider, tmp_path / "first", "--cache", str(cache))
    assert first.returncode == 0, first.stderr
    sent = provider.requests - before
    assert sent > 0
    second = _bench(provider, tmp_path / "second", "--cache", str(cache))
    assert second.returncode == 0, second.stderr
    assert provider.requests - before == sent  # the second run reached no provider
    results = [json.loads((tmp_path / run / "smoke" / "results.json").read_text())
               for run in ("first", "second")]
    assert comparable(results[0]) == comparable(results[1])
    calls = [json.loads(line) for p in (tmp_path / "second").rglob("*.jsonl")
             for line in p.read_text().splitlines() if '"model_called"' in line]
    assert calls and all(c["cached"] and c["cost_usd"] == 0.0 for c in calls)


def test_bench_cache_without_model_is_refused(tmp_path):
    out = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "smoke", "--cache",
                          str(tmp_path / "c")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode != 0 and "--cache" in out.stderr and "--model" in out.stderr
    assert not (tmp_path / "c").exists()
