"""The shape of the code: layers point down, so no module under app/ imports itself back through
others (imports at any level count, also those inside functions); a helper is written once; each
feature's blueprint lives alone in blueprint.py."""

from __future__ import annotations

import ast
import hashlib
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def module_names() -> dict[str, Path]:
    names = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The app modules `name` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_no_module_under_app_imports_itself_back():
    modules = module_names()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert import_circles(graph) == []


def test_the_circle_finder_finds_a_circle_and_a_function_level_import():
    """The check above must be able to fail."""
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = "def f():\n    from app.visits import operations\n"
    fake = {"app.x": Path("x.py"), "app.visits.operations": Path("o.py"), "app.visits": Path("v.py")}
    path = APP.parent / "tests" / "_layout_probe.py"
    path.write_text(source, encoding="utf-8")
    try:
        assert imports_of("app.x", path, fake) == {"app.visits.operations"}
    finally:
        path.unlink()


def _body_fingerprint(function: ast.FunctionDef) -> str:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring may differ
    dumped = "".join(ast.dump(statement, annotate_fields=False) for statement in body)
    return hashlib.sha256(dumped.encode()).hexdigest()


def test_no_helper_is_written_twice():
    """Two functions with the same body (three statements or more) in different modules are one
    helper written twice: keep one and import it."""
    seen: dict[str, list[str]] = defaultdict(list)
    for name, path in module_names().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and len(node.body) >= 3:
                seen[_body_fingerprint(node)].append(f"{name}.{node.name}")
    twice = [places for places in seen.values() if len({place.rpartition(".")[0] for place in places}) > 1]
    assert twice == []


def test_each_feature_blueprint_lives_alone_in_blueprint_py():
    for path in APP.rglob("*.py"):
        if path.name == "blueprint.py":
            continue
        assert "Blueprint(" not in path.read_text(encoding="utf-8"), path
