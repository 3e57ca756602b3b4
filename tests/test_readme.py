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
    assert capsys.readouterr().out.strip() == "success 4"
    assert "a + b" in (tmp_path / "demo" / "calc.py").read_text()
    assert (tmp_path / "run.jsonl").exists()
