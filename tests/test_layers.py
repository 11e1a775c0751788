"""The layer rules, checked on the source: who may import whom, and no import cycles.

The import graph is read with ``ast`` from every import statement of the project's code
(``main.py``, the command lines ``cli.py``, ``cli_measure.py``, ``cli_track.py`` and what they
share, ``cli_common.py``, and ``engine``, ``figures``, ``gui``, ``resources``):
module level,
inside functions, under ``if TYPE_CHECKING:`` and in ``try`` blocks alike; relative imports
are resolved against their package. Nothing is imported, so the checks need no Qt.

The rules (DESIGN notes, "Shape of the code"):

- ``engine`` is pure numpy + OpenCV: no Qt binding, no pyqtgraph, no ``gui``, ``figures``,
  ``cli`` or ``main``;
- ``figures`` draws headless with QtGui/QtSvg/QtCore: no QtWidgets, pyqtgraph, ``gui``,
  ``cli``, ``main`` or argparse;
- ``gui`` is window code: no ``cli``, ``main`` or argparse;
- only ``main`` imports the command-line modules ``cli``, ``cli_measure`` and ``cli_track``;
- only those command lines import ``cli_common``, their shared flags and error handling;
- nothing imports ``torch`` (a development tool; the app runs ONNX with onnxruntime);
- ``resources`` is data: it imports nothing of the project;
- no cycles between the project's modules.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What the graph reads: top-level modules (files) and packages (folders).
SOURCES = ("main.py", "cli.py", "cli_measure.py", "cli_track.py", "cli_common.py", "engine",
           "figures", "gui", "resources")
#: The project's top-level names: an import of one of these is an import of the project.
PROJECT = ("main", "cli", "cli_measure", "cli_track", "cli_common", "engine", "figures", "gui",
           "resources")
#: The command-line modules: only main imports them.
CLI = ("cli", "cli_measure", "cli_track")
#: What the command lines share; only they import it.
CLI_COMMON = "cli_common"

QT = ("PySide6", "shiboken6", "pyqtgraph", "PySide2", "PyQt5", "PyQt6", "qtpy")


# -- the graph -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    """One imported name: ``module`` (in ``path`` at ``line``) imports ``name``.

    ``name`` is absolute and dotted: ``import a.b`` gives ``a.b``, ``from a import b`` gives
    ``a.b`` (b may be a module or an attribute), ``from a import *`` gives ``a``.
    ``target`` is the project module that the import loads (the longest known prefix of
    ``name``), or None when ``name`` is outside the project's modules.
    """

    module: str
    path: str
    line: int
    name: str
    target: str | None

    def describe(self) -> str:
        return f"{self.module} imports {self.name} ({self.path}:{self.line})"


def find_modules(root: Path, sources: Iterable[str] = SOURCES) -> dict[str, Path]:
    """Return {dotted module name: file} for the given files and package folders under root."""
    modules: dict[str, Path] = {}
    for source in sources:
        top = root / source
        files = [top] if top.is_file() else sorted(top.rglob("*.py"))
        if not files:
            raise FileNotFoundError(f"{top} is neither a .py file nor a folder of .py files")
        for file in files:
            parts = list(file.relative_to(root).with_suffix("").parts)
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = file
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom, where: str) -> str:
    """The absolute module named by ``from <node> import ...`` written in `module`."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    keep = len(package) - (node.level - 1)
    if keep <= 0:
        raise ValueError(f"{where}: relative import beyond the top-level package in {module}")
    return ".".join(package[:keep] + ([node.module] if node.module else []))


