"""Spelling tolerance of the lexical router: misspelled query words still find their skill."""

from __future__ import annotations

import json
import random
from pathlib import Path

from harness.skills import LexicalConfig, LexicalRouter, SkillLibrary
from harness.skills.spelling import Speller, edit_distance

SKILLS = {
    "release-notes": ("Write release notes from the changelog: group changes by component and "
                      "call out breaking migrations.", "## Gather\nRead the changelog since the "
                      "last tag.\n## Publish\nPost the notes to the release page.\n"),
    "profile-memory": ("Profile memory usage of a Python process and find allocations that "
                       "leak.", "## Measure\nUse tracemalloc snapshots.\n## Compare\nDiff two "
                       "snapshots to see what grew.\n"),
    "schedule-backups": ("Schedule database backups with cron and verify that restores work.",
                         "## Cron\nOne entry per database.\n## Restore drill\nRestore into a "
                         "scratch database monthly.\n"),
}


def library(root: Path) -> SkillLibrary:
    for name, (description, body) in SKILLS.items():
        (root / name).mkdir(parents=True)
        (root / name / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n# {name}\n{body}")
    return SkillLibrary([root])


def exact_only(lib: SkillLibrary) -> LexicalRouter:
    return LexicalRouter(lib, LexicalConfig(typo_credit=0.0))


def test_misspelled_query_reaches_the_right_skill(tmp_path):
    lib = library(tmp_path)
    query = "profle the memroy of my proces, somthing leeks"
    assert exact_only(lib).rank(query) == []  # no word is spelled as in the corpus
    assert LexicalRouter(lib).rank(query)[0][0] == "profile-memory"
    assert LexicalRouter(lib).rank("shedule databse backpus")[0][0] == "schedule-backups"
    # a typo in an inflected word is matched through its stem: "publishd" ~ "publish"
    assert LexicalRouter(lib).rank("publishd the relase")[0][0] == "release-notes"


def test_correctly_spelled_queries_rank_exactly_as_without_tolerance(tmp_path):
    lib = library(tmp_path)
    tolerant, exact = LexicalRouter(lib), exact_only(lib)
    for query in ["write the release notes from the changelog",
                  "memory leak in a python process",
                  "verify that database restores work",
                  "restore the backups and compare snapshots"]:
        assert tolerant.rank(query, k=10) == exact.rank(query, k=10)


def test_misspelled_word_counts_less_than_the_word_spelled_right(tmp_path):
    router = LexicalRouter(library(tmp_path))
    assert 0 < router.scores("tracemallco")["profile-memory"] < \
        router.scores("tracemalloc")["profile-memory"]


def test_word_far_from_every_vocabulary_word_gets_no_credit(tmp_path):
    router = LexicalRouter(library(tmp_path))
    assert router.rank("xylophone quizzical") == []
    assert router.scores("memory xylophone") == router.scores("memory")
    assert router.speller is not None
    assert router.speller.correct("xylophone") is None


def test_speller_never_corrects_a_known_word():
    speller = Speller([("test", "test"), ("text", "text"), ("text", "text")])
    assert speller.correct("test") == ("test", 0)
    assert speller.correct("tezt") == ("text", 1)  # both one edit away: the more frequent wins


def test_speller_limits_edits_by_word_length_and_keeps_the_first_letter():
    speller = Speller([(w, w) for w in ["git", "commit", "function", "configuration"]])
    assert speller.correct("fucntion") == ("function", 1)  # a swap is one edit
    assert speller.correct("comit") == ("commit", 1)
    assert speller.correct("confgiuratoin") == ("configuration", 2)  # 8+ letters: two edits
    assert speller.correct("comiit") == ("commit", 1)
    assert speller.correct("cmmmit") == ("commit", 1)
    assert speller.correct("comt") is None  # 4-7 letters: one edit only
    assert speller.correct("gti") is None  # shorter than four letters: never corrected
    assert speller.correct("ommit") is None  # the first letter must agree
    assert speller.correct("commit2") is None  # words with digits are never corrected


def test_speller_breaks_ties_deterministically_whatever_the_corpus_order():
    forms = [("boat", "boat"), ("bolt", "bolt"), ("boot", "boot"), ("beat", "beat")]
    answers = set()
    for seed in range(5):
        shuffled = forms[:]
        random.Random(seed).shuffle(shuffled)
        answers.add(Speller(shuffled).correct("bost"))
    assert answers == {("boat", 1)}  # equally frequent and equally close: alphabetical


def test_lexical_router_with_typos_is_deterministic(tmp_path):
    lib = library(tmp_path)
    query = "shedule a restor drill for the databse"
    assert LexicalRouter(lib).rank(query, k=10) == LexicalRouter(lib).rank(query, k=10)


def test_edit_distance_counts_each_kind_of_edit_once():
    assert edit_distance("deploy", "depoly", 2) == 1
    assert edit_distance("commit", "comit", 2) == 1
    assert edit_distance("commit", "commits", 2) == 1
    assert edit_distance("commit", "cimmit", 2) == 1
    assert edit_distance("commit", "branch", 2) == 3  # capped at limit + 1


def test_plain_router_has_no_spelling_tolerance(tmp_path):
    router = LexicalRouter.plain(library(tmp_path))
    assert router.speller is None
    assert router.rank("relase notse") == []
