"""Token counting for context budgets: litellm's counter for models it knows, a fast
estimate otherwise, and a cache so that re-counting an unchanged history costs nothing.

The model's context window comes from litellm's bundled model map, read without importing
litellm (its import takes seconds), so an agent on an offline model never pays for it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from harness.llm.base import estimate_tokens
from harness.messages import Message

MESSAGE_OVERHEAD = 4
"""Tokens a chat message costs beyond its text (role and framing), as OpenAI counts them."""
DEFAULT_WINDOW = 128_000
"""The context window assumed for a model litellm does not know (offline and probe models)."""
DEFAULT_REPLY_RESERVE = 4_096
CUT_MARKER = "\n[... cut to fit the context budget; {n} tokens in full ...]\n"


@cache
def _model_map() -> dict[str, Any]:
    """litellm's bundled model map (read-only package data, parsed once per process)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / \
        "model_prices_and_context_window_backup.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def model_info(model: str) -> dict[str, Any] | None:
    """litellm's entry for `model` ("gpt-4o" or "openai/gpt-4o"), or None if unknown."""
    if not model:
        return None
    table = _model_map()
    for key in (model, model.split("/", 1)[-1], model.rsplit("/", 1)[-1]):
        info = table.get(key)
        if isinstance(info, dict) and isinstance(info.get("max_input_tokens"), int):
            return info
    return None


@cache  # the model map is fixed for the process; a budgeted context asks every step
def context_window(model: str, default: int = DEFAULT_WINDOW) -> int:
    """Input tokens `model` accepts, from litellm's model info; `default` when unknown."""
    info = model_info(model)
    return int(info["max_input_tokens"]) if info else default


