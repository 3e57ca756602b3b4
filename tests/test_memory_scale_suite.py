"""The memory-scale suite on a tiny size: its figures, names and in-run baselines."""

from __future__ import annotations

import importlib

from harness.bench.registry import get_suite
from harness.bench.suite import BenchOptions


def test_memory_scale_reports_each_size_under_its_own_names(monkeypatch):
    suite = get_suite("memory-scale")
    module = importlib.import_module(type(suite).__module__)
    monkeypatch.setattr(module, "SIZES", (300, 1000))
    monkeypatch.setattr(module, "QUERIES", 20)
    result = suite.run(BenchOptions(), lambda done, total: None)
    metrics = result.metrics
    assert set(metrics["by_size"]) == {"300", "1e3"}
    row = metrics["by_size"]["1e3"]
    assert row["events"] == 1000 and row["log_mb"] >= 0
    for key in ("append_events_per_s", "index_events_per_s", "recall_p50_ms", "recall_p99_ms",
                "baseline_recall_p99_ms", "rss_mb", "reopen_s", "baseline_rebuild_s"):
        assert row[key] > 0, key
        assert metrics[f"{key}@1e3"] == row[key] and metrics[f"{key}@300"] > 0
    assert metrics["recall_p99_ms"] == row["recall_p99_ms"]  # the largest size unsuffixed
    assert row["recall_p50_ms"] <= row["recall_p99_ms"] <= row["recall_max_ms"]
    # A memory within the lexical budget is searched exactly: the bound changes nothing.
    assert row["bounded_overlap_top10"] == 1.0
