"""Harness configurations: a named composition of components and their parameters.

A configuration is data (YAML, TOML or JSON on disk; pydantic here), so an ablation is one
flag: `--ablate memory=none` swaps a component's variant, `--ablate memory.k=3` one of its
parameters, `--ablate gate=off` any parameter whose name is unambiguous.

    name: memory-gate
    extends: default
    memory: {variant: project, params: {gate: true}}
    budget: {max_steps: 20}

A variant is a name from `VARIANTS` or an import path `package.module:Class`.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PydanticSchemaGenerationError,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from harness.bench.suite import BenchOptions, DataError, describe_validation
from harness.config_files import ConfigFileError, field_line, read_mapping
from harness.state import Budget

COMPONENTS = ("context", "memory", "skills", "governor", "sandbox")
ALIASES = {"router": "skills", "governance": "governor"}

VARIANTS: dict[str, dict[str, str]] = {
    "context": {"full": "harness.context.base:FullHistoryContext",
                "budgeted": "harness.context:BudgetedContext"},
    "memory": {"none": "harness.memory.base:NullMemory",
               "project": "harness.memory:ProjectMemory"},
    "skills": {"none": "harness.skills.base:NoSkills"},
    "governor": {"none": "harness.governance.base:AllowAll",
                 "policy": "harness.governance.governor:PolicyGovernor"},
    "sandbox": {"auto": "harness.sandbox.choose:strongest_available",
                "bwrap": "harness.sandbox:Bubblewrap", "bubblewrap": "harness.sandbox:Bubblewrap",
                "docker": "harness.sandbox:Docker", "none": "harness.sandbox:NoSandbox"},
}
"""Known variant names per component -> `module:Class`, imported only when built."""

CONFIG_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


class ComponentSpec(BaseModel):
    """One component of a configuration: which variant, built with which parameters.
    In a file, a bare string is shorthand for `{variant: NAME}`."""

    model_config = ConfigDict(extra="forbid")

    variant: str
    params: dict[str, Any] = Field(default_factory=dict)


class HarnessConfig(BaseModel):
    """A named composition of the harness: one spec per component, the run budget, and free
    `params` a suite reads (e.g. `gate: false`). `extends` names a config this one starts from."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    description: str = ""
    extends: str | None = None
    context: ComponentSpec = ComponentSpec(variant="budgeted")
    memory: ComponentSpec = ComponentSpec(variant="none")
    skills: ComponentSpec = ComponentSpec(variant="none")
    governor: ComponentSpec = ComponentSpec(variant="none")
    sandbox: ComponentSpec = ComponentSpec(variant="auto")
    """What confines the tools: auto (bubblewrap where it runs), bwrap, docker or none."""
    budget: Budget = Field(default_factory=Budget)
    max_repairs: int = 2
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator(*COMPONENTS, mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"variant": value} if isinstance(value, str) else value

    def component(self, kind: str) -> ComponentSpec:
        return getattr(self, ALIASES.get(kind, kind))

    def summary(self) -> dict[str, Any]:
        """The composition in one flat dict (variant per component, budget, params)."""
        out: dict[str, Any] = {k: self.component(k).variant for k in COMPONENTS}
        for k in COMPONENTS:
            out.update({f"{k}.{p}": v for p, v in self.component(k).params.items()})
        out.update({f"budget.{k}": v for k, v in self.budget.model_dump(exclude_none=True).items()})
        out.update(self.params)
        return out


BUILTIN_CONFIGS: dict[str, HarnessConfig] = {
    "default": HarnessConfig(description="the Agent's defaults: budgeted context, no memory, "
                                         "no skills, allow-all, the strongest sandbox"),
}


# -- loading ----------------------------------------------------------------------------------
def is_config_file(spec: str) -> bool:
    return spec.endswith(CONFIG_SUFFIXES) or Path(spec).is_file()


def load_config_file(path: str | Path, named: Mapping[str, HarnessConfig] | None = None,
                     _seen: tuple[Path, ...] = ()) -> HarnessConfig:
    """Read a YAML/TOML/JSON config; errors name the file and the field."""
    path = Path(path)
    if path.resolve() in _seen:
        raise DataError(f"{path}: 'extends' forms a cycle")
    try:
        data = read_mapping(path)
    except ConfigFileError as exc:
        raise DataError(f"--config {exc}") from exc
    data.setdefault("name", path.stem)
    base = None
    if data.get("extends"):
        ref = str(data["extends"])
        rel = path.parent / ref
        base = (load_config_file(rel, named, (*_seen, path.resolve())) if is_config_file(str(rel))
                else named_config(ref, named, where=f"{path}: field 'extends'"))
    return _validate(data, base, str(path), path)


