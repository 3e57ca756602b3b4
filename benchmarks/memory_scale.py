"""memory-scale: append throughput, indexing, reopening and recall latency at scale.

Synthetic events (notes in threads with speakers, facts, issues, attempts, decisions;
words drawn from a Zipf-distributed vocabulary, seeded) are appended to a fresh memory
at 10^4 and 10^5 events (and 10^6 with `--full`). Per size: append throughput in
batches and one event at a time, index catch-up throughput, the time to reopen the
memory on its persisted index against the in-run baseline of rebuilding the index from
the log (what a memory without a persisted index pays on every start), recall latency
p50/p99 over 200 queries, and resident memory. Top-level figures are for 10^5.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.bench.suite import BenchOptions, Suite, SuiteResult
from harness.memory import ProjectMemory
from harness.memory.events import Action, Attempt, Decision, Fact, Issue, MemoryEvent, Note

SIZES = (10_000, 100_000)
FULL_SIZES = (*SIZES, 1_000_000)
QUERIES = 200
BATCH = 1_000


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux), 0 when unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


class Synth:
    """Deterministic synthetic memory events and queries."""

    def __init__(self, seed: int, vocab: int = 20_000):
        self.rng = random.Random(seed)
        syllables = ["ka", "lo", "mi", "ner", "tu", "sa", "vel", "do", "rin", "pa", "ex", "qu"]
        words = set()
        while len(words) < vocab:
            words.add("".join(self.rng.choice(syllables) for _ in range(self.rng.randint(2, 4))))
        self.words = sorted(words)
        self.weights = [1 / (r + 1) for r in range(len(self.words))]
        self.speakers = [f"Person{i}" for i in range(40)]

    def text(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=n))

    def event(self, i: int) -> MemoryEvent:
        r = self.rng.random()
        if r < 0.8:
            return Note(text=self.text(self.rng.randint(8, 25)), thread=f"t{i // 50}",
                        entities=[self.rng.choice(self.speakers)], provenance=[f"src:{i}"])
        if r < 0.9:
            return Fact(subject=self.text(2), claim=self.text(8), provenance=[f"src:{i}"])
        if r < 0.95:
            return Attempt(approach=self.text(6), outcome=self.rng.choice(["failed", "succeeded"]),
                           action=Action(tool="edit_file", args={
                               "path": f"src/m{self.rng.randint(0, 500)}.py",
                               "old": self.text(4), "new": self.text(5)}),
                           error=self.text(5), provenance=[f"src:{i}"])
        if r < 0.98:
            return Issue(title=self.text(6), files=[f"src/m{self.rng.randint(0, 500)}.py"])
        return Decision(title=self.text(4), rule=self.text(10),
                        files=[f"src/p{self.rng.randint(0, 50)}/"])

    def query(self) -> str:
        return self.text(self.rng.randint(2, 4))


def measure(size: int, root: Path, seed: int) -> dict[str, Any]:
    synth = Synth(seed)
    events = [synth.event(i) for i in range(size)]
    memory = ProjectMemory(root, record=False)
    singles = events[:2_000]
    t0 = time.perf_counter()
    for e in singles:
        memory.log.append([e])
    single_rate = len(singles) / (time.perf_counter() - t0)
    rest = events[len(singles):]
    t0 = time.perf_counter()
    for i in range(0, len(rest), BATCH):
        memory.log.append(rest[i:i + BATCH])
    batch_rate = len(rest) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    memory.refresh()
    index_rate = size / (time.perf_counter() - t0)
    memory.close()
    t0 = time.perf_counter()
    reopened = ProjectMemory(root, record=False)
    reopen_s = time.perf_counter() - t0
    queries = [synth.query() for _ in range(QUERIES)]
    reopened.recall(queries[0], k=10)  # warm the page cache once
    latencies = []
    for q in queries:
        t0 = time.perf_counter()
        reopened.recall(q, k=10)
        latencies.append((time.perf_counter() - t0) * 1000)
    rss = rss_mb()
    t0 = time.perf_counter()
    reopened.index.rebuild()
    rebuild_s = time.perf_counter() - t0
    reopened.close()
    latencies.sort()
    return {
        "events": size,
        "append_events_per_s": round(batch_rate),
        "append_single_events_per_s": round(single_rate),
        "index_events_per_s": round(index_rate),
        "reopen_s": round(reopen_s, 4),
        "baseline_rebuild_s": round(rebuild_s, 3),
        "recall_p50_ms": round(statistics.median(latencies), 2),
        "recall_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
        "rss_mb": rss,
        "log_mb": round((root / "events.jsonl").stat().st_size / 2**20, 1),
    }


class MemoryScaleSuite(Suite):
    name = "memory-scale"
    description = "memory append throughput and recall latency at 1e4/1e5 (1e6 with --full)"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        sizes = FULL_SIZES if opts.full else SIZES
        by_size: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for n, size in enumerate(sizes, 1):
                by_size[str(size)] = measure(size, Path(tmp) / f"m{size}", opts.seed)
                progress(n, len(sizes))
        top = dict(by_size[str(100_000)])
        metrics: dict[str, Any] = {k: v for k, v in top.items() if k != "events"}
        metrics["by_size"] = by_size
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(sizes),
                           rows=list(by_size.values()), seed=opts.seed)


SUITE = MemoryScaleSuite()
