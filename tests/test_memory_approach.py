"""Approach equivalence helpers: shell words with paths, and code without comments."""

from __future__ import annotations

from harness.memory.approach import command_forms, strip_comments


def same_command(a: str, b: str) -> bool:
    return bool(command_forms(a, "/repo") & command_forms(b, "/repo"))


def test_paths_are_normalised_inside_options_and_assignments():
    assert same_command("make -C ./build PREFIX=./out install",
                        "make -C build PREFIX=/repo/out install")
    assert same_command("pytest --rootdir=./tests/unit -x", "pytest -x --rootdir=tests/unit")
    assert same_command("tar --directory=/repo/dist//pkg -xf a.tar",
                        "tar -xf a.tar --directory=dist/pkg")


def test_different_paths_in_options_stay_different():
    assert not same_command("pytest --rootdir=tests/unit", "pytest --rootdir=tests/e2e")
    # a trailing slash can change what a command does (rsync), so it is kept
    assert not same_command("rsync -a --files-from=x src/ dst", "rsync -a --files-from=x src dst")


def test_urls_in_options_are_left_as_written():
    assert not same_command("pip install --index-url=https://a.example//simple pkg",
                            "pip install --index-url=https://a.example/simple pkg")


def test_comments_are_blanked_only_where_the_language_is_known():
    assert strip_comments("x = 1  # import pickle\ny = '#not'", "hash") == "x = 1   \ny = '#not'"
    assert strip_comments("a(); // b()\n/* c() */ d()", "slash") == "a();  \n  d()"
    assert strip_comments("see #3 // later", "any") == "see #3 // later"


def test_a_script_run_through_its_interpreter_is_the_script_run_directly():
    assert same_command("bash tools/release.sh --dry-run", "./tools/release.sh --dry-run")
    assert same_command("python3 scripts/migrate.py up", "/repo/scripts/migrate.py up")
    # what the interpreter runs decides: another script, or code given inline, is not it
    assert not same_command("bash tools/release.sh", "bash tools/deploy.sh")
    assert not same_command("python -m pytest tests", "pytest tests")
    assert not same_command("bash -c 'make'", "make")


def test_a_long_option_with_equals_is_the_option_with_its_value_apart():
    assert same_command("./deploy.sh --env staging --force", "deploy.sh --force --env=staging")
    assert not same_command("./deploy.sh --env staging", "./deploy.sh --env=prod")


def test_quoted_and_bare_config_scalars_and_sql_case_are_formatting():
    from harness.memory.approach import code_tokens

    assert code_tokens('name: "ci"\nkey: "deps-${{ x }}"  # cache', "config") == \
        code_tokens("name: ci\nkey: deps-${{ x }}", "config")
    assert code_tokens("SELECT id FROM users", "sql") == code_tokens("select ID from Users", "sql")
    # in code a string is not a name, and names keep their case
    assert code_tokens('x = "ci"', "hash") != code_tokens("x = ci", "hash")
    assert code_tokens("Total = total", "hash") != code_tokens("total = total", "hash")


def test_a_cluster_of_one_letter_options_is_the_options_apart():
    assert same_command("pytest tests/unit -x -q", "pytest -xq ./tests/unit")
    assert same_command("tar -x -z -f a.tgz", "tar -xzf a.tgz")
    assert not same_command("pytest -xq tests", "pytest -xv tests")
