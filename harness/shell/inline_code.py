"""What inline interpreter code can do (`python -c`, `node -e`, `perl -e`, ...): the calls
that delete files, run commands or use the network, the paths it names, and which of
those a policy cannot know from the code's literals."""

from __future__ import annotations

import re

from harness.shell.parser import EXEC_CALL, STRING, STRING_LIST, string_literals
from harness.shell.paths import is_secret_name

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
# Calls that write files (`open(p, 'w')`, `writeFileSync`, `write_text`, `shutil.copy`, ...).
CODE_WRITES = re.compile(
    r"\b(writeFile(Sync)?|appendFile(Sync)?|createWriteStream|write_text|write_bytes|"
    r"file_put_contents|shutil\.\w+|copyFileSync|cpSync|renameSync|symlinkSync|"
    r"os\.(rename|replace|symlink|makedirs|mkdir)|mkdirSync|IO\.write|File\.write|"
    r"FileUtils\.\w+)\s*\(|"
    r"\b(open|fopen|File\.open)\s*\([^()]*(\([^()]*\)[^()]*)*,\s*['\"][wax]|"
    r"\bopen\s*\(?\s*\w+\s*,\s*['\"]\s*>")
_LIT = r"""(?:'([^'\\]*)'|"([^"\\]*)")"""
_ANY_LIT = r"""(?:'[^'\\]*'|"[^"\\]*")"""
# Where a literal is the file a call writes: `open(LIT, 'w')`, `writeFileSync(LIT`,
# `Path(LIT).write_text`, the destination of `copy(SRC, LIT)`, perl's `open(F, '>LIT')`.
WRITE_TARGETS = (
    re.compile(rf"\b(?:open|fopen|File\.open)\s*\(\s*{_LIT}\s*,\s*['\"][wax]"),
    re.compile(rf"\b(?:writeFile(?:Sync)?|appendFile(?:Sync)?|createWriteStream|"
               rf"file_put_contents|File\.write|IO\.write)\s*\(\s*{_LIT}"),
    re.compile(rf"\bPath\s*\(\s*{_LIT}\s*\)\s*\.\s*(?:write_text|write_bytes|touch|mkdir|"
               rf"open\s*\(\s*['\"][wax])"),
    re.compile(rf"\b(?:copy\w*|move|rename\w*|symlink\w*|cpSync|ln_s|cp|mv)\s*\(\s*"
               rf"{_ANY_LIT}\s*,\s*{_LIT}"),
    re.compile(r"\bopen\s*\(?\s*\w+\s*,\s*['\"]\s*>+\s*([^'\"]+)['\"]()"),
)
# Expressions for the user's home folder; the path literals after one name a file in it.
HOME_REFERENCE = re.compile(
    r"homedir\(\)|expanduser\(|Path\.home\(\)|Dir\.home|File\.expand_path\(|"
    r"(environ(\.get)?\s*[\[(]|getenv\(|ENV\[|\$ENV\{)\s*['\"]?HOME['\"]?\s*[\])}]?|"
    r"process\.env\.HOME")
# ... and inside a string (`"$ENV{HOME}/.netrc"`, `"#{ENV['HOME']}/x"`, `${os.homedir()}`).
HOME_IN_STRING = re.compile(r"""\$ENV\{['"]?HOME['"]?\}|#\{(ENV\[['"]HOME['"]\]|Dir\.home)\}|"""
                            r"\$\{(process\.env\.HOME|os\.homedir\(\))\}")
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
    """String literals in code that look like paths (`~/x`, `/etc/y`, `.env`, `a/b`), and
    the paths in the home folder code builds from it (`os.homedir() + '/.ssh/x'`,
    `Path.home() / '.ssh' / 'x'`): each run of literals after a home reference, joined."""
    literals = [HOME_IN_STRING.sub("~", s) for s in string_literals(code)]
    found = [s for s in literals if _path_like(s) and (
        s[0] in "~/." or "/" in s or is_secret_name(s))]
    for m in HOME_REFERENCE.finditer(code):
        parts = []
        for lit in string_literals(code[m.end():])[:4]:
            if not _path_like(lit) or lit == "~":
                break
            parts.append(lit.strip("/").removeprefix("~/"))
            found.append("~/" + "/".join(parts))
    return found


def _path_like(s: str) -> bool:
    return bool(s) and not re.search(r"\s", s)


def writes_files(code: str) -> bool:
    """Does inline code write files?"""
    return CODE_WRITES.search(code) is not None


def written_paths(code: str) -> list[str]:
    """The files inline code writes: literals a write call is given as its target, and
    the paths it builds in the home folder when it writes at all."""
    out = [m[1] if m[1] is not None else m[2] for p in WRITE_TARGETS for m in p.finditer(code)]
    if writes_files(code):
        home = [p for p in code_paths(code) if p.startswith("~/")]
        out += [p for p in home if HOME_REFERENCE.search(code)]
    return [p for p in out if p]


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
    list of strings), which `harness.shell.parser` parses into nested commands?"""
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
