"""The README's quickstart runs as written."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs_offline(tmp_path, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    quickstart = blocks[0]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(quickstart, "README quickstart", "exec"), {})
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out.strip() == "answered 4"
    assert "a + b" in (tmp_path / "demo" / "calc.py").read_text()
    assert (tmp_path / "run.jsonl").exists()


def test_readme_composition_example_builds_an_agent(tmp_path):
    block = next(b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
                 if "PolicyGovernor" in b)
    (tmp_path / "demo").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace: dict = {}
        exec(compile(block, "README composition", "exec"), namespace)
    finally:
        os.chdir(cwd)
    agent = namespace["agent"]
    assert type(agent.context).__name__ == "BudgetedContext"
    assert type(agent.memory).__name__ == "ProjectMemory"
    assert type(agent.governor).__name__ == "PolicyGovernor"
