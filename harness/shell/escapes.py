"""Backslash escapes decoded as the shell and its printers decode them.

`printf '\\162\\155 -rf x' | sh` runs `rm -rf x`: printf decodes octal, hex and unicode
escapes in its format (and in `%b` values), `echo -e` does in its words (dash's `echo`
always does), and bash decodes `$'…'` words wherever they stand. The parser reads the
decoded text (see `harness.shell.command.printed_text`), so a shell fed it is analysed like
any other command line.
"""

from __future__ import annotations

import re

SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
          "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
# `\NNN` (printf format, `$'…'`) or `\0NNN` (echo -e, %b), `\xHH`, `\uHHHH`, `\UHHHHHHHH`.
ESCAPE = re.compile(r"\\(0[0-7]{0,3}|[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|"
                    r"U[0-9A-Fa-f]{1,8}|c.|.)", re.S)
FIELD = re.compile(r"%(%|[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*)?)?[a-zA-Z])")


def decode_escapes(text: str, *, echo: bool = False) -> str:
    """Backslash escapes decoded: `echo` style takes octal as `\\0NNN`, printf's format and
    `$'…'` as `\\NNN`. Unknown escapes stay as written, as printf leaves them."""

    def one(m: re.Match[str]) -> str:
        body = m.group(1)
        head = body[0]
        if head in "01234567":
            digits = body[1:] if echo and head == "0" else body
            if not echo and head == "0" and len(body) == 4:
                digits, rest = body[:3], body[3:]
                return _char(int(digits, 8)) + rest
            return _char(int(digits or "0", 8))
        if head in "xuU" and len(body) > 1:
            return _char(int(body[1:], 16))
        if head == "c" and len(body) == 2:
            return _char(ord(body[1].upper()) ^ 0x40)
        return SIMPLE.get(body, "\\" + body)

    return ESCAPE.sub(one, text)


def _char(code: int) -> str:
    return "" if code == 0 or code > 0x10FFFF else chr(code)


def ansi_c(body: str) -> str:
    """The value of a `$'…'` word (its body, without the quotes)."""
    return decode_escapes(body)


def printf_output(fmt: str, values: list[str]) -> str:
    """What `printf FMT VALUES…` prints: escapes in the format decoded, `%b` values decoded
    as `echo -e` would, other fields filled in as written; the format repeats while values
    remain."""
    values = list(values)
    out = []
    while True:
        used = False
        parts = []
        pos = 0
        for m in FIELD.finditer(fmt):
            parts.append(decode_escapes(fmt[pos:m.start()]))
            pos = m.end()
            if m.group(1) == "%":
                parts.append("%")
                continue
            used = True
            value = values.pop(0) if values else ""
            parts.append(decode_escapes(value, echo=True) if m.group(1)[-1] == "b" else value)
        parts.append(decode_escapes(fmt[pos:]))
        out.append("".join(parts))
        if not values or not used:
            return "".join(out)
