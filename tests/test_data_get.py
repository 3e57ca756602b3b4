"""`harness data get | list` against a local HTTP server, and how suites find their data."""

import hashlib
import http.server
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from harness.bench.suite import BenchOptions, DataError, MissingDataError, Suite
from harness.cli import main
from harness.data import catalog
from harness.data.catalog import DataFile, Dataset
from harness.data.fetch import DownloadError, fetch_dataset
from harness.data.paths import INCOMPLETE_MARKER, data_home
from harness.data.transforms import rename_skill

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NOTES = b"line one\nline two\n"
TABLE = b'{"rows": [1, 2, 3]}\n'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Upstream:
    """Files served on 127.0.0.1 as BASE/OWNER/REPO/COMMIT/PATH, with a log of requests."""

    def __init__(self, root: Path):
        self.root, self.requests = root, []
        upstream = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                upstream.requests.append(self.path)
                if self.path.endswith("/cut.bin"):  # promises more than it sends, then hangs up
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"only the start")
                    return
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, repo: str, path: str, data: bytes) -> None:
        target = self.root / repo / COMMIT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.fixture
def upstream(tmp_path, monkeypatch):
    up = Upstream(tmp_path / "upstream")
    up.put("acme/notes", "data/notes.txt", NOTES)
    up.put("acme/notes", "LICENSE", b"MIT License\n")
    up.put("acme/tables", "t/table.json", TABLE)
    datasets = {
        "notes": Dataset(
            name="notes", title="two small notes files", licence="MIT (demo licence)",
            licence_url="https://example.invalid/notes/LICENSE", upstream=("acme/notes",),
            files=(DataFile("notes.txt", "acme/notes", COMMIT, "data/notes.txt", sha(NOTES),
                            len(NOTES)),
                   DataFile("LICENSES/notes.MIT.txt", "acme/notes", COMMIT, "LICENSE",
                            sha(b"MIT License\n"), 12)),
            suites=("needs-notes",)),
        "tables": Dataset(
            name="tables", title="a table", licence="CC BY-NC 4.0 (non-commercial use only)",
            licence_url="https://example.invalid/tables/LICENSE", upstream=("acme/tables",),
            files=(DataFile("table.json", "acme/tables", COMMIT, "t/table.json", sha(TABLE),
                            len(TABLE)),),
            suites=()),
    }
    monkeypatch.setattr(catalog, "DATASETS", datasets)
    monkeypatch.setenv("HARNESS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HARNESS_DATA_MIRROR", up.url)
    yield up
    up.server.shutdown()
    up.server.server_close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part"))


def test_get_downloads_the_pinned_bytes_and_prints_the_licence(upstream, tmp_path, capsys):
    assert main(["data", "get", "notes"]) == 0
    folder = tmp_path / "data" / "notes"
    assert (folder / "notes.txt").read_bytes() == NOTES
    assert (folder / "LICENSES" / "notes.MIT.txt").read_bytes() == b"MIT License\n"
    out = capsys.readouterr().out
    assert "licence: MIT (demo licence) -- https://example.invalid/notes/LICENSE" in out
    assert "2 fetched, 0 already present" in out and "from: acme/notes" in out
    assert f"{upstream.url}" not in out and not leftovers(folder)
    assert not (folder / INCOMPLETE_MARKER).exists()
    source = (folder / "SOURCE.md").read_text()
    assert f"| `notes.txt` | acme/notes | `{COMMIT[:12]}` | `data/notes.txt` |" in source
    assert not (tmp_path / "data" / "tables").exists()  # only the named dataset


