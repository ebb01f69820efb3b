"""HumanEval-X's tests in the shape each rlce runtime runs them.

HumanEval-X concatenates declaration, solution and test into one file. rlce
keeps the program and the test apart (see docs/SECURITY.md, "Compiled
runtimes"), so each test must bring what it needs from the declaration:

* C++: the test is its own translation unit; it gets the declaration's
  includes and every function of the declaration as a prototype.
* Java: the test's ``Main`` is its own file; it gets the declaration's imports.
* Go: the benchmark's ``test_setup`` (package clause and imports) goes first.
* JavaScript, Rust: the test as it is (one script; a ``mod tests``).
"""

from __future__ import annotations

import re
from typing import Any


def cpp_prototypes(declaration: str) -> str:
    """Every top-level function body of a C++ declaration replaced by ``;``.

    The last function of a HumanEval-X declaration is open (its body is the
    solution); helper functions before it are complete. Both become
    prototypes, which the program defines.
    """
    out: list[str] = []
    depth = 0
    for ch in declaration:
        if ch == "{":
            if depth == 0:
                out.append(";")
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _squeeze(text: str) -> str:
    """Without white space: Go/65's prompt spaces its signature unlike its declaration."""
    return re.sub(r"\s+", "", text)


def prompt(row: dict[str, Any]) -> str:
    """What a completion continues: the prompt, with the declaration when the
    prompt lacks its signature (HumanEval-X's Rust prompts are the doc comment only)."""
    text = str(row["prompt"])
    declaration = str(row.get("declaration", "")).strip()
    if declaration and _squeeze(declaration.splitlines()[-1]) not in _squeeze(text):
        text = text + str(row["declaration"])
    return text


def assertion_test(language: str, row: dict[str, Any]) -> str:
    """The test code of one HumanEval-X row for rlce's ``language`` runtime."""
    test = str(row["test"])
    declaration = str(row.get("declaration", ""))
    if language == "cpp":
        return cpp_prototypes(declaration) + "\n" + test
    if language == "java":
        imports = "".join(line + "\n" for line in declaration.splitlines() if re.match(r"\s*import\s", line))
        return imports + test
    if language == "go":
        return str(row.get("test_setup", "")) + "\n" + test
    return test
