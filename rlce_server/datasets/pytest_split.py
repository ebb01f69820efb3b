"""A pytest file as one rlce test per test function.

Each test keeps everything the file shares (imports, helpers, fixtures,
constants) and drops every other test function and test class, so a
failing or slow function fails only itself; removed lines become blank
lines, so line numbers in messages stay the file's own. A method of a
``Test*`` class is one test too: the class with that one test method
left in it. rlce runs a test file's top-level ``test*`` functions and the
``test*`` methods of its test classes pytest's way (``setup_method`` /
``teardown_method``, parametrize marks included).
"""

from __future__ import annotations

import ast

from .problem import RowError


def _span(node: ast.stmt) -> tuple[int, int]:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first, node.end_lineno or node.lineno


def _is_test_class(node: ast.stmt) -> bool:
    return isinstance(node, ast.ClassDef) and node.name.startswith("Test")


def _is_test_function(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def _is_main_block(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` -- pytest imports the file, so it never runs."""
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test)


def _blanked(lines: list[str], nodes: list[ast.stmt]) -> list[str]:
    """A copy of ``lines`` with each node's lines (its decorators included) left blank, so the
    line numbers of what stays are the file's own."""
    out = list(lines)
    for node in nodes:
        start, end = _span(node)
        out[start - 1 : end] = [""] * (end - start + 1)
    return out


def _method_nodes(cls: ast.stmt) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    assert isinstance(cls, ast.ClassDef)
    return [n for n in cls.body if _is_test_function(n)]  # type: ignore[misc]


def _methods(cls: ast.stmt) -> list[str]:
    return [n.name for n in _method_nodes(cls)]


def split(text: str) -> list[tuple[str, str]]:
    """(name, code) per test function or test method; RowError for a file without any."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise RowError(f"the test file does not parse: {exc}") from None
    units = [n for n in tree.body if _is_test_function(n) or (_is_test_class(n) and _methods(n))]
    if not units:
        raise RowError("the test file defines no test function (pytest would collect nothing)")
    lines = _blanked(text.split("\n"), [n for n in tree.body if _is_main_block(n)])
    out: list[tuple[str, str]] = []
    for keep in units:
        kept = _blanked(lines, [other for other in units if other is not keep])
        if isinstance(keep, ast.ClassDef):
            methods = _method_nodes(keep)
            for method in methods:
                # the class with this one test method: rlce runs it pytest's way
                one = _blanked(kept, [other for other in methods if other is not method])
                out.append((f"{keep.name}::{method.name}", "\n".join(one)))
        else:
            assert isinstance(keep, ast.FunctionDef | ast.AsyncFunctionDef)
            out.append((keep.name, "\n".join(kept)))
    return out
