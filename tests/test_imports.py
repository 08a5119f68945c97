"""The import graph of tagger: the core never depends on the terminal, and no arrow runs both ways.

The graph is read from the source with :mod:`ast`, so an import inside a function
(the usual way to hide a cycle) counts like one at the top of the module. For cycles,
imports under ``if TYPE_CHECKING:`` are left out: they never run, and only name a
type (the sheet writers name :class:`tagger.pipeline.TagResult` that way); for the
terminal rule they count too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tagger

PACKAGE = Path(tagger.__file__).parent
ROOT = PACKAGE.parent
# The terminal front ends: only these may draw with rich or ask with questionary.
TERMINAL = ("tagger.cli", "tagger.__main__", "tagger.report", "tagger.wizard", "tagger.commands")
TERMINAL_LIBRARIES = ("rich", "questionary", "prompt_toolkit")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_terminal(name: str) -> bool:
    return any(name == t or name.startswith(t + ".") for t in TERMINAL)


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return skipped


def imported_names(name: str, *, type_only: bool = False) -> set[str]:
    """Every module ``name`` imports at run time (and for type hints if ``type_only``), at any depth, dotted."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = set() if type_only else _type_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def tagger_imports(name: str) -> set[str]:
    """The tagger modules ``name`` imports (``from tagger.x import y`` is module ``tagger.x.y`` if one exists)."""
    targets: set[str] = set()
    for dotted in imported_names(name):
        while dotted and dotted not in MODULES:
            dotted = dotted.rpartition(".")[0]
        if dotted and dotted != name:
            targets.add(dotted)
    return targets


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as the path that closes it), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_the_modules_and_lazy_imports() -> None:
    assert {"tagger.pipeline", "tagger.readers", "tagger.workbook", "tagger.workbook.groups"} <= set(MODULES)
    assert "tagger.workbook" in tagger_imports("tagger.pipeline")
    assert "tagger.readers" in tagger_imports("tagger.check")
    assert "tagger.rules" in tagger_imports("tagger.alerts")  # imported inside a function
    assert "tagger.pipeline" not in tagger_imports("tagger.workbook.users")  # only under TYPE_CHECKING
    assert "tagger.pipeline" in imported_names("tagger.workbook.users", type_only=True)
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_core_modules_import_no_terminal_code() -> None:
    offenders = []
    for name in MODULES:
        if is_terminal(name):
            continue
        for dotted in imported_names(name, type_only=True):  # not even for a type hint
            if dotted.split(".")[0] in TERMINAL_LIBRARIES or (dotted.startswith("tagger.") and is_terminal(dotted)):
                offenders.append(f"{name} imports {dotted}")
    assert not offenders, offenders


def test_the_rules_do_not_depend_on_the_workbook() -> None:
    """The tagging layer (segments, rules, playbook, metrics) is below the sheets that show it."""
    for name in ("tagger.segments", "tagger.rules", "tagger.playbook", "tagger.metrics", "tagger.readers"):
        assert not [t for t in tagger_imports(name) if t.startswith("tagger.workbook")], name


def test_no_import_cycles_among_tagger_modules() -> None:
    graph = {name: tagger_imports(name) for name in MODULES}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_importing_the_core_loads_no_terminal_library() -> None:
    core = [name for name in MODULES if not is_terminal(name)]
    code = (
        "import importlib, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {TERMINAL_LIBRARIES!r}"
        f" or any(m == t or m.startswith(t + '.') for t in {TERMINAL!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
