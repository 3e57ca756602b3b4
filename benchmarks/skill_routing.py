"""skill-routing: does the router put the right skill in front of the model, and at what cost?

Data: a skill corpus (`corpus/NAME/SKILL.md`) and labelled queries (`queries.jsonl`,
`{"query": str, "expect": [skill name, ...]}`). The corpus is third-party: `harness data
get skills` fetches it (`skills/corpus/`). The queries are the project's own,
`benchmarks/data/skills/queries.jsonl`. `--data` takes a directory (its `corpus/`, and its
`queries.jsonl` if it has one) or a queries file (its corpus is the `corpus/` beside it,
if any); `--skills DIR` (or `extra["skills"]`) names another corpus.

For every router variant: `top1` and `top3` (a hit when any expected skill is there) and
`tokens_per_query` (mean tokens of skill text the router puts in the context: the listed
names and one-line descriptions plus any body it preloads), with `load_rate` (share of
queries whose first body was preloaded) and `load_precision` (share of preloaded bodies
that were expected). A query with an empty `expect` is one no skill answers: it is left
out of `top1` and `top3`, and `no_skill_load_rate` is the share of those for which a body
was preloaded anyway (want 0). `tokens_all_descriptions` is what listing every skill's
description would cost instead (the usual way to expose skills). The in-run baseline is
plain BM25 over name + description (`baseline_top1`, `baseline_top3`). Model and hybrid variants run with `--model`; the
embedding variant runs when an embedding backend is installed (extra `embedding_model`).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from harness.bench.suite import (
    AUTHORED_DIR,
    BenchOptions,
    DataError,
    Suite,
    SuiteResult,
    read_jsonl,
    real_model,
)
from harness.skills import (
    EmbeddingRouter,
    HybridRouter,
    LexicalConfig,
    LexicalRouter,
    ModelRouter,
    RankingRouter,
    SkillLibrary,
)

TOP_K = 3
DEFAULT = "lexical"
QUERIES = AUTHORED_DIR / "skills" / "queries.jsonl"
"""The project's labelled queries (the corpus they name is fetched separately)."""


class RoutingQuery(BaseModel):
    """One labelled query: the request and the skill(s) that should be routed for it; an
    empty `expect` marks a query no skill answers."""

    query: str = Field(min_length=1)
    expect: list[str]


def locate(data: Path | None, skills: Path | None, find_corpus: Callable[[], Path]
           ) -> tuple[Path, Path]:
    """(queries file, corpus directory) from `--data` and `--skills`; `find_corpus()` looks
    the corpus up (and names the command that fetches it) when neither gives one."""
    if data is None:
        queries = QUERIES
    elif data.is_dir():
        queries = data / "queries.jsonl" if (data / "queries.jsonl").is_file() else QUERIES
    else:
        queries = data
    beside = (data if data is not None and data.is_dir() else queries.parent) / "corpus"
    corpus = skills or (beside if data is not None and beside.is_dir() else find_corpus())
    if not queries.is_file() and data is None and (corpus.parent / "queries.jsonl").is_file():
        queries = corpus.parent / "queries.jsonl"
    if not queries.is_file():
        raise DataError(f"{queries}: no queries file")
    if not corpus.is_dir():
        raise DataError(f"{corpus}: no skill corpus directory (pass --skills DIR)")
    return queries, corpus


def check_labels(path: Path, queries: list[RoutingQuery], library: SkillLibrary) -> None:
    lineno = 0
    for lineno, record in enumerate(queries, 1):
        unknown = [n for n in record.expect if n not in library]
        if unknown:
            raise DataError(f"{path} record {lineno}: field 'expect': no skill named "
                            f"{', '.join(unknown)} in the corpus")


