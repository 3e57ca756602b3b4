"""The notebooks in notebooks/ run top to bottom, offline, and show what they teach; the
repository keeps them with their outputs cleared."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def execute(path: Path, cwd: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def text_of(nb: nbformat.NotebookNode) -> str:
    """Printed text and the plain-text form of displayed objects (rich renders the console
    view as display data in a kernel), without colour codes."""
    parts = [o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs(nb)]
    return ANSI.sub("", "".join(p if p.endswith("\n") else p + "\n" for p in parts))


def number(pattern: str, text: str) -> list[float]:
    match = re.search(pattern, text)
    assert match, f"no line matching {pattern!r} in:\n{text}"
    return [float(g) for g in match.groups()]


def shows_walkthrough(nb, text):
    assert "answered final answer (not checked) 5" in text
    assert "reproduced: True" in text
    assert "deny" in text


def shows_quickstart(nb, text):
    assert "status: answered | steps: 5" in text
    assert "calc.py now: return a + b" in text
    assert "→ edit_file(" in text and "answered: final answer (not checked)" in text  # the view
    assert re.search(r"honest, verified: success\n", text)
    assert re.search(r"lazy, unchecked: answered\n", text)
    assert re.search(r"lazy, graded: +failed\n", text)
    assert "no live model named" in text  # the live cell stays idle offline


def shows_custom_component(nb, text):
    assert "status: answered / answered" in text
    default, mine = number(r"input tokens over the run: (\d+) vs (\d+)", text)
    assert mine < default
    assert re.search(r"errors\+recent +strategy='errors\+recent' +note: .*left out 3", text)
    rows = re.findall(r"^ +(\d+) \| +(\d+) +(\d+) \| +(\d+) +(\d+)$", text, re.M)
    assert len(rows) == 7  # one manifest per model call, for each constructor
    first, last = rows[0], rows[-1]
    assert first[1:3] == first[3:5]  # nothing to leave out before any step
    assert int(last[3]) < int(last[1])  # the last history: errors+recent keeps less


def shows_ablation(nb, text):
    assert "results: out/results.json" in text
    base, ablated, delta = number(
        r"repeated_failed_fix_count +([\d.]+) +([\d.]+) +([+-][\d.]+)", text)
    assert base < ablated and delta == ablated - base
    base_steps, ablated_steps, _ = number(r"steps_to_success +([\d.]+) +([\d.]+) +([+-][\d.]+)",
                                          text)
    assert base_steps < ablated_steps
    assert number(r"(?m)^success +([\d.]+) +([\d.]+)", text) == [1.0, 1.0]
    assert number(r"(?m)^gate +repeated ([\d.]+), session-2 steps ([\d.]+), gate warnings ([\d.]+)",
                  text)[2] > 0
    assert "memory=none cell equals baseline_no_memory: True" in text
    assert any("image/png" in o.get("data", {}) for o in outputs(nb)), "no plot was drawn"


def shows_embedding(nb, text):
    first, second = text.split("session 2\n")
    assert "refused" not in first and "edit_file('calc.py', 'a - b', 'b - a') -> edited" in first
    assert re.search(r"edit_file\('calc.py', 'a - b', 'b - a'\) -> refused by project memory: "
                     r"repeats failed attempt a-\w+", second)
    assert "run_tests() -> passed" in second and "answer: Fixed" in second
    log = re.findall(r"^(a-\w+) attempt (\w+) replace '(.*)' with '(.*)'$", second, re.M)
    assert [(outcome, new) for _, outcome, _, new in log] == [("failed", "b - a"),
                                                              ("succeeded", "a + b")]
    assert f"repeats failed attempt {log[0][0]}" in second  # the warning cites the attempt


SHOWS = {"walkthrough.ipynb": shows_walkthrough, "quickstart.ipynb": shows_quickstart,
         "custom_component.ipynb": shows_custom_component, "ablation.ipynb": shows_ablation,
         "embedding.ipynb": shows_embedding}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_what_it_teaches(path, tmp_path, monkeypatch):
    shows = SHOWS.get(path.name)
    assert shows, f"{path.name}: say what it must show in SHOWS in tests/test_notebooks.py"
    monkeypatch.delenv("HARNESS_NOTEBOOK_MODEL", raising=False)  # never a live model here
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' scratch folders go here too
    nb = execute(path, tmp_path)
    errors = [o for o in outputs(nb) if o.get("output_type") == "error"]
    assert not errors
    shows(nb, text_of(nb))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_with_its_outputs_cleared(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} keep outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_that_uses_litellm_sets_the_local_cost_map_first(path):
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    if not any("litellm" in src.lower() for src in code):
        return
    first = code[0]
    assert "LITELLM_LOCAL_MODEL_COST_MAP" in first, \
        f"{path.name}: set LITELLM_LOCAL_MODEL_COST_MAP in the first code cell"
    setting = first.index("LITELLM_LOCAL_MODEL_COST_MAP")
    imports = [m.start() for m in re.finditer(r"^(from|import) (harness|litellm)", first, re.M)]
    assert all(setting < i for i in imports), f"{path.name}: set it before importing"


def test_there_are_the_notebooks_the_readme_lists():
    assert {p.name for p in NOTEBOOKS} >= set(SHOWS)
