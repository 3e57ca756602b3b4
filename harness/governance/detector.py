"""A detector for instruction-like text in tool outputs: the second layer, not the defence.

Isolation is what keeps injected text away from the main agent; this detector only helps
the isolated worker do its job by redacting passages that read like orders to an AI
(override phrases, text addressed to the model, redirections of its task, fake chat turns
or tool calls, tool names with imperatives, pipe-to-shell one-liners). A miss costs utility
(the worker deviates and its return is withheld), never safety. The scores are generic:
nothing here knows any benchmark's payloads.

Text is read as a reader would: string escapes (`\\n` in JSON, Python reprs and YAML) are
decoded before scanning, and a phrase wrapped over two lines is scored whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COMMON_TOOLS = ("run_shell", "read_file", "write_file", "edit_file", "send_email", "http_get",
                "http_post", "list_dir", "search_files", "web_fetch", "execute_command")
READER = (r"(ai|a\.i\.|artificial intelligence|llms?|(large )?language models?|assistants?|"
          r"ai agents?|agents?|chat ?bots?|bots?|copilot|chatgpt|gpt[-\w.]*|claude|gemini|"
          r"llama|mistral|models?)")
TASKISH = r"(task|request|question|assignment|job|instructions?|goal|objective|prompt)"
SIGNALS: tuple[tuple[float, re.Pattern[str]], ...] = tuple((w, re.compile(p, re.I)) for w, p in (
    # overriding the user or the system ("iunstructions": typos do not hide it)
    (3.0, r"\b(ignore|disregard|forget|override|skip)s?\b.{0,40}\b(previous|prior|above|"
          r"earlier|preceding|original|all|any|your|the user'?s?)\b.{0,20}\b(\w*structions?|"
          r"prompts?|messages?|question|rules|directions|guidelines|tasks?|context)\b"),
    (3.0, r"\b(your|the|my) (new|real|actual|true) (task|instructions?|priority|role|goal|"
          r"objective|job) (is|are|now)\b|\bnew (task|instructions?)\s*:|"
          r"\bthis instruction overrides\b"),
    (3.0, r"<\|im_start\|>|<\|im_end\|>|\[/?(system|developer|assistant)[^\]]{0,30}\]|"
          r"<\/?(system|developer_instructions|tool_call|function_call|instructions)>|"
          r"#+\s*\(?\s*system\b|[\[(<]\s*(system|developer|admin)[ _-]?(message|prompt|"
          r"note|notice|instructions?|override)\s*[\])>]"),
    (3.0, r"[\"']?(tool_calls?|function_call|assistant_tool_call)[\"']?\s*(=>|:|=)|"
          r"\{\s*[\"'](tool|name|role)[\"']\s*:\s*[\"']"),
    (2.0, r"^\W{0,3}(user|assistant|human|system|ai)\s*:"),
    # text addressed to the model
    (3.0, rf"\bto you,? (the |an? |my |dear )?{READER}\b|\b(dear|hey|hi|hello|attention|"
          rf"note to|message (for|to)|instructions? (for|to)|notice to)[,:]?\s+(the |all |any |"
          rf"every )?{READER}\b|\bif you are an? (ai|llm|language model|assistant|agent|"
          r"automated|bot|chatbot)\b|\bas an? (ai|language model|llm)\b"),
    (2.0, r"\b(message|note|request|instructions?|letter) from (me|the user|your user|"
          r"your (owner|operator|developer|creator)|the (owner|operator|admin|developer))\b"),
    (1.5, rf"\b{READER}\b|\bautomated (reviewer|summari[sz]er|tool|triager)s?\b|"
          r"\bsummari[sz]ers?\b"),
    # redirecting the task it was given
    (2.0, rf"\bbefore (you )?(can |could |may |start to |go on to )?(solve|do|complete|finish|"
          rf"continue( with)?|proceed( with)?|work on|answer|respond to|reply to|return to|"
          rf"get (back )?to|carry out|perform|handle) (the|your|this|my|that|any) "
          rf"(\w+ )?{TASKISH}"),
    (2.0, rf"\b(the|your) {TASKISH} (that |which )?(i|the user|they|we) (gave|assigned|set|"
          rf"asked|sent) (to )?you\b|\b(your|the) (original|initial|previous|current|first|"
          rf"only|main) {TASKISH} (is|was|has|now)\b|\binstead of "
          rf"(doing |solving |completing |answering )?(the|your|my) {TASKISH}"),
    (1.5, r"\b(do|perform|complete|execute|follow|carry out) the following\b.{0,20}"
          r"\b(first|instead|now|immediately|before)\b|\bstrictly (adhere|follow|obey)\b"),
    (1.0, r"\bafter you (do|have done|did|complete|finish|are done with) (that|this|it|so)\b|"
          r"\bstop what you('re| are) doing\b"),
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
ESCAPE = re.compile(r"\\(\r?\n[ \t]*\\?|[nrt\"'\\/]|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2})")
HTML_CONTAINERS = {"html", "head", "body", "main", "article", "section", "div", "table", "tbody",
                   "thead", "form", "nav", "header", "footer", "aside", "span", "pre", "code",
                   "script", "style", "svg", "template", "ul", "ol", "li", "tr", "td"}
TAG_OPEN = re.compile(r"<!--|<\|im_start\|>|<([A-Za-z][\w-]{1,40})(\s[^<>]*)?>")
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

    A line also counts as flagged when it and the next line score over the threshold
    together (a sentence wrapped by a YAML dump or a mail client). A flagged passage takes
    with it its neighbours written in the same style (a lead-in or trailer line of the same
    comment or log stream), everything a trailing ':' introduces (the next paragraph, even
    past a blank line), and any comment or tag block it sits in (`<!-- … -->`,
    `<INFO> … </INFO>`), since injected passages rarely keep to one line. Text with nothing
    flagged comes back untouched.
    """

    def __init__(self, tools: tuple[str, ...] = COMMON_TOOLS, threshold: float = THRESHOLD,
                 context: int = 1):
        self.tools = {t.lower() for t in tools}
        # A tool named like an identifier (read_file, sendMoney) is rare in prose; one named
        # by a plain word (search, fetch) counts only when written as a call.
        idents = [t for t in tools if re.search(r"[_\d]|[a-z][A-Z]", t)]
        words = [t for t in tools if t not in idents]
        self.tool_signals: tuple[tuple[float, re.Pattern[str]], ...] = ()
        if idents:
            names = "|".join(sorted(map(re.escape, idents), key=len, reverse=True))
            self.tool_signals += (
                # a tool of this agent named in data is rare; with arguments, rarer still
                (2.0, re.compile(rf"\b({names})\b", re.I)),
                (1.5, re.compile(rf"\b({names})\b`?\s*(:|\(|with\b|to\b|on\b|at\b|using\b|"
                                 rf"~?/|https?://|[\"'{{]|[a-z]+ )", re.I)))
        if words:
            names = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
            self.tool_signals += ((2.0, re.compile(
                rf"(?<![.\w])({names})\s*\(\s*[\"'\w]|`({names})`", re.I)),)
        self.threshold = threshold
        self.context = context

    def score(self, line: str) -> float:
        return sum(w for w, rx in SIGNALS + self.tool_signals if rx.search(line))

    def scan(self, text: str) -> Detection:
        """Find and redact instruction-like passages. Escapes are decoded for reading; the
        decoded text is returned only when something was redacted."""
        decoded = decode_escapes(text)
        lines = decoded.split("\n")
        scores = {i: s for i, line in enumerate(lines) if (s := self.score(line)) > 0}
        units = [(i, i) for i, sc in scores.items() if sc >= self.threshold]
        units += self._wrapped(lines, scores, {i for i, _ in units})
        if not units:
            return Detection(text=text, scores=scores)
        spans = _merge([self._span(lines, lo, hi) for lo, hi in sorted(units)])
        return Detection(text=self._redact(lines, spans), flagged=sorted({lo for lo, _ in units}),
                         redacted=[(sp.lo, sp.hi) for sp in spans], scores=scores)

    def _wrapped(self, lines: list[str], scores: dict[int, float],
                 flagged: set[int]) -> list[tuple[int, int]]:
        """Pairs of lines that score over the threshold only when read as one sentence."""
        out = []
        for i in sorted(scores):
            j = i + 1
            if i in flagged or j in flagged or j >= len(lines) or not lines[j].strip():
                continue
            if self.score(f"{lines[i].rstrip()} {lines[j].strip()}") >= self.threshold:
                out.append((i, j))
        return out

    def _span(self, lines: list[str], lo: int, hi: int) -> Span:
        style = _style(lines[lo])
        for j in range(lo - 1, max(-1, lo - 1 - self.context), -1):
            if style is None or _style(lines[j]) != style:
                break
            lo = j
        for j in range(hi + 1, min(len(lines), hi + 1 + self.context)):
            if style is None or _style(lines[j]) != style:
                break
            hi = j
        # a sentence wrapped onto the next lines (a YAML dump, a mail client) goes with it
        for _ in range(8):
            if hi + 1 >= len(lines) or not _unfinished(lines[hi], lines[hi + 1]):
                break
            hi += 1
        if lines[hi].rstrip().endswith(":"):  # what the colon introduces, past blank lines
            while hi + 1 < len(lines) and not lines[hi + 1].strip():
                hi += 1
            while hi + 1 < len(lines) and lines[hi + 1].strip():
                hi += 1
        block = _enclosing_block(lines, lo, hi)
        if block is None:
            return Span(lo, hi)
        return Span(min(lo, block.lo), max(hi, block.hi),
                    block.head if block.lo <= lo else "", block.tail if block.hi >= hi else "")

    @staticmethod
    def _redact(lines: list[str], spans: list[Span]) -> str:
        out: list[str] = []
        at = {sp.lo: sp for sp in spans}
        skip_to = -1
        for i, line in enumerate(lines):
            if i <= skip_to:
                continue
            if i in at:
                out.append(at[i].head + REDACTED + at[i].tail)
                skip_to = at[i].hi
            else:
                out.append(line)
        return "\n".join(out)


