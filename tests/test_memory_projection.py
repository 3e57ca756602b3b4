"""The structured projection's per-issue and live views stay right as events arrive."""

from __future__ import annotations

from harness.memory.events import Attempt, Forget, Issue, Supersede
from harness.memory.projection import Projection


def test_attempts_per_issue_and_live_views_follow_retirements():
    proj = Projection()
    for event in (Issue(id="i-1", title="login fails"), Issue(id="i-2", title="slow build"),
                  Attempt(id="a-1", issue="i-1", approach="retry"),
                  Attempt(id="a-2", issue="i-2", approach="cache"),
                  Attempt(id="a-3", issue="i-1", approach="reset token"),
                  Attempt(id="a-4", approach="unfiled")):
        proj.apply(event)
    assert [a.id for a in proj.attempts("i-1")] == ["a-1", "a-3"]
    assert [a.id for a in proj.attempts()] == ["a-1", "a-2", "a-3", "a-4"]
    views = proj.attempts()
    views.clear()  # a caller's list is its own
    proj.apply(Supersede(id="s-1", old="a-1", new="a-3"))
    assert [a.id for a in proj.attempts("i-1")] == ["a-3"]
    assert [a.id for a in proj.attempts()] == ["a-2", "a-3", "a-4"]
    proj.apply(Attempt(id="a-5", issue="i-1", approach="new idea"))
    proj.apply(Forget(id="x-1", target="i-2"))
    assert [a.id for a in proj.attempts("i-1")] == ["a-3", "a-5"]
    assert [i.id for i in proj.live("issue")] == ["i-1"]
    assert [a.id for a in proj.attempts("i-2")] == ["a-2"]  # its attempts stay on record
