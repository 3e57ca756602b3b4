"""The layering of `harness`, read from its source and enforced.

Every import of a harness module counts: at module level, inside a function, and under
`if TYPE_CHECKING:`. `from harness.pkg import name` is an edge to the submodule
`harness.pkg.name` when there is one, and otherwise to `harness.pkg` (the package's
`__init__`). Four rules:

1. no import cycle among harness modules;
2. only package `__init__` files and the apps import from a package `__init__` (a facade
   is for users; inside the library a module names the module that defines what it uses);
3. no import from a lower layer to a higher one (`LAYERS`, bottom first);
4. no component package imports another component package: they meet in the spine.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

import harness

ROOT = Path(harness.__file__).parent

SPINE, INFRASTRUCTURE, COMPONENTS, AGENT, APPS = range(5)
LAYER_NAMES = ("spine", "infrastructure", "components", "agent", "apps")

LAYERS: dict[str, int] = {
    # The spine: the types every layer shares, and helpers with no harness imports.
    "harness._lazy": SPINE,
    "harness._fast": SPINE,
    "harness.errors": SPINE,
    "harness.messages": SPINE,
    "harness.events": SPINE,
    "harness.state": SPINE,
    "harness.llm.base": SPINE,
    "harness.sandbox.base": SPINE,
    "harness.sandbox.files": SPINE,  # confined file access: the sandbox contract's other half
    "harness.tools.base": SPINE,
    "harness.tools.effects": SPINE,  # what a tool declares it does: read by policy, gate, metrics
    "harness.fencing": SPINE,  # how untrusted content is marked: written by context, read by probes
    "harness.sandbox.local": SPINE,  # the explicit unconfined sandbox: a ToolContext's fallback
    "harness.sandbox.process": SPINE,  # how any sandbox runs a process and kills its group
    "harness.sandbox.limits": SPINE,
    # Infrastructure: what reaches models and the machine.
    "harness.llm": INFRASTRUCTURE,
    "harness.probes": INFRASTRUCTURE,  # offline models for the benchmarks
    "harness.sandbox": INFRASTRUCTURE,
    "harness.shell": INFRASTRUCTURE,
    "harness.tools": INFRASTRUCTURE,
    "harness.safe_git": INFRASTRUCTURE,
    "harness.workspace_state": INFRASTRUCTURE,  # what a run started from, for replay
    "harness.data": INFRASTRUCTURE,  # third-party benchmark data: where it comes from, where it lands
    "harness.mcp": INFRASTRUCTURE,  # tools from MCP servers
    "harness.telemetry": INFRASTRUCTURE,  # a run's events as OpenTelemetry spans
    "harness.config_files": INFRASTRUCTURE,
    "harness.subagent": INFRASTRUCTURE,  # a Worker: one model bound to a schema (isolation uses it)
    # Components: each a package of its own; none imports another.
    "harness.context": COMPONENTS,
    "harness.memory": COMPONENTS,
    "harness.skills": COMPONENTS,
    "harness.governance": COMPONENTS,
    "harness.metrics": COMPONENTS,
    # The agent composes the components.
    "harness.agent": AGENT,
    "harness.loop_guard": AGENT,  # notices a run going round in circles (reads metrics' calls)
    # Apps: the command line, the benchmarks, the views (and `harness` itself, the facade).
    "harness.__main__": APPS,
    "harness._console": APPS,
    "harness.bench": APPS,
    "harness.cli": APPS,
    "harness.view": APPS,
    "harness.viewer": APPS,  # the HTML trajectory viewer
    "harness.mcp.server": APPS,  # project memory served over MCP
}
"""Module or package -> layer; the longest matching name wins. Every `harness.*.cli` module
(a package's commands) is an app, and so is `harness/__init__.py`, the public facade."""

COMPONENT_PACKAGES = sorted(name for name, layer in LAYERS.items() if layer == COMPONENTS)


@dataclass(frozen=True)
class Import:
    """One import of a harness module: who imports what, where."""

    importer: str
    target: str
    path: Path
    line: int
    type_checking: bool = False

    def __str__(self) -> str:
        where = ", under TYPE_CHECKING" if self.type_checking else ""
        return f"{self.importer} -> {self.target}  ({self.path}:{self.line}{where})"


def module_name(path: Path, root: Path) -> str:
    """`root/pkg/mod.py` -> `<root name>.pkg.mod`; a package's `__init__.py` -> the package."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks (also `typing.TYPE_CHECKING`)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                inside.update(id(sub) for sub in ast.walk(stmt))
    return inside


def collect_imports(root: Path) -> tuple[set[str], set[str], list[Import]]:
    """The modules and packages under `root` (a package directory) and every import of
    one of them, from anywhere in any of its files."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    packages = {module_name(p, root) for p in root.rglob("__init__.py")}
    top = root.name

    def resolve(module: str, name: str | None) -> str | None:
        if name is not None and f"{module}.{name}" in files:
            return f"{module}.{name}"
        while module and module not in files:  # `import pkg.mod.attr`: the longest module
            module = module.rpartition(".")[0]
        return module or None

    imports: list[Import] = []
    for importer, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        guarded = _type_checking_nodes(tree)
        shown = path.relative_to(root.parent)
        for node in ast.walk(tree):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name, None) for a in node.names
                           if a.name == top or a.name.startswith(top + ".")]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: from the importer's package
                    base = importer if importer in packages else importer.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    module = f"{base}.{module}" if module else base
                if module == top or module.startswith(top + "."):
                    targets = [resolve(module, a.name) for a in node.names]
            for target in dict.fromkeys(targets):
                if target is not None and target != importer:
                    imports.append(Import(importer, target, shown, node.lineno,
                                          id(node) in guarded))
    return set(files), packages, imports