def named_config(name: str, named: Mapping[str, HarnessConfig] | None = None,
                 where: str = "--config") -> HarnessConfig:
    table = {**BUILTIN_CONFIGS, **(named or {})}
    if name not in table:
        raise DataError(f"{where}: no config named '{name}'; choose from: {', '.join(table)} "
                        f"or pass a .yaml/.toml file")
    return table[name]


def load_config(spec: str | None, named: Mapping[str, HarnessConfig] | None = None,
                default: str = "default") -> HarnessConfig:
    """A config by name (the suite's `named` configs, then the built-in ones) or by file."""
    if spec and is_config_file(spec):
        return load_config_file(spec, named)
    return named_config(spec or default, named)


def _validate(data: dict[str, Any], base: HarnessConfig | None, where: str,
              path: Path | None = None) -> HarnessConfig:
    """`data` (over `base`) as a config whose every variant is known and every component
    param has its constructor's type; errors name `where`, the line in `path` where a
    search finds the field, and the field."""
    merged = _merge(base.model_dump(exclude={"name", "description", "extends"}), data) \
        if base else data
    try:
        config = HarnessConfig.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _failed(where, err["loc"], err["msg"], path) from exc
    for kind in COMPONENTS:
        check_variant(kind, config.component(kind).variant, where)
        check_params(kind, config.component(kind), where, path)
    return config


def _failed(where: str, loc: Sequence[str | int], message: str, path: Path | None) -> DataError:
    """`WHERE: field 'a.b': MESSAGE (line N)`, the line where a search of `path` finds it."""
    line = field_line(path, loc) if path is not None else None
    return DataError(f"{where}: field '{'.'.join(str(p) for p in loc)}': {message}"
                     + ("" if line is None else f" (line {line})"))


