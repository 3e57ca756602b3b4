"""What inline interpreter code can do (`python -c`, `node -e`, `perl -e`, ...): the calls
that delete files, run commands or use the network, the paths it names, and which of
those a policy cannot know from the code's literals."""

from __future__ import annotations

import re

from harness.governance.paths import is_secret_name
from harness.governance.shell import EXEC_CALL, STRING, STRING_LIST, string_literals

# What inline interpreter code can do that a policy cares about, by the calls it makes.
CODE_CAPABILITIES: dict[str, re.Pattern[str]] = {
    "delete files": re.compile(
        r"\b(rmtree|remove_tree|removedirs|unlink(Sync)?|rmdir(Sync)?|rmSync|rm_rf|rm_r|rimraf)"
        r"\b|\bos\.remove\b|\bfs\.rm\b|\bFileUtils\.rm\w*|\bFile\.delete\b"),
    "run commands": EXEC_CALL,
    "run generated code": re.compile(r"\b(eval|__import__)\s*\("),
    "use the network": re.compile(
        r"\b(socket|urllib\w*|urlopen|requests|httpx|aiohttp|http\.client|smtplib|ftplib|"
        r"telnetlib|paramiko|LWP|HTTP::Tiny|IO::Socket|Net::\w+|net/http|open-uri|fetch|"
        r"XMLHttpRequest|axios|curl_\w+|fsockopen)\b|\bhttps?\.(get|request)\b"),
}
# Inline code: the literal a deletion call is given (`rmtree('x'`, `unlink "x"`), an import
# of a module that runs commands, a call that runs a literal command line, and what sends.
DELETE_ARGUMENT = re.compile(r"""\s*\(?\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*[,)]?""")
MODULE_IMPORT = re.compile(r"(\bimport\s+(\w+\s*,\s*)*|\brequire\s*\(\s*['\"])$")
LITERAL_CALL = re.compile(
    rf"(subprocess\.(run|call|check_call|check_output|Popen|getoutput)|os\.(system|popen)|"
    rf"system|exec(Sync)?|spawn(Sync)?|execFileSync|popen)\s*\(\s*"
    rf"({STRING.pattern}|{STRING_LIST.pattern})\s*[,)]")
CODE_SENDS = re.compile(
    r"\b(post|put|patch|request|send|sendall|sendmail|send_message|storbinary|storlines|"
    r"upload\w*|open|readFileSync|createReadStream|read_text|read_bytes|getenv)\s*\(|"
    r"\b(data|files|json|body|headers)\s*[:=]|method\s*[:=]|\b(socket|smtplib|ftplib|"
    r"telnetlib|paramiko|environ|process\.env|ENV|IO::Socket|fsockopen|XMLHttpRequest)\b",
    re.I)


def code_capabilities(code: str) -> dict[str, str]:
    """What inline code can do (`delete files`, `use the network`, ...), each with the call
    that shows it."""
    found = {name: pattern.search(code) for name, pattern in CODE_CAPABILITIES.items()}
    return {name: m.group(0).rstrip("( ") for name, m in found.items() if m}


def code_paths(code: str) -> list[str]:
    """String literals in code that look like paths (`~/x`, `/etc/y`, `.env`, `a/b`)."""
    return [s for s in string_literals(code) if s and not re.search(r"\s", s) and (
        s[0] in "~/." or "/" in s or is_secret_name(s))]


def deleted_paths(code: str) -> list[str] | None:
    """The path literals inline code deletes (`shutil.rmtree('build')`, `fs.rmSync('dist')`),
    or None when a deletion's target is computed and cannot be known."""
    out = []
    for m in CODE_CAPABILITIES["delete files"].finditer(code):
        arg = DELETE_ARGUMENT.match(code, m.end())
        if arg is None:
            return None
        out.append(arg[1] if arg[1] is not None else arg[2])
    return out


def runs_known_commands(code: str) -> bool:
    """Does inline code run only command lines spelled out as literals (a string or a
    list of strings), which `harness.governance.shell` parses into nested commands?"""
    for m in EXEC_CALL.finditer(code):
        imported = MODULE_IMPORT.search(code[:m.start()]) and not re.match(
            r"\w*\s+as\b", code[m.end():])  # `import subprocess as sp` hides its calls
        if not imported and not LITERAL_CALL.match(code, m.start()):
            return False
    return True


def code_capabilities_unknown(code: str) -> dict[str, str]:
    """What inline code can do that the facts of the call cannot show: deletions of
    computed paths, commands not spelled out, network use that may send something (a
    method that sends, a body, files or the environment), code it generates."""
    found = code_capabilities(code)
    if "delete files" in found and deleted_paths(code) is not None:
        del found["delete files"]
    if "run commands" in found and runs_known_commands(code):
        del found["run commands"]
    if "use the network" in found and not CODE_SENDS.search(code):
        del found["use the network"]
    return found
