"""Refuse a program object that would replace what the test or the runtime defines.

The test is compiled apart from the program, so the program's macros and
operators never reach it; at link time, though, a program could still
*define* a symbol the test uses and take its place: ``__assert_fail`` (so a
failed assert returns), ``exit``, ``write``, a libstdc++ function, or an
explicit specialisation of a standard template that the test instantiates
(weak in test.o, strong in program.o: the strong one wins). So the build
fails on any C function of the runtime the program defines, weak or strong
(a definition in the executable beats the shared library's either way), and
on any strong global symbol that libstdc++ exports, that lies in namespace
std or __gnu_cxx, that the test defines, or that is an ifunc (resolvers run
before the harness). Weak C++ symbols stay allowed: every program emits
them for the std templates it instantiates, and the test's copies, linked
first, win.

Usage: check_symbols.py program.o test.o
"""

import subprocess
import sys

RESERVED = "/opt/rlce/runtime/reserved_symbols.txt"
STD_PREFIXES = ("_ZSt", "_ZNSt", "_ZNKSt", "_ZN9__gnu_cxx", "_ZNK9__gnu_cxx", "_ZN10__cxxabiv1", "__wrap_", "__real_")


def defined(obj: str) -> dict[str, str]:
    out = subprocess.run(["nm", "-P", "--defined-only", obj], capture_output=True, text=True, check=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            symbols[parts[0]] = parts[1]
    return symbols


def main() -> int:
    program, test = defined(sys.argv[1]), defined(sys.argv[2])
    with open(RESERVED) as fh:
        reserved = set(fh.read().split())
    bad = []
    for name, kind in sorted(program.items()):
        if kind == "i":
            bad.append((name, "is an ifunc"))
        elif kind.islower() and kind not in "uvw":
            continue  # local: replaces nothing
        elif name in reserved and not name.startswith("_Z"):
            # A C function of the runtime: even a weak definition in the executable
            # wins over the shared library's (a weak __assert_fail would return).
            bad.append((name, "is defined by the C/C++ runtime"))
        elif kind in "wWvVu":
            continue  # weak or unique C++ (template and inline-variable instances): the test's copy, linked first, wins
        elif name == "main":
            continue  # two mains fail the link by themselves
        elif name in test:
            bad.append((name, "is defined by the test"))
        elif name in reserved:
            bad.append((name, "is defined by the C/C++ runtime"))
        elif name.startswith(STD_PREFIXES):
            bad.append((name, "is in namespace std"))
    if not bad:
        return 0
    names = subprocess.run(["c++filt"], input="\n".join(n for n, _ in bad), capture_output=True, text=True).stdout
    for (name, why), shown in zip(bad, names.splitlines()):
        print(f"program.cpp defines {shown} ({name}), which {why}: a program may not replace it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
