"""Harness configurations: files, inheritance, ablations, and agents built from them."""

import pytest

from harness.bench.config import HarnessConfig, ablate, build_agent, load_config, resolve_config
from harness.bench.runner import ablation_cells, cell_name
from harness.bench.suite import BenchOptions, DataError
from harness.context import FullHistoryContext
from harness.llm import ScriptedModel
from harness.memory import NullMemory


def test_yaml_config_extends_a_named_config_and_accepts_shorthand(tmp_path):
    path = tmp_path / "lean.yaml"
    path.write_text("extends: base\ncontext: harness.context.base:FullHistoryContext\n"
                    "budget: {max_steps: 7}\n")
    named = {"base": HarnessConfig(name="base", params={"gate": True}, max_repairs=0)}
    config = load_config(str(path), named)
    assert config.name == "lean"
    assert config.context.variant == "harness.context.base:FullHistoryContext"
    assert config.budget.max_steps == 7
    assert config.params == {"gate": True} and config.max_repairs == 0  # inherited


def test_toml_config_and_file_extending_a_file(tmp_path):
    (tmp_path / "base.toml").write_text('name = "b"\n[memory]\nvariant = "project"\n'
                                        '[memory.params]\nrecall_k = 3\n')
    (tmp_path / "child.toml").write_text('extends = "base.toml"\n[memory.params]\nrecall_k = 5\n')
    config = load_config(str(tmp_path / "child.toml"))
    assert config.memory.params == {"recall_k": 5} and config.name == "child"


@pytest.mark.parametrize("text, expected", [
    ("budget: {max_steps: many}\n", "bad.yaml: field 'budget.max_steps'"),
    ("memory: quantum\n", "bad.yaml: unknown memory variant 'quantum'"),
    ("colour: blue\n", "bad.yaml: field 'colour'"),
    ("memory: {variant: project, params: {colour: 1}}\n",
     "bad.yaml: field 'memory.params.colour': memory variant 'project' has no parameter 'colour'"),
    ("- a list\n", "bad.yaml: a config is a mapping"),
    ("key: [unclosed\n", "bad.yaml: not valid YAML"),
])
def test_bad_config_files_name_the_file_and_field(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_config(str(path))
    assert expected in str(err.value)


def test_unknown_config_name_lists_the_choices():
    with pytest.raises(DataError, match="no config named 'nope'; choose from: default"):
        load_config("nope")


def test_ablate_swaps_variants_and_sets_parameters():
    base = HarnessConfig(memory={"variant": "project", "params": {"record": True, "recall_k": 5}},
                         params={"probe": "repeater"})
    assert ablate(base, "memory", "harness.memory.base:NullMemory").memory.params == {}
    assert ablate(base, "record", "off").memory.params == {"record": False, "recall_k": 5}
    assert ablate(base, "memory.recall_k", "3").memory.params["recall_k"] == 3
    assert ablate(base, "budget.max_steps", "4").budget.max_steps == 4
    assert ablate(base, "probe", "gullible").params["probe"] == "gullible"
    assert ablate(base, "router", "none").skills.variant == "none"
    with pytest.raises(DataError, match="'colour' is not in this config; ablatable keys: .*record"):
        ablate(base, "colour", "red")
    with pytest.raises(DataError, match="unknown context variant 'tiny'"):
        ablate(base, "context", "tiny")


def test_resolve_config_applies_each_ablation_of_the_options():
    opts = BenchOptions(config="default", ablate={"budget.max_steps": "2", "context": "full"})
    config = resolve_config(opts)
    assert config.budget.max_steps == 2 and config.context.variant == "full"
    with pytest.raises(DataError, match="--ablate max_repairs=0: 'max_repairs' is not in"):
        resolve_config(BenchOptions(ablate={"max_repairs": "0"}))


def test_ablation_grid_is_every_combination_with_the_base_first():
    cells = ablation_cells({"memory": ["none"], "gate": ["off", "on"]})
    assert [cell_name(c) for c in cells] == [
        "base", "gate=off", "gate=on", "memory=none", "memory=none+gate=off",
        "memory=none+gate=on"]


def test_build_agent_composes_the_configured_components(tmp_path):
    config = HarnessConfig(context="harness.context.base:FullHistoryContext",
                           budget={"max_steps": 3})
    (tmp_path / "a.txt").write_text("42")
    agent = build_agent(config, ScriptedModel([{"tool": "read_file", "args": {"path": "a.txt"}},
                                               "42"]), workspace=tmp_path)
    assert isinstance(agent.context, FullHistoryContext) and isinstance(agent.memory, NullMemory)
    assert agent.budget.max_steps == 3
    trajectory = agent.run("read a.txt")
    assert trajectory.finished.answer == "42"
    assert trajectory[0].config["context"] == "harness.context.base:FullHistoryContext"


def test_build_agent_reports_a_variant_that_cannot_be_imported(tmp_path):
    config = HarnessConfig(memory="harness.nowhere:Memory")
    with pytest.raises(DataError, match="memory variant 'harness.nowhere:Memory'.*not available"):
        build_agent(config, ScriptedModel(["x"]), workspace=tmp_path)
