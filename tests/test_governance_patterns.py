"""The pieces the bypass checks stand on: glob intersection, brace expansion, escape
decoding as printf, echo and bash do it, and the scope each command of a line runs in."""

from pathlib import Path

import pytest

from harness.shell.escapes import decode_escapes, printf_output
from harness.shell.globs import expand_braces, glob_folder, intersects
from harness.shell.parser import parse
from harness.shell.paths import PathResolver
from harness.shell.scope import locate


@pytest.mark.parametrize(("a", "b", "meet"), [
    (".ss?/id_*", ".ssh/*", True),
    (".ssh/*.pub", ".ssh/id_rsa", False),
    (".[sa]s[hw]", ".ssh", True),
    (".[!s]sh", ".ssh", False),
    ("*/id_rsa", ".ssh/*", True),
    ("*.txt", ".netrc", False),
    ("h/**/id_rsa", "h/.ssh/*", True),
    ("h/*/**", "h/.aws/credentials", True),
    ("a/*", "a/b/c", False),
    ("a/**", "a/b/c", True),
    ("*", "*", True),
])
def test_two_globs_meet_when_some_path_matches_both(a, b, meet):
    assert intersects(a, b) is meet
    assert intersects(b, a) is meet


def test_braces_expand_to_every_word_and_leave_variables_alone():
    assert expand_braces("~/.{ssh,aws}/{id_rsa,credentials}") == [
        "~/.ssh/id_rsa", "~/.ssh/credentials", "~/.aws/id_rsa", "~/.aws/credentials"]
    assert expand_braces("${HOME}/x") == ["${HOME}/x"]
    assert expand_braces("{a,{b,c}}") == ["a", "b", "a", "c"]
    assert glob_folder("src/*") == "src" and glob_folder("*") == "." and glob_folder("a/b") == "a/b"


def test_escapes_decode_as_each_program_does():
    assert decode_escapes(r"\162\155 \x2d\u0072f") == "rm -rf"
    assert decode_escapes(r"\0162m", echo=True) == "rm"  # echo -e and %b: \0NNN
    assert decode_escapes(r"\0162m") == "\x0e2m"  # a printf format: \NNN, three digits
    assert decode_escapes(r"a\qb\\") == "a\\qb\\"
    assert printf_output(r"%s-%b\n", ["\\x41", "\\x41"]) == "\\x41-A\n"
    assert printf_output("%s\n", ["a", "b"]) == "a\nb\n"  # the format repeats
    assert printf_output("100%%", []) == "100%"


def test_each_command_runs_in_the_folder_and_with_the_variables_set_before_it(tmp_path):
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    res = PathResolver(ws, env={"HOME": str(tmp_path / "home")})
    parsed = parse("cd src; D=../..; (cd $D; touch a); touch b; pushd /tmp; popd; touch c")
    locate(parsed, res)
    where = {str(c): c.scope.cwd for c in parsed.walk()}
    assert where["touch a"] == tmp_path
    assert where["touch b"] == ws / "src"
    assert where["popd"] == Path("/tmp").resolve() and where["touch c"] == ws / "src"
    assert res.resolve("$D/x", parsed.pipelines[-1].commands[0].scope).resolved == tmp_path / "x"
