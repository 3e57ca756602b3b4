"""The third-party datasets `harness data get` fetches: where each file comes from (a
repository at a pinned commit), its sha256, where it is stored, and the dataset's licence.

A dataset is stored under `DATA_HOME/NAME/`, laid out as the benchmark suites read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from harness.data import _pins
from harness.errors import DataError

GITHUB_RAW = "https://raw.githubusercontent.com"
"""Upstream base URL: a file is `BASE/OWNER/REPO/COMMIT/PATH`. A mirror keeps that layout."""


@dataclass(frozen=True)
class DataFile:
    """One upstream file at a pinned commit, and where it is stored in its dataset folder."""

    path: str
    """Where it is stored, relative to the dataset's folder."""
    repo: str
    commit: str
    source: str
    """Its path in `repo` at `commit`."""
    sha256: str
    """Of the upstream bytes; a download that does not match is discarded."""
    size: int
    rename: str | None = None
    """A SKILL.md renamed after download (see `transforms.rename_skill`) gets this name."""
    stored_sha256: str | None = None
    """Of the stored bytes, when `rename` changed them."""

    def url(self, base: str = GITHUB_RAW) -> str:
        return f"{base.rstrip('/')}/{self.repo}/{self.commit}/{quote(self.source)}"

    @property
    def expected(self) -> str:
        """The sha256 a complete stored copy has."""
        return self.stored_sha256 or self.sha256


@dataclass(frozen=True)
class Dataset:
    """A third-party dataset: its files, its licence, and the suites that read it."""

    name: str
    title: str
    licence: str
    licence_url: str
    """Where the licence text is (a URL, or a folder of the fetched dataset)."""
    upstream: tuple[str, ...]
    files: tuple[DataFile, ...]
    suites: tuple[str, ...]
    note: str = ""
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Named subsets (for LoCoMo: conversation `sample_id`s)."""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def command(self) -> str:
        """The command that fetches it."""
        return f"harness data get {self.name}"


def _github(repo: str, commit: str) -> str:
    return f"https://github.com/{repo}/tree/{commit}"


def _locomo() -> Dataset:
    source, sha, size = _pins.LOCOMO_FILE
    dev = ("conv-26", "conv-30", "conv-41", "conv-42", "conv-43", "conv-44")
    return Dataset(
        name="locomo", title="LoCoMo: very long-term conversational memory (10 conversations)",
        licence="CC BY-NC 4.0 (non-commercial use only)",
        licence_url=f"https://github.com/{_pins.LOCOMO_REPO}/blob/{_pins.LOCOMO_COMMIT}/LICENSE.txt",
        upstream=(_github(_pins.LOCOMO_REPO, _pins.LOCOMO_COMMIT),),
        files=(DataFile("locomo10.json", _pins.LOCOMO_REPO, _pins.LOCOMO_COMMIT, source, sha,
                        size),),
        suites=("locomo-recall",),
        note="Maharana et al., ACL 2024. Fetched for benchmarking only; never packaged.",
        splits={"dev": dev, "all": (*dev, "conv-47", "conv-48", "conv-49", "conv-50")})


def _skills() -> Dataset:
    files = []
    for name, repo, source, sha, size in _pins.SKILLS:
        renamed = _pins.SKILL_RENAMED.get(name)
        files.append(DataFile(f"corpus/{name}/SKILL.md", repo, _pins.SKILL_COMMITS[repo], source,
                              sha, size, rename=name if renamed else None,
                              stored_sha256=renamed[0] if renamed else None))
    for repo, source, local, sha, size in _pins.SKILL_LICENCES:
        files.append(DataFile(f"LICENSES/{local}", repo, _pins.SKILL_COMMITS[repo], source, sha,
                              size))
    return Dataset(
        name="skills", title="45 public Agent Skills (SKILL.md only) from 5 repositories",
        licence="Apache-2.0 (25 skills) and MIT (20 skills)",
        licence_url="texts per collection in skills/LICENSES/; vercel-labs/agent-skills has no "
                    "LICENSE file, its README (saved there) declares MIT",
        upstream=tuple(_github(r, c) for r, c in _pins.SKILL_COMMITS.items()),
        files=tuple(files), suites=("skill-routing",),
        note="Both anthropics/skills and getsentry/skills name a skill `brand-guidelines`: "
             "after download each gets its collection as a prefix (front-matter name and a "
             "closing comment saying so; nothing else changes).")


def _trajectories() -> Dataset:
    tau, swe = _pins.TAU_BENCH_REPO, _pins.SWE_AGENT_REPO
    files = [DataFile(local, tau, _pins.TAU_BENCH_COMMIT, source, sha, size)
             for source, local, sha, size in _pins.TAU_BENCH_FILES]
    files += [DataFile(f"swe-agent/{local}", swe, _pins.SWE_AGENT_COMMIT, source, sha, size)
              for source, local, sha, size in _pins.SWE_AGENT_FILES]
    source, local, sha, size = _pins.SWE_AGENT_LICENCE
    files.append(DataFile(local, swe, _pins.SWE_AGENT_COMMIT, source, sha, size))
    return Dataset(
        name="trajectories", title="real agent runs: tau-bench airline (GPT-4o, 200 runs) and "
                                   "22 SWE-agent trajectories",
        licence="MIT (both; texts in trajectories/LICENSES/)",
        licence_url=f"https://github.com/{tau}/blob/{_pins.TAU_BENCH_COMMIT}/LICENSE and "
                    f"https://github.com/{swe}/blob/{_pins.SWE_AGENT_COMMIT}/LICENSE",
        upstream=(_github(tau, _pins.TAU_BENCH_COMMIT), _github(swe, _pins.SWE_AGENT_COMMIT)),
        files=tuple(files), suites=("context",),
        note="SWE-agent files are stored flat: their upstream folders joined into the name.")


DATASETS: dict[str, Dataset] = {d.name: d for d in (_locomo(), _skills(), _trajectories())}
"""Every dataset `harness data get` knows, by name."""


def get_dataset(name: str) -> Dataset:
    """The dataset called `name`; `DataError` naming the known ones otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"no dataset named '{name}'; known: {', '.join(DATASETS)}") from None
