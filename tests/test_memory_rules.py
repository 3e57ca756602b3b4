"""Reading a decision's rule: what it forbids is the code its grammar points at."""

from __future__ import annotations

import pytest

from harness.memory.rules import parse_rule, violations


def forbidden(rule: str) -> list[str]:
    return [t.text for t in parse_rule(rule).forbidden]


@pytest.mark.parametrize(("rule", "terms"), [
    ("celery is no longer used and must not be added back.", ["celery"]),
    ("arrow must not be imported; dates use pendulum.", ["arrow"]),
    ("Use pathlib instead of os.path.", ["os.path"]),
    ("Validate with pydantic, not marshmallow, at the edges.", ["marshmallow"]),
    ("In workers, time.sleep is forbidden.", ["time.sleep"]),
    ("Never call eval() or exec() on input.", ["eval()", "exec()"]),
    ("We no longer vendor libxml2; link the system copy.", ["libxml2"]),
    ("Avoid importing pickle anywhere.", ["pickle"]),
    ("The `LegacyCart` class is deprecated.", ["LegacyCart"]),
    ("Services never write to sys.stderr directly (no print_exc()).",
     ["sys.stderr", "print_exc()"]),
    # "commands calls" is a description; a bare name in a list of code is a name
    ("no os.system, subprocess or commands calls", ["os.system", "subprocess"]),
])
def test_a_prohibition_forbids_the_code_its_grammar_points_at(rule, terms):
    assert forbidden(rule) == terms


@pytest.mark.parametrize("rule", [
    "Never send card numbers to the analytics service.",
    "Do not hard-code GCP project numbers or billing accounts.",
    "Do not print customer addresses.",
    "No external queue; jobs run in process.",
    "Avoid global state.",
    "The old invoice exporter is deprecated.",
    "Do not target runtimes older than Node 18.",
    "It is slow and must not be used.",
])
def test_a_description_names_no_code_so_nothing_is_forbidden(rule):
    assert forbidden(rule) == []


def test_ordinary_words_of_a_rule_do_not_warn_in_code():
    rule = "Never call Clock.now in services; do not log payment details."
    code = "module Services\n  def payment(details)\n    log.info(details)\n  end\nend"
    assert violations(rule, "app/services/pay.rb", "", code) == []
    assert violations(rule, "app/services/pay.rb", "", "at = Clock.now") == ["Clock.now"]


def test_no_longer_negates_the_verb_not_the_next_word():
    terms = forbidden("httplib2 is no longer used and must not be added.")
    assert terms == ["httplib2"]
    assert violations("httplib2 is no longer used and must not be added.", "a.py", "",
                      "longer = 1") == []


def test_a_bare_name_is_matched_as_a_whole_name_not_inside_others():
    rule = "Use orjson, not json."
    assert violations(rule, "api.py", "", "import orjson\nct = 'application/json'\n"
                                          "payload.json()") == []
    assert violations(rule, "api.py", "", "import json") == ["json"]


def test_what_a_rule_requires_is_masked_even_without_dots():
    rule = "Create loggers with `loggerFor`; never call logger* constructors directly."
    assert forbidden(rule) == ["logger*"]
    assert violations(rule, "svc.ts", "", "const log = loggerFor('svc');") == []
    assert violations(rule, "svc.ts", "", "const log = loggerNew('svc');") == [
        "loggernew (like logger*)"]


def test_an_example_tag_stands_for_every_tag_of_its_shape():
    rule = "Reference shared workflows by commit, never by tags like @v2."
    path = ".github/workflows/build.yml"
    assert violations(rule, path, "", "uses: org/build/.github/workflows/b.yml@v7.1") == [
        "@v7.1 (like @v2)"]
    assert violations(rule, path, "", "uses: org/build@3f9c0a1d2e4b  # v7.1 pinned") == []
    # a comment naming a tag adds no tag
    assert violations(rule, path, "", "uses: org/build@3f9c0a1d2e4b  # not @v2") == []


def test_an_image_version_example_generalises_but_a_named_version_does_not():
    by_example = "Base images are pinned by digest, not by tags such as node:18."
    assert violations(by_example, "Dockerfile", "", "FROM node:20-alpine") == [
        "node:20 (like node:18)"]
    assert violations(by_example, "Dockerfile", "", "FROM node@sha256:9a8b7c") == []
    named = "Do not use cache-action@v1."
    assert violations(named, "ci.yml", "", "uses: cache-action@v3") == []
    assert violations(named, "ci.yml", "", "uses: cache-action@v1") == ["cache-action@v1"]


def test_a_code_qualifier_narrows_the_prohibition():
    without = "Never call yaml.load without Loader=SafeLoader."
    assert violations(without, "cfg.py", "", "yaml.load(f, Loader=SafeLoader)") == []
    assert violations(without, "cfg.py", "", "yaml.load(f)") == ["yaml.load"]
    together = "Avoid calling subprocess.run with shell=True."
    assert violations(together, "run.py", "", "subprocess.run(argv)") == []
    assert violations(together, "run.py", "", "subprocess.run(c, shell=True)") == [
        "subprocess.run"]


def test_with_names_the_forbidden_instrument_when_the_phrase_before_it_names_no_code():
    rule = "Never write to the console with console.log or console.error in lib/."
    assert violations(rule, "lib/a.js", "", "logger.info(x)") == []
    assert violations(rule, "lib/a.js", "", "console.error(x)") == ["console.error"]


def test_only_what_the_change_adds_counts_and_comments_are_not_code():
    rule = "Do not import pickle."
    assert violations(rule, "store.py", "import pickle", "import json") == []
    assert violations(rule, "store.py", "", "import json  # pickle was unsafe") == []
    assert violations(rule, "store.py", "import pickle", "import pickle\nimport pickle") == [
        "pickle"]


def test_a_term_confined_to_a_directory_warns_only_outside_it():
    rule = "boto3 may be used only under cloud/, never in handlers."
    assert violations(rule, "cloud/s3.py", "", "import boto3") == []
    assert violations(rule, "app/handlers.py", "", "import boto3") == ["boto3 outside cloud/"]