def import_graph(imports: list[Import]) -> nx.DiGraph:
    """Importer -> imported; each edge keeps the `Import`s that make it (`imports`)."""
    graph = nx.DiGraph()
    for imp in imports:
        if graph.has_edge(imp.importer, imp.target):
            graph.edges[imp.importer, imp.target]["imports"].append(imp)
        else:
            graph.add_edge(imp.importer, imp.target, imports=[imp])
    return graph


def import_cycles(graph: nx.DiGraph) -> list[list[Import]]:
    """One cycle through each group of modules that import each other, as the imports
    that close it (shortest first)."""
    cycles = []
    for group in nx.strongly_connected_components(graph):
        if len(group) < 2:
            continue
        edges = nx.find_cycle(graph.subgraph(group))
        cycles.append([graph.edges[a, b]["imports"][0] for a, b in edges])
    return sorted(cycles, key=lambda c: (len(c), str(c[0])))


def layer_of(module: str, layers: dict[str, int] = LAYERS) -> int:
    """The layer of `module`: its longest prefix in `layers`; a `*.cli` module is an app."""
    if module.endswith(".cli") or module == ROOT.name:
        return APPS
    name = module
    while name not in layers:
        if "." not in name:
            raise KeyError(f"{module} is in no layer: add it (or its package) to LAYERS")
        name = name.rpartition(".")[0]
    return layers[name]


def component_of(module: str) -> str | None:
    """The component package `module` belongs to, if any (its commands are apps)."""
    if layer_of(module) != COMPONENTS:
        return None
    return next(p for p in COMPONENT_PACKAGES if module == p or module.startswith(p + "."))


def facade_imports(imports: list[Import], packages: set[str],
                   apps: Callable[[str], bool] = lambda m: layer_of(m) == APPS) -> list[Import]:
    """Imports of a package `__init__` by a module that is neither an `__init__` nor an app."""
    return [i for i in imports if i.target in packages and i.importer not in packages
            and not apps(i.importer)]


def upward_imports(imports: list[Import]) -> list[Import]:
    return [i for i in imports if layer_of(i.importer) < layer_of(i.target)]


def cross_component_imports(imports: list[Import]) -> list[Import]:
    return [i for i in imports if component_of(i.importer) is not None
            and component_of(i.target) not in (None, component_of(i.importer))]


def _listing(title: str, imports: list[Import]) -> str:
    return f"{title} ({len(imports)}):\n" + "\n".join(f"  {i}" for i in sorted(imports, key=str))


