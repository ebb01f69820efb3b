"""Compile a candidate's C++ program after a precompiled header of the standard headers it opens with.

    python3 -I -S pchcc.py <program source> -- g++ <flags...>   (a build step of runtime.toml)
    python3 pchcc.py --precompile                                 (once, at image build)

Parsing the standard library is most of a small program's build: on this
image `#include <vector>` plus `<math.h>` cost g++ about 170 ms of a 300 ms
HumanEval-X program build, `<bits/stdc++.h>` (what most competitive-programming
programs open with) about 870 ms. A precompiled header loads the same
declarations in a fraction of that.

It must never change what the program means, so one is used only where the
program's text *starts* with it: the leading block of the source, before any
other token (blank lines and comments aside), must consist of `#include <h>`
lines of standard library headers, and the header chosen holds a subset of
them. Nothing can then stand between those headers and the start of the
translation unit (no macro, no pragma, no code), and the standard lets its
headers be included in any order and more than once with no other effect
([using.headers]); each of them the program includes again finds its
include guard set. A program that defines a macro first (`#define
_GLIBCXX_DEBUG`, `#define int long long`), opens with its own or a
non-standard header, or uses anything this scanner does not read (a line
continuation, a digraph, a byte-order mark) is compiled exactly as written.
The headers were compiled with the flags below at image build; a build
whose flags differ (another -O level, -g) makes g++ ignore the binary and
read the header's text, the same headers: slower, never different.

Which header: of those whose headers all appear in the leading block, the
largest (its binary's size: what it saves parsing). Nothing here reads any
file but the program's source; it runs as the build's uid, like the
compiler it starts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

PCH_DIR = "/opt/rlce/runtime/pch"
# The program builds' flags that must match for a binary header to be used
# (-O1 and -O2 share one: g++ checks __OPTIMIZE__, not the level).
FLAGS = ["g++", "-std=c++17", "-O2", "-pipe"]
# (<iostream> includes <string>: no variant adds it beside <iostream>.)
VARIANTS = {
    "stdcpp": ["bits/stdc++.h"],
    "io_vec_alg": ["iostream", "vector", "algorithm"],
    "io_vec": ["iostream", "vector"],
    "io": ["iostream"],
    "vec_str_alg_math": ["vector", "string", "algorithm", "math.h"],
    "vec_str_alg": ["vector", "string", "algorithm"],
    "vec_str_math": ["vector", "string", "math.h"],
    "vec_str": ["vector", "string"],
    "vec_alg_math": ["vector", "algorithm", "math.h"],
    "vec_alg": ["vector", "algorithm"],
    "vec_math": ["vector", "math.h"],
    "str_alg": ["string", "algorithm"],
    "vec": ["vector"],
    "str": ["string"],
    "math": ["math.h"],
}
# The C++17 library headers, the C library headers it includes (both
# spellings), and libstdc++'s <bits/stdc++.h> (all of them at once).
STANDARD = frozenset(
    {
        "algorithm",
        "any",
        "array",
        "atomic",
        "bitset",
        "chrono",
        "codecvt",
        "complex",
        "condition_variable",
        "deque",
        "exception",
        "execution",
        "filesystem",
        "forward_list",
        "fstream",
        "functional",
        "future",
        "initializer_list",
        "iomanip",
        "ios",
        "iosfwd",
        "iostream",
        "istream",
        "iterator",
        "limits",
        "list",
        "locale",
        "map",
        "memory",
        "memory_resource",
        "mutex",
        "new",
        "numeric",
        "optional",
        "ostream",
        "queue",
        "random",
        "ratio",
        "regex",
        "scoped_allocator",
        "set",
        "shared_mutex",
        "sstream",
        "stack",
        "stdexcept",
        "streambuf",
        "string",
        "string_view",
        "system_error",
        "thread",
        "tuple",
        "type_traits",
        "typeindex",
        "typeinfo",
        "unordered_map",
        "unordered_set",
        "utility",
        "valarray",
        "variant",
        "vector",
        "bits/stdc++.h",
        "cassert",
        "cctype",
        "cerrno",
        "cfenv",
        "cfloat",
        "cinttypes",
        "climits",
        "clocale",
        "cmath",
        "csetjmp",
        "csignal",
        "cstdarg",
        "cstddef",
        "cstdint",
        "cstdio",
        "cstdlib",
        "cstring",
        "ctime",
        "cuchar",
        "cwchar",
        "cwctype",
        "assert.h",
        "ctype.h",
        "errno.h",
        "fenv.h",
        "float.h",
        "inttypes.h",
        "limits.h",
        "locale.h",
        "math.h",
        "setjmp.h",
        "signal.h",
        "stdarg.h",
        "stddef.h",
        "stdint.h",
        "stdio.h",
        "stdlib.h",
        "string.h",
        "time.h",
        "uchar.h",
        "wchar.h",
        "wctype.h",
    }
)
# Never in a variant: <cassert>/<assert.h> are meant to be included again
# (their meaning follows NDEBUG at each inclusion).
UNGUARDED = frozenset({"cassert", "assert.h"})
SCAN_BYTES = 65536  # the leading block of any real program is far shorter
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_INCLUDE = re.compile(r"#[ \t]*include[ \t]*<([A-Za-z0-9_./+]+)>[ \t]*(?=\r?\n|//|$)")


def leading_headers(source: str) -> list[str]:
    """The standard headers the source includes before anything else, in order.

    Stops at the first thing that is not blank, a comment or an
    ``#include <standard header>`` line on its own (so, also, at anything
    this scanner does not understand).
    """
    found: list[str] = []
    pos, n = 0, len(source)
    at_line_start = True
    while pos < n:
        m = _SPACE.match(source, pos)
        if m:
            at_line_start = at_line_start or "\n" in m.group()
            pos = m.end()
            continue
        if source.startswith("//", pos):
            end = source.find("\n", pos)
            if end < 0 or source[pos:end].rstrip("\r").endswith("\\"):  # a continued comment eats the next line
                break
            pos = end
            continue
        if source.startswith("/*", pos):
            end = source.find("*/", pos + 2)
            if end < 0:
                break
            pos = end + 2
            continue
        m = _INCLUDE.match(source, pos)
        if not (m and at_line_start and m.group(1) in STANDARD):
            break
        found.append(m.group(1))
        pos, at_line_start = m.end(), False
    return found


def choose(headers: list[str], sizes: dict[str, int]) -> str | None:
    """The variant (of those present, with their binaries' sizes) that saves the most parsing."""
    have = set(headers) - UNGUARDED
    fits = [name for name, hs in VARIANTS.items() if name in sizes and set(hs) <= have]
    return max(fits, key=lambda name: sizes[name], default=None)


def installed() -> dict[str, int]:
    sizes = {}
    for name in VARIANTS:
        try:
            sizes[name] = os.stat(f"{PCH_DIR}/{name}.h.gch").st_size
        except OSError:
            pass
    return sizes


def precompile() -> None:
    os.makedirs(PCH_DIR, exist_ok=True)
    for name, headers in VARIANTS.items():
        assert not set(headers) & UNGUARDED and set(headers) <= STANDARD, name
        path = f"{PCH_DIR}/{name}.h"
        with open(path, "w") as f:
            f.write("".join(f"#include <{h}>\n" for h in headers))
        subprocess.run([*FLAGS, "-x", "c++-header", path, "-o", path + ".gch"], check=True)


def main(argv: list[str]) -> None:
    if argv == ["--precompile"]:
        precompile()
        return
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: pchcc.py <program source> -- <compiler> <args...>")
    source, command = argv[0], argv[2:]
    try:
        with open(source, "rb") as f:
            text = f.read(SCAN_BYTES).decode("utf-8", "replace")
    except OSError:
        text = ""  # the compiler reports the missing file itself
    name = choose(leading_headers(text), installed())
    if name is not None:
        command = [command[0], "-include", f"{PCH_DIR}/{name}.h", *command[1:]]
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
