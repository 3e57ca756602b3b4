"""The shell parser: what a command reads on stdin, and the code and scripts it runs."""

from harness.shell.command import stdin_text
from harness.shell.parser import embedded_commands, inline_code, parse


def commands(line):
    return [str(c) for c in parse(line).walk()]


def last(line):
    return list(parse(line).walk())[-1]


def only(line, program):
    return next(c for c in parse(line).walk() if c.program == program)


def test_here_document_body_is_kept_as_the_commands_stdin():
    cmd = only("tee out.txt <<'END'\nfirst line\nsecond line\nEND\necho done", "tee")
    assert cmd.redirects == [("<<", "first line\nsecond line\n")]
    assert stdin_text(cmd) == "first line\nsecond line\n"
    assert commands("tee out.txt <<'END'\nfirst line\nEND\necho done")[-1] == "echo done"


def test_stdin_text_comes_from_here_strings_and_printing_commands_before_a_pipe():
    assert stdin_text(only("wc -w <<< 'three little words'", "wc")) == "three little words"
    assert stdin_text(last("echo -n 'a b' | wc -c")) == "a b"
    assert stdin_text(last("printf '%s-%s\\n' x y | cat")) == "x-y\n"
    assert stdin_text(last("echo hi | tr a-z A-Z | wc")) is None  # tr's output is unknown
    assert stdin_text(last("wc < notes.txt")) is None  # a file's content is unknown


def test_each_piped_command_knows_the_one_before_it():
    first, second, third = parse("ls src | sort | head -3").walk()
    assert (first.upstream, second.upstream.program, third.upstream.program) == (
        None, "ls", "sort")
    assert parse("ls; sort").pipelines[1].commands[0].upstream is None


def test_a_script_spelled_out_on_a_shells_stdin_is_parsed_as_commands():
    assert commands("printf 'mkdir out\\ntouch out/x\\n' | sh")[-2:] == [
        "mkdir out", "touch out/x"]
    assert commands("zsh <<< 'make -j4'")[-1] == "make -j4"
    assert commands("bash -s <<'EOS'\ngit status\nEOS")[-1] == "git status"
    assert commands("echo 'ls' | bash ./setup.sh") == ["echo ls", "bash ./setup.sh"]  # a file


def test_inline_code_is_found_for_each_interpreter_form():
    assert inline_code(last("python3.12 -c 'print(2)'")) == "print(2)"
    assert inline_code(last("perl -lne 'print $1 if /v(\\d+)/' log.txt")) == \
        "print $1 if /v(\\d+)/"
    assert inline_code(last("node --eval 'console.log(1)'")) == "console.log(1)"
    assert inline_code(last("awk -F: '{print $1}' /etc/group")) == "{print $1}"
    assert inline_code(last("python3 - <<'PY'\nprint(3)\nPY")) == "print(3)\n"
    assert inline_code(last("echo 'print(4)' | python")) == "print(4)"
    assert inline_code(last("python tools/gen.py --fast")) is None
    assert inline_code(last("awk -f prog.awk data.txt")) is None


def test_command_lines_inside_code_are_found_only_when_the_code_runs_commands():
    assert embedded_commands("print('git push --force')") == []
    assert embedded_commands("import os; os.system('make clean')") == ["make clean"]
    assert embedded_commands("subprocess.call(['git', 'clean', '-fdx'])") == [
        "git clean -fdx"]
    assert commands("ruby -e 'system(\"touch /etc/motd\")'")[-1] == "touch /etc/motd"


def test_changed_paths_are_the_files_a_command_writes_or_deletes_as_written(tmp_path):
    from harness.shell.accesses import changed_paths
    from harness.shell.paths import PathResolver

    res = PathResolver(tmp_path, env={}, home=tmp_path / "home")
    assert changed_paths("sed -i -e 's/a/b/' -e 's/c/d/' ./x.yml y.yml", res) == ["./x.yml",
                                                                                  "y.yml"]
    assert changed_paths("chmod +x s.sh && chattr -i t.txt", res) == ["s.sh", "t.txt"]
    assert changed_paths("mv a.txt b/ ; cat c | tee d.log >> e.log", res) == [
        "b/", "a.txt", "e.log", "d.log"]
    assert changed_paths("grep -rn x src/ && sed 's/a/b/' f", res) == []
    assert changed_paths("echo 'unterminated", res) == []