def _project_module(name: str, modules: Mapping[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def read_imports(root: Path, sources: Iterable[str] = SOURCES) -> list[Import]:
    """Every import of every module under `sources`, in file and line order."""
    modules = find_modules(root, sources)
    found: list[Import] = []
    for module, file in sorted(modules.items()):
        path = file.relative_to(root).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=path)
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = _absolute(module, file.name == "__init__.py", node,
                                 f"{path}:{node.lineno}")
                names = [base if alias.name == "*" else f"{base}.{alias.name}"
                         for alias in node.names]
            for name in names:
                found.append(Import(module, path, node.lineno, name,
                                    _project_module(name, modules)))
    return found


def project_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    """{module: the project modules it imports}, without self-imports."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.module, set())
        if imp.target is not None and imp.target != imp.module:
            graph[imp.module].add(imp.target)
            graph.setdefault(imp.target, set())
    return graph


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import cycles of `graph`: every strongly connected group of two or more modules,
    each as a sorted list, the groups sorted (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return sorted(cycles)


# -- the rules -------------------------------------------------------------------------------------
def _in(*layers: str) -> Callable[[str], bool]:
    return lambda module: any(module == p or module.startswith(p + ".") for p in layers)


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[str], bool]
    forbidden: tuple[str, ...]
    why: str


RULES = (
    Rule("engine", _in("engine"), (*QT, "gui", "figures", *CLI, CLI_COMMON, "main"),
         "the engine is pure numpy + OpenCV: no Qt, no window, figure or command-line code"),
    Rule("figures", _in("figures"),
         ("PySide6.QtWidgets", "pyqtgraph", "gui", *CLI, CLI_COMMON, "main", "argparse"),
         "figures draw headless with QtGui/QtSvg/QtCore, without widgets, windows or a command "
         "line"),
    Rule("gui", _in("gui"), (*CLI, CLI_COMMON, "main", "argparse"),
         "window code does not parse command lines; main.py hands it what it needs"),
    Rule("cli", lambda module: module != "main", CLI,
         "only main.py imports the command-line modules (cli, cli_measure, cli_track)"),
    Rule("cli_common", lambda module: module not in CLI, (CLI_COMMON,),
         "only the command lines import what they share (cli_common)"),
    Rule("torch", lambda module: True, ("torch",),
         "torch is a development tool (tools/, tests); the app runs ONNX with onnxruntime"),
    Rule("resources", _in("resources"), tuple(p for p in PROJECT if p != "resources"),
         "resources is data and imports nothing of the project"),
)


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def rule_violations(imports: Iterable[Import], rule: Rule) -> list[str]:
    """One line per import that breaks `rule`, naming the module, the import and where."""
    return [f"{imp.describe()}: {rule.why}" for imp in imports
            if rule.applies(imp.module) and any(_matches(imp.name, f) for f in rule.forbidden)]


def cycle_report(imports: Iterable[Import]) -> list[str]:
    """One line per import cycle: its modules, then the imports that close it."""
    imports = list(imports)
    lines = []
    for cycle in find_cycles(project_graph(imports)):
        members = set(cycle)
        edges = sorted({f"{imp.describe()}" for imp in imports
                        if imp.module in members and imp.target in members
                        and imp.target != imp.module})
        lines.append(f"cycle {cycle}: " + "; ".join(edges))
    return lines


# -- the project -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project_imports() -> list[Import]:
    return read_imports(ROOT)


def test_the_graph_reads_the_whole_project(project_imports):
    modules = find_modules(ROOT)
    expected = {"main", "cli", "engine", "engine.conv", "engine.pipeline", "figures",
                "figures.figure_set", "gui", "gui.window.main_window", "gui.worker", "resources"}
    assert expected <= set(modules), f"not found: {sorted(expected - set(modules))}"
    importers = {imp.module for imp in project_imports}
    assert {"main", "cli", "engine.pipeline", "gui.window.main_window"} <= importers
    graph = project_graph(project_imports)
    assert "engine.conv" in graph["engine"], "the package imports its submodules"


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_layer_rule(project_imports, rule):
    broken = rule_violations(project_imports, rule)
    assert not broken, f"{len(broken)} import(s) break the {rule.name} rule:\n" + "\n".join(broken)


def test_no_import_cycles(project_imports):
    cycles = cycle_report(project_imports)
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(cycles)


# -- the checks themselves, on a small tree with every kind of mistake -----------------------------
FAKE_TREE = {
    "main.py": "import cli\nfrom gui import window\nimport cli_common\n",
    "cli.py": "import argparse\n",
    "cli_measure.py": "import argparse\nimport torch\n",
    "cli_track.py": "import cli_common\n",
    "cli_common.py": "import argparse\n",
    "engine/__init__.py": "from .conv import relu\n",
    "engine/conv.py": (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import numpy as np\n"
        "if TYPE_CHECKING:\n"
        "    from gui import window\n"                   # line 5
        "def relu(x):\n"
        "    import shiboken6\n"                        # line 7: lazy, inside a function
        "    return np.maximum(x, 0)\n"
    ),
    "engine/deep/__init__.py": "from .. import conv\n",
    "engine/deep/stage.py": "import figures.draw as draw\nfrom ..conv import relu\n",
    "figures/__init__.py": "",
    "figures/draw.py": (
        "from PySide6.QtGui import QImage\n"             # allowed
        "from PySide6 import QtWidgets\n"               # line 2
        "import argparse\n"                             # line 3
        "from . import sheet\n"
    ),
    "figures/sheet.py": "from .panel import Panel\n",
    "figures/panel.py": "from figures.draw import QImage\n",  # closes draw -> sheet -> panel
    "gui/__init__.py": "",
    "gui/window.py": "from . import panel\n\n\ndef export():\n    import cli\n",   # line 5
    "gui/panel.py": "from .window import export\nfrom pyqtgraph import ImageItem\n",
    "resources/__init__.py": (
        "try:\n"
        "    from engine.conv import relu\n"            # line 2
        "except ImportError:\n"
        "    relu = None\n"
    ),
}


def write_tree(root: Path, tree: Mapping[str, str]) -> Path:
    for name, text in tree.items():
        file = root / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def fake_imports(tmp_path) -> list[Import]:
    return read_imports(write_tree(tmp_path, FAKE_TREE))


def _violations(imports) -> dict[str, list[str]]:
    return {rule.name: rule_violations(imports, rule) for rule in RULES}


def test_relative_and_hidden_imports_are_resolved(fake_imports):
    seen = {(imp.module, imp.name, imp.line, imp.target) for imp in fake_imports}
    assert ("engine.conv", "gui.window", 5, "gui.window") in seen          # under TYPE_CHECKING
    assert ("engine.conv", "shiboken6", 7, None) in seen                  # inside a function
    assert ("engine.deep", "engine.conv", 1, "engine.conv") in seen       # from .. (a package)
    assert ("engine.deep.stage", "engine.conv.relu", 2, "engine.conv") in seen  # from ..conv
    assert ("resources", "engine.conv.relu", 2, "engine.conv") in seen    # in a try block
    assert ("gui.panel", "gui.window.export", 1, "gui.window") in seen    # an attribute


def test_every_rule_names_the_module_and_the_import(fake_imports):
    found = _violations(fake_imports)
    expected = {
        "engine": ["engine.conv imports gui.window (engine/conv.py:5)",
                   "engine.conv imports shiboken6 (engine/conv.py:7)",
                   "engine.deep.stage imports figures.draw (engine/deep/stage.py:1)"],
        "figures": ["figures.draw imports PySide6.QtWidgets (figures/draw.py:2)",
                    "figures.draw imports argparse (figures/draw.py:3)"],
        "gui": ["gui.window imports cli (gui/window.py:5)"],
        "cli": ["gui.window imports cli (gui/window.py:5)"],
        "resources": ["resources imports engine.conv.relu (resources/__init__.py:2)"],
        "torch": ["cli_measure imports torch (cli_measure.py:2)"],
        "cli_common": ["main imports cli_common (main.py:3)"],
    }
    for rule, lines in expected.items():
        assert [line.split(": ")[0] for line in found[rule]] == lines, rule


def test_cycles_are_reported_as_lists_of_modules(fake_imports):
    assert find_cycles(project_graph(fake_imports)) == [
        ["figures.draw", "figures.panel", "figures.sheet"],
        ["gui.panel", "gui.window"],
    ]
    report = cycle_report(fake_imports)
    assert report[1].startswith("cycle ['gui.panel', 'gui.window']: ")
    assert "gui.window imports gui.panel (gui/window.py:1)" in report[1]
    assert "gui.panel imports gui.window.export (gui/panel.py:1)" in report[1]


def test_a_tree_that_keeps_the_rules_passes(tmp_path):
    tree = {
        "main.py": "import argparse\nimport cli\nfrom gui.window import run\n",
        "cli.py": "import argparse\nfrom engine import conv\nfrom figures.draw import draw\n",
        "cli_measure.py": "import argparse\nfrom engine import conv\n",
        "cli_track.py": "import cli_common\nfrom engine import conv\n",
        "cli_common.py": "import argparse\nfrom engine import conv\n",
        "engine/__init__.py": "from .conv import relu\n",
        "engine/conv.py": "import cv2\nimport numpy as np\n",
        "figures/__init__.py": "",
        "figures/draw.py": "from PySide6.QtGui import QImage\nfrom engine import relu\n",
        "gui/__init__.py": "",
        "gui/window.py": "import pyqtgraph\nfrom PySide6.QtWidgets import QMainWindow\n"
                         "from figures.draw import draw\n",
        "resources/__init__.py": "from importlib.resources import files\n",
    }
    imports = read_imports(write_tree(tmp_path, tree))
    assert _violations(imports) == {rule.name: [] for rule in RULES}
    assert cycle_report(imports) == []


def test_a_relative_import_beyond_the_top_is_an_error(tmp_path):
    tree = {"main.py": "", "cli.py": "", "cli_measure.py": "", "cli_track.py": "",
            "cli_common.py": "",
            "engine/__init__.py": "from ... import gui\n", "figures/__init__.py": "",
            "gui/__init__.py": "", "resources/__init__.py": ""}
    with pytest.raises(ValueError, match="engine/__init__.py:1"):
        read_imports(write_tree(tmp_path, tree))
