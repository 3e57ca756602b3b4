"""Download a dataset's files, verify each sha256, and store them atomically.

A download is held in memory until its sha256 is checked (the pinned files are a few MB at
most), then written to a hidden temporary file beside its target and renamed into place, so
an interrupted or corrupted download never leaves a file that looks complete. A file
already present with the right hash is not fetched again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.data.catalog import GITHUB_RAW, DataFile, Dataset
from harness.data.paths import INCOMPLETE_MARKER, MIRROR_ENV, data_home, mirror
from harness.data.transforms import rename_skill
from harness.errors import DataError

TIMEOUT_S = 60
CHUNK = 1 << 16


class DownloadError(DataError):
    """A file could not be fetched, or its bytes are not the pinned ones."""


@dataclass
class FetchReport:
    """What `fetch_dataset` did: files fetched and files already present."""

    dataset: str
    folder: Path
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_complete(file: DataFile, target: Path) -> bool:
    """Whether `target` holds exactly the stored bytes of `file`."""
    return target.is_file() and sha256_file(target) == file.expected


def missing_files(dataset: Dataset, root: Path | None = None) -> list[str]:
    """The files of `dataset` that are absent or wrong under `root` (default: the data home)."""
    folder = (root or data_home()) / dataset.name
    return [f.path for f in dataset.files if not is_complete(f, folder / f.path)]


def fetch_dataset(dataset: Dataset, root: Path | None = None, *, base_url: str | None = None,
                  on_file: Callable[[str, bool], None] | None = None) -> FetchReport:
    """Fetch every file of `dataset` that is not already present and right into
    `root/NAME/` (default root: the data home; default base URL: `$HARNESS_DATA_MIRROR`, else
    upstream). `on_file(path, fetched)` is called as each file is done."""
    folder = (root or data_home()) / dataset.name
    base = base_url or mirror() or GITHUB_RAW
    report = FetchReport(dataset.name, folder)
    marker = folder / INCOMPLETE_MARKER
    folder.mkdir(parents=True, exist_ok=True)
    marker.touch()  # until every file is in, suites do not take this folder for the data
    for file in dataset.files:
        target = folder / file.path
        if is_complete(file, target):
            report.present.append(file.path)
        else:
            download(file, target, base)
            report.fetched.append(file.path)
        if on_file:
            on_file(file.path, file.path in report.fetched)
    _write_atomically(folder / "SOURCE.md", source_text(dataset).encode("utf-8"))
    marker.unlink()
    return report


def download(file: DataFile, target: Path, base: str = GITHUB_RAW) -> None:
    """Fetch `file` from `base` to `target`; `DownloadError` naming the file, the expected
    and the actual sha256 if its bytes are not the pinned ones (nothing is left behind)."""
    url = file.url(base)
    target.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "harness-data"})
    digest = hashlib.sha256()
    limit = 2 * file.size + (1 << 20)  # a stream far longer than the pinned file is not it
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data = bytearray()
            while chunk := response.read(CHUNK):
                data += chunk
                digest.update(chunk)
                if len(data) > limit:
                    raise DownloadError(f"{target}: {url} sent more than {limit} bytes; "
                                        f"expected {file.size}")
            promised = response.headers.get("Content-Length")
            if promised and promised.isdigit() and len(data) < int(promised):
                raise DownloadError(f"{target}: {url}: the connection closed after "
                                    f"{len(data)} of {promised} bytes; the download was "
                                    f"discarded")
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{target}: {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        raise DownloadError(f"{target}: cannot fetch {url}: {reason} (offline? set "
                            f"{MIRROR_ENV} to a mirror)") from exc
    actual = digest.hexdigest()
    if actual != file.sha256:
        raise DownloadError(f"{target}: sha256 mismatch for {url}: expected {file.sha256}, "
                            f"got {actual}; the download was discarded")
    stored = bytes(data)
    if file.rename:
        stored = rename_skill(stored, file.rename, file.repo)
        if hashlib.sha256(stored).hexdigest() != file.expected:
            raise DownloadError(f"{target}: renaming to '{file.rename}' gave sha256 "
                                f"{hashlib.sha256(stored).hexdigest()}, expected {file.expected}")
    _write_atomically(target, stored)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a hidden temporary file beside `target`, flush it to disk, then rename it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def source_text(dataset: Dataset) -> str:
    """The SOURCE.md written beside a fetched dataset: where every file came from."""
    lines = [f"# {dataset.name}: {dataset.title}", "",
             f"Fetched by `{dataset.command}`. Licence: {dataset.licence} ({dataset.licence_url}).",
             "", *(f"- upstream: {u}" for u in dataset.upstream)]
    if dataset.note:
        lines += ["", dataset.note]
    lines += ["", "| file | repository | commit | upstream path | sha256 |", "|---|---|---|---|---|"]
    lines += [f"| `{f.path}` | {f.repo} | `{f.commit[:12]}` | `{f.source}` | `{f.sha256}` |"
              for f in dataset.files]
    return "\n".join(lines) + "\n"
