"""A detector for instruction-like text in tool outputs: the second layer, not the defence.

Isolation is what keeps injected text away from the main agent; this detector only helps
the isolated worker do its job by redacting passages that read like orders to an AI
(override phrases, fake chat turns or tool calls, tool names with imperatives, pipe-to-shell
one-liners). A miss costs utility (the worker deviates and its return is withheld), never
safety. The scores are generic: nothing here knows any benchmark's payloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COMMON_TOOLS = ("run_shell", "read_file", "write_file", "edit_file", "send_email", "http_get",
                "http_post", "list_dir", "search_files", "web_fetch", "execute_command")
SIGNALS: tuple[tuple[float, re.Pattern[str]], ...] = tuple((w, re.compile(p, re.I)) for w, p in (
    # overriding the user or the system
    (3.0, r"\b(ignore|disregard|forget|override)s?\b.{0,40}\b(previous|prior|above|earlier|"
          r"all|your|the user'?s?)\b.{0,20}\b(instructions?|prompts?|messages?|question|rules)"),
    (3.0, r"\bnew (task|instructions?|priority|role)\b|\bthis instruction overrides\b"),
    (3.0, r"<\|im_start\|>|<\|im_end\|>|\[/?(system|developer|assistant)[^\]]{0,30}\]|"
          r"<\/?(system|developer_instructions|tool_call|function_call|instructions)>|"
          r"#+\s*system\b"),
    (3.0, r"[\"']?(tool_calls?|function_call|assistant_tool_call)[\"']?\s*(=>|:|=)|"
          r"\{\s*[\"'](tool|name|role)[\"']\s*:\s*[\"']"),
    (2.0, r"^\W{0,3}(user|assistant|human|system|ai)\s*:"),
    # addressing an AI reader
    (1.5, r"\b(ai|llm|language model|assistants?|agents?|bots?|copilot|chatgpt|claude|gpt|"
          r"automated (reviewer|summari[sz]er|tool|triager)s?|summari[sz]ers?)\b"),
    # obligations and secrecy
    (1.0, r"\b(you|assistants?|agents?|bots?)\s+(must|should|are required|need to|have to)\b"),
    (1.0, r"\b(must|required|mandatory|immediately|right now|urgent)\b"),
    (1.5, r"\bdo not (tell|mention|inform|ask|wait|reveal|show)\b|\bwithout (asking|telling|"
          r"confirmation|approval|waiting)\b|\bhidden from\b|\bbefore (you )?(answer|summari|"
          r"repl|respond|explain|report|continu|describ|analy|labell|running|modifying)"),
    # commands to run
    (2.0, r"\b(curl|wget)\b[^|\n]{0,200}\|\s*(sudo\s+)?(ba|z|da)?sh\b|base64\s+(-d|--decode)"
          r"[^|\n]{0,40}\|\s*(ba)?sh\b|\bdecode (this |it )?and (run|execute)|source <\(curl"),
    (1.5, r"\b(run|execute|exec|type|paste)\b\s*:?\s*`?(sudo|curl|wget|rm|bash|sh|git|pip|npm|"
          r"kubectl|aws|psql|redis-cli|echo|chmod|docker|ssh|scp)\b"),
    (1.5, r"\b(send|email|forward|post|upload|paste|append(ed)?|include|print|quote)\b.{0,60}"
          r"\b(password|secret|token|api[ _-]?key|credentials?|private key|contents of|"
          r"full contents|env(ironment)?|\.env|ssh|value of)\b"),
))
THRESHOLD = 3.0
BLOCK_OPEN = re.compile(r"<!--|<\|im_start\|>|<(system|developer_instructions|tool_call|sub|"
                        r"instructions)>", re.I)
BLOCK_CLOSE = re.compile(r"-->|<\|im_end\|>|</(system|developer_instructions|tool_call|sub|"
                         r"instructions)>", re.I)
REDACTED = "[redacted by the harness: instruction-like text]"


@dataclass
class Detection:
    """What the detector found: flagged line numbers (0-based), redacted spans, the text."""

    text: str
    flagged: list[int] = field(default_factory=list)
    redacted: list[tuple[int, int]] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.flagged)


class InstructionDetector:
    """Scores each line for instruction-like features and redacts flagged passages.

    A flagged line takes its neighbours written in the same style with it (a lead-in or a
    trailer line of the same comment or log stream), everything
    a trailing ':' introduces up to the next blank line, and any comment or tag block it
    sits in, since injected passages rarely keep to one line.
    """

    def __init__(self, tools: tuple[str, ...] = COMMON_TOOLS, threshold: float = THRESHOLD,
                 context: int = 1):
        self.tools = {t.lower() for t in tools}
        names = "|".join(sorted(map(re.escape, self.tools), key=len, reverse=True))
        self.tool_signals: tuple[tuple[float, re.Pattern[str]], ...] = (
            # a tool of this agent named in data is rare; named with arguments, rarer still
            (2.0, re.compile(rf"\b({names})\b", re.I)),
            (1.5, re.compile(rf"\b({names})\b`?\s*(:|\(|with\b|to\b|on\b|at\b|using\b|"
                             rf"~?/|https?://|[\"'{{]|[a-z]+ )", re.I)),
        ) if names else ()
        self.threshold = threshold
        self.context = context

    def score(self, line: str) -> float:
        return sum(w for w, rx in SIGNALS + self.tool_signals if rx.search(line))

    def scan(self, text: str) -> Detection:
        lines = text.split("\n")
        scores = {i: s for i, line in enumerate(lines) if (s := self.score(line)) > 0}
        flagged = [i for i, s in scores.items() if s >= self.threshold]
        spans = [self._span(lines, i) for i in flagged]
        return Detection(text=self._redact(lines, spans), flagged=flagged,
                         redacted=_merge(spans), scores=scores)

    def _span(self, lines: list[str], i: int) -> tuple[int, int]:
        lo, hi = i, i
        style = _style(lines[i])
        for j in range(i - 1, max(-1, i - 1 - self.context), -1):
            if style is None or _style(lines[j]) != style:
                break
            lo = j
        for j in range(i + 1, min(len(lines), i + 1 + self.context)):
            if style is None or _style(lines[j]) != style:
                break
            hi = j
        if lines[i].rstrip().endswith(":"):
            while hi + 1 < len(lines) and lines[hi + 1].strip():
                hi += 1
        block = _enclosing_block(lines, i)
        if block is not None:
            lo, hi = min(lo, block[0]), max(hi, block[1])
        return lo, hi

    @staticmethod
    def _redact(lines: list[str], spans: list[tuple[int, int]]) -> str:
        out: list[str] = []
        skip_to = -1
        merged = {lo: hi for lo, hi in _merge(spans)}
        for i, line in enumerate(lines):
            if i <= skip_to:
                continue
            if i in merged:
                out.append(REDACTED)
                skip_to = merged[i]
            else:
                out.append(line)
        return "\n".join(out)


def _style(line: str) -> str | None:
    """A line's leading marker (`#`, `>`, `npm`, `//`): neighbours in the same style belong to
    the same passage. Lines led by numbers (timestamps, ids, data) have no style."""
    words = line.split(maxsplit=1)
    if not words or any(c.isdigit() for c in words[0]):
        return None
    return words[0]


def _enclosing_block(lines: list[str], i: int, reach: int = 40) -> tuple[int, int] | None:
    """The comment or tag block (`<!-- … -->`, `<|im_start|> … <|im_end|>`) around line i."""
    for j in range(i, max(-1, i - reach), -1):
        opened = BLOCK_OPEN.search(lines[j])
        if j < i and BLOCK_CLOSE.search(lines[j], opened.end() if opened else 0):
            return None
        if opened:
            for k in range(i, min(len(lines), i + reach)):
                if BLOCK_CLOSE.search(lines[k], opened.end() if k == j else 0):
                    return (j, k)
            return None
    return None


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out
