"""What the command-line front ends share: exit statuses, `UsageError`, reading a
trajectory given on the command line, and making a model from `--model`.

`harness.cli` and every `harness.*.cli` import these from here, so no command module
imports another.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.events import Trajectory
    from harness.llm.base import Model

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

MAX_WARNINGS = 5
"""Unreadable lines of a trajectory reported one by one; the rest are counted."""


class UsageError(Exception):
    """Bad command-line input; printed as one line, exit status 2."""


def make_model(spec: str) -> Model:
    """`scripted:FILE` for a scripted model, anything else is a litellm model string."""
    from harness.llm.base import ModelError
    from harness.llm.litellm_model import LiteLLMModel
    from harness.llm.scripted import ScriptedModel

    if spec.startswith("scripted:"):
        try:
            return ScriptedModel.from_file(spec.removeprefix("scripted:"))
        except ModelError as exc:
            raise UsageError(str(exc)) from exc
    from harness.llm.credentials import CredentialsError

    model = LiteLLMModel(spec)
    try:
        model.check_credentials()  # known from the environment: say so before anything runs
    except CredentialsError as exc:
        raise UsageError(str(exc)) from exc
    return model


def read_trajectory(path: str | Path) -> Trajectory:
    """The trajectory at `path`; unreadable lines are reported on stderr (the first
    `MAX_WARNINGS` one by one) and skipped. `UsageError` when there is no such file or
    not one readable event."""
    from harness.events import Trajectory, TrajectoryReadWarning

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: no such file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrajectoryReadWarning)
        trajectory = Trajectory.read(p)
    problems = trajectory.problems
    for problem in problems[:MAX_WARNINGS]:
        print(f"warning: skipped {problem}", file=sys.stderr)
    if len(problems) > MAX_WARNINGS:
        print(f"warning: ... and {len(problems) - MAX_WARNINGS} more unreadable line(s)",
              file=sys.stderr)
    if not trajectory.events:
        raise UsageError(f"{path}: no readable events (is it a trajectory?)")
    return trajectory