# -- the rules, on harness -------------------------------------------------------------

MODULES, PACKAGES, IMPORTS = collect_imports(ROOT)


def test_harness_has_no_import_cycle():
    cycles = import_cycles(import_graph(IMPORTS))
    assert not cycles, f"{len(cycles)} import cycle(s); break each at one of its imports:\n" + \
        "\n".join("  cycle:\n" + "\n".join(f"    {i}" for i in c) for c in cycles)


def test_only_inits_and_apps_import_a_package_facade():
    found = facade_imports(IMPORTS, PACKAGES)
    assert not found, _listing(
        "imports of a package __init__ from inside the library; import the module that "
        "defines the name instead", found)


def test_no_layer_imports_a_higher_layer():
    found = upward_imports(IMPORTS)
    assert not found, _listing(
        "imports from a lower layer to a higher one (" + " < ".join(LAYER_NAMES) + ")",
        [Import(i.importer + f" [{LAYER_NAMES[layer_of(i.importer)]}]",
                i.target + f" [{LAYER_NAMES[layer_of(i.target)]}]", i.path, i.line,
                i.type_checking) for i in found])


def test_components_meet_only_in_the_spine():
    found = cross_component_imports(IMPORTS)
    assert not found, _listing(
        "imports of one component package by another (" + ", ".join(COMPONENT_PACKAGES) +
        "); move what both need into the spine", found)


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)  # raises KeyError naming the module


# -- the helpers, on a synthetic package -------------------------------------------------

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_import_cycle_in_a_tmp_package_is_found_with_its_lines(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.b import f\n",
        "b.py": "def f():\n    from pkg import c\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
        "d.py": "import pkg.a\n",
    })
    _, _, imports = collect_imports(root)
    (cycle,) = import_cycles(import_graph(imports))
    assert {(i.importer, i.target) for i in cycle} == {
        ("pkg.a", "pkg.b"), ("pkg.b", "pkg.c"), ("pkg.c", "pkg.a")}
    by_edge = {(i.importer, i.target): i for i in cycle}
    assert by_edge["pkg.b", "pkg.c"].line == 2  # inside a function
    assert by_edge["pkg.c", "pkg.a"].type_checking


def test_names_resolve_to_submodules_or_to_the_package_init(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "sub/__init__.py": "from pkg.sub.mod import Thing\n",
        "sub/mod.py": "class Thing: ...\n",
        "user.py": "from pkg.sub import Thing, mod\nfrom .sub.mod import Thing as T\n",
        "other.py": "import pkg.sub.mod\nfrom pkg import user\nimport os\n",
    })
    modules, packages, imports = collect_imports(root)
    assert packages == {"pkg", "pkg.sub"}
    assert {(i.importer, i.target) for i in imports} == {
        ("pkg.sub", "pkg.sub.mod"), ("pkg.user", "pkg.sub"), ("pkg.user", "pkg.sub.mod"),
        ("pkg.other", "pkg.sub.mod"), ("pkg.other", "pkg.user")}
    facades = facade_imports(imports, packages, apps=lambda m: m == "pkg.other")
    assert [(i.importer, i.target, i.line) for i in facades] == [("pkg.user", "pkg.sub", 1)]


def test_layers_flag_upward_and_cross_component_imports():
    def imp(importer: str, target: str) -> Import:
        return Import(importer, target, Path("x.py"), 1)

    down = imp("harness.memory.log", "harness.events")
    up = imp("harness.events", "harness.memory.log")
    across = imp("harness.memory.gate", "harness.context.steps")
    within = imp("harness.memory.gate", "harness.memory.log")
    command = imp("harness.memory.cli", "harness.context.steps")
    assert upward_imports([down, up, across, within, command]) == [up]
    assert cross_component_imports([down, up, across, within, command]) == [across]
    assert layer_of("harness.memory.cli") == APPS
    assert layer_of("harness.llm.base") == SPINE and layer_of("harness.llm.replay") == 1
    assert layer_of("harness") == APPS
    with pytest.raises(KeyError, match="harness.newcomer is in no layer"):
        layer_of("harness.newcomer")
