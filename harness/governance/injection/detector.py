"""A detector for instruction-like text in tool outputs: the second layer, not the defence.

Isolation is what keeps injected text away from the main agent; this detector only helps
the isolated worker do its job by redacting passages that read like orders to an AI. Its
misses cost little (isolation traces a hijacked call back to its passage), its false
positives destroy legitimate content, so it asks for two things before it redacts:

- who is addressed: text that speaks *to the AI reading it* ("note for AI agents", "hey
  Claude", "any assistant reading this") rather than to a person. Addressing an AI is not
  an attack by itself: an AGENTS.md or CLAUDE.md does it on every line.
- what it tries to change: override or replace the task, make the answer wait on a detour,
  hide something from the user, send secrets to a destination, fake a chat turn, a role
  tag or a tool call, name one of the agent's own tools with arguments, pipe a download
  into a shell.

A line is redacted when one strong change (an override, a fake role tag or tool call, a
tool with arguments) or an address plus a change adds up to the threshold; an address,
an obligation ("must", "immediately") or a command to run alone never does, so docs,
runbooks and install guides written for people pass. Code is not prose: a `def` line, a
call or an assignment is read only for its comments and string literals. The scores are
generic: nothing here knows any benchmark's payloads.

Text is read as a reader would: string escapes (`\\n` in JSON, Python reprs and YAML) are
decoded before scanning, and a sentence wrapped over two lines is scored whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COMMON_TOOLS = ("run_shell", "read_file", "write_file", "edit_file", "send_email", "http_get",
                "http_post", "list_dir", "search_files", "web_fetch", "execute_command")
READER = (r"(ai|a\.i\.|artificial intelligence|llms?|(large )?language models?|assistants?|"
          r"agents?|chat ?bots?|bots?|copilot|chatgpt|gpt[-\w.]*|claude|gemini|llama|mistral|"
          r"models?|(automated|autonomous) \w+(er|or|ant|ent)s?)")
TASKISH = r"(task|request|question|assignment|job|instructions?|goal|objective|prompt)"
SECRET = (r"(password|passphrase|secrets?|tokens?|api[ _-]?keys?|credentials?|private[ _-]?keys?|"
          r"ssh[ _-]?keys?|contents of|full contents|\.env|`?env`?|environment variables|~/\.\w|"
          r"value of|[A-Z][A-Z0-9]*_(KEY|TOKEN|SECRET|PASSWORD|PAT)\b)")
SEND = r"\b(send|e-?mail|forward|post|upload|paste|append|include|print|quote|share|leak)"
DESTINATION = r"(\bto\s+[\w.+-]+@[\w-]+\.\w|https?://)"


TOOL_CALL = (r"\b\w*(tool|function)_?calls?[\"']?\s*(=>|:|=)\s*[\[{(]|"
             r"[\"']role[\"']\s*:\s*[\"'](system|assistant|tool|developer|function)[\"']")


def _signals(*pairs: tuple[float, str]) -> tuple[tuple[float, re.Pattern[str]], ...]:
    return tuple((w, re.compile(p, re.I | re.M)) for w, p in pairs)


# Who the text speaks to: only the strongest of these counts, and none reaches the threshold.
ADDRESS = _signals(
    (2.0, rf"\bto you,? (the |an? |my |dear )?{READER}\b|\b(dear|hey|hi|hello|greetings|"
          rf"attention),?\s+(the |all |any |every |fellow )?{READER}\b|"
          rf"\bif you('re| are) an? (\w+[ -])?{READER}\b|\bas an? (ai|language model|llm),? you\b"),
    (2.0, rf"\b(note|message|notice|instructions?|reminder|memo|hint|request)s? (for|to) (the |"
          rf"all |any |every )?(\w+[ -]){{0,2}}{READER}\b|\b(any|every|all|each) (\w+[ -]){{0,2}}"
          rf"{READER} (reading|processing|parsing|summari[sz]ing|scanning|touching|answering|"
          rf"handling|driving|that (reads?|process|summari|answer))"),
    (2.0, rf"(^\W{{0,3}}|[.!;]\s+){READER},\s|\b(TODO|FIXME|NOTE)\((\w+[ -])?{READER}\)"),
    (1.5, rf"\b(for|to) (the |all |any |every )?(\w+[ -]){{0,2}}{READER}\b|"
          rf"\b{READER}( (that|which|who)\b[^.,;:]{{0,40}})? (must|should|shall|are required|"
          rf"is required|need to|needs to|have to)\b"),
)
# What the text tries to make the reader do: these add up.
CHANGE = _signals(
    # overriding the user or the system ("iunstructions": typos do not hide it)
    (3.0, r"\b(ignore|disregard|forget|override)s?\b.{0,30}\b(previous|prior|above|earlier|"
          r"preceding|original|initial|system|your|the user'?s?)\b.{0,20}\b(\w*structions?|"
          r"prompts?|messages?|question|rules|directions|guidelines|tasks?|context)\b|"
          r"\b(ignore|disregard|forget) (everything|all) (above|before|previously|prior|else)\b"),
    (3.0, r"\b(your|the|my) (new|real|actual|true) (task|instructions?|priority|role|goal|"
          r"objective|job) (is|are|now)\b|\bnew (task|instructions?)\b[^.:]{0,20}:|"
          r"\bthis instruction overrides\b"),
    (1.5, r"\byou are (now )?in [\w-]+ mode\b"),
    # fake role tags and tool calls
    (3.0, r"<\|im_(start|end)\|>|<\|(system|user|assistant|endoftext)\|>|"
          r"\[/?(system|developer|assistant)([ _-]?(message|prompt|note|notice|instructions?|"
          r"override)\b[^\]]{0,30})?\](?!\(|\s*$)|"
          r"</?((system|developer)([_-](message|prompt|instructions?))?|instructions|"
          r"(tool|function)[_-]?calls?)>|^\W{0,3}#+\s*\(?\s*system(\s*:|[_ ]?(message|prompt)\b|"
          r"\s*\))|[\[(<]\s*(system|developer|admin)[ _-]?(message|prompt|note|notice|"
          r"instructions?|override)\s*[\])>]"),
    (3.0, TOOL_CALL),
    # claiming to speak for the user or the operator
    (1.5, r"\b(message|note|request|instructions?|letter) from (me|the user|your user|"
          r"your (owner|operator|developer|creator)|the (owner|operator|admin|developer))\b"),
    # redirecting the task it was given, or dictating its answer
    (2.0, rf"\bbefore (you )?(can |could |may |start to |go on to )?(solve|do|complete|finish|"
          rf"continue( with)?|proceed( with)?|work on|answer|respond to|reply to|return to|"
          rf"get (back )?to|carry out|perform|handle) (the|your|this|my|that|any) "
          rf"(\w+ )?{TASKISH}"),
    (2.0, rf"\b(the|your) {TASKISH} (that |which )?(i|the user|they|we) (gave|assigned|set|"
          rf"asked|sent) (to )?you\b|\b(your|the) (original|initial|previous|current|first|"
          rf"only|main) {TASKISH} (is|was|has|now)\b|\binstead of "
          rf"(doing |solving |completing |answering )?(the|your|my) {TASKISH}"),
    (1.5, r"\bbefore (you )?(answer|repl[yi]|respond|summari[sz]|explain|describ)\w*"),
    (1.5, r"\b(do|perform|complete|execute|follow|carry out) the following\b.{0,20}"
          r"\b(first|instead|now|immediately|before)\b|\bstrictly (adhere|follow|obey)\b"),
    (1.5, r"\b(reply|respond|answer|say)\s+(only|just|with only|with just|nothing but)\b|"
          r"\b(only|just) (reply|respond|answer)\b"),
    (1.0, r"\bafter you (do|have done|did|complete|finish|are done with) (that|this|it|so)\b|"
          r"\bstop what you('re| are) doing\b"),
    # hiding it from the user
    (1.5, r"\b(do|must|should)\s*(n'?t| not) (tell|mention|inform|reveal|show|disclose)\b|"
          r"\b(do|must|should)\s*(n'?t| not) (ask|wait)\b.{0,25}\b(user|approval|confirm\w*|"
          r"human|permission)|\bwithout (asking|telling|informing|(the )?user'?s? (approval|"
          r"consent|confirmation))\b|\bhidden from\b|\btell (nobody|no one|no-one)\b|"
          r"\bkeep (this|it) (secret|hidden|quiet)\b"),
    # sending secrets out, more so to a named destination
    (1.5, rf"{SEND}\w*\b.{{0,60}}\b{SECRET}"),
    (1.5, rf"{SEND}\w*\b.{{0,80}}({SECRET}.{{0,80}}{DESTINATION}|{DESTINATION}.{{0,80}}{SECRET})"),
    # a download piped into a shell, an encoded command to run
    (2.0, r"\b(curl|wget)\b[^|\n]{0,200}\|\s*(sudo\s+)?(ba|z|da)?sh\b|base64\s+(-d|--decode)"
          r"[^|\n]{0,40}\|\s*(ba)?sh\b|\bdecode (this |it )?(\w+ )?and (run|execute)|"
          r"source <\(curl"),
)
# How pressing it sounds: only the strongest counts, and it counts little.
URGENCY = _signals((0.5, r"\b(must|required|mandatory|immediately|right now|urgent|asap)\b"),)
TURN = re.compile(r"^\W{0,3}(user|assistant|human|system|ai)\s*:\s*", re.I)
TURN_WEIGHT = 1.5  # a chat-turn label: an address, not a change
THRESHOLD = 3.0
ESCAPE = re.compile(r"\\(\r?\n[ \t]*\\?|[nrt\"'\\/]|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2})")
HTML_CONTAINERS = {"html", "head", "body", "main", "article", "section", "div", "table", "tbody",
                   "thead", "form", "nav", "header", "footer", "aside", "span", "pre", "code",
                   "script", "style", "svg", "template", "ul", "ol", "li", "tr", "td"}
TAG_OPEN = re.compile(r"<!--|<\|im_start\|>|<([A-Za-z][\w-]{1,40})(\s[^<>]*)?>")
REDACTED = "[redacted by the harness: instruction-like text]"

# A statement of code, read without its comment: a declaration, an import, a keyword
# statement, an assignment, a call, or closing brackets.
CODE = re.compile(
    r"^\s*((pub(\([\w:]+\))?|export|public|private|protected|static|async|final|override)\s+)*"
    r"(def\s+\w+\s*\(|class\s+\w+\s*([(:{<]|$)|fn\s+\w+\s*[(<]|func\s+(\([^)]*\)\s*)?\w+\s*\(|"
    r"function\s*\*?\s*\w*\s*\(|(import|from)\s+[\w.]+(\s+import\s+[\w*, ()]+|\s+as\s+\w+)?"
    r"\s*;?\s*$|import\s*[{*]|(const|let|var|val)\s+(mut\s+)?[\w{}\[\],]+(\s*:\s*[\w<>\[\]]+)?\s*=|"
    r"(return|yield|raise|throw|await|assert|del)\b\s*([^\s\w].*|[\w.]+(\(.*\))?\s*;?)?\s*$|"
    r"(break|continue|pass|else|try|finally)\s*[:;{]?\s*$|"
    r"[A-Za-z_][\w.]*(\[[^\]]*\])*\s*(:\s*[\w.\[\]|]+(,\s*[\w.\[\]|]+)*)?\s*"
    r"([-+*/%|&^]|<<|>>|//|\*\*)?=(?!=)\s*\S|"
    r"(await\s+)?[A-Za-z_][\w.]*\([^()]*(\([^()]*\)[^()]*)*\)[;,]?\s*$|[})\]]+[;,)]*\s*$)")
HEADER = re.compile(r"^\s*(if|elif|while|for|with|except|switch|catch|match|case)\b\s*("
                    r"[\w.]+|.*(\(|==|!=|[<>]=?|\b(in|is|not|as)\b).*)[:{]\s*$")
COMMENT = re.compile(r"(^|\s)(#|//|--)\s")
LITERAL = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
RECORD_KEY = re.compile(r"[\"'][\w .-]{1,40}[\"']\s*:")


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

    A line also counts as flagged when its sentence runs on to the next line and the two
    score over the threshold together (a sentence wrapped by a YAML dump or a mail client).
    A flagged passage takes with it only what belongs to the same instruction: the rest of
    its sentence when it runs on in the same comment or quote, a lead-in line that
    introduces it with ':', everything its own trailing ':' introduces (the next paragraph,
    even past a blank line), and any comment or tag block it sits in (`<!-- … -->`,
    `<INFO> … </INFO>`). A neighbouring bullet is another item and stays; in a one-line
    record (`{"id": 7, "body": "…"}`) only the field that holds the instruction goes. Text
    with nothing flagged comes back untouched.
    """

    def __init__(self, tools: tuple[str, ...] = COMMON_TOOLS, threshold: float = THRESHOLD,
                 context: int = 8):
        self.tools = {t.lower() for t in tools}
        # A tool named like an identifier (read_file, sendMoney) is rare in prose; one named
        # by a plain word (search, fetch) counts only when written as a call.
        idents = [t for t in tools if re.search(r"[_\d]|[a-z][A-Z]", t)]
        words = [t for t in tools if t not in idents]
        self.tool_signals: tuple[tuple[float, re.Pattern[str]], ...] = ()
        self.structure = re.compile(TOOL_CALL, re.I)
        if tools:
            names = "|".join(sorted(map(re.escape, tools), key=len, reverse=True))
            # a record naming one of the agent's tools is a tool call written as data
            named = rf"[\"'](tool|name|function|tool_name)[\"']\s*:\s*[\"']({names})[\"']"
            self.structure = re.compile(rf"{TOOL_CALL}|{named}", re.I)
            self.tool_signals += ((3.0, re.compile(named, re.I)),)
        if idents:
            names = "|".join(sorted(map(re.escape, idents), key=len, reverse=True))
            self.tool_signals += (
                # a tool of this agent named in prose is rare; with arguments, rarer still
                (2.0, re.compile(rf"\b({names})\b", re.I)),
                (1.5, re.compile(rf"\b({names})\b`?\s*(:|\(|with\b|to\b|on\b|at\b|using\b|"
                                 rf"~?/|https?://|[\"'{{]|[a-z]+ )", re.I)))
        if words:
            names = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
            self.tool_signals += ((2.0, re.compile(
                rf"(?<![.\w])({names})\s*\(\s*[\"'\w]|`({names})`", re.I)),)
        self.threshold = threshold
        self.context = context

    def score(self, line: str, code: bool | None = None) -> float:
        """How instruction-like a line reads. A line of code (`code`, or decided from the line
        alone when None) is scored only on its comments and string literals."""
        if code or (code is None and is_code(line)):
            line = " ".join(_prose_of_code(line))
        turn = TURN.match(line)
        if turn is not None:  # the label is a turn, not an address to an assistant
            line = line[turn.end():]
        address = max([TURN_WEIGHT if turn else 0.0, *(w for w, rx in ADDRESS if rx.search(line))])
        change = sum(w for w, rx in CHANGE + self.tool_signals if rx.search(line))
        urgency = max((w for w, rx in URGENCY if rx.search(line)), default=0.0)
        return address + change + urgency

    def scan(self, text: str) -> Detection:
        """Find and redact instruction-like passages. Escapes are decoded for reading; the
        decoded text is returned only when something was redacted."""
        decoded = decode_escapes(text)
        lines = decoded.split("\n")
        code = _code_lines(lines)
        scores = {i: s for i, line in enumerate(lines) if (s := self.score(line, i in code)) > 0}
        units = [(i, i) for i, sc in scores.items() if sc >= self.threshold]
        units += self._wrapped(lines, scores, {i for i, _ in units}, code)
        if not units:
            return Detection(text=text, scores=scores)
        spans = _merge([self._span(lines, lo, hi, code) for lo, hi in sorted(units)])
        return Detection(text=self._redact(lines, spans), flagged=sorted({lo for lo, _ in units}),
                         redacted=[(sp.lo, sp.hi) for sp in spans], scores=scores)

    def _wrapped(self, lines: list[str], scores: dict[int, float], flagged: set[int],
                 code: set[int]) -> list[tuple[int, int]]:
        """Pairs of lines that score over the threshold only when read as one sentence."""
        out = []
        for i in sorted(scores):
            j = i + 1
            if i in flagged or j in flagged or j >= len(lines) or i in code or j in code:
                continue
            if _continues(lines[i], lines[j]) and self.score(
                    f"{lines[i].rstrip()} {_body(lines[j], _marker(lines[i]))}", False
            ) >= self.threshold:
                out.append((i, j))
        return out

    def _span(self, lines: list[str], lo: int, hi: int, code: set[int]) -> Span:
        if (part := self._field(lines, lo, hi) or self._table_cells(lines, lo, hi)
                or self._trailing_comment(lines, lo, hi)):
            return part
        # the lead-in that introduces it, the rest of its sentence in the same comment
        for _ in range(self.context):
            if lo == 0 or not _marker(lines[lo]) or not (
                    _continues(lines[lo - 1], lines[lo]) or _introduces(lines[lo - 1], lines[lo])):
                break
            lo -= 1
        for _ in range(self.context):
            if hi + 1 >= len(lines) or not _continues(lines[hi], lines[hi + 1]):
                break
            hi += 1
        if hi not in code and lines[hi].rstrip().endswith(":"):  # what the colon introduces
            while hi + 1 < len(lines) and not lines[hi + 1].strip():
                hi += 1
            while hi + 1 < len(lines) and lines[hi + 1].strip():
                hi += 1
        block = _enclosing_block(lines, lo, hi)
        if block is None:
            return Span(lo, hi)
        return Span(min(lo, block.lo), max(hi, block.hi),
                    block.head if block.lo <= lo else "", block.tail if block.hi >= hi else "")

    def _field(self, lines: list[str], lo: int, hi: int) -> Span | None:
        """In a one-line record, the part that holds the instruction: its flagged string
        fields and any tool call nested in it. None: the line is no record, or the record
        itself is the instruction (a tool call written as data)."""
        line = lines[lo]
        if lo != hi or "{" not in line or len(RECORD_KEY.findall(line)) < 2 \
                or _enclosing_block(lines, lo, hi) is not None:
            return None
        parts = [(m.start(), m.end()) for m in LITERAL.finditer(line)
                 if not line[m.end():].lstrip().startswith(":")
                 and self.score(m.group(), False) > 0.5]
        for m in self.structure.finditer(line):
            obj = _object_around(line, m.start())
            if obj is None or not line[:obj[0]].strip():
                return None
            parts.append(obj)
        if not parts:
            return None
        a, b = min(a for a, _ in parts), max(b for _, b in parts)
        if line[a] in "\"'" and line[b - 1] == line[a]:  # keep a string field's quotes
            a, b = a + 1, b - 1
        return Span(lo, hi, line[:a], line[b:])

    def _table_cells(self, lines: list[str], lo: int, hi: int) -> Span | None:
        """In a row of a markdown table, the cells that read as instructions (the row's
        other cells are data: a time, an owner), when they are one run of cells."""
        cells = _pipe_cells(lines[lo])
        rows = [_pipe_cells(lines[j]) for j in (lo - 1, lo + 1) if 0 <= j < len(lines)]
        if lo != hi or len(cells) < 3 or not any(len(r) == len(cells) for r in rows):
            return None
        flagged = [k for k, c in enumerate(cells) if self.score(c, False) > 0]
        if not flagged or flagged != list(range(flagged[0], flagged[-1] + 1)) \
                or len(flagged) == len(cells):
            return None
        line = lines[lo]
        bars = [m.start() for m in re.finditer(r"(?<!\\)\|", line)]
        return Span(lo, hi, line[:bars[flagged[0]] + 1] + " ", " " + line[bars[flagged[-1] + 1]:])

    def _trailing_comment(self, lines: list[str], lo: int, hi: int) -> Span | None:
        """On a line of content followed by a comment (`FROM node:20  # agents: ...`), the
        comment alone, when it is what reads as an instruction."""
        line = lines[lo]
        m = _comment(line)
        if lo != hi or m is None or not line[:m.start(2)].strip() \
                or self.score(line[:m.start(2)], False) >= self.threshold:
            return None
        return Span(lo, hi, line[:m.end()])

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
    outside a tag block or a record's field (kept: a record's other fields often share
    those lines)."""

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


def is_code(line: str) -> bool:
    """Is the line, without its comment, a statement of code (`def f(x):`, `x = f(y)`)?"""
    stmt = line[:m.start()] if (m := _comment(line)) is not None else line
    return bool(stmt.strip()) and bool(CODE.match(stmt))


def _code_lines(lines: list[str]) -> set[int]:
    """Lines of code: statements, and block headers (`if x:`, `for (…) {`) whose next line
    is indented deeper, so that an English sentence ending in ':' is not one."""
    out = {i for i, line in enumerate(lines) if is_code(line)}
    for i, line in enumerate(lines):
        if i not in out and HEADER.match(line):
            nxt = next((x for x in lines[i + 1:] if x.strip()), "")
            if _indent(nxt) > _indent(line) or line.rstrip().endswith("{"):
                out.add(i)
    return out


def _prose_of_code(line: str) -> list[str]:
    """What a person wrote in a line of code: its string literals and its comment."""
    m = _comment(line)
    stmt, comment = (line[:m.start()], line[m.end():]) if m is not None else (line, "")
    return [lit.group()[1:-1] for lit in LITERAL.finditer(stmt)] + [comment]


def _pipe_cells(line: str) -> list[str]:
    """The cells of a markdown table row (`| a | b |`), or [] for any other line."""
    text = line.strip()
    if not (text.startswith("|") and text.endswith("|")) or len(text) < 3:
        return []
    return re.split(r"(?<!\\)\|", text[1:-1])


def _comment(line: str) -> re.Match[str] | None:
    """The start of a trailing comment outside string literals."""
    quoted = [(m.start(), m.end()) for m in LITERAL.finditer(line)]
    return next((m for m in COMMENT.finditer(line)
                 if not any(a <= m.start(2) < b for a, b in quoted)), None)


def _object_around(line: str, pos: int) -> tuple[int, int] | None:
    """The innermost `{…}` of the line around `pos`, braces inside string literals aside."""
    quoted = [(m.start(), m.end()) for m in LITERAL.finditer(line)]
    stack: list[int] = []
    for i, ch in enumerate(line):
        if any(a <= i < b for a, b in quoted):
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            opened = stack.pop()
            if opened < pos < i:
                return opened, i + 1
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


LIST_ITEM = re.compile(r"^\s*([-*•+]\s|\d+[.)]\s)")
LIST_OR_KEY = re.compile(r"^\s*([-*•>#]|\d+[.)]\s|[\w.-]+:(\s|$))")
MARKER = re.compile(r"^\s*(#+|//+|--|;+|>+|\*)\s")


def _marker(line: str) -> str:
    """The comment, quote or log marker a line starts with (`#`, `//`, `>`, `npm ERR!`)."""
    m = MARKER.match(line)
    return m.group(1) if m else ""


def _body(line: str, marker: str) -> str:
    """The line without a leading marker shared with the line before."""
    text = line.strip()
    return text[len(marker):].strip() if marker and text.startswith(marker) else text


def _continues(line: str, following: str) -> bool:
    """Does `line` stop mid-sentence and `following` carry the sentence on, in the same
    comment or quote? A new bullet, key or paragraph is not a continuation."""
    marker = _marker(line)
    if marker != _marker(following) or LIST_ITEM.match(following):
        return False
    end = _body(line, marker).rstrip("'\"")
    nxt = _body(following, marker)
    if marker and nxt[:1].isupper():  # in a comment, a capital starts the next remark
        return False
    return bool(end) and (end[-1].isalnum() or end[-1] in ",;-") and bool(
        nxt) and not LIST_OR_KEY.match(nxt)


def _introduces(line: str, following: str) -> bool:
    """Is `line` a lead-in (`# Note for AI agents:`) to `following` in the same comment?"""
    marker = _marker(line)
    return (bool(marker) and marker == _marker(following) and not LIST_ITEM.match(line)
            and _body(line, marker).endswith(":"))


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
