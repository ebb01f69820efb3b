"""C++'s precompiled-header choice (sandbox_images/cpp/pchcc.py): only a program's own leading includes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "sandbox_images" / "cpp" / "pchcc.py"
_spec = importlib.util.spec_from_file_location("pchcc", _PATH)
assert _spec is not None and _spec.loader is not None
pchcc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pchcc)

ALL = {name: len(headers) for name, headers in pchcc.VARIANTS.items()}  # stand-in sizes


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/*\nA HumanEval-X prompt\n*/\n#include<stdio.h>\n#include<vector>\n#include<math.h>\nusing namespace std;\n",
         ["stdio.h", "vector", "math.h"]),
        ("#include <bits/stdc++.h>\r\n#include <vector> // more\r\nint main(){}", ["bits/stdc++.h", "vector"]),
        ("  \n\t#  include   <string>\n#include <map>\n", ["string", "map"]),
        ("/* c */ #include <vector>\n", ["vector"]),  # a comment may come before a directive
        # anything else stops the block
        ("#define _GLIBCXX_DEBUG\n#include <vector>\n", []),
        ("#pragma GCC optimize(\"O3\")\n#include <vector>\n", []),
        ('#include "vector"\n#include <string>\n', []),
        ("#include <boost/any.hpp>\n#include <vector>\n", []),
        ("#include <vector> #include <map>\n", []),
        ("#include <vector> /* x */\n#include <map>\n", []),
        ("// a comment that goes on \\\n#include <vector>\n", []),
        ("%:include <vector>\n", []),
        ("\ufeff#include <vector>\n", []),
        ("#include <vec\\\ntor>\n", []),
        ("int x;\n#include <vector>\n", []),
        ("/* never closed\n#include <vector>\n", []),
    ],
)  # fmt: skip
def test_the_leading_block_is_read_conservatively(source: str, expected: list[str]) -> None:
    assert pchcc.leading_headers(source) == expected


def test_the_largest_header_whose_headers_the_program_opens_with_is_chosen() -> None:
    assert pchcc.choose(["stdio.h", "vector", "math.h"], ALL) == "vec_math"
    assert pchcc.choose(["bits/stdc++.h"], {**ALL, "stdcpp": 10**9}) == "stdcpp"
    assert pchcc.choose(["iostream", "vector", "string", "algorithm"], ALL) == "io_vec_alg"
    assert pchcc.choose(["cstdio"], ALL) is None
    assert pchcc.choose(["vector"], {}) is None  # none installed: compiled as written


def test_no_variant_holds_a_header_meant_to_be_included_again_or_outside_the_standard() -> None:
    for name, headers in pchcc.VARIANTS.items():
        assert set(headers) <= pchcc.STANDARD, name
        assert not set(headers) & pchcc.UNGUARDED, name
    # <assert.h> in the leading block never makes a variant that holds it eligible
    assert pchcc.choose(["assert.h", "vector"], ALL) == "vec"