def test_a_wrong_sha256_is_refused_naming_file_expected_and_actual(upstream, tmp_path, capsys):
    assert main(["data", "get", "notes"]) == 0  # a good copy is already there
    tampered = b"line one\nline 2\n"
    upstream.put("acme/tables", "t/table.json", tampered)
    with pytest.raises(DownloadError) as err:
        fetch_dataset(catalog.DATASETS["tables"])
    target = tmp_path / "data" / "tables" / "table.json"
    message = str(err.value)
    assert str(target) in message and f"expected {sha(TABLE)}" in message
    assert f"got {sha(tampered)}" in message and "discarded" in message
    assert not target.exists() and not leftovers(tmp_path / "data")
    assert main(["data", "get", "--all"]) == 1
    err_text = capsys.readouterr().err
    assert "sha256 mismatch" in err_text and "not fetched: tables" in err_text
    assert (tmp_path / "data" / "notes" / "notes.txt").read_bytes() == NOTES  # kept


def test_a_rerun_skips_files_already_present_with_the_right_hash(upstream, capsys):
    assert main(["data", "get", "notes"]) == 0
    fetched = len(upstream.requests)
    assert fetched == 2
    assert main(["data", "get", "notes"]) == 0
    assert len(upstream.requests) == fetched
    assert "0 fetched, 2 already present" in capsys.readouterr().out


def test_a_partial_file_is_not_taken_for_complete(upstream, tmp_path):
    folder = tmp_path / "data" / "notes"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_bytes(NOTES[:5])  # as an interrupted copy would leave it
    report = fetch_dataset(catalog.DATASETS["notes"])
    assert "notes.txt" in report.fetched
    assert (folder / "notes.txt").read_bytes() == NOTES


def test_an_interrupted_download_leaves_no_file_and_suites_say_so(upstream, tmp_path,
                                                                  monkeypatch):
    upstream.put("acme/notes", "cut.bin", b"x")
    notes = catalog.DATASETS["notes"]
    cut = DataFile("cut.bin", "acme/notes", COMMIT, "cut.bin", sha(b"x" * 1000), 1000)
    broken = replace(notes, files=(*notes.files, cut))
    with pytest.raises(DownloadError, match="cut.bin: .*closed after 14 of 1000 bytes"):
        fetch_dataset(broken)
    folder = tmp_path / "data" / "notes"
    assert (folder / "notes.txt").read_bytes() == NOTES  # what came whole is kept
    assert not (folder / "cut.bin").exists() and not leftovers(folder)
    assert (folder / INCOMPLETE_MARKER).exists()
    with pytest.raises(MissingDataError, match="incomplete; fetch it with `harness data get notes`"):
        NotesSuite().resolve_data(BenchOptions())
    shared = tmp_path / "shared" / "data" / "notes"  # a complete copy further down still serves
    shared.mkdir(parents=True)
    (shared / "notes.txt").write_bytes(NOTES)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    assert NotesSuite().resolve_data(BenchOptions()) == shared / "notes.txt"
    fetch_dataset(notes)  # finishing the download makes the folder usable
    assert NotesSuite().resolve_data(BenchOptions()) == folder / "notes.txt"


def test_get_all_fetches_every_dataset(upstream, tmp_path, capsys):
    assert main(["data", "get", "--all"]) == 0
    assert (tmp_path / "data" / "tables" / "table.json").read_bytes() == TABLE
    assert (tmp_path / "data" / "notes" / "notes.txt").read_bytes() == NOTES
    out = capsys.readouterr().out
    assert "licence: CC BY-NC 4.0 (non-commercial use only)" in out
    assert main(["data", "get"]) == 2 and main(["data", "get", "notes", "--all"]) == 2
    assert main(["data", "get", "nope"]) == 2
    assert "no dataset named 'nope'; known: notes, tables" in capsys.readouterr().err


