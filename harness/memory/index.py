"""The persisted search index: SQLite with FTS5 (BM25), kept in step with the log.

It is a projection like any other: it records how far into the log it has read (a
byte offset and the CRC-32 of every byte before it) and catches up incrementally by
reading only what was appended since. A log whose indexed part changed (edited,
truncated, replaced, a line merged in mid-log) no longer has that checksum and is
re-read from scratch. The lines that could not be read are kept with the index until
the log no longer holds them, so they are reported on every open, not once. Deleting
the index loses nothing; `rebuild()` re-reads the whole log. Only live items are in the
full-text table: superseding or forgetting an item removes it from search.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.events import LineProblem
from harness.memory.events import (
    RETIRING,
    Attempt,
    Fact,
    Fix,
    Forget,
    Issue,
    MemoryEvent,
    Note,
    Supersede,
    parse_memory_event,
)
from harness.memory.log import LogRead, MemoryLog, Stamp
from harness.memory.paths import normalize_path

SCHEMA_VERSION = "4"
BULK_CACHE_KIB = 32_000
QUERY_CACHE_KIB = 2_000  # SQLite's default
SYNC_CHUNK_BYTES = 4 << 20
MAX_POSTINGS = 2_000
"""Default bound on the postings one lexical query scores (see `SearchIndex.plan`)."""
COUNT_FACTOR = 25
"""Words that only rescore may hold this many times `max_postings` postings in all:
counting a posting (for idf) costs a few percent of scoring one."""
MAX_TERMS = 32
Place = tuple[str, float, str, int | None]
"""(kind, ts, thread, pos) of an item."""
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset("""
a an the and or but if of to in on at for with from by is are was were be been being do does
did have has had i you he she it we they me him her us them my your his its our their what
when where who whom which why how that this these those as so not no than then there here
about into over after before up down out just also very can could would should will shall may
might must s t
""".split())

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY, id TEXT UNIQUE, kind TEXT, ts REAL, thread TEXT, pos INTEGER,
    live INTEGER, dup TEXT, text TEXT, json TEXT);
CREATE INDEX IF NOT EXISTS items_thread ON items(thread, pos);
CREATE INDEX IF NOT EXISTS items_kind ON items(kind);
CREATE INDEX IF NOT EXISTS items_dup ON items(dup);
CREATE TABLE IF NOT EXISTS keys (key TEXT, seq INTEGER);
CREATE INDEX IF NOT EXISTS keys_key ON keys(key, seq);
CREATE INDEX IF NOT EXISTS keys_seq ON keys(seq);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    text, content='items', content_rowid='seq', tokenize='porter unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
CREATE TABLE IF NOT EXISTS problems (line INTEGER PRIMARY KEY, at INTEGER, error TEXT);
"""


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.lower())


def dup_key(event: MemoryEvent) -> str:
    """What makes two items exact duplicates: kind, thread and normalised text."""
    thread = event.thread if isinstance(event, Note) else ""
    text = " ".join(words(event.search_text()))
    return hashlib.sha1(f"{event.kind}\x1f{thread}\x1f{text}".encode()).hexdigest()[:20]


def item_keys(event: MemoryEvent, workspace: str | None = None) -> set[str]:
    """Link keys: items sharing a key are linked in the recall graph."""
    keys = {"path:" + normalize_path(p, workspace) for p in event.paths() if p}
    if isinstance(event, Note):
        keys.update("ent:" + " ".join(words(ent)) for ent in event.entities)
    elif isinstance(event, (Attempt, Fix)) and event.issue:
        keys.add("issue:" + event.issue)
    elif isinstance(event, Issue):
        keys.add("issue:" + event.id)
    elif isinstance(event, Fact):
        keys.add("subject:" + " ".join(words(event.subject)))
    return keys


@dataclass
class LexicalPlan:
    """Words to search for, words that only rescore what was found, the lowest seq."""

    search: list[str]
    rescore: list[str] = field(default_factory=list)
    floor: int = 0


