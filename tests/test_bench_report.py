"""The bench report a researcher reads: every plot titled, with axis units, a "better" line
and its metric's definition; the headline configuration drawn last and labelled; flat or
single-point plots said in a sentence; tables that fit; a page that opens offline."""

import os
import re
import shutil
import subprocess
from html import escape

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from harness.bench._report_figures import Figure, Sentence, figures  # noqa: E402
from harness.bench._report_format import format_column  # noqa: E402
from harness.bench._report_metrics import METRICS, describe  # noqa: E402
from harness.bench.report import render, write_report  # noqa: E402
from harness.bench.runner import BenchRecord, run_bench  # noqa: E402
from harness.bench.suite import BenchOptions  # noqa: E402

BETTER = ("Higher is better.", "Lower is better.", "Up and to the left is better")
UNIT = re.compile(r"\(.+\)$")


def record(**overrides) -> dict:
    """A small record in the shape `harness bench` writes: three variants, the headline
    `tight`, a series per variant, recall@k figures and a success/cost trade-off."""
    base = BenchRecord(
        suite="demo", config="tight", cases=3,
        metrics={"success": 0.5, "tokens_per_step": 120.0, "recall@1": 0.2, "recall@5": 0.6,
                 "by_variant": {
                     "full": {"success": 1.0, "tokens_per_step": 300.0, "recall@1": 0.4,
                              "recall@5": 0.9},
                     "last-n": {"success": 0.75, "tokens_per_step": 180.0, "recall@1": 0.3,
                                "recall@5": 0.7},
                     "tight": {"success": 0.5, "tokens_per_step": 120.0, "recall@1": 0.2,
                               "recall@5": 0.6}}},
        series={"tokens_by_step": {"tight": [100, 120, 140], "full": [100, 200, 300],
                                   "last-n": [100, 150, 160]}},
        rows=[{"task": "t1", "success": True, "tokens": 1234}])
    payload = base.model_dump(mode="json")
    payload.update(overrides)
    return payload


def drawn(items) -> list[Figure]:
    return [f for f in items if isinstance(f, Figure)]


def test_every_plot_has_a_title_axis_units_a_better_line_and_a_definition():
    items = figures(record())
    plots = drawn(items)
    assert [f.title for f in plots] == ["demo: tokens_by_step", "demo: recall@k",
                                        "demo: success vs tokens_per_step"]
    for f in plots:
        assert UNIT.search(f.ylabel), f"{f.title}: y axis '{f.ylabel}' has no unit"
        assert UNIT.search(f.xlabel) or f.xlabel.startswith("step"), f.xlabel
        assert f.better.startswith(BETTER), f.better
        assert f.definition and "No definition" not in f.definition
    page = render([record()])
    assert page.count("data:image/png;base64,") == 3
    for f in plots:  # the same words reach the page, beside each image
        assert f"alt='{escape(f.title)}. x: {escape(f.xlabel)}; y: {escape(f.ylabel)}'" in page
        assert escape(f.better) in page and escape(f.definition) in page
    assert "tokens (input and output) spent at each model turn" in page


def test_the_headline_is_drawn_last_on_top_and_labelled():
    plots = drawn(figures(record()))
    for f in plots:
        assert f.lines[-1].label == "tight" and f.lines[-1].headline
        assert [line.headline for line in f.lines].count(True) == 1
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib (the report extra)")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.bench._report_draw import draw

    fig, ax = plt.subplots()
    draw(ax, plots[0])
    lines = ax.get_lines()
    assert lines[-1].get_label() == "tight (headline)"
    assert lines[-1].get_zorder() > max(line.get_zorder() for line in lines[:-1])
    assert lines[-1].get_linewidth() > max(line.get_linewidth() for line in lines[:-1])
    assert "tight (headline)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_title(loc="left") == "demo: tokens_by_step"
    assert ax.get_xlabel() == plots[0].xlabel and ax.get_ylabel() == plots[0].ylabel
    plt.close(fig)


def test_a_flat_series_becomes_a_sentence_not_a_chart():
    flat = record(series={"steps_per_session": {
        "x": [1, 2], "xlabel": "session", "ylabel": "model turns",
        "y": {"full": [10, 10], "tight": [10, 10]}}})
    said = [f for f in figures(flat) if isinstance(f, Sentence)]
    assert [s.text for s in said] == [
        "model turns is 10 for every configuration at every session."]
    page = render([flat])
    assert "model turns is 10 for every configuration at every session." in page
    assert page.count("data:image/png;base64,") == 2  # recall@k and success vs cost only


def test_equal_success_everywhere_is_said_with_the_spread_of_cost():
    metrics = {"success": 1.0, "tokens_per_solved_task": 3754.0, "by_variant": {
        "memory": {"success": 1.0, "tokens_per_solved_task": 3754.0},
        "gate": {"success": 1.0, "tokens_per_solved_task": 3538.0},
        "none": {"success": 1.0, "tokens_per_solved_task": 4945.0}}}
    said = figures(record(config="memory", metrics=metrics, series={}))
    assert [s.text for s in said] == [
        "success is 1.000 for all 3 configurations; tokens_per_solved_task ranges from "
        "3,538 (gate) to 4,945 (none)."]


def test_a_single_point_becomes_a_sentence():
    one = record(series={"peak_kib": {"x": [10], "y": {"tight": [512.5]}}},
                 metrics={"success": 1.0})
    (said,) = figures(one)
    assert isinstance(said, Sentence)
    assert said.text == ("peak memory (KiB) is 512.5 for tight.")
    assert "Peak traced Python memory of one run." in render([one])


