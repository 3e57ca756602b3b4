"""The pre-action gate, on hand-written cases of every kind it must tell apart."""

from __future__ import annotations

import pytest

from harness.memory import (
    Attempt,
    Fix,
    Fragile,
    Issue,
    ProjectDecision,
    ProjectMemory,
    RecordedAction,
    Supersede,
)

OLD = "def total(items):\n    return sum(items)"
BAD = "def total(items):\n    cache = {}\n    return sum(i.price for i in items)"


@pytest.fixture
def memory(tmp_path):
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add_many([
        Issue(id="i1", title="totals are wrong", files=["src/shop/cart.py"]),
        Attempt(id="a1", issue="i1", approach="sum prices with a cache",
                action=RecordedAction(tool="edit_file", args={"path": "src/shop/cart.py", "old": OLD,
                                                     "new": BAD}),
                outcome="failed", error="AssertionError: 12 != 10"),
        Attempt(id="a2", issue="i1", approach="install deps",
                action=RecordedAction(tool="run_shell", args={"command": "pip install --no-deps -e ."}),
                outcome="failed", error="build failed"),
        Fragile(id="fr1", path="/repo/migrations/0001_init.sql", reason="applied in production"),
        ProjectDecision(id="d1", title="HTTP through httpx", files=["src/net/"],
                 rule="Use httpx.Client; do not import requests."),
    ], hygiene=False)
    yield m
    m.close()


def edit(path: str, new: str = BAD, old: str = OLD) -> dict:
    return {"tool": "edit_file", "args": {"path": path, "old": old, "new": new}}


def test_gate_warns_before_repeating_a_failed_edit(memory):
    warnings = memory.check(edit("src/shop/cart.py"))
    assert [w.kind for w in warnings] == ["repeat-failure"]
    assert "a1" in warnings[0].cites and "12 != 10" in warnings[0].message


def test_gate_sees_the_same_edit_through_formatting_and_renaming(memory):
    reformatted = "def total(items):\n  memo = dict()\n  return sum( i.price for i in items )"
    # `dict()` differs from `{}`, but the renamed variable and spacing do not matter
    same = "def total(items):\n    memo={}\n    return sum(i.price for i in items)  # again"
    assert memory.check(edit("src/shop/cart.py", same))
    assert memory.check(edit("./src/shop/cart.py", reformatted))


def test_gate_matches_a_file_however_its_path_is_written(memory):
    for path in ("./src/shop/cart.py", "/repo/src/shop/cart.py", "src/shop/../shop/cart.py"):
        assert memory.check(edit(path)), path


def test_gate_is_silent_for_a_different_approach_on_the_same_file(memory):
    other = "def total(items):\n    return sum(i.price * i.qty for i in items)"
    assert memory.check(edit("src/shop/cart.py", other)) == []


def test_gate_is_silent_for_a_file_with_a_similar_name(memory):
    assert memory.check(edit("src/shop/minicart.py")) == []
    assert memory.check(edit("src/cart.py")) == []


def test_gate_never_warns_on_reads(memory):
    for path in ("src/shop/cart.py", "migrations/0001_init.sql", "src/net/client.py"):
        assert memory.check({"tool": "read_file", "args": {"path": path}}) == []


def test_gate_warns_on_a_failed_command_up_to_argument_order_and_spacing(memory):
    assert memory.check({"tool": "run_shell", "args": {"command": "pip  install -e . --no-deps"}})
    assert memory.check({"tool": "run_shell", "args": {"command": "pip install -e ."}}) == []


def test_gate_warns_when_a_fragile_file_is_changed(memory):
    warned = memory.check({"tool": "write_file", "args": {"path": "migrations/0001_init.sql",
                                                          "content": "DROP TABLE x;"}})
    assert warned and warned[0].cites == ["fr1"]
    assert memory.check({"tool": "write_file", "args": {"path": "migrations/0002_next.sql",
                                                        "content": "ALTER TABLE x;"}}) == []


@pytest.mark.parametrize("command", [
    "sed -i 's/x/y/' migrations/0001_init.sql", "sed -i -e 's/x/y/' ./migrations/0001_init.sql",
    "echo 'DROP TABLE x;' >> /repo/migrations/0001_init.sql", "rm -f migrations/*.sql",
    "cp /tmp/new.sql migrations/0001_init.sql", "cat x | tee migrations/0001_init.sql"])
def test_a_command_that_changes_a_fragile_file_warns_too(memory, command):
    warned = memory.check({"tool": "run_shell", "args": {"command": command}})
    assert [w.cites for w in warned if w.kind == "fragile"] == [["fr1"]], command


