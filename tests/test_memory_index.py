"""The persisted search index: batched catch-up, reopening, retirement inside a batch."""

from __future__ import annotations

import pytest

from harness.memory import MemoryLog, Note, ProjectMemory
from harness.memory import index as index_module
from harness.memory.events import Fact, Supersede
from harness.memory.index import LexicalPlan, SearchIndex


def _index(root) -> SearchIndex:
    return SearchIndex(root / "index.sqlite", MemoryLog(root / "events.jsonl"))


def test_one_catch_up_indexes_a_batch_with_retirements_and_repeated_ids(tmp_path):
    log = MemoryLog(tmp_path / "events.jsonl")
    log.append([Note(id="n-1", text="alpha beacon", thread="s1"),
                Fact(id="k-1", subject="port", claim="8080"),
                Note(id="n-2", text="bravo beacon", thread="s1"),
                Supersede(old="k-1", new="k-2"),  # retires an item of the same batch
                Fact(id="k-2", subject="port", claim="9090"),
                Note(id="n-1", text="a second line with a used id", thread="s1")])
    index = _index(tmp_path)
    index.sync()
    assert index.count() == 5  # the repeated id is skipped, the first one stands
    assert index.payload("n-1")["text"] == "alpha beacon"
    served = set(index.rows(seq for seq, _ in index.lexical("port 8080 9090", 10)))
    assert [index.rows([s])[s][0] for s in sorted(served)] == ["k-2"]
    index.close()


def test_incremental_catch_up_continues_threads_and_matches_a_rebuild(tmp_path):
    memory = ProjectMemory(tmp_path, record=False)
    for batch in (range(3), range(3, 6)):  # two catch-ups
        memory.add_many([Note(text=f"turn {i} about topic{i}", thread="s1") for i in batch],
                        hygiene=False)
        memory.refresh()
    index = memory.index
    positions = [row[0] for row in index.db.execute(
        "SELECT pos FROM items WHERE thread='s1' ORDER BY seq")]
    assert positions == list(range(6))
    # A neighbour from the second batch is linked to a turn of the first one:
    neighbours = index.thread_neighbours(index.places([3]))
    assert [seq for seq, _ in neighbours[3]] == [2, 4]
    before = list(index.db.execute("SELECT id, thread, pos, text FROM items ORDER BY seq"))
    memory.rebuild()
    after = list(index.db.execute("SELECT id, thread, pos, text FROM items ORDER BY seq"))
    assert before == after
    memory.close()


def test_a_reopened_memory_reads_only_what_was_appended_since(tmp_path):
    memory = ProjectMemory(tmp_path, record=False)
    memory.note("the deploy key lives in the vault")
    memory.close()
    MemoryLog(tmp_path / "events.jsonl").append([Note(text="rotate the deploy key monthly")])
    again = ProjectMemory(tmp_path, record=False)
    assert again.index.count() == 2
    assert [r.text for r in again.recall("rotate deploy key", k=1)] == \
        ["rotate the deploy key monthly"]
    again.close()


def test_lexical_work_is_bounded_rarest_words_first(tmp_path):
    zebras = (1, 2, 4, 301)
    log = MemoryLog(tmp_path / "events.jsonl")
    log.append([Note(text=f"{'status' if i % 3 == 1 else 'plain'} report {i}"
                     + (" with zebra" if i in zebras else "")) for i in range(400)]
               + [Note(text="a zebra crossing")])
    index = _index(tmp_path)
    index.sync()
    # 133 items hold "status", 5 hold "zebra": within 50 postings only the rare word is
    # searched; the common one rescores what was found, so the scores are exact BM25.
    # "report" is in every item: FTS5 gives it no weight, so it is left out.
    plan = index.plan("status report zebra", max_postings=50)
    assert plan == LexicalPlan(["zebra"], ["status"])
    bounded = index.lexical("status report zebra", 10, max_postings=50)
    hits = index.rows(seq for seq, _ in bounded)
    assert sorted(text for _, _, _, _, _, text, _ in hits.values()) == sorted(
        ["a zebra crossing", "plain report 2 with zebra",
         *(f"status report {i} with zebra" for i in (1, 4, 301))])
    exact = dict(index.lexical("status report zebra", 500, max_postings=None))
    assert [seq for seq, _ in bounded] == sorted(exact, key=lambda s: -exact[s])[:5]
    assert all(score == pytest.approx(exact[seq]) for seq, score in bounded)
    # A word too common for the budget is searched among the newest items only:
    plan = index.plan("status", max_postings=50)
    assert plan.search == ["status"] and 240 < plan.floor < 260
    found = index.lexical("status", 100, max_postings=50)
    assert found and all(seq >= plan.floor for seq, _ in found)
    # Unbounded, and in a memory no bigger than the budget, every word is searched:
    assert index.plan("status zebra", max_postings=None) == LexicalPlan(["status", "zebra"])
    assert index.plan("status zebra", max_postings=401) == LexicalPlan(["status", "zebra"])
    assert len(exact) == 401
    index.close()


def test_catch_up_in_small_chunks_matches_one_pass_and_never_cuts_a_line(tmp_path, monkeypatch):
    notes = [Note(text=f"line {i} " + "long words " * (40 if i % 7 == 0 else 1), thread="s")
             for i in range(60)]
    for root in (tmp_path / "one", tmp_path / "chunked"):
        MemoryLog(root / "events.jsonl").append(notes)
    with (tmp_path / "chunked" / "events.jsonl").open("a") as fh:
        fh.write('{"kind": "note", "text": "torn')  # a writer crashed mid-line
    (tmp_path / "one" / "events.jsonl").write_bytes(
        (tmp_path / "chunked" / "events.jsonl").read_bytes())
    one = _index(tmp_path / "one")
    assert [p.line for p in one.sync(warn=False)] == [61]
    monkeypatch.setattr(index_module, "SYNC_CHUNK_BYTES", 100)  # shorter than some lines
    chunked = _index(tmp_path / "chunked")
    assert [p.line for p in chunked.sync(warn=False)] == [61]
    query = "SELECT id, thread, pos, text FROM items ORDER BY seq"
    assert list(chunked.db.execute(query)) == list(one.db.execute(query))
    assert chunked.offset == one.offset and chunked.count() == 60
    one.close()
    chunked.close()