def test_coinciding_lines_are_named_under_the_plot():
    twin = record(series={"tokens_by_step": {"tight": [1, 2, 3], "full": [1, 2, 3],
                                             "last-n": [3, 2, 1]}})
    (plot, *_rest) = drawn(figures(twin))
    assert plot.notes == ["full and tight (headline) coincide (same values everywhere); the "
                          "one drawn on top hides the others."]


def test_tables_format_each_column_alike_and_let_long_names_wrap():
    assert format_column([0.5, 1.0, 0.71264]) == ["0.500", "1.000", "0.713"]
    assert format_column([3754.333, 12.0, None]) == ["3,754", "12", "—"]
    assert format_column([4, 10, 6]) == ["4", "10", "6"]
    assert format_column([0.5, 0.00012]) == ["0.50000", "0.00012"]
    assert format_column([True, False]) == ["yes", "no"]
    long = "repeated_failed_fix_count"
    page = render([record(metrics={long: 1.0, "success": 0.5, "by_variant": {
        "a": {long: 2.0, "success": 0.25}, "b": {long: 0.0, "success": 1.0}}})])
    assert "repeated_<wbr>failed_<wbr>fix_<wbr>count" in page
    assert "<td class='num'>0.250</td>" in page and "<td class='num'>1.000</td>" in page
    assert ".scroll{overflow-x:auto" in page and page.count("<div class='scroll'>") >= 3


def test_the_page_opens_offline():
    page = render([record()], skipped={"other": "no data"})
    assert not re.search(r"""(src|href)\s*=\s*['"]?\s*(https?:)?//""", page, re.I)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "skipped: <b>other</b>" in page and "<td class='text'>no data</td>" in page


def test_every_metric_the_quick_suites_emit_has_a_definition():
    keys = set()
    for suite in ("smoke", "policy"):
        rec = run_bench(suite, BenchOptions())
        for scope in (rec.metrics, *rec.metrics.get("by_variant", {}).values()):
            keys |= {k for k, v in scope.items() if isinstance(v, int | float)}
        keys |= set(rec.series)
    undefined = sorted(k for k in keys if "No definition" in describe(k).definition)
    assert not undefined, f"add these to harness/bench/_report_metrics.py: {undefined}"
    assert all(m.definition.endswith(".") and m.better in ("higher", "lower", "neither")
               for m in METRICS.values())


def test_derived_keys_are_described_from_their_base_key():
    assert describe("baseline_recall@10").definition.startswith("The in-run baseline's share")
    assert describe("recall_p99_ms@1e5").label == "recall p99 at 1e5"
    assert describe("us_per_step_n100").unit == "µs"
    assert describe("recall@5").definition.count("top 5") == 1
    unknown = describe("made_up_figure")
    assert unknown.better == "neither" and "_report_metrics.py" in unknown.definition


def test_an_odd_series_is_left_out_and_the_rest_of_the_report_still_renders(tmp_path):
    odd = record(series={"tokens_by_step": {"x": [1, 2], "y": {"tight": [1, 2, 3]}},
                         "notes": "not a series"})
    path = write_report([odd], tmp_path / "report.html")
    page = path.read_text()
    assert page.count("data:image/png;base64,") == 2 and "demo: recall@k" in page


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                    reason="Chromium is not installed: the headless rendering check needs it")
def test_chromium_renders_the_report_headless(tmp_path):
    path = write_report([record()], tmp_path / "report.html")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           path.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<h1>harness bench report</h1>" in dom and "<h2 id=\"demo\">demo</h2>" in dom
    assert dom.count("<img") == 3 and dom.count("<figcaption>") == 3


def test_the_headline_is_the_variant_whose_figures_the_top_level_repeats():
    from harness.bench._report_figures import headline_of

    metrics = {"us_per_step_n10": 160.0, "flatness": 0.6, "peers_measured": ["x"],
               "by_variant": {"harness": {"us_per_step_n10": 160.0, "flatness": 0.6},
                              "plain": {"us_per_step_n10": 4.0, "flatness": 0.5}}}
    rec = record(config="default", metrics=metrics, series={"us_per_step": {
        "x": [10, 100], "log": True, "y": {"harness": [160.0, 90.0], "plain": [4.0, 2.0]}}})
    assert headline_of(rec) == "harness"
    (plot,) = drawn(figures(rec))
    assert plot.lines[-1].legend == "harness (headline)" and plot.log
    assert "(variant <code>harness</code>)" in render([rec])


def test_a_safety_trade_off_is_plotted_with_its_direction():
    metrics = {"damage_rate": 0.0, "utility": 1.0, "by_variant": {
        "none": {"damage_rate": 0.82, "utility": 1.0},
        "policy": {"damage_rate": 0.02, "utility": 0.96},
        "both": {"damage_rate": 0.0, "utility": 1.0}}}
    (plot,) = drawn(figures(record(config="both", metrics=metrics, series={})))
    assert plot.title == "demo: utility vs damage_rate" and plot.kind == "scatter"
    assert plot.better == ("Up and to the left is better: higher utility at lower damage "
                           "rate.")
    assert (plot.xlabel, plot.ylabel) == ("damage rate (share, 0–1)", "utility (share, 0–1)")
    assert plot.lines[-1].label == "both" and plot.lines[-1].headline