def check_params(kind: str, spec: ComponentSpec, where: str = "config",
                 path: Path | None = None) -> None:
    """Check, as a config loads, that each of a component's `params` that its constructor
    names has the type the constructor declares (`budget_tokens: lots` for an `int` is
    refused here, not by every run that builds it), and that it names no parameter the
    constructor lacks. Raises `DataError` naming the field
    (`context.params.budget_tokens`) and, for a file, its line."""
    factory = import_variant(kind, spec.variant)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return
    hints = _type_hints(factory)
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    for name, value in spec.params.items():
        param = parameters.get(name)
        if param is None and not open_ended:
            takes = ", ".join(k for k, p in parameters.items()
                              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            raise _failed(where, (kind, "params", name), f"{kind} variant '{spec.variant}' "
                          f"has no parameter '{name}' (it takes: {takes})", path)
        hint = hints.get(name)
        if param is None or hint is None or param.kind in (param.VAR_POSITIONAL,
                                                           param.VAR_KEYWORD):
            continue
        try:
            TypeAdapter(hint).validate_python(value)
        except ValidationError as exc:
            raise _failed(where, (kind, "params", name),
                          f"{exc.errors()[0]['msg']}, got {value!r}", path) from exc
        except (PydanticSchemaGenerationError, TypeError, NameError):
            continue  # a type pydantic cannot check: the constructor is left to judge


def _type_hints(factory: Any) -> dict[str, Any]:
    """The parameter annotations of a class's `__init__` or a function, resolved; {} when
    they cannot be."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: nothing to check against
        return {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, str) and key in COMPONENTS:
            value = {"variant": value}
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            if key in COMPONENTS and value.get("variant", out[key]["variant"]) != out[key]["variant"]:
                out[key] = value  # a different variant does not inherit the old one's params
            else:
                out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def check_variant(kind: str, variant: str, where: str = "config") -> None:
    if ":" in variant or variant in VARIANTS[kind]:
        return
    raise DataError(f"{where}: unknown {kind} variant '{variant}'; choose from: "
                    f"{', '.join(VARIANTS[kind])}, or give module:Class")


# -- ablation ---------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A command-line value as YAML reads it: `off` -> False, `3` -> 3, `none` -> 'none'."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def ablate(config: HarnessConfig, key: str, value: str) -> HarnessConfig:
    """The config with one change: `COMPONENT=VARIANT`, `COMPONENT.PARAM=V`, `budget.FIELD=V`,
    or `PARAM=V` for a parameter of `params` or of exactly one component."""
    data = config.model_dump()
    head, _, tail = key.partition(".")
    head = ALIASES.get(head, head)
    where = f"--ablate {key}={value}"
    if head in COMPONENTS and not tail:
        check_variant(head, value, where)
        same = data[head]["variant"] == value
        data[head] = {"variant": value, "params": data[head]["params"] if same else {}}
    elif head in COMPONENTS or head == "budget":
        if not tail:
            raise DataError(f"{where}: name the budget field, e.g. budget.max_steps=5")
        (data[head]["params"] if head in COMPONENTS else data[head])[tail] = parse_value(value)
    elif key in data["params"]:
        data["params"][key] = parse_value(value)
    else:
        owners = [k for k in COMPONENTS if key in data[k]["params"]]
        if len(owners) != 1:
            known = sorted({*COMPONENTS, *data["params"],
                            *(f"{k}.{p}" for k in COMPONENTS for p in data[k]["params"])})
            why = "is a parameter of several components" if owners else "is not in this config"
            raise DataError(f"{where}: '{key}' {why}; ablatable keys: {', '.join(known)}")
        data[owners[0]]["params"][key] = parse_value(value)
    try:
        ablated = HarnessConfig.model_validate(data)
    except ValidationError as exc:
        raise DataError(f"{where}: {describe_validation(exc)}") from exc
    if head in COMPONENTS:
        check_params(head, ablated.component(head), where)
    return ablated


def resolve_config(opts: BenchOptions, named: Mapping[str, HarnessConfig] | None = None,
                   default: str = "default") -> HarnessConfig:
    """The config a suite should run: `--config` (name or file), then each `--ablate`."""
    config = load_config(opts.config, named, default)
    for key, value in opts.ablate.items():
        config = ablate(config, key, value)
    return config


# -- building ---------------------------------------------------------------------------------
def import_variant(kind: str, variant: str) -> Any:
    """The class (or factory) a variant names."""
    check_variant(kind, variant)
    target = VARIANTS[kind].get(variant, variant)
    module_name, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise DataError(f"{kind} variant '{variant}' ({target}) is not available: {exc}") from exc


def build_component(kind: str, spec: ComponentSpec, **runtime: Any) -> Any:
    """Instantiate a component with its params plus whichever `runtime` values (workspace,
    root, ...) its constructor names as parameters."""
    factory = import_variant(kind, spec.variant)
    accepted: Mapping[str, inspect.Parameter]
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        accepted = {}
    named = {k for k, p in accepted.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    kwargs = {k: v for k, v in runtime.items() if k in named}
    kwargs.update(spec.params)
    if "root" in named and runtime.get("workspace") is not None:
        kwargs["root"] = _root_in_workspace(kind, spec, Path(runtime["workspace"]),
                                            runtime.get("root"))
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise DataError(f"{kind} variant '{spec.variant}': bad params {spec.params}: {exc}") from exc


def build_agent(config: HarnessConfig, model: Any, *, workspace: str | Path,
                tools: Any = None, sinks: Any = (), **overrides: Any) -> Any:
    """An `Agent` composed as `config` says. `overrides` (context=..., memory=...) replace a
    built component with an instance the caller made (e.g. a memory shared across sessions)."""
    from harness.agent import Agent

    runtime = {"workspace": Path(workspace)}
    parts = {kind: overrides[kind] if kind in overrides
             else build_component(kind, config.component(kind), **runtime)
             for kind in COMPONENTS}
    return Agent(model, context=parts["context"], memory=parts["memory"], router=parts["skills"],
                 governor=parts["governor"], sandbox=parts["sandbox"], tools=tools,
                 workspace=workspace,
                 budget=config.budget, max_repairs=config.max_repairs, sinks=sinks,
                 config={"name": config.name, **config.summary()})


def _root_in_workspace(kind: str, spec: ComponentSpec, workspace: Path, given: Any) -> Path:
    """Where a component's `root` (a memory's directory) lives: what the caller gave, else
    the config's `root` beneath the run's workspace, else `WORKSPACE/.harness/<kind>`;
    never the current folder. A config's `root` that leaves the workspace is refused."""
    if "root" not in spec.params:
        return Path(given) if given is not None else workspace / ".harness" / kind
    root = Path(str(spec.params["root"])).expanduser()
    inside = (workspace / root).resolve()
    if root.is_absolute() or not inside.is_relative_to(workspace.resolve()):
        raise DataError(f"field '{kind}.params.root': '{root}' is not a path inside the run's "
                        f"workspace; give a relative path (it is created in the workspace)")
    return workspace / root
