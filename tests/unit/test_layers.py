"""Every import points down (STYLE.md "Layout that shows the architecture"), checked on the source.

entry points → ``plugin`` → ``mappers`` → ``model`` (the plain data every layer shares);
``connectors`` (I/O only) → ``model``. Every ``import`` counts, at the top of a module, inside a
function or under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("plugin", "connectors", "mappers", "model", "sandbox", "bench", "tests")
NOT_PRODUCTION = ("sandbox", "bench", "tests")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The absolute names of every module ``path`` imports."""
    source = path.read_text(encoding="utf-8")
    return _imported(source, _module_name(path), is_package=path.name == "__init__.py")


def _imported(source: str, module: str, *, is_package: bool = False) -> set[str]:
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # ``from model import state`` imports the module ``model.state``.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _within(name: str, top: str) -> bool:
    return name == top or name.startswith(top + ".")


def _existing(name: str) -> bool:
    """Whether ``name`` is one of this project's modules (``from x import name`` may be a function)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@pytest.mark.parametrize("package", ["connectors", "mappers"])
def test_connectors_and_mappers_never_import_the_sidecar(package: str) -> None:
    wrong = {
        f"{_module_name(path)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if _within(name, "plugin")
    }
    assert not wrong, sorted(wrong)


def test_connectors_never_import_policy() -> None:
    wrong = {
        f"{_module_name(path)} imports {name}"
        for path in _modules("connectors")
        for name in _imports(path)
        if _within(name, "mappers")
    }
    assert not wrong, sorted(wrong)


def test_mappers_never_import_the_connectors() -> None:
    """Policy works on plain data: a mapper that needs a type takes it from ``model``, not from I/O."""
    wrong = {
        f"{_module_name(path)} imports {name}"
        for path in _modules("mappers")
        for name in _imports(path)
        if _within(name, "connectors")
    }
    assert not wrong, sorted(wrong)


def test_the_plain_data_imports_nothing_of_the_project() -> None:
    """``model`` is the ground floor: records, states, the ownership rule, Protocols, errors, text."""
    wrong = {
        f"{_module_name(path)} imports {name}"
        for path in _modules("model")
        for name in _imports(path)
        if any(_within(name, top) for top in PROJECT if top != "model")
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("package", ["plugin", "connectors", "mappers", "model"])
def test_production_never_imports_the_sandbox_bench_or_tests(package: str) -> None:
    wrong = {
        f"{_module_name(path)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if any(_within(name, top) for top in NOT_PRODUCTION)
    }
    assert not wrong, sorted(wrong)


def test_production_loads_no_module_by_name() -> None:
    """Every import is an import statement the checks here see: no ``importlib.import_module`` or
    ``__import__`` in production (the sandbox has a command of its own, ``keycloak-clever-sandbox``)."""
    by_name = set()
    for top in ("plugin", "connectors", "mappers", "model"):
        for path in _modules(top):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                called = node.func if isinstance(node, ast.Call) else None
                name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
                if name in ("import_module", "__import__"):
                    by_name.add(f"{_module_name(path)}:{node.lineno}")
    assert not by_name, sorted(by_name)


def test_the_checker_sees_every_kind_of_import() -> None:
    """An upward import at the top, inside a function, under ``TYPE_CHECKING`` and relative is seen."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import plugin.app\n"
        "if TYPE_CHECKING:\n"
        "    from plugin.config.settings import Settings\n"
        "def f():\n"
        "    from plugin import jobs\n"
        "from . import base\n"
    )
    found = _imported(source, "connectors.probe")
    assert {"plugin.app", "plugin.config.settings", "plugin.jobs", "connectors.base"} <= found
    assert {"model.state", "model.config"} <= _imports(ROOT / "connectors" / "keycloak.py")


# ``plugin``'s sub-packages, lowest first: each may import only itself and those before it.
PLUGIN_LAYERS = ("config", "sso", "sync", "runs", "admin", "app", "commands")


def _plugin_layer(name: str) -> int | None:
    parts = name.split(".")
    if parts[0] != "plugin" or len(parts) < 2 or parts[1] not in PLUGIN_LAYERS:
        return None
    return PLUGIN_LAYERS.index(parts[1])


def test_plugin_sub_packages_import_only_those_below_them() -> None:
    wrong = {
        f"{_module_name(path)} imports {name}"
        for path in _modules("plugin")
        if (own := _plugin_layer(_module_name(path))) is not None
        for name in _imports(path)
        if (other := _plugin_layer(name)) is not None and other > own
    }
    assert not wrong, sorted(wrong)


def test_every_plugin_module_is_in_a_layer() -> None:
    """A new module goes into the sub-package whose job it does, not loose under ``plugin/``."""
    loose = {
        _module_name(path)
        for path in _modules("plugin")
        if _module_name(path) != "plugin" and _plugin_layer(_module_name(path)) is None
    }
    assert not loose, sorted(loose)


def test_plugin_has_no_import_inside_a_function() -> None:
    """Imports sit at the top (or under ``TYPE_CHECKING``): a lazy import hides a circle."""
    lazy = set()
    for path in _modules("plugin"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lazy.update(
                    f"{_module_name(path)}.{node.name}"
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Import | ast.ImportFrom)
                )
    assert not lazy, sorted(lazy)


def test_the_worker_never_imports_flask() -> None:
    """The RQ worker runs the sync without the web app (about 10 MB less resident per worker)."""
    probe = "import sys, worker; print('flask' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "False"


def test_no_import_circles() -> None:
    """No module reaches itself through imports (a package counts as imported with its modules)."""
    paths = {
        _module_name(path): path for top in ("plugin", "connectors", "mappers") for path in _modules(top)
    }
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges = set()
        for imported in _imports(path):
            parts = imported.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {other for other in edges if other in paths and other != name}
    circles = []
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            name = todo.pop()
            if name == start:
                circles.append(start)
                break
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
    assert not circles, sorted(circles)