def variants(library: SkillLibrary, opts: BenchOptions) -> tuple[dict[str, RankingRouter], dict]:
    """The routers to compare, and why any were skipped."""
    kw = {"top_k": TOP_K}
    lexical = LexicalRouter(library, **kw)
    routers: dict[str, RankingRouter] = {
        "baseline": LexicalRouter.plain(library, **kw),
        "lexical": lexical,
        "lexical-card-only": LexicalRouter(library, LexicalConfig(section_weight=0.0, hub_weight=0.0),
                                           **kw),
        "lexical-no-hub": LexicalRouter(library, LexicalConfig(hub_weight=0.0), **kw),
    }
    skipped = {}
    embedding = None
    try:
        embedding = EmbeddingRouter(library, opts.extra.get("embedding_model")
                                    or "minishlab/potion-base-8M", **kw)
        routers["embedding"] = embedding
    except Exception as exc:  # optional backend missing or its model not available offline
        skipped["embedding"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    if embedding is not None:
        routers["hybrid-embedding"] = HybridRouter(library, [(lexical, 1.0), (embedding, 1.0)], **kw)
    if opts.model:
        from harness.cli import make_model  # scripted:FILE, offline

        chosen = (make_model(opts.model) if opts.model.startswith("scripted:")
                  else real_model(opts))  # a litellm model, answering from --cache if given
        model = ModelRouter(library, chosen, **kw,
                            cache_path=(opts.out / "model_router_cache.json") if opts.out else None)
        routers["model"] = model
        routers["hybrid"] = HybridRouter(library, [(lexical, 1.0), (model, 1.0)], **kw)
    else:
        skipped["model"] = skipped["hybrid"] = "needs --model"
    return routers, skipped


def evaluate(router: RankingRouter, queries: list[RoutingQuery]) -> tuple[dict, list[dict]]:
    rows = []
    start = time.perf_counter()
    for q in queries:
        routing = router.route_query(q.query)
        top = [n for n, _ in router.rank(q.query, TOP_K)]
        tokens = router.count_tokens(routing.section.text) if routing.section else 0
        rows.append({"query": q.query, "expect": q.expect, "top3": top,
                     "hit1": bool(top) and top[0] in q.expect,
                     "hit3": any(n in q.expect for n in top), "tokens": tokens,
                     "loaded": routing.loaded})
    seconds = time.perf_counter() - start
    loaded = [r for r in rows if r["loaded"]]
    labelled = [r for r in rows if r["expect"]]  # top-k is defined for these only
    metrics = {
        "top1": _share(r["hit1"] for r in labelled),
        "top3": _share(r["hit3"] for r in labelled),
        "tokens_per_query": round(statistics.mean(r["tokens"] for r in rows), 1),
        "load_rate": _share(bool(r["loaded"]) for r in rows),
        "load_precision": _share(r["loaded"][0] in r["expect"] for r in loaded),
        "ms_per_query": round(1000 * seconds / len(rows), 3),
    }
    if len(labelled) < len(rows):  # queries no skill answers: any body loaded is a false load
        metrics["no_skill_queries"] = len(rows) - len(labelled)
        metrics["no_skill_load_rate"] = _share(bool(r["loaded"]) for r in rows if not r["expect"])
    return metrics, rows


def _share(flags: Iterable[bool]) -> float | None:
    """The share of true flags, or None when there are none to count."""
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


class SkillRoutingSuite(Suite):
    name = "skill-routing"
    description = "route labelled queries to skills: top-1/top-3 and tokens per router"
    configs = ("lexical", "lexical-card-only", "lexical-no-hub", "baseline", "embedding",
               "hybrid-embedding", "model", "hybrid")
    default_config = DEFAULT
    data_path = "skills/corpus"
    dataset = "skills"

    def run(self, opts: BenchOptions, progress) -> SuiteResult:
        config = self.config_name(opts)
        skills_dir = opts.extra.get("skills")
        data = self.resolve_data(opts) if opts.data is not None else None  # checks it exists
        queries_path, corpus = locate(data, Path(skills_dir) if skills_dir else None,
                                      lambda: self.resolve_data(opts.model_copy(
                                          update={"data": None})))
        library = SkillLibrary([corpus])
        if not len(library):
            raise DataError(f"{corpus}: no loadable skills ({len(library.errors)} with errors)")
        for problem in library.errors:
            print(f"skipped skill: {problem}", file=sys.stderr)
        queries = read_jsonl(queries_path, RoutingQuery)
        check_labels(queries_path, queries, library)
        routers, skipped = variants(library, opts)
        if config not in routers:
            raise DataError(f"config '{config}' cannot run here: {skipped.get(config, 'unknown')}")
        by_variant, all_rows = {}, {}
        for i, (name, router) in enumerate(routers.items()):
            by_variant[name], all_rows[name] = evaluate(router, queries)
            progress(i + 1, len(routers))
        base = by_variant["baseline"]
        listing_all = "\n".join(f"- {s.name}: {s.description}" for s in library)
        metrics = {**by_variant[config], "baseline_top1": base["top1"],
                   "baseline_top3": base["top3"],
                   "tokens_all_descriptions": routers[config].count_tokens(listing_all),
                   "skills": len(library),
                   "skills_with_errors": len(library.errors), "by_variant": by_variant}
        if skipped:
            metrics["skipped"] = skipped
        return SuiteResult(suite=self.name, config=config, metrics=metrics, cases=len(queries),
                           rows=all_rows[config], model=opts.model, seed=opts.seed,
                           data=str(queries_path))


SUITE = SkillRoutingSuite()