class SearchIndex:
    """An SQLite/FTS5 index of the live items of one memory log."""

    def __init__(self, path: str | Path, log: MemoryLog, workspace: str | None = None):
        self.path = Path(path)
        self.log = log
        self.workspace = workspace
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._stemmer: Any = None  # a snowballstemmer stemmer (untyped), made on first use
        self._stems: dict[str, str] = {}
        self._df: dict[str, int] = {}
        self._df_at = 0
        if self._meta("version") != SCHEMA_VERSION:
            self._reset()

    # -- bookkeeping -------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, **values: object) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)",
                            [(k, str(v)) for k, v in values.items()])

    def _reset(self) -> None:
        generation = int(self._meta("generation") or 0) + 1 if self._has_meta() else 1
        self.db.executescript("DROP TABLE IF EXISTS fts_vocab; DROP TABLE IF EXISTS fts; "
                              "DROP TABLE IF EXISTS keys; DROP TABLE IF EXISTS problems; "
                              "DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS meta;")
        self.db.executescript(_SCHEMA)
        self._set_meta(version=SCHEMA_VERSION, offset=0, lines=0, checksum=0, stamp="",
                       generation=generation)

    def _has_meta(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone() is not None

    @property
    def generation(self) -> int:
        """Bumped whenever the index is rebuilt from scratch."""
        return int(self._meta("generation") or 0)

    @property
    def offset(self) -> int:
        return int(self._meta("offset") or 0)

    def close(self) -> None:
        self.db.close()

    # -- catching up with the log ---------------------------------------------------------
    def sync(self, *, warn: bool = False) -> list[LineProblem]:
        """Index what the log gained since the last sync, `SYNC_CHUNK_BYTES` of it at a
        time, each chunk in its own transaction: memory stays bounded however large the
        log, and an interrupted catch-up resumes where it stopped. The indexed part is
        verified first (see `verified`); a changed one is re-read from scratch. Returns the
        problems of the lines read now (`problems()` holds all of them)."""
        stamp = self.log.stamp()
        if stamp is not None and self._meta("stamp") == _stamp_text(stamp):
            return []  # not a byte changed since the last sync
        if not self.verified(stamp):
            self._reset()
        offset = self.offset
        problems: list[LineProblem] = []
        bulk = (stamp[2] if stamp else 0) - offset > SYNC_CHUNK_BYTES // 8
        if bulk:  # bulk indexing touches many pages; queries need few
            self.db.execute(f"PRAGMA cache_size={-BULK_CACHE_KIB}")
        try:
            while True:
                read = self.log.read(offset, first_line=int(self._meta("lines") or 0) + 1,
                                     warn=warn, max_bytes=SYNC_CHUNK_BYTES,
                                     checksum=int(self._meta("checksum") or 0))
                problems += read.problems
                self._index_chunk(offset, read, stamp)
                if not read.more:
                    return problems
                offset = self.offset
        finally:
            if bulk:
                self.db.execute(f"PRAGMA cache_size={-QUERY_CACHE_KIB}")

    def verified(self, stamp: Stamp | None) -> bool:
        """Whether the log still begins with the bytes indexed so far: as long, and with
        the same checksum (re-computed unless the log only grew by this process's own
        appends since the last sync)."""
        offset = self.offset
        if not offset:
            return True
        if stamp is None or stamp[2] < offset:
            return False
        last = self._meta("stamp") or ""
        if last and self.log.grew_by_appends(_stamp_of(last), stamp):
            return True
        return self.log.checksum(offset) == int(self._meta("checksum") or 0)

    def _index_chunk(self, offset: int, read: LogRead, stamp: Stamp | None) -> None:
        """Index a chunk, record where it ends and its lines' problems; the problems past
        it (a torn final line) are replaced by the chunk's own. The stamp is recorded once
        the read reached the end of the log."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.offset == offset:  # nobody else indexed this range meanwhile
                self.apply(e for _, e in read.events)
                self.db.execute("DELETE FROM problems WHERE at >= ?", (offset,))
                self.db.executemany(
                    "INSERT OR REPLACE INTO problems(line, at, error) VALUES (?, ?, ?)",
                    [(p.line, read.end if p is read.torn else offset, p.error)
                     for p in read.problems])
                done = not read.more and not read.pending
                self._set_meta(offset=read.end, lines=read.lines, checksum=read.checksum,
                               stamp=_stamp_text(stamp) if done and stamp else "")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def problems(self) -> list[LineProblem]:
        """Every line of the log that could not be read, as of the last sync."""
        return [LineProblem(path=str(self.log.path), line=line, error=error)
                for line, error in self.db.execute("SELECT line, error FROM problems "
                                                   "ORDER BY line")]

    def rebuild(self) -> list[LineProblem]:
        """Index the whole log afresh."""
        self._reset()
        return self.sync()

    def apply(self, events: Iterable[MemoryEvent]) -> None:
        """Index events (inside the caller's transaction). Items are inserted in batches;
        a supersede or forget first flushes what came before it, so it sees its target."""
        batch: list[MemoryEvent] = []
        for event in events:
            if event.kind not in RETIRING:
                batch.append(event)
                continue
            self._insert(batch)
            batch = []
            self._retire(event.old if isinstance(event, Supersede)
                         else event.target if isinstance(event, Forget) else "")
            self.db.execute("INSERT OR IGNORE INTO items(id, kind, ts, live, json) "
                            "VALUES (?, ?, ?, 0, ?)",
                            (event.id, event.kind, event.ts, event.model_dump_json()))
        self._insert(batch)

    def _insert(self, events: list[MemoryEvent]) -> None:
        """Insert live items with executemany; an id seen before is skipped (the first
        one stands)."""
        db = self.db
        fresh: dict[str, MemoryEvent] = {}
        for event in events:
            fresh.setdefault(event.id, event)
        for chunk in _chunks(list(fresh)):
            for (seen,) in db.execute(f"SELECT id FROM items WHERE id IN ({_marks(chunk)})",
                                      chunk):
                del fresh[seen]
        if not fresh:
            return
        threads = sorted({e.thread for e in fresh.values() if isinstance(e, Note) and e.thread})
        next_pos = dict.fromkeys(threads, 0)
        for chunk in _chunks(threads):
            for thread, top in db.execute("SELECT thread, MAX(pos) FROM items WHERE thread IN "
                                          f"({_marks(chunk)}) GROUP BY thread", chunk):
                next_pos[thread] = top + 1
        seq = self.last_seq()
        items, texts, keys = [], [], []
        for event in fresh.values():
            seq += 1
            thread = event.thread if isinstance(event, Note) else ""
            pos = None
            if thread:
                pos = next_pos[thread]
                next_pos[thread] += 1
            text = event.search_text()
            if isinstance(event, Note) and event.entities:
                text = f"{text} {' '.join(event.entities)}"
            items.append((seq, event.id, event.kind, event.ts, thread, pos, dup_key(event),
                          text, event.model_dump_json()))
            texts.append((seq, text))
            keys += [(k, seq) for k in sorted(item_keys(event, self.workspace))]
        db.executemany("INSERT INTO items(seq, id, kind, ts, thread, pos, live, dup, text, json) "
                       "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)", items)
        db.executemany("INSERT INTO fts(rowid, text) VALUES (?, ?)", texts)
        db.executemany("INSERT INTO keys(key, seq) VALUES (?, ?)", keys)

    def _retire(self, item_id: str) -> None:
        row = self.db.execute("SELECT seq, text, live FROM items WHERE id=?", (item_id,)).fetchone()
        if row and row[2]:
            self.db.execute("INSERT INTO fts(fts, rowid, text) VALUES ('delete', ?, ?)",
                            (row[0], row[1]))
            self.db.execute("UPDATE items SET live=0 WHERE seq=?", (row[0],))

    # -- queries ---------------------------------------------------------------------------
    def doc_freqs(self, terms: list[str]) -> dict[str, int]:
        """How many items hold each word (as FTS5 indexes it: diacritics removed, Porter
        stem). Cached: the figures only steer how much work a query may do, and they
        drift slowly."""
        if self._stemmer is None:
            import snowballstemmer
            self._stemmer = snowballstemmer.stemmer("porter")
        last = self.last_seq()
        if not 0.9 * self._df_at <= last <= 1.1 * self._df_at:
            self._df.clear()
            self._df_at = last
        if len(self._stems) > 100_000:
            self._stems.clear()
        for term in terms:
            if term not in self._stems:
                plain = "".join(c for c in unicodedata.normalize("NFKD", term)
                                if not unicodedata.combining(c))
                self._stems[term] = self._stemmer.stemWord(plain)
        missing = sorted({self._stems[t] for t in terms} - self._df.keys())
        if missing:
            found = dict(self.db.execute(
                f"SELECT term, doc FROM fts_vocab WHERE term IN ({_marks(missing)})", missing))
            self._df.update((st, found.get(st, 0)) for st in missing)
        return {t: self._df[self._stems[t]] for t in terms}

    def plan(self, query: str, max_postings: int | None) -> LexicalPlan:
        """How to search for a query's words within about `max_postings` scored postings.

        BM25 in FTS5 costs time per posting it scores, and a little per posting it counts
        (for each word's idf). Words are searched rarest first while their postings fit
        the budget (the rarest always). More common words then only rescore the items
        found, as long as counting them stays within `COUNT_FACTOR` times the budget; the
        rest are left out (they are in so many items that they add little). When even
        the rarest word is too common, only the newest items are searched, as many as
        the budget expects to hold it.
        """
        terms = [w for w in dict.fromkeys(words(query)) if w not in STOPWORDS] or \
            list(dict.fromkeys(words(query)))
        terms = terms[:MAX_TERMS]
        last = self.last_seq()
        if not terms or max_postings is None or last <= max_postings:
            return LexicalPlan(terms)
        dfs = self.doc_freqs(terms)
        plan, postings, counted = LexicalPlan([]), 0, 0
        for term in sorted(terms, key=lambda t: dfs[t]):
            if not plan.search or postings + dfs[term] <= max_postings:
                plan.search.append(term)
                postings += dfs[term]
            elif 2 * dfs[term] >= last:
                break  # in half the items or more: FTS5 gives the word no weight at all
            elif counted + dfs[term] <= COUNT_FACTOR * max_postings:
                plan.rescore.append(term)
            else:
                break
            counted += dfs[term]
        if postings > max_postings:
            plan.floor = last - last * max_postings // postings
        return plan

    def lexical(self, query: str, limit: int, kinds: Iterable[str] | None = None,
                since: float | None = None,
                max_postings: int | None = MAX_POSTINGS) -> list[tuple[int, float]]:
        """(seq, BM25 score) of the best live items for the query's words, best first,
        scoring about `max_postings` postings at most (None: no bound; see `plan`).

        With words to rescore, a second query scores the items holding a searched word
        and a rescoring word with all of them; an item holding none of the rescoring
        words already has its full score, so the merged ranking is exact BM25 over the
        items holding a searched word."""
        plan = self.plan(query, max_postings)
        if not plan.search:
            return []
        searched = " OR ".join(f'"{t}"' for t in plan.search)
        found = self._bm25(searched, limit, kinds, since, plan.floor)
        if plan.rescore:
            rescoring = " OR ".join(f'"{t}"' for t in plan.rescore)
            scores = dict(found)
            scores.update(self._bm25(f"({searched}) AND ({rescoring})", limit, kinds, since,
                                     plan.floor))
            found = sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:limit]
        return found

    def _bm25(self, match: str, limit: int, kinds: Iterable[str] | None, since: float | None,
              floor: int) -> list[tuple[int, float]]:
        sql = "SELECT fts.rowid, -bm25(fts) FROM fts"
        where: list[str] = ["fts MATCH ?"]
        args: list[str | int | float] = [match]
        if floor:
            where.append("fts.rowid >= ?")
            args.append(floor)
        kinds = list(kinds or [])
        if kinds or since is not None:
            sql += " JOIN items ON items.seq = fts.rowid"
            if kinds:
                where.append(f"items.kind IN ({_marks(kinds)})")
                args += kinds
            if since is not None:
                where.append("items.ts >= ?")
                args.append(since)
        sql += f" WHERE {' AND '.join(where)} ORDER BY bm25(fts) LIMIT ?"
        return [(r[0], r[1]) for r in self.db.execute(sql, [*args, limit])]

    def rows(self, seqs: Iterable[int]) -> dict[int, tuple]:
        """seq -> (id, kind, ts, thread, pos, text, json) for live items."""
        out: dict[int, tuple] = {}
        for chunk in _chunks(list(seqs)):
            q = ("SELECT seq, id, kind, ts, thread, pos, text, json FROM items "
                 f"WHERE live=1 AND seq IN ({_marks(chunk)})")
            out.update((row[0], row[1:]) for row in self.db.execute(q, chunk))
        return out

    def places(self, seqs: Iterable[int]) -> dict[int, Place]:
        """seq -> (kind, ts, thread, pos) for live items."""
        out: dict[int, Place] = {}
        for chunk in _chunks(list(seqs)):
            q = f"SELECT seq, kind, ts, thread, pos FROM items WHERE live=1 AND seq IN ({_marks(chunk)})"
            out.update((row[0], row[1:]) for row in self.db.execute(q, chunk))
        return out

    def thread_neighbours(self, places: dict[int, Place],
                          span: int = 1) -> dict[int, list[tuple[int, Place]]]:
        """seq -> the live items within `span` of it in its thread, with their places."""
        seqs = [seq for seq, (_, _, thread, _) in places.items() if thread]
        out: dict[int, list[tuple[int, Place]]] = {}
        for chunk in _chunks(seqs):
            q = ("SELECT a.seq, b.seq, b.kind, b.ts, b.thread, b.pos FROM items a JOIN items b "
                 "ON b.thread = a.thread AND b.pos BETWEEN a.pos - ? AND a.pos + ? "
                 f"AND b.seq != a.seq WHERE b.live = 1 AND a.seq IN ({_marks(chunk)}) "
                 "ORDER BY a.seq, b.seq")
            for row in self.db.execute(q, [span, span, *chunk]):
                out.setdefault(row[0], []).append((row[1], row[2:]))
        return out

    def keys_of(self, seqs: Iterable[int], prefixes: Iterable[str] = ()) -> dict[int, list[str]]:
        """seq -> its link keys (only those starting with one of `prefixes`, when given)."""
        like = " OR ".join("key >= ? AND key < ?" for _ in prefixes)
        bounds = [b for p in prefixes for b in (p, p + "\uffff")]
        out: dict[int, list[str]] = {}
        for chunk in _chunks(list(seqs)):
            q = f"SELECT seq, key FROM keys WHERE seq IN ({_marks(chunk)})"
            for seq, key in self.db.execute(q + (f" AND ({like})" if like else ""),
                                            [*chunk, *bounds]):
                out.setdefault(seq, []).append(key)
        return out

    def with_key(self, key: str, limit: int = 200) -> list[tuple[int, Place]]:
        """The newest live items holding a link key, with their places."""
        rows = self.db.execute(
            "SELECT keys.seq, kind, ts, thread, pos FROM keys JOIN items ON items.seq = keys.seq "
            "WHERE key = ? AND live = 1 ORDER BY keys.seq DESC LIMIT ?", (key, limit))
        return [(r[0], r[1:]) for r in rows]

    def known_keys(self, keys: Iterable[str]) -> list[str]:
        """Those of `keys` that some item holds."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return []
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT key FROM keys WHERE key IN ({_marks(keys)})", keys)]

    def holding(self, keys: list[str], seqs: Iterable[int]) -> set[int]:
        """Those of `seqs` that hold one of `keys`."""
        out: set[int] = set()
        for chunk in _chunks(list(seqs)):
            out.update(r[0] for r in self.db.execute(
                f"SELECT seq FROM keys WHERE key IN ({_marks(keys)}) AND seq IN ({_marks(chunk)})",
                [*keys, *chunk]))
        return out

    def find_dup(self, key: str) -> str | None:
        row = self.db.execute("SELECT id FROM items WHERE dup=? AND live=1 LIMIT 1",
                              (key,)).fetchone()
        return row[0] if row else None

    def structured(self, after: int = 0) -> list[tuple[int, MemoryEvent]]:
        """(seq, event) of indexed events that are not notes, after `after`, in log order:
        what a projection needs to catch up."""
        rows = self.db.execute("SELECT seq, json FROM items WHERE seq > ? AND kind != 'note' "
                               "ORDER BY seq", (after,))
        return [(seq, parse_memory_event(js)) for seq, js in rows]

    def last_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM items").fetchone()[0]

    def count(self, live_only: bool = False) -> int:
        q = "SELECT COUNT(*) FROM items" + (" WHERE live=1" if live_only else "")
        return self.db.execute(q).fetchone()[0]

    def kind_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind ORDER BY kind"))

    def duplicate_groups(self) -> int:
        """Live items beyond the first with the same duplicate key."""
        row = self.db.execute("SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM "
                              "items WHERE live=1 AND dup IS NOT NULL GROUP BY dup)").fetchone()
        return int(row[0])

    def payload(self, item_id: str) -> dict | None:
        row = self.db.execute("SELECT json FROM items WHERE id=?", (item_id,)).fetchone()
        return json.loads(row[0]) if row else None


def _stamp_text(stamp: Stamp) -> str:
    return ":".join(map(str, stamp))


def _stamp_of(text: str) -> Stamp:
    a, b, c, d, e = (int(v) for v in text.split(":"))
    return a, b, c, d, e


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    """Slices small enough for SQLite's limit on bound parameters."""
    return (values[i:i + size] for i in range(0, len(values), size))


def _marks(values: list) -> str:
    return ",".join("?" * len(values))
