"""The public surface: every export resolves, and `import harness` stays light."""

import subprocess
import sys

import harness


def test_every_public_name_resolves():
    missing = [name for name in harness.__all__ if getattr(harness, name, None) is None]
    assert missing == []


def test_import_harness_does_not_import_heavy_dependencies():
    code = ("import sys, harness; heavy = [m for m in ('litellm', 'numpy', 'bm25s', 'networkx', "
            "'matplotlib', 'rich', 'pydantic') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_cli_help_does_not_import_litellm():
    code = ("import sys; from harness.cli import build_parser; build_parser(); "
            "print(*(m in sys.modules for m in ('litellm', 'numpy', 'harness.memory.project', "
            "'harness.bench.config', 'harness.governance.policy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"] * 5
