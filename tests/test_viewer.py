"""The HTML trajectory viewer, on real runs of the reference agent: every step, the diffs,
the decisions and their reasons, untrusted text that never runs, and the pages as headless
Chromium renders them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

from harness import Agent, ScriptedModel
from harness.events import MemoryRecorded, ModelCalled, SkillsRouted, Trajectory
from harness.governance import FunctionVerifier, Policy, PolicyGovernor, Rule
from harness.memory import ProjectMemory
from harness.skills import LexicalRouter, SkillLibrary
from harness.state import Budget
from harness.viewer import render_run, write_html, write_index

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Untrusted text that would act if it reached the page as HTML.
SKILLS = Path(__file__).resolve().parents[1] / "skills"
PAYLOAD = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
BAD_FIX = {"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "a * b"}}
TEST = "python -B -c \"from calc import add; assert add(2, 3) == 5, 'add is wrong'\""


def make_project(ws: Path) -> Path:
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    return ws


def fixing_run(tmp_path: Path) -> Trajectory:
    """Reads, edits, runs a shell command that prints the payload, and answers; a grader
    checks the answer."""
    ws = make_project(tmp_path / "ws")
    script = [{"tool": "read_file", "args": {"path": "calc.py"}},
              {"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "a + b"}},
              {"tool": "run_shell", "args": {"command": f"printf '%s' '{PAYLOAD}'"}},
              "fixed add"]
    grader = FunctionVerifier(lambda action, result, state: (True, "add(2, 3) is 5"),
                              name="add-works")
    router = LexicalRouter(SkillLibrary([SKILLS]))
    return Agent(ScriptedModel(script), workspace=ws, graders=[grader], router=router,
                 record_requests=True).run("fix the failing add in calc.py")


def refused_run(tmp_path: Path) -> Trajectory:
    ws = make_project(tmp_path / "ro")
    rule = Rule(id="no-writes", effect="deny", tools=["write_file"], reason="read-only task")
    script = [{"tool": "write_file", "args": {"path": "calc.py", "content": "x = 1\n"}}, "gave up"]
    return Agent(ScriptedModel(script), workspace=ws,
                 governor=PolicyGovernor(Policy(rules=[rule]))).run("look at calc.py")


def warned_run(tmp_path: Path) -> Trajectory:
    """A second session repeats a fix that memory recorded as failed: the gate warns."""
    ws = make_project(tmp_path / "mem")
    root = ws / ".harness" / "memory"
    Agent(ScriptedModel([BAD_FIX, {"tool": "run_shell", "args": {"command": TEST}}, "gave up"]),
          memory=ProjectMemory(root), workspace=ws).run("fix it")
    make_project(ws)
    return Agent(ScriptedModel([BAD_FIX, "done"]), memory=ProjectMemory(root),
                 workspace=ws).run("fix it")


def steps_of(trajectory: Trajectory) -> list[int]:
    return sorted({e.step for e in trajectory if e.type not in ("task_started", "task_finished")})


def test_a_run_page_shows_task_outcome_every_step_diff_and_grader(tmp_path):
    trajectory = fixing_run(tmp_path)
    page = render_run(trajectory)
    assert "fix the failing add in calc.py" in page and "final answer" in page
    assert trajectory.finished.status == "success" and ">success<" in page
    for step in steps_of(trajectory):
        assert f'id="step-{step}"' in page
    assert '<div class="del">-    return a - b</div>' in page
    assert '<div class="add">+    return a + b</div>' in page
    assert "grader</span><b>add-works</b> passed" in page and "add(2, 3) is 5" in page
    for section in ("system", "task", "tools", "history"):
        assert f"</i>{section} " in page  # the context manifest's legend
    assert f"{trajectory.finished.tokens:,}" in page


def test_skills_routed_and_the_recorded_request_are_shown(tmp_path):
    trajectory = fixing_run(tmp_path)
    routed = trajectory.of_type(SkillsRouted)[0]
    page = render_run(trajectory)
    assert f"loaded <b>{', '.join(routed.loaded)}</b>" in page and routed.loaded
    first = trajectory.of_type(ModelCalled)[0].request
    assert f"request: {len(first.messages)} message(s)" in page
    assert escape(first.messages[0].content.splitlines()[0]) in page  # the system prompt


def test_a_run_stopped_by_its_budget_says_so(tmp_path):
    ws = make_project(tmp_path / "ws")
    script = [{"tool": "read_file", "args": {"path": "calc.py"}}] * 3
    trajectory = Agent(ScriptedModel(script), workspace=ws,
                       budget=Budget(max_steps=1)).run("read forever")
    end = trajectory.finished
    page = render_run(trajectory)
    assert end.status == "stopped"
    assert '<span class="badge b-stopped">stopped</span>' in page
    assert f'<span id="reason">{escape(end.reason)}</span>' in page


def test_untrusted_text_is_escaped_and_never_raw(tmp_path):
    page = render_run(fixing_run(tmp_path))
    assert PAYLOAD not in page and "<img" not in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert page.count("<script") == 1  # the page's own


def test_a_write_after_an_edit_is_diffed_against_the_edited_file(tmp_path):
    ws = make_project(tmp_path / "ws")
    script = [{"tool": "edit_file", "args": {"path": "calc.py", "old": "a - b", "new": "a + b"}},
              {"tool": "write_file", "args": {"path": "calc.py",
                                              "content": "def add(a, b):\n    return b + a\n"}},
              {"tool": "write_file", "args": {"path": "notes.txt", "content": "new\n"}}, "done"]
    page = render_run(Agent(ScriptedModel(script), workspace=ws).run("tidy calc.py"))
    assert page.count('<div class="del">-    return a - b</div>') == 1
    assert '<div class="del">-    return a + b</div>' in page  # what the write replaced
    assert '<div class="add">+    return b + a</div>' in page
    assert '<div class="add">+new</div>' in page and "is not in the record" not in page


def test_a_refused_call_shows_the_rule_and_its_reason(tmp_path):
    trajectory = refused_run(tmp_path)
    page = render_run(trajectory)
    assert re.search(r"<b>deny</b> \[no-writes\] read-only task", page)
    assert ">refused<" in page and "refused by policy (no-writes): read-only task" in page
    assert (tmp_path / "ro" / "calc.py").read_text().startswith("def add")


def test_gate_warnings_from_project_memory_are_shown_with_their_citations(tmp_path):
    trajectory = warned_run(tmp_path)
    (warned,) = [e for e in trajectory if e.type == "gate_warned"]
    page = render_run(trajectory)
    warning = warned.warnings[0]
    assert "gate " + warning.severity in page and "[repeat-failure]" in page
    assert f"cites {warning.cites[0]}" in page
    assert escape(warning.message) in page
    for recorded in trajectory.of_type(MemoryRecorded):
        assert escape(recorded.summary) in page and recorded.memory_ids[0] in page


def test_corrupt_lines_are_skipped_and_named_and_the_file_is_left_as_it_was(tmp_path):
    path = fixing_run(tmp_path).write(tmp_path / "run.jsonl")
    with path.open("a") as fh:
        fh.write('{"type": "tool_finished", "call_id": 3\n')
    before = path.read_bytes()
    lines = len(before.splitlines())
    out = write_html(path, tmp_path / "run.html")
    page = out.read_text()
    assert f"run.jsonl line {lines}: " in page and "could not be read" in page
    assert path.read_bytes() == before


def test_an_index_links_every_run_with_status_steps_and_tokens(tmp_path):
    runs = tmp_path / "runs"
    fixed, refused = fixing_run(tmp_path), refused_run(tmp_path)
    fixed.write(runs / "fix.jsonl")
    refused.write(runs / "suite" / "refused.jsonl")
    (runs / "broken.jsonl").write_text("not json\n")
    index = write_index(runs, tmp_path / "pages")
    page = index.read_text()
    assert '<a href="fix.html">fix.jsonl</a>' in page
    assert '<a href="suite/refused.html">suite/refused.jsonl</a>' in page
    assert "1 bad line(s)" in page  # broken.jsonl, still listed
    row = re.search(r"fix\.jsonl</a></td><td class=\"task\">fix the failing add in calc.py</td>"
                    r"<td>(.*?)</td><td class=\"num\">(\d+)</td>"
                    r"<td class=\"num\">([\d,]+)</td>", page)
    assert row and ">success<" in row[1]
    assert int(row[2]) == fixed.finished.steps and row[3] == f"{fixed.finished.tokens:,}"
    nested = (tmp_path / "pages" / "suite" / "refused.html").read_text()
    assert 'href="../index.html"' in nested and "no-writes" in nested


def test_harness_view_html_writes_a_page_and_an_index(tmp_path):
    path = fixing_run(tmp_path).write(tmp_path / "runs" / "run.jsonl")
    cli = [sys.executable, "-m", "harness", "view"]
    one = subprocess.run([*cli, str(path), "--html", str(tmp_path / "run.html")],
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, one.stderr
    assert "fix the failing add in calc.py" in (tmp_path / "run.html").read_text()
    many = subprocess.run([*cli, str(tmp_path / "runs"), "--html", str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=120)
    assert many.returncode == 0, many.stderr
    assert (tmp_path / "site" / "run.html").is_file()
    assert 'href="run.html"' in (tmp_path / "site" / "index.html").read_text()
    missing = subprocess.run([*cli, str(tmp_path / "nope.jsonl"), "--html", "x.html"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "nope.jsonl: no such file" in missing.stderr


# ---- the pages in a real browser ----

def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (chromium or chromium-browser): the pages are "
                "not opened in a browser")


def dump_dom(page: Path, tmp_path: Path) -> str:
    """The DOM of `page` after headless Chromium loaded it and ran its scripts."""
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom",
         page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_chromium_renders_every_step_and_runs_none_of_the_untrusted_text(tmp_path):
    trajectory = fixing_run(tmp_path)
    dom = dump_dom(write_html(trajectory, tmp_path / "run.html"), tmp_path)
    rendered = re.findall(r'<details class="step" id="step-(\d+)" open="">', dom)
    assert [int(n) for n in rendered] == steps_of(trajectory)
    assert "<title>run " in dom and "pwned" not in dom.split("</title>")[0]
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert len(re.findall(r"<script>", dom)) == 1 and "<img" not in dom


def test_chromium_opens_the_index_and_each_run_it_links(tmp_path):
    runs = tmp_path / "runs"
    refused_run(tmp_path).write(runs / "refused.jsonl")
    warned_run(tmp_path).write(runs / "warned.jsonl")
    index = write_index(runs, tmp_path / "pages")
    dom = dump_dom(index, tmp_path)
    links = re.findall(r'<a href="([^"]+)">', dom)
    assert links == ["refused.html", "warned.html"]
    for link in links:
        page = dump_dom(index.parent / link, tmp_path)
        assert '<a href="index.html">← all runs</a>' in page and 'class="step"' in page
