"""`harness skills list | validate | route`, run as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "HARNESS_SKILLS_HOME": str(cwd / "no-user-skills")}
    return subprocess.run([str(Path(sys.executable).with_name("harness")), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def write(root: Path, name: str, front: str, body: str = "# Steps\nDo it.\n") -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "SKILL.md").write_text(f"---\n{front}---\n{body}")


def test_list_validate_and_route_from_the_shell(tmp_path):
    root = tmp_path / "skills"
    write(root, "csv-report", "name: csv-report\ndescription: Summarise CSV files into a report.\n")
    write(root, "broken", "name: broken\n")
    listed = harness("skills", "list", "--root", str(root), "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [s["name"] for s in data["skills"]] == ["csv-report"]
    assert data["problems"][0]["message"] == "front matter has no 'description'"

    validated = harness("skills", "validate", str(root), cwd=tmp_path)
    assert validated.returncode == 1
    assert "skills/broken/SKILL.md line 3: front matter has no 'description'" in validated.stdout
    assert harness("skills", "validate", str(root / "csv-report"), cwd=tmp_path).returncode == 0

    routed = harness("skills", "route", "turn this csv into a summary report", "--root", str(root),
                     "--json", cwd=tmp_path)
    assert routed.returncode == 0, routed.stderr
    out = json.loads(routed.stdout)
    assert out["candidates"][0][0] == "csv-report" and out["tokens"] > 0
    assert "- csv-report: Summarise CSV files into a report." in out["section"]


def test_project_skills_override_shipped_ones_by_default(tmp_path):
    write(tmp_path / "skills", "git-hygiene",
          "name: git-hygiene\ndescription: Our own house rules for commits.\n")
    listed = json.loads(harness("skills", "list", "--json", cwd=tmp_path).stdout)
    by_name = {s["name"]: s for s in listed["skills"]}
    assert by_name["git-hygiene"]["summary"] == "Our own house rules for commits."
    assert len(by_name["git-hygiene"]["overrides"]) == 1
    assert "pandas-analysis" in by_name  # shipped skills are found from any directory


def test_bad_input_exits_2_with_one_line(tmp_path):
    result = harness("skills", "route", "anything", "--root", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("not a directory")
    result = harness("skills", "route", "x", "--router", "model", cwd=tmp_path)
    assert result.returncode == 2 and "needs --model" in result.stderr
