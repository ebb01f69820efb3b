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
The headers were compiled at image build with each flag set below, and a
compile gets one only when its own options are exactly one of those sets
(another -O level, -g, a -D: compiled as written).

Which header: of those whose headers all appear in the leading block, the
largest (its binary's size: what it saves parsing). Nothing here reads any
file but the program's source; it runs as the build's uid, like the
compiler it starts.
"""

from __future__ import annotations

import os
import re
import sys

PCH_DIR = "/opt/rlce/runtime/pch"
# A binary header is built per set of code-generation flags, and used only by
# a compile with exactly those: g++ accepts one built at -O2 in an -O1 compile
# and then inlines as at -O2 (a deeper recursion survives, a verdict moves).
# Each set names the builds it serves and the variants worth their size there.
FLAG_SETS = {
    # [build.stdio]: whole programs, competitive programming's usual openings first
    "O2": (["-std=c++17", "-O2"], ["stdcpp", "io_vec_alg", "io_vec", "io", "vec_str", "vec"]),
    # [build.assertion.program]: function-call problems (HumanEval-X, MultiPL-E, LeetCode style)
    "O1": (
        ["-std=c++17", "-O1"],
        ["stdcpp", "io", "vec_str_alg_math", "vec_str_alg", "vec_str_math", "vec_str", "vec_alg_math"]
        + ["vec_alg", "vec_math", "str_alg", "vec", "str", "math"],
    ),
}
# Options that never change a compile's meaning: not compared.
NEUTRAL = ("-pipe", "-o", "-c", "-l", "-L", "-Wl,", "-fuse-ld=")
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
_SPACE = re.compile(r"[ \t\n\f\v]+")
_INCLUDE = re.compile(r"#[ \t]*include[ \t]*<([A-Za-z0-9_./+]+)>[ \t]*(?=\n|//|$)")
_SPLICE = re.compile(r"\\[ \t\f\v]*\n")


def phases_1_2(source: str) -> str:
    """What g++ reads after its first translation phases: every CR, CRLF or LF one
    line end, and each backslash ending a line (blanks may follow it) joined to the next."""
    return _SPLICE.sub("", source.replace("\r\n", "\n").replace("\r", "\n"))


def leading_headers(source: str) -> list[str]:
    """The standard headers the source includes before anything else, in order.

    Read as the preprocessor reads it (``phases_1_2``), it stops at the first
    thing that is not blank, a comment or an ``#include <standard header>``
    line on its own (so, also, at anything this scanner does not understand).
    """
    source = phases_1_2(source)
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
            if end < 0:
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


def flag_set(command: list[str]) -> str | None:
    """The flag set (FLAG_SETS) a compiler command's meaningful options are exactly, if any."""
    options = [a for a in command[1:] if a.startswith("-") and not a.startswith(NEUTRAL)]
    return next((name for name, (flags, _) in FLAG_SETS.items() if options == flags), None)


def choose(headers: list[str], sizes: dict[str, int]) -> str | None:
    """The variant (of those present, with their binaries' sizes) that saves the most parsing."""
    have = set(headers) - UNGUARDED
    fits = [name for name, hs in VARIANTS.items() if name in sizes and set(hs) <= have]
    return max(fits, key=lambda name: sizes[name], default=None)


def installed(flags: str) -> dict[str, int]:
    sizes = {}
    for name in FLAG_SETS[flags][1]:
        try:
            sizes[name] = os.stat(f"{PCH_DIR}/{flags}/{name}.h.gch").st_size
        except OSError:
            pass
    return sizes


def precompile() -> None:
    import subprocess  # here only: its import is a third of a build's wrapper cost

    for flags, (options, names) in FLAG_SETS.items():
        os.makedirs(f"{PCH_DIR}/{flags}", exist_ok=True)
        for name in names:
            headers = VARIANTS[name]
            assert not set(headers) & UNGUARDED and set(headers) <= STANDARD, name
            path = f"{PCH_DIR}/{flags}/{name}.h"
            with open(path, "w") as f:
                f.write("".join(f"#include <{h}>\n" for h in headers))
            subprocess.run(["g++", *options, "-pipe", "-x", "c++-header", path, "-o", path + ".gch"], check=True)


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
    flags = flag_set(command)
    name = choose(leading_headers(text), installed(flags)) if flags else None
    if name is not None:
        command = [command[0], "-include", f"{PCH_DIR}/{flags}/{name}.h", *command[1:]]
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