@pytest.mark.parametrize("command", [
    "cat migrations/0001_init.sql", "grep -n TABLE migrations/0001_init.sql",
    "sed 's/x/y/' migrations/0001_init.sql", "cp migrations/0001_init.sql /tmp/backup.sql",
    "sed -i 's/x/y/' migrations/0002_next.sql"])
def test_a_command_that_only_reads_a_fragile_file_does_not(memory, command):
    assert memory.check({"tool": "run_shell", "args": {"command": command}}) == []


def test_gate_warns_when_an_edit_breaks_a_decision_only_where_it_binds(memory):
    add_requests = {"tool": "edit_file", "args": {"path": "src/net/client.py", "old": "x = 1",
                                                  "new": "import requests\nx = 1"}}
    warned = memory.check(add_requests)
    assert warned and warned[0].cites == ["d1"]
    # removing the forbidden import follows the decision
    assert memory.check({"tool": "edit_file", "args": {
        "path": "src/net/client.py", "old": "import requests", "new": "import httpx"}}) == []
    # outside src/net/ the decision does not bind
    elsewhere = {**add_requests, "args": {**add_requests["args"], "path": "tools/fetch.py"}}
    assert memory.check(elsewhere) == []


def test_a_failure_stops_counting_once_superseded_or_later_redeemed(memory):
    memory.add_many([Attempt(id="a3", issue="i1", approach="sum prices with a cache",
                             action=RecordedAction(tool="edit_file", args={"path": "src/shop/cart.py",
                                                                   "old": OLD, "new": BAD}),
                             outcome="succeeded"),
                     Fix(id="f1", issue="i1", attempt="a3"),
                     Supersede(id="s1", old="a2", new="", reason="the index was down")],
                    hygiene=False)
    assert memory.check(edit("src/shop/cart.py")) == []
    assert memory.check({"tool": "run_shell", "args": {"command": "pip install --no-deps -e ."}}) == []


def test_a_superseded_decision_no_longer_binds(memory):
    memory.add(Supersede(id="s2", old="d1", reason="requests is fine now"), hygiene=False)
    assert memory.check({"tool": "edit_file", "args": {
        "path": "src/net/client.py", "old": "x = 1", "new": "import requests\nx = 1"}}) == []


CLAMP = "def clamp(x, lo, hi):\n    return max(lo, min(x, lo))\n"


@pytest.fixture
def clamp_memory(tmp_path):
    """Two failed fixes of clamp() whose tokens are those of the right fix, reordered."""
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add_many([Issue(id="i1", title="clamp is wrong", files=["bounds.py"])] + [
        Attempt(id=f"a{n}", issue="i1", approach=new, outcome="failed", error="AssertionError",
                action=RecordedAction(tool="edit_file", args={"path": "bounds.py",
                                                     "old": "max(lo, min(x, lo))", "new": new}))
        for n, new in enumerate(["min(lo, max(x, hi))", "max(hi, min(x, lo))"], 1)],
        hygiene=False)
    yield m
    m.close()


def fix(new: str, old: str = "max(lo, min(x, lo))") -> dict:
    return {"tool": "edit_file", "args": {"path": "bounds.py", "old": old, "new": new}}


def test_reordered_but_different_expressions_are_different_approaches(clamp_memory):
    assert clamp_memory.check(fix("max(lo, min(x, hi))")) == []
    assert clamp_memory.check(fix("min(hi, max(x, lo))")) == []
    (warned,) = clamp_memory.check(fix("min( lo,max(x,hi) )  # try again"))
    assert warned.cites[0] == "a1"


def test_the_same_edit_through_a_temporary_or_renamed_variables_still_warns(tmp_path):
    old = "    for line in r:\n        out.append(line)"
    failed = "    for line in r:\n        out.append(line.strip().lower())"
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add(Attempt(id="a1", approach="normalise lines", outcome="failed", error="x",
                  action=RecordedAction(tool="edit_file", args={"path": "read.py", "old": old,
                                                       "new": failed})), hygiene=False)
    pulled_out = "    for line in r:\n        clean = line.strip().lower()\n        out.append(clean)"
    renamed = "    for row in reader:\n        out.append(row.strip().lower())"
    for new in (pulled_out, renamed):
        assert [w.cites[0] for w in m.check({"tool": "edit_file", "args": {
            "path": "read.py", "old": old, "new": new}})] == ["a1"], new
    # calling another function is another idea: only names the edit defines are renamed
    m.add(Attempt(id="a2", approach="transliterate", outcome="failed", error="x",
                  action=RecordedAction(tool="edit_file", args={
                      "path": "read.py", "old": old, "new": old.replace("(line)", "(unidecode(line))")})),
          hygiene=False)
    assert m.check({"tool": "edit_file", "args": {
        "path": "read.py", "old": old, "new": old.replace("(line)", "(slugify(line))")}}) == []
    m.close()