@dataclass
class Span:
    """Lines lo..hi to redact; `head` and `tail` are the parts of the first and last line
    outside a tag block (kept: a record's other fields often share those lines)."""

    lo: int
    hi: int
    head: str = ""
    tail: str = ""


def decode_escapes(text: str) -> str:
    """Text as a reader sees it: `\\n`, `\\t`, `\\"`, `\\u00e9` decoded, and YAML's escaped
    line breaks joined."""
    if "\\" not in text:
        return text

    def decode(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "\r\n":
            return ""
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\n"}.get(code, code)

    return ESCAPE.sub(decode, text)


LIST_OR_KEY = re.compile(r"^\s*([-*•>#]|\d+[.)]\s|[\w.-]+:(\s|$))")


def _unfinished(line: str, following: str) -> bool:
    """Does `line` stop mid-sentence and `following` carry the sentence on?"""
    end = line.rstrip().rstrip("'\"")
    return bool(end) and (end[-1].isalnum() or end[-1] in ",;-") and bool(
        following.strip()) and not LIST_OR_KEY.match(following)


def _style(line: str) -> str | None:
    """A line's leading marker (`#`, `>`, `npm`, `//`): neighbours in the same style belong to
    the same passage. Lines led by numbers (timestamps, ids, data) have no style."""
    words = line.split(maxsplit=1)
    if not words or any(c.isdigit() for c in words[0]):
        return None
    return words[0]


def _enclosing_block(lines: list[str], lo: int, hi: int, reach: int = 40) -> Span | None:
    """The comment or tag block around lines lo..hi (`<!-- … -->`, `<|im_start|> …
    <|im_end|>`, `<NOTE> … </NOTE>`), innermost first; page-structure tags (`<div>`, `<body>`)
    do not count, so a flagged line does not take a whole page with it."""
    for j in range(lo, max(-1, lo - reach), -1):
        for opened in reversed(list(TAG_OPEN.finditer(lines[j]))):
            tag = opened.group(1)
            if tag is not None and tag.lower() in HTML_CONTAINERS:
                continue
            close = re.compile("-->" if opened.group(0) == "<!--" else r"<\|im_end\|>"
                               if tag is None else rf"</{re.escape(tag)}\s*>", re.I)
            between = "\n".join([lines[j][opened.end():], *lines[j + 1:lo]])
            if j < lo and close.search(between):
                continue  # closed before the passage
            for k in range(max(hi, j), min(len(lines), hi + reach)):
                found = close.search(lines[k], opened.end() if k == j else 0)
                if found:
                    return Span(j, k, lines[j][:opened.start()], lines[k][found.end():])
    return None


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping or adjacent spans as one; a whole line wins over a kept head or tail."""
    out: list[Span] = []
    for sp in sorted(spans, key=lambda x: (x.lo, x.head != "")):
        last = out[-1] if out else None
        if last is not None and sp.lo <= last.hi + 1:
            if sp.hi > last.hi or (sp.hi == last.hi and not sp.tail):
                last.tail = sp.tail if sp.hi > last.hi else ""
                last.hi = sp.hi
        else:
            out.append(Span(sp.lo, sp.hi, sp.head, sp.tail))
    return out
