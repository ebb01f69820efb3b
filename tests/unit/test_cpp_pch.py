"""C++'s precompiled-header choice (sandbox_images/cpp/pchcc.py): only a program's own leading includes."""

from __future__ import annotations

import pytest

from tests.conftest import image_script

pchcc = image_script("cpp", "pchcc")

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
        # translation phases 1-2 first (red team): a splice after blanks, a spliced
        # comment terminator, a lone CR ending a line
        ("// note \\ \n#include <vector>\n#include <cstdio>\n", ["cstdio"]),
        ("/* x *\\\n/\n#define string 42 // */\n#include <string>\n", []),
        ("#include <cstdio>\n// c\r#define vector 42\r\n#include <vector>\n", ["cstdio"]),
        ("#include <cstdio>\r\n#include <vector>\r\n", ["cstdio", "vector"]),
        ("%:include <vector>\n", []),
        ("\ufeff#include <vector>\n", []),
        ("#include <vec\\\ntor>\n", ["vector"]),  # spliced first, as g++ does
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


def test_a_binary_header_serves_only_a_compile_with_exactly_its_flags() -> None:
    """g++ takes an -O2 header into an -O1 compile and then optimises as at -O2 (red team)."""
    assert pchcc.flag_set(["g++", "-std=c++17", "-O2", "-pipe", "-o", "prog", "main.cpp", "-lcrypto"]) == "O2"
    assert pchcc.flag_set(["g++", "-std=c++17", "-O1", "-pipe", "-o", "p", "d.cpp", "-fuse-ld=mold", "-Wl,-x"]) == "O1"
    for other in (["-O3"], ["-O2", "-g"], ["-O2", "-DNDEBUG"], ["-O2", "-fno-inline"], ["-O0"]):
        assert pchcc.flag_set(["g++", "-std=c++17", *other, "main.cpp"]) is None, other
    for name, (_, names) in pchcc.FLAG_SETS.items():
        assert set(names) <= set(pchcc.VARIANTS), name


def test_every_wrapped_build_of_the_cpp_runtime_has_its_flag_set() -> None:
    """A step whose flags drift from every set would silently lose its precompiled headers."""
    from rlce_server.config import Settings
    from rlce_server.runtimes import load_runtimes
    from rlce_server.runtimes.registry import BuildSpec

    spec = load_runtimes(Settings().images_dir)["cpp"]
    wrapped = []
    for build in spec.build.values():
        for part in [build] if isinstance(build, BuildSpec) else [build.program, build.test]:
            wrapped += [step for step in part.steps if "pchcc.py" in " ".join(step)]
    assert len(wrapped) == 2
    assert {pchcc.flag_set(step[step.index("--") + 1 :]) for step in wrapped} == {"O1", "O2"}