class TokenCounter:
    """Counts tokens of text and messages, remembering every count it made.

    With a model litellm knows, counts with `litellm.token_counter` (its bundled
    tokenizers, offline); otherwise with the ~4-characters-per-token estimate. Exact counts
    are cached by the text itself, so a history that only grows is counted once per message.
    """

    def __init__(self, model: str = "", *, exact: bool | None = None, max_cached: int = 50_000):
        self.model = model
        self.exact = model_info(model) is not None if exact is None else exact
        self.max_cached = max_cached
        self._cache: dict[str, int] = {}
        self._messages: dict[int, tuple[Message, int]] = {}
        self._litellm: Any = None

    @property
    def method(self) -> str:
        return f"litellm:{self.model}" if self.exact else "estimate:chars/4"

    def count(self, text: str | None) -> int:
        if not text:
            return 0
        if not self.exact:  # the estimate is cheaper than a cache lookup
            return estimate_tokens(text)
        n = self._cache.get(text)
        if n is None:
            n = self._count(text)
            if len(self._cache) >= self.max_cached:
                self._cache.clear()
            self._cache[text] = n
        return n

    def _count(self, text: str) -> int:
        if self._litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            self._litellm = litellm
        return int(self._litellm.token_counter(model=self.model, text=text))

    def message(self, m: Message) -> int:
        """Tokens of one chat message: its text, its tool calls, and the framing overhead.
        Remembered per message object (messages are not edited once in a history)."""
        hit = self._messages.get(id(m))
        if hit is not None and hit[0] is m:
            return hit[1]
        n = MESSAGE_OVERHEAD + self.count(m.content)
        for call in m.tool_calls:
            n += self.count(call.name) + self.count(call.raw_arguments if call.parse_error
                                                     else call.arguments_json())
        if len(self._messages) >= self.max_cached:
            self._messages.clear()
        self._messages[id(m)] = (m, n)
        return n

    def messages(self, ms: list[Message]) -> int:
        return sum(map(self.message, ms))

    def fit(self, text: str, max_tokens: int, marker: str = CUT_MARKER) -> str:
        """`text` cut in the middle (head and tail kept) so that it counts at most
        `max_tokens`, with a marker saying how much went; "" if even the marker won't fit."""
        total = self.count(text)
        if total <= max_tokens:
            return text
        lo, hi = 0, len(text)
        best = ""
        while lo <= hi:  # binary search on how many characters to keep
            keep = (lo + hi) // 2
            cut = text[: keep - keep // 2] + marker.format(n=total) + text[len(text) - keep // 2:] \
                if keep else marker.format(n=total).strip()
            if self.count(cut) <= max_tokens:
                best, lo = cut, keep + 1
            else:
                hi = keep - 1
        return best


class ServerTokenizer(TokenCounter):
    """Counts with the model's own tokenizer, asked of the server that runs it: llama.cpp's
    `POST /tokenize` (`{"content": text}` -> `{"tokens": [...]}`), which vLLM and others
    also serve. `api_base` is the server's OpenAI-compatible base (a trailing `/v1` is
    dropped). A server that cannot answer is named once in a warning and the estimate is
    used from then on, so a run never stops on its token counts."""

    def __init__(self, api_base: str, *, timeout_s: float = 10, max_cached: int = 50_000):
        super().__init__("", exact=True, max_cached=max_cached)
        base = api_base.rstrip("/")
        self.url = (base[:-3] if base.endswith("/v1") else base) + "/tokenize"
        self.timeout_s = timeout_s
        self.failed: str | None = None

    @property
    def method(self) -> str:
        return f"server:{self.url}" if self.failed is None else "estimate:chars/4"

    def _count(self, text: str) -> int:
        if self.failed is not None:
            return estimate_tokens(text)
        import json
        import urllib.request
        import warnings

        body = json.dumps({"content": text}).encode()
        request = urllib.request.Request(self.url, data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                return len(json.loads(reply.read())["tokens"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.failed = f"{self.url}: {type(exc).__name__}: {exc}"
            warnings.warn(f"tokenizer {self.failed}; estimating tokens instead", stacklevel=2)
            return estimate_tokens(text)


class HFTokenizer(TokenCounter):
    """Counts with a Hugging Face tokenizer (the `tokenizers` library, which litellm already
    depends on): a `tokenizer.json` file, or a repository name on the Hub, which `tokenizers`
    downloads once and caches (so a name needs the network the first time; a file never)."""

    def __init__(self, name_or_path: str, *, max_cached: int = 50_000):
        super().__init__("", exact=True, max_cached=max_cached)
        from tokenizers import Tokenizer

        self.source = name_or_path
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            path = path / "tokenizer.json"
        is_path = path.exists() or name_or_path.endswith(".json") or \
            name_or_path.startswith((".", "/", "~"))
        try:
            self._tokenizer = Tokenizer.from_file(str(path)) if is_path \
                else Tokenizer.from_pretrained(name_or_path)
        except Exception as exc:  # tokenizers raises its own Exception subclasses
            what = "not a tokenizer.json file" if is_path else "the Hub did not give it"
            raise ValueError(f"tokenizer {name_or_path!r}: {what} "
                             f"({type(exc).__name__}: {exc})") from exc

    @property
    def method(self) -> str:
        return f"hf:{self.source}"

    def _count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


def tokenizer(spec: str | TokenCounter | None) -> TokenCounter | None:
    """A token counter from a configuration's string: `server:URL` (`ServerTokenizer`, the
    model's own server), `hf:NAME_OR_PATH` (`HFTokenizer`), or `litellm:MODEL` (litellm's
    counter for a model it knows); a counter or None is returned as it is."""
    if spec is None or isinstance(spec, TokenCounter):
        return spec
    kind, sep, value = spec.partition(":")
    if sep and value and kind == "server":
        return ServerTokenizer(value)
    if sep and value and kind == "hf":
        return HFTokenizer(value)
    if sep and value and kind == "litellm":
        return TokenCounter(value, exact=True)
    raise ValueError(f"tokenizer {spec!r}: expected server:URL, hf:NAME_OR_PATH or "
                     f"litellm:MODEL")
