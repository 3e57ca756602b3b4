"""The one change made to upstream bytes after download: renaming a SKILL.md whose name
collides with another collection's (both `anthropics/skills` and `getsentry/skills` ship a
`brand-guidelines`)."""

from __future__ import annotations

import re

from harness.errors import DataError


def rename_skill(data: bytes, new_name: str, collection: str) -> bytes:
    """`data` (a SKILL.md) with its front-matter `name:` set to `new_name` and, as the
    Apache-2.0 licence asks of a changed file, a closing comment saying what changed."""
    text = data.decode("utf-8")
    match = re.match(r"---\r?\n(?:.*\r?\n)*?name:[ \t]*(\S+)[ \t]*\r?\n", text)
    if match is None:
        raise DataError(f"{collection} SKILL.md for '{new_name}': no 'name:' in its front matter")
    old_name = match.group(1).strip("'\"")
    start, end = match.span(1)
    text = text[:start] + new_name + text[end:]
    note = (f"<!-- Modified for this benchmark corpus: front-matter name changed from "
            f"\"{old_name}\" to \"{new_name}\" (name collision between collections); otherwise "
            f"verbatim from {collection}. See ../../SOURCE.md. -->\n")
    return (text + ("" if text.endswith("\n") else "\n") + "\n" + note).encode("utf-8")
