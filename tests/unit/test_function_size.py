"""The map and plan stages read (issue 25): in ``plugin/sync`` and ``mappers`` no function is longer
than ``MAX_LINES`` lines or takes more than ``MAX_PARAMETERS`` parameters (a function that needs more
takes one input value, ``plugin.sync.desired.MapInput``), and none is more complex than radon's grade
C (``MAX_COMPLEXITY``, counted here as radon counts it: ``radon cc -n D plugin/sync mappers``).
Checked on the source with ``ast``, so it runs with the unit tests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("plugin/sync", "mappers")
MAX_LINES = 60  # from ``def`` to the last line, docstring included
MAX_PARAMETERS = 6  # ``self`` and ``cls`` not counted
MAX_COMPLEXITY = 20  # radon: 1-5 A, 6-10 B, 11-20 C, 21-30 D
Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions() -> Iterator[tuple[str, Function]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, Function):
                    yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node


def _parameters(node: Function) -> int:
    args = node.args
    listed = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    named = [a for a in listed if a.arg not in ("self", "cls")]
    return len(named) + bool(args.vararg) + bool(args.kwarg)


def _body(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function, without those of the functions defined in it (radon counts a
    closure on its own)."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, Function):
            yield child
            yield from _body(child)


def complexity(node: ast.AST) -> int:
    """Cyclomatic complexity as radon counts it (its ``ComplexityVisitor``)."""
    count = 1
    for child in _body(node):
        if isinstance(child, ast.If | ast.IfExp | ast.Assert):
            count += 1
        elif isinstance(child, ast.For | ast.AsyncFor | ast.While):
            count += 1 + bool(child.orelse)
        elif isinstance(child, ast.Try):
            count += len(child.handlers) + bool(child.orelse)
        elif isinstance(child, ast.BoolOp):
            count += len(child.values) - 1
        elif isinstance(child, ast.comprehension):
            count += 1 + len(child.ifs)
        elif isinstance(child, ast.match_case):
            count += 1
    return count


def test_no_function_of_the_map_and_plan_stages_is_long() -> None:
    long = [
        f"{where}: {node.end_lineno - node.lineno + 1} lines"
        for where, node in _functions()
        if node.end_lineno and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long, long


def test_no_function_of_the_map_and_plan_stages_takes_more_than_six_parameters() -> None:
    many = [
        f"{where}: {n} parameters"
        for where, node in _functions()
        if (n := _parameters(node)) > MAX_PARAMETERS
    ]
    assert not many, many


def test_no_function_of_the_map_and_plan_stages_is_more_complex_than_grade_c() -> None:
    tangled = [f"{where}: {n}" for where, node in _functions() if (n := complexity(node)) > MAX_COMPLEXITY]
    assert not tangled, tangled


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(x):\n    return x\n", 1),
        ("def f(x):\n    if x and y or z:\n        return [a for a in x if a]\n    return 0\n", 6),
        (
            "def f(x):\n    for a in x:\n        pass\n    else:\n        pass\n    try:\n        pass\n"
            "    except A:\n        pass\n    except B:\n        pass\n",
            5,
        ),
    ],
)
def test_the_complexity_is_counted_as_radon_counts_it(source: str, expected: int) -> None:
    assert complexity(ast.parse(source).body[0]) == expected
