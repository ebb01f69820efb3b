"""A pytest file as one rlce test per test function.

Each test keeps everything the file shares (imports, helpers, fixtures,
constants) and drops every other test function and test class, so a
failing or slow function fails only itself; removed lines become blank
lines, so line numbers in messages stay the file's own. A method of a
``Test*`` class becomes a module-level function that makes the instance
(``setup_method`` / ``teardown_method`` as pytest calls them) and runs the
method. rlce runs a test file's top-level ``test*`` functions pytest's way
(parametrize marks included).
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


def _hook_call(cls: ast.ClassDef, hook: str) -> str:
    """``_case.setup_method(...)`` as pytest calls it: with the method when it takes one."""
    fn = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == hook), None)
    if fn is None:
        return ""
    return f"_case.{hook}({'None' if len(fn.args.args) > 1 else ''})"


def _methods(cls: ast.stmt) -> list[str]:
    assert isinstance(cls, ast.ClassDef)
    return [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]


def split(text: str) -> list[tuple[str, str]]:
    """(name, code) per test function or test method; RowError for a file without any."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise RowError(f"the test file does not parse: {exc}") from None
    units = [n for n in tree.body if _is_test_function(n) or (_is_test_class(n) and _methods(n))]
    if not units:
        raise RowError("the test file defines no test function (pytest would collect nothing)")
    lines = text.split("\n")
    for node in tree.body:
        if _is_main_block(node):
            start, end = _span(node)
            lines[start - 1 : end] = [""] * (end - start + 1)
    out: list[tuple[str, str]] = []
    for keep in units:
        kept = list(lines)
        for other in units:
            if other is keep:
                continue
            start, end = _span(other)
            kept[start - 1 : end] = [""] * (end - start + 1)
        code = "\n".join(kept)
        if isinstance(keep, ast.ClassDef):
            setup, teardown = _hook_call(keep, "setup_method"), _hook_call(keep, "teardown_method")
            for method in _methods(keep):
                body = [f"_case = {keep.name}()", *([setup] if setup else [])]
                if teardown:
                    body += ["try:", f"    _case.{method}()", "finally:", f"    {teardown}"]
                else:
                    body.append(f"_case.{method}()")
                call = f"\n\ndef test_{keep.name}_{method}():\n" + "".join(f"    {b}\n" for b in body)
                # the class stays; only the generated function is a module-level test
                out.append((f"{keep.name}::{method}", code + call))
        else:
            assert isinstance(keep, ast.FunctionDef | ast.AsyncFunctionDef)
            out.append((keep.name, code))
    return out
