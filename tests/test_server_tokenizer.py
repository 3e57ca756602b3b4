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