def test_floor_division_is_code_not_a_comment_in_python(tmp_path):
    old = "return xs[len(xs) // 2]"
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add(Attempt(id="a1", approach="upper median", outcome="failed", error="x",
                  action=RecordedAction(tool="edit_file", args={"path": "stats.py", "old": old,
                                                       "new": "return xs[len(xs) // 2 - 1]"})),
          hygiene=False)
    assert m.check({"tool": "edit_file", "args": {
        "path": "stats.py", "old": old, "new": "return xs[len(xs) // 2 + 1]"}}) == []
    assert m.check({"tool": "edit_file", "args": {
        "path": "stats.py", "old": old, "new": "return xs[len(xs)//2-1]"}})
    m.close()


def test_undoing_a_failed_edit_is_not_repeating_it(memory):
    revert = edit("src/shop/cart.py", new=OLD, old=BAD)
    assert memory.check(revert) == []
    # nor is a recorded failed undo a failure of its own: the text it restores is the start
    memory.add(Attempt(id="a9", issue="i1", approach="undo a1", outcome="failed",
                       action=RecordedAction(**revert), error="AssertionError"), hygiene=False)
    assert memory.check(revert) == []
    assert memory.check(edit("src/shop/cart.py"))[0].cites[0] == "a1"


def test_summary_keeps_a_failed_approach_after_its_issue_was_fixed_another_way(memory):
    good = "def total(items):\n    return sum(i.price * i.qty for i in items)"
    memory.add_many([Attempt(id="a3", issue="i1", approach="price times quantity",
                             outcome="succeeded",
                             action=RecordedAction(**edit("src/shop/cart.py", good))),
                     Fix(id="f1", issue="i1", attempt="a3")], hygiene=False)
    assert not memory.projection.open_issues()
    text = memory.summary(400)
    line = next(ln for ln in text.splitlines() if "[a1]" in ln)
    assert "failed" in line and "sum prices with a cache" in line and "12 != 10" in line
    assert "[a3]" not in text  # a success is not a warning
    assert memory.check(edit("src/shop/cart.py"))[0].cites[0] == "a1"


def test_a_fragile_directory_covers_every_file_under_it(tmp_path):
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add(Fragile(id="fr9", path="./third_party/zlib/", reason="patched upstream copy"),
          hygiene=False)
    for path in ("third_party/zlib/inflate.c", "/repo/third_party/zlib/contrib/x.h"):
        (warned,) = m.check({"tool": "write_file", "args": {"path": path, "content": "x"}})
        assert warned.kind == "fragile" and warned.cites == ["fr9"], path
    # a sibling whose name starts the same is not under it; reading is always fine
    assert m.check({"tool": "write_file", "args": {"path": "third_party/zlibng/a.c",
                                                   "content": "x"}}) == []
    assert m.check({"tool": "read_file", "args": {"path": "third_party/zlib/inflate.c"}}) == []
    m.close()


def test_a_decision_warns_on_the_code_it_names_not_on_its_ordinary_words(tmp_path):
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add(ProjectDecision(id="d7", title="clock and logging", files=["app/"],
                   rule="Never call Clock.now in services; do not log card numbers."),
          hygiene=False)
    ordinary = "class Services:\n    def charge(self, card):\n        log.info(card.numbers)\n"
    assert m.check({"tool": "write_file", "args": {"path": "app/services.py",
                                                   "content": ordinary}}) == []
    (warned,) = m.check({"tool": "write_file", "args": {"path": "./app/services.py",
                                                        "content": "t = Clock.now()\n"}})
    assert warned.kind == "decision" and warned.cites == ["d7"]
    assert "Clock.now" in warned.message
    m.close()


def test_a_failed_command_matches_however_the_paths_in_its_flags_are_written(tmp_path):
    m = ProjectMemory(tmp_path / "mem", workspace="/repo", record=False)
    m.add(Attempt(id="a5", approach="apply staging", outcome="failed", error="lock held",
                  action=RecordedAction(tool="run_shell", args={
                      "command": "terraform -chdir=./infra/staging apply -auto-approve"})),
          hygiene=False)
    for command in ("terraform apply -auto-approve -chdir=infra/staging",
                    "terraform -chdir=/repo/infra/staging apply -auto-approve"):
        (warned,) = m.check({"tool": "run_shell", "args": {"command": command}})
        assert warned.cites == ["a5"], command
    assert m.check({"tool": "run_shell", "args": {
        "command": "terraform -chdir=./infra/prod apply -auto-approve"}}) == []
    m.close()