def test_list_shows_presence_licence_and_size(upstream, tmp_path, capsys):
    assert main(["data", "get", "tables"]) == 0
    capsys.readouterr()
    assert main(["data", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["data_home"] == str(tmp_path / "data")
    rows = {r["name"]: r for r in listing["datasets"]}
    assert rows["tables"]["present"] and not rows["notes"]["present"]
    assert rows["notes"]["size_bytes"] == len(NOTES) + 12 and rows["notes"]["missing"] == 2
    assert rows["tables"]["licence"] == "CC BY-NC 4.0 (non-commercial use only)"
    assert main(["data", "list"]) == 0
    text = capsys.readouterr().out
    assert "tables        present" in text and "notes         absent" in text
    assert "MIT (demo licence)" in text


def test_the_data_home_honours_harness_data_then_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home() == tmp_path / "mine"
    monkeypatch.delenv("HARNESS_DATA")
    assert data_home() == tmp_path / "xdg" / "harness" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_home() == tmp_path / "home" / ".cache" / "harness" / "data"


class NotesSuite(Suite):
    name = "needs-notes"
    data_path = "notes/notes.txt"
    dataset = "notes"


def test_resolve_data_looks_in_data_env_authored_cache_then_shared(tmp_path, monkeypatch):
    from harness.bench import suite as suite_module

    roots = {"env": tmp_path / "env", "authored": tmp_path / "authored",
             "cache": tmp_path / "xdg" / "harness" / "data", "shared": tmp_path / "shared" / "data"}
    for root in roots.values():
        (root / "notes").mkdir(parents=True)
        (root / "notes" / "notes.txt").write_text("x")
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setattr(suite_module, "AUTHORED_DIR", roots["authored"])
    monkeypatch.setenv("HARNESS_DATA", str(roots["env"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    suite, opts = NotesSuite(), BenchOptions()
    given = tmp_path / "given.txt"
    given.write_text("y")
    assert suite.resolve_data(BenchOptions(data=given)) == given
    with pytest.raises(DataError, match="--data .*nothing.txt: no such file"):
        suite.resolve_data(BenchOptions(data=tmp_path / "nothing.txt"))
    for name in ("env", "authored", "cache", "shared"):
        assert suite.resolve_data(opts) == roots[name] / "notes" / "notes.txt"
        (roots[name] / "notes" / "notes.txt").unlink()
        if name == "env":
            monkeypatch.delenv("HARNESS_DATA")  # then the cache is the XDG one
    with pytest.raises(MissingDataError) as err:
        suite.resolve_data(opts)
    assert err.value.command == "harness data get notes"
    message = str(err.value)
    assert "no data found; fetch it with `harness data get notes`" in message
    for name in ("authored", "cache", "shared"):
        assert str(roots[name] / "notes" / "notes.txt") in message


def test_bench_skips_suites_without_data_naming_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # no ../shared beside it
    assert main(["bench", "locomo-recall", "skill-routing", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert ("skipped locomo-recall: suite 'locomo-recall': no data found; fetch it with "
            "`harness data get locomo`") in err
    assert "skipped skill-routing: suite 'skill-routing': no data found; fetch it with " \
           "`harness data get skills`" in err
    assert "to run locomo-recall, skill-routing too: harness data get locomo skills" in err
    assert "harness data get locomo" in (tmp_path / "out" / "report.html").read_text()


def test_context_runs_its_synthetic_part_without_trajectories(tmp_path, monkeypatch, capsys):
    from harness.bench.registry import get_suite

    monkeypatch.setenv("HARNESS_DATA", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    data, skipped = get_suite("context")._trajectories(BenchOptions())
    assert data is None
    assert skipped == "no real trajectories found; to replay them: harness data get trajectories"
    assert "replay part skipped" in capsys.readouterr().err
    with pytest.raises(DataError, match="no such file"):  # a named file must be there
        get_suite("context")._trajectories(BenchOptions(data=tmp_path / "none.json"))


def conversation(sample_id: str) -> dict:
    """One conversation in the upstream LoCoMo format, with one answerable question."""
    return {"sample_id": sample_id,
            "conversation": {"speaker_a": "Ann", "speaker_b": "Bo",
                             "session_1_date_time": "1:56 pm on 8 May, 2023",
                             "session_1": [
                                 {"speaker": "Ann", "dia_id": "D1:1",
                                  "text": f"I adopted a dog called {sample_id} today"},
                                 {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely news"}]},
            "qa": [{"question": "What is the dog called?", "answer": sample_id,
                    "evidence": ["D1:1"], "category": 4}]}


def test_locomo_dev_split_selects_exactly_its_six_conversations(tmp_path):
    from harness.bench.registry import get_suite

    suite = get_suite("locomo-recall")
    load = suite.run.__globals__["load"]
    ids = [f"conv-{n}" for n in (26, 30, 41, 42, 43, 44, 47, 48, 49, 50)]
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([conversation(i) for i in reversed(ids)] + [conversation("x")]))
    assert [c["sample_id"] for c in load(path, "dev")] == \
        ["conv-44", "conv-43", "conv-42", "conv-41", "conv-30", "conv-26"]
    assert len(load(path, "all")) == 10 and len(load(path)) == 11
    with pytest.raises(DataError, match="no split 'test'; choose from: dev, all"):
        load(path, "test")
    short = tmp_path / "locomo-dev.json"
    short.write_text(json.dumps([conversation(i) for i in ids[:6]]))
    with pytest.raises(DataError, match="split 'all' names conversations the file lacks: "
                                        "conv-47, conv-48, conv-49, conv-50"):
        load(short, "all")
    result = suite.run(BenchOptions(data=tmp_path, extra={"split": "dev"}), lambda d, t: None)
    assert result.metrics["split"] == "dev" and result.metrics["conversations"] == 6
    assert result.cases == 6 and result.data == str(path)  # the fetched file comes first
    whole = suite.run(BenchOptions(data=path), lambda d, t: None)
    assert whole.metrics["split"] == "whole file" and whole.cases == 11


def test_the_catalog_pins_every_file_to_a_commit_and_a_hash():
    datasets = catalog.DATASETS
    assert set(datasets) == {"locomo", "skills", "trajectories"}
    for ds in datasets.values():
        assert ds.licence and ds.licence_url and ds.upstream and ds.suites
        for f in ds.files:
            assert len(f.commit) == 40 and len(f.sha256) == 64 and f.size > 0
            assert f.url().startswith(f"https://raw.githubusercontent.com/{f.repo}/{f.commit}/")
    assert datasets["locomo"].files[0].sha256.startswith("79fa87e9")
    assert datasets["locomo"].files[0].sha256.endswith("8ff4")
    assert "non-commercial" in datasets["locomo"].licence
    assert datasets["locomo"].splits["dev"] == ("conv-26", "conv-30", "conv-41", "conv-42",
                                                "conv-43", "conv-44")
    assert len(datasets["locomo"].splits["all"]) == 10
    skills = [f for f in datasets["skills"].files if f.path.endswith("SKILL.md")]
    assert len(skills) == 45 and len({f.path for f in skills}) == 45
    assert {f.rename for f in skills if f.rename} == {"anthropics-brand-guidelines",
                                                      "getsentry-brand-guidelines"}
    trajectories = datasets["trajectories"].files
    assert sum(f.path.endswith(".traj") for f in trajectories) == 22


def test_renaming_a_skill_changes_its_name_and_says_so():
    upstream = b"---\nname: brand-guidelines\ndescription: Colours.\n---\n\n# Brand\n"
    renamed = rename_skill(upstream, "acme-brand-guidelines", "acme/skills").decode()
    assert renamed.startswith("---\nname: acme-brand-guidelines\ndescription: Colours.\n---\n")
    assert renamed.endswith('\n\n<!-- Modified for this benchmark corpus: front-matter name '
                            'changed from "brand-guidelines" to "acme-brand-guidelines" (name '
                            'collision between collections); otherwise verbatim from acme/skills.'
                            ' See ../../SOURCE.md. -->\n')
    with pytest.raises(DataError, match="no 'name:'"):
        rename_skill(b"# no front matter\n", "x", "acme/skills")
