"""The package's floors: each module imports only from the floors below its own, or from modules
of its own floor, and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import efflit

PACKAGE = Path(efflit.__file__).parent
# Lowest first: a floor's modules may import from the floors before it, never from those after.
FLOORS = ("base", "kb", "site", "memory", "pipeline", "curation", "links", "serve", "cli", "__main__")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The efflit modules a module imports, anywhere in it (lazy and type-only imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("efflit"):
            # `from efflit.site import views` imports the module efflit.site.views.
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("efflit")}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.index(parts[1]) if len(parts) > 1 else -1  # efflit itself: below all


def test_every_module_stands_on_a_floor():
    assert [m for m in graph() if m != "efflit" and m.split(".")[1] not in FLOORS] == []


def test_imports_go_down_the_floors():
    against = [
        f"{module} imports {imported}"
        for module, imported_modules in graph().items()
        for imported in imported_modules
        if floor(imported) > floor(module)
    ]
    assert against == []


def test_no_import_circles():
    edges = graph()
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(edges[module]):
            if imported in trail:
                circles.append(" > ".join([*trail[trail.index(imported) :], imported]))
            elif imported not in done:
                visit(imported, [*trail, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(edges):
        if module not in done:
            visit(module, [module])
    assert circles == []
