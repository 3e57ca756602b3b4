"""`harness data list | get`: the third-party benchmark data, fetched from upstream.

Exit status: 0 fine, 1 a download failed (or its hash was wrong), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="list and fetch third-party benchmark data", description=(
        "Fetch the third-party data some benchmark suites read, from its upstream source at a "
        "pinned version, verifying every file's sha256. Data goes to $HARNESS_DATA if set, "
        "else $XDG_CACHE_HOME/harness/data (~/.cache/harness/data)."))
    cmds = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    ls = cmds.add_parser("list", help="each dataset: present or not, licence, size",
                         description="List every dataset `harness data get` knows.")
    ls.add_argument("--json", action="store_true", help="print JSON only")
    ls.set_defaults(func=cmd_list)
    get = cmds.add_parser("get", help="download datasets (verifying sha256)", description=(
        "Download datasets; files already present with the right sha256 are kept. Prints "
        "each dataset's licence."))
    get.add_argument("names", nargs="*", metavar="NAME")
    get.add_argument("--all", action="store_true", help="every dataset")
    get.add_argument("--mirror", metavar="URL", help="fetch from this base URL instead of "
                     "upstream (laid out as OWNER/REPO/COMMIT/PATH; or $HARNESS_DATA_MIRROR)")
    get.set_defaults(func=cmd_get)


def cmd_list(args: argparse.Namespace) -> int:
    from harness.data.catalog import DATASETS
    from harness.data.fetch import missing_files
    from harness.data.paths import data_home

    home = data_home()
    rows: list[dict[str, Any]] = []
    for ds in DATASETS.values():
        missing = missing_files(ds, home)
        rows.append({"name": ds.name, "present": not missing,
                     "files": len(ds.files), "missing": len(missing), "size_bytes": ds.size,
                     "licence": ds.licence, "suites": list(ds.suites), "title": ds.title,
                     "path": str(home / ds.name), "command": ds.command})
    if args.json:
        print(json.dumps({"data_home": str(home), "datasets": rows}, indent=2))
        return 0
    print(f"data directory: {home}")
    for r in rows:
        state = "present" if r["present"] else \
            ("absent" if r["missing"] == r["files"] else f"partial ({r['missing']} missing)")
        print(f"{r['name']:13} {state:21} {r['size_bytes'] / 1e6:5.1f} MB  {r['licence']}")
        print(f"{'':13} {r['title']}; suites: {', '.join(r['suites'])}")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    from harness.data.catalog import DATASETS, get_dataset
    from harness.data.fetch import DownloadError, fetch_dataset
    from harness.data.paths import data_home
    from harness.errors import DataError

    if args.all == bool(args.names):
        raise DataError(f"name datasets ({', '.join(DATASETS)}) or pass --all, not both")
    datasets = list(DATASETS.values()) if args.all else [get_dataset(n) for n in args.names]
    home, failed = data_home(), []
    for ds in datasets:
        print(f"{ds.name}: {ds.title}\n  licence: {ds.licence} -- {ds.licence_url}")
        print("\n".join(f"  from: {url}" for url in ds.upstream))
        try:
            with _progress(ds.name, len(ds.files)) as advance:
                report = fetch_dataset(ds, home, base_url=args.mirror,
                                       on_file=lambda path, fetched: advance())
        except DownloadError as exc:
            failed.append(ds.name)
            print(f"harness data: error: {exc}", file=sys.stderr)
            continue
        print(f"  {len(report.fetched)} fetched, {len(report.present)} already present "
              f"-> {report.folder}")
    if failed:
        print(f"harness data: not fetched: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


@contextlib.contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; `advance()` after each file."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
