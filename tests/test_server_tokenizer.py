"""Counting with the model's own tokenizer, asked of its server (llama.cpp's /tokenize)."""

from __future__ import annotations

import warnings

import pytest

from harness.agent import Agent
from harness.context import BudgetedContext, ServerTokenizer
from harness.context.tokens import MESSAGE_OVERHEAD
from harness.events import ContextBuilt
from harness.llm import ScriptedModel
from tests.local_http import QuietHandler, serving


@pytest.fixture
def tokenize_server():
    """A /tokenize endpoint that splits on whitespace, and counts the requests it gets."""
    asked: list[str] = []

    class Handler(QuietHandler):
        def do_POST(self):
            text = self.read_json()["content"]
            asked.append(self.path)
            self.send_json({"tokens": list(range(len(text.split())))})

    with serving(Handler) as url:
        yield f"{url}/v1", asked


def test_counts_come_from_the_server_and_each_text_is_asked_once(tokenize_server):
    base, asked = tokenize_server
    counter = ServerTokenizer(base)
    assert counter.count("one two three four") == 4 and counter.count("one two three four") == 4
    assert asked == ["/tokenize"] and counter.method.startswith("server:")


def test_the_context_counts_its_sections_with_the_server(tokenize_server, tmp_path):
    base, _ = tokenize_server
    agent = Agent(ScriptedModel(["done"]), workspace=tmp_path,
                  context=BudgetedContext(tokenizer=ServerTokenizer(base)))
    manifest = agent.run("say done please").of_type(ContextBuilt)[0].manifest
    task = next(s for s in manifest.sections if s.name == "task")
    assert task.tokens == 3 + MESSAGE_OVERHEAD  # "say done please" as the server splits it


def test_a_server_that_cannot_answer_is_named_once_and_the_estimate_takes_over():
    counter = ServerTokenizer("http://127.0.0.1:9/v1", timeout_s=2)  # nothing listens on 9
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert counter.count("x" * 40) == 10 and counter.count("y" * 80) == 20
    assert len(caught) == 1 and "127.0.0.1:9/tokenize" in str(caught[0].message)
    assert counter.method == "estimate:chars/4"


def _bundled_tokenizer() -> str:
    """A real Hugging Face tokenizer.json that ships inside litellm (DeepSeek's)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.rglob("deepseek_tokenizer.json"))
    if not found:
        pytest.skip("this litellm ships no deepseek_tokenizer.json to count with")
    return str(found[0])


def test_a_hugging_face_tokenizer_file_counts_as_that_tokenizer_does(tmp_path):
    from tokenizers import Tokenizer

    from harness.context import HFTokenizer

    path = _bundled_tokenizer()
    counter = HFTokenizer(path)
    reference = Tokenizer.from_file(path)
    for text in ("def add(a, b):\n    return a + b\n", "数据集的大小是多少？", "x" * 400):
        assert counter.count(text) == len(reference.encode(text, add_special_tokens=False))
    assert counter.count("数据集的大小是多少？") != counter.count("x" * 40)  # not chars/4
    assert counter.method == f"hf:{path}"


def test_a_configuration_names_its_tokenizer_by_a_spec_string(tokenize_server, tmp_path):
    from harness.bench.config import HarnessConfig, build_agent

    base, asked = tokenize_server
    for spec, method in ((f"server:{base}", "server:"), (f"hf:{_bundled_tokenizer()}", "hf:")):
        config = HarnessConfig(context={"variant": "budgeted", "params": {"tokenizer": spec}})
        agent = build_agent(config, ScriptedModel(["done"]), workspace=tmp_path)
        manifest = agent.run("say done please").of_type(ContextBuilt)[0].manifest
        history = next(s for s in manifest.sections if s.name == "history")
        assert f"tokens by {method}" in history.note, history.note
    assert asked  # the server was asked


def test_a_tokenizer_spec_that_names_nothing_usable_is_refused_by_name(tmp_path):
    from harness.context import BudgetedContext

    with pytest.raises(ValueError, match="expected server:URL, hf:NAME_OR_PATH"):
        BudgetedContext(tokenizer="tiktoken")
    with pytest.raises(ValueError, match="not a tokenizer.json file"):
        BudgetedContext(tokenizer=f"hf:{tmp_path / 'missing'}/tokenizer.json")
