"""Test-side build of a C++ split assertion test (docs/SPLIT_TESTS.md).

Runs in the test's build directory (test.cpp, digest.txt) and never sees the
program: as the test side's build server (``--serve``, under a uid of its
own) or as a step process. The test's translation unit declares every
program function it calls, so:

1. compile test.cpp once (after a precompiled header holding standard
   headers the test includes anyway, and rlce's wire) with the rlce_sig GCC
   plugin, which writes each undefined function's full type (a function's
   mangled name lacks its return type and noexcept); the test object's
   undefined symbols that no system library exports are the program's
   functions (114 when the test has no main);
2. demangle them (c++filt) and parse each signature with a closed grammar
   of the types the wire carries (113 otherwise: `rlce: unsupported:
   function <name>: type <type>`);
3. one stub per function, in translation units of their own: the stub has
   the parameter and return types of the test's declaration, spelled
   canonically, sends the call on the value channel and decodes the reply.
   A stub depends only on its type, so a build server compiles each type's
   stub once and gives each function a renamed copy (``Stubs``); the test's
   digest, its run uid and the calls' signatures are data beside them;
4. link with the harness (harness.o) and the wire (wire.o, wire_any.o) into
   `t`, and write needs.txt, from which the program build generates its
   dispatcher: canonical spellings only, never text taken from the test.

The test's optimisation level (-O0) never changes a verdict: the program
keeps its own flags in its own process. The test is the requester's code
(trusted); nothing here reads anything the program produced.
"""

from __future__ import annotations

import io
import os
import re
import select
import sys

RT = "/opt/rlce/runtime"
CXX = ["g++", "-std=c++17", "-O0", "-pipe"]
# Precompiled headers (built at image build by `testgen.py --precompile`, with
# CXX): the first whose headers the test includes all of goes before it, so
# that it never adds a header the test lacks; loading one costs about its
# size, so there are variants. Without one, only rlce's own header is added.
BASE = ["assert.h", "math.h", "stdio.h", "stdlib.h", "algorithm"]  # what every HumanEval-X test includes
PCH = [
    ("stdcpp", ["bits/stdc++.h"]),  # MultiPL-E's tests
    ("vector_string", BASE + ["vector", "string"]),
    ("vector", BASE + ["vector"]),
    ("string", BASE + ["string"]),
    ("base", BASE),
]
INCLUDE = re.compile(r"^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]", re.M)
LINK = [
    "-fuse-ld=mold",
    "-Wl,--no-fork",  # mold's forked linker child outlives g++ for a moment: a served build must leave no process
    f"{RT}/harness.o",
    f"{RT}/wire.o",
    f"{RT}/wire_any.o",
    "-Wl,--wrap=main",
    "-Wl,--as-needed",
    "-lcrypto",
]
LIBRARY_SYMBOLS = f"{RT}/library_symbols.txt"
# the GCC plugin (rlce_sig.cc) that reports each undefined function's full type
PLUGIN = f"{RT}/rlce_sig.so"
# what a generic stub is compiled after (the wire and the containers it carries)
STUB_PCH = f"{RT}/rlce_pch_vector_string.h"
OUTPUT_KEEP = 1 << 16  # of what a tool prints (the runner keeps less)
# a build server above this between builds says "ending" (runtime.toml's build_servers_mb is 64)
SERVER_RSS_MAX = 48 << 20


class Unsupported(Exception):
    """A signature the wire cannot carry; str() is the type's description."""


def die(code: int, message: str) -> None:
    print(f"rlce: {message}", file=sys.stderr)
    sys.exit(code)


def spawn(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """``subprocess.run`` with its output captured, without importing ``subprocess``
    (its import is a tenth of this build's own start-up): exit code, stdout (the
    tools' answers: nm's, c++filt's), the last OUTPUT_KEEP bytes of stderr."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    dup = os.POSIX_SPAWN_DUP2
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[(dup, in_r, 0), (dup, out_w, 1), (dup, err_w, 2)])
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    pending = memoryview(stdin.encode())
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    poller.register(in_w, select.POLLOUT)
    open_fds = {out_r, err_r, in_w}
    while open_fds:
        for fd, _ in poller.poll():
            if fd == in_w:  # fed as it drains: a long input never waits on unread output
                try:
                    pending = pending[os.write(in_w, pending[:65536]) :] if pending else pending
                except BrokenPipeError:
                    pending = pending[:0]
                if not pending:
                    poller.unregister(in_w)
                    open_fds.discard(in_w)
                    os.close(in_w)
                continue
            data = os.read(fd, 65536)
            if data:
                kept = chunks[fd]
                kept.append(data)
                if fd == err_r and len(kept) > 2:  # a test can make g++ print gigabytes of errors
                    kept[:] = [b"".join(kept)[-OUTPUT_KEEP:]]
            else:
                poller.unregister(fd)
                open_fds.discard(fd)
                os.close(fd)
    status = os.waitpid(pid, 0)[1]
    out, err = (b"".join(chunks[fd]).decode("utf-8", "replace") for fd in (out_r, err_r))
    return os.waitstatus_to_exitcode(status), out, err


def run(argv: list[str]) -> str:
    code, out, err = spawn(argv)
    if code != 0:
        sys.stderr.write((out + err)[-OUTPUT_KEEP:])
        sys.exit(1)
    return out


# -- demangled C++ types --------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(\[abi:\w+\])|([A-Za-z_]\w*)|(\d+[a-z]*)|(::|&&|\.\.\.|[<>,()*&\[\]]))")
BUILTIN_WORDS = {
    "signed",
    "unsigned",
    "short",
    "long",
    "int",
    "char",
    "bool",
    "float",
    "double",
    "void",
    "wchar_t",
    "char16_t",
    "char32_t",
}
SCALARS = {
    "bool",
    "char",
    "signed char",
    "unsigned char",
    "short",
    "unsigned short",
    "int",
    "unsigned int",
    "long",
    "unsigned long",
    "long long",
    "unsigned long long",
    "float",
    "double",
    "long double",
    "wchar_t",
    "char16_t",
    "char32_t",
}
# spelled forms of the builtin word sequences c++filt prints
BUILTIN_SPELLING = {
    "short int": "short",
    "unsigned short int": "unsigned short",
    "long int": "long",
    "unsigned long int": "unsigned long",
    "long long int": "long long",
    "unsigned long long int": "unsigned long long",
    "unsigned": "unsigned int",
    "signed int": "int",
    "signed short": "short",
    "signed long": "long",
    "signed long long": "long long",
}


def tokenize(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise Unsupported(text)
        pos = m.end()
        if m.group(1):
            continue  # [abi:cxx11] tags name an ABI, not a type
        out.append(next(g for g in m.groups()[1:] if g))
    return out


class Parser:
    """Recursive descent over c++filt's type grammar, as far as rlce needs it.

    A type is ("name", "a::b", [args]) | ("int", "3") | ("builtin", "unsigned long")
    | ("const", t) | ("ptr", t) | ("lref", t) | ("rref", t).
    """

    def __init__(self, tokens: list[str], text: str) -> None:
        self.t, self.i, self.text = tokens, 0, text

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise Unsupported(self.text)
        self.i += 1
        return tok

    def type(self) -> tuple:
        t = None
        if self.peek() == "const":
            self.take()
            t = ("const", self.base())
        else:
            t = self.base()
        suffix = {"const": "const", "*": "ptr", "&": "lref", "&&": "rref"}
        while self.peek() in suffix:
            t = (suffix[self.take()], t)
        return t

    def whole_type(self) -> tuple:
        t = self.type()
        if self.peek() is not None:
            raise Unsupported(self.text)
        return t

    def base(self) -> tuple:
        tok = self.peek()
        if tok in BUILTIN_WORDS:
            words = []
            while self.peek() in BUILTIN_WORDS:
                words.append(self.take())
            spelled = " ".join(words)
            return ("builtin", BUILTIN_SPELLING.get(spelled, spelled))
        if tok is None or not re.match(r"[A-Za-z_]", tok) or tok in ("const", "decltype"):
            raise Unsupported(self.text)
        parts, args = [], []
        while True:
            parts.append(self.take())
            args = []
            if self.peek() == "<":
                self.take()
                if self.peek() != ">":
                    args.append(self.arg())
                    while self.peek() == ",":
                        self.take()
                        args.append(self.arg())
                self.take(">")
            if self.peek() != "::":
                break
            if args:
                raise Unsupported(self.text)  # a member of a class template: no such wire type
            self.take()
            if not (self.peek() and re.match(r"[A-Za-z_]", self.peek())):
                raise Unsupported(self.text)
        return ("name", "::".join(parts), args)

    def arg(self) -> tuple:
        tok = self.peek()
        if tok and tok[0].isdigit():
            self.take()
            return ("int", re.sub(r"[a-z]+$", "", tok))
        return self.type()


def spell(t: tuple) -> str:
    """Any parsed type, spelled canonically (std::__cxx11:: folded, std::string for basic_string<char>)."""
    kind = t[0]
    if kind == "builtin":
        return t[1]
    if kind == "int":
        return t[1]
    if kind == "const":
        return spell(t[1]) + " const"
    if kind in ("ptr", "lref", "rref"):
        return spell(t[1]) + {"ptr": "*", "lref": "&", "rref": "&&"}[kind]
    name = t[1].replace("std::__cxx11::", "std::")
    args = [spell(a) for a in t[2]]
    if name == "std::basic_string" and args in (
        ["char"],
        ["char", "std::char_traits<char>"],
        ["char", "std::char_traits<char>", "std::allocator<char>"],
    ):
        return "std::string"
    if name == "std::basic_string_view" and args in (["char"], ["char", "std::char_traits<char>"]):
        return "std::string_view"
    return name + ("<" + ", ".join(args) + ">" if t[2] else "")


# container -> (the arguments it carries, the default arguments after them, the header)
SEQUENCES = {"std::vector": "<vector>", "std::list": "<list>", "std::deque": "<deque>"}
SETS = {"std::set": "<set>", "std::multiset": "<set>", "std::unordered_set": "<unordered_set>"}
MAPS = {"std::map": "<map>", "std::multimap": "<map>", "std::unordered_map": "<unordered_map>"}
PLAIN = {
    "std::string": "<string>",
    "std::string_view": "<string_view>",
    "std::any": "<any>",
    "boost::any": "<boost/any.hpp>",
    "std::monostate": "<variant>",
}


def value_type(t: tuple, headers: set[str]) -> str:
    """The canonical spelling of a value type the wire carries, or Unsupported."""
    s = spell(t)
    kind = t[0]
    if kind == "builtin":
        if s in SCALARS:
            return s
        raise Unsupported(s)
    if kind == "ptr" and t[1] == ("const", ("builtin", "char")):
        return "const char*"
    if kind != "name":
        raise Unsupported(s)
    name = t[1].replace("std::__cxx11::", "std::")
    args = t[2]
    if s in PLAIN:
        headers.add(PLAIN[s])
        return s

    def carried(i: int) -> str:
        return value_type(args[i], headers)

    def defaults(expected: list[str], start: int) -> None:
        if [spell(a) for a in args[start:]] != expected[: len(args) - start] or len(args) - start > len(expected):
            raise Unsupported(s)

    if name in SEQUENCES and args:
        e = carried(0)
        defaults([f"std::allocator<{spell(args[0])}>"], 1)
        headers.add(SEQUENCES[name])
        return f"{name}<{e}>"
    if name == "std::array" and len(args) == 2 and args[1][0] == "int":
        headers.add("<array>")
        return f"std::array<{carried(0)}, {args[1][1]}>"
    if name in SETS and args:
        e = carried(0)
        k = spell(args[0])
        if name == "std::unordered_set":
            defaults([f"std::hash<{k}>", f"std::equal_to<{k}>", f"std::allocator<{k}>"], 1)
        else:
            defaults([f"std::less<{k}>", f"std::allocator<{k}>"], 1)
        headers.add(SETS[name])
        return f"{name}<{e}>"
    if name in MAPS and len(args) >= 2:
        ck, cv = carried(0), carried(1)
        k, v = spell(args[0]), spell(args[1])
        if name == "std::unordered_map":
            defaults([f"std::hash<{k}>", f"std::equal_to<{k}>", f"std::allocator<std::pair<{k} const, {v}>>"], 2)
        else:
            defaults([f"std::less<{k}>", f"std::allocator<std::pair<{k} const, {v}>>"], 2)
        headers.add(MAPS[name])
        return f"{name}<{ck}, {cv}>"
    if name == "std::pair" and len(args) == 2:
        headers.add("<utility>")
        return f"std::pair<{carried(0)}, {carried(1)}>"
    if name == "std::tuple":
        headers.add("<tuple>")
        return "std::tuple<" + ", ".join(carried(i) for i in range(len(args))) + ">"
    if name == "std::optional" and len(args) == 1:
        headers.add("<optional>")
        return f"std::optional<{carried(0)}>"
    if name == "std::variant" and args:
        headers.add("<variant>")
        alts = [carried(i) for i in range(len(args))]
        if len(set(alts)) != len(alts):
            raise Unsupported(s)  # two alternatives of one type: the type name cannot tell them apart
        return "std::variant<" + ", ".join(alts) + ">"
    raise Unsupported(s)


def param_type(t: tuple, headers: set[str]) -> tuple[str, str]:
    """(the parameter as the stub spells it, the value type on the wire)."""
    if t[0] == "lref":
        if t[1][0] != "const":
            raise Unsupported(spell(t) + " (a non-const reference: the callee could change the caller's value)")
        v = value_type(t[1][1], headers)
        return (f"{v} const&" if v.startswith("const ") else f"const {v}&"), v  # const char* const&
    if t[0] == "rref":
        v = value_type(t[1], headers)
        return f"{v}&&", v
    if t[0] == "const":
        t = t[1]
    v = value_type(t, headers)
    return v, v


def return_type(t: tuple, headers: set[str]) -> str:
    if t == ("builtin", "void"):
        return "void"
    if t[0] == "const":
        t = t[1]
    if t[0] in ("lref", "rref"):
        raise Unsupported(spell(t) + " (a reference)")
    return value_type(t, headers)


def split_params(body: str) -> list[str]:
    """The parameter texts of `body`, split at commas outside <> and ()."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(body[start:i].strip())
            start = i + 1
    out.append(body[start:].strip())
    return [] if out == [""] else out


def function(demangled: str, headers: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """name(params) of a free function in the global namespace -> (name, [(param, value type)])."""
    m = re.fullmatch(r"([A-Za-z_]\w*)((?:\[abi:\w+\])*)\((.*)\)", demangled)
    if not m:
        raise Unsupported("(not a free function in the global namespace)")
    params = []
    for text in split_params(m.group(3)):
        try:
            params.append(param_type(Parser(tokenize(text), text).whole_type(), headers))
        except Unsupported as e:
            raise Unsupported(str(e) or text) from None
    return m.group(1), params


def function_type(text: str, params: str, headers: set[str]) -> tuple[str, bool]:
    """c++filt -t's spelling of a function type, ``R (P...)`` with an optional
    ``noexcept`` -> (R spelled canonically, noexcept). ``params`` is the
    parameter list as the symbol's own demangled name spells it, ``(P...)``:
    the type must end with it, so the type and the symbol the test links to
    are one function (a function returning a function pointer,
    ``long (*(int))(long)``, ends with its pointee's parameters instead)."""
    for tail, noexcept in ((f" {params}", False), (f" {params} noexcept", True)):
        if text.endswith(tail):
            head = text[: -len(tail)].strip()
            return return_type(Parser(tokenize(head), head).whole_type(), headers), noexcept
    raise Unsupported(f"{text} (not a value the wire carries)")


# -- the build ------------------------------------------------------------------------------


def symbols(path: str) -> list[tuple[str, str]]:
    out = []
    for line in run(["nm", "-P", path]).splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out.append((parts[0], parts[1]))
    return out


def precompile() -> None:
    for name, headers in PCH:
        path = f"{RT}/rlce_pch_{name}.h"
        with open(path, "w") as fh:
            fh.write("".join(f"#include <{h}>\n" for h in headers) + f'#include "{RT}/rlce_test.hpp"\n')
        run(CXX + ["-x", "c++-header", path, "-o", path + ".gch"])


def prefix_for(source: str) -> list[str]:
    included = set(INCLUDE.findall(source))
    for name, headers in PCH:
        if included.issuperset(headers):
            return ["-include", f"{RT}/rlce_pch_{name}.h"]
    return ["-include", f"{RT}/rlce_test.hpp"]


class Stubs:
    """Stub objects by function type: a build server's memory across builds.

    A stub depends on nothing but its function's type: it is compiled on its
    own as ``rlce_stub`` calling with the string ``rlce_stub_sig``, and each
    function of that type gets a copy with both renamed (objcopy). Compiling
    a stub costs about what compiling the test does (the precompiled header
    and the wire's templates); a copy costs a few milliseconds. A build that
    lacks more than SEPARATE_MAX types compiles their stubs together instead,
    each bound to its function's symbol by an asm label, and keeps none of
    them (a compile per type would cost more than the build once did). The source compiled is
    generated from the closed grammar's canonical spellings, never from the
    test, and a stub's text is its key: a test can neither choose what a stub
    contains nor reach this process's memory (a build server runs under a uid
    of its own that runs no test, and is not dumpable). At most MAX_BYTES of
    objects are kept, the least recently used dropped first.
    """

    MAX_BYTES = 16 << 20
    SEPARATE_MAX = 3

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}  # stub text -> (object, its stub's symbol)
        self.size = 0

    def get(self, key: str) -> tuple[bytes, str] | None:
        got = self.objects.pop(key, None)
        if got is not None:
            self.objects[key] = got  # the most recently used last
        return got

    def compile(self, key: str, headers: list[str]) -> None:
        """Compile and keep the stub ``key`` (a ``stub_source``) after ``headers``."""
        obj = compile_stubs("rlce_stub", headers, ['extern "C" const char rlce_stub_sig[];', key])
        with open(obj, "rb") as fh:
            code = fh.read()
        symbol = next((n for n, kind in symbols(obj) if kind == "T" and n.startswith("_Z9rlce_stub")), "")
        if not symbol:
            die(1, "no stub function in a compiled stub")
        self.objects[key] = (code, symbol)
        self.size += len(code)
        while self.size > self.MAX_BYTES and len(self.objects) > 1:
            self.size -= len(self.objects.pop(next(iter(self.objects)))[0])

    @staticmethod
    def copy(kept: tuple[bytes, str], n: int, mangled: str) -> str:
        """Function ``n``'s copy of a kept stub: ``mangled``, calling with ``rlce_sig_<n>``."""
        code, symbol = kept
        path = f"rlce_stub_{n}.o"
        with open(path, "wb") as fh:
            fh.write(code)
        run(["objcopy", f"--redefine-sym={symbol}={mangled}", f"--redefine-sym=rlce_stub_sig=rlce_sig_{n}", path])
        return path


def compile_stubs(stem: str, headers: list[str], lines: list[str]) -> str:
    """Compile stub ``lines`` after the headers of their types and the wire; the object's path."""
    with open(f"{stem}.cpp", "w") as fh:
        fh.write("\n".join([f"#include {h}" for h in headers] + [f'#include "{RT}/rlce_wire.hpp"'] + lines) + "\n")
    run(CXX + ["-include", STUB_PCH, "-c", f"{stem}.cpp", "-o", f"{stem}.o"])
    return f"{stem}.o"


def stub_source(returns: str, params: list[tuple[str, str]], noexcept: bool) -> str:
    """A generic stub, ``rlce_stub``, of one function type: its text is its key."""
    decl = ", ".join(f"{p} rlce_a{i}" for i, (p, _) in enumerate(params))
    return (
        f"{returns} rlce_stub({decl}){' noexcept' if noexcept else ''} {{ "
        f"return ::rlce::call<{returns}{''.join(', ' + v for _, v in params)}>(rlce_stub_sig"
        + "".join(f", rlce_a{i}" for i in range(len(params)))
        + "); }"
    )


ASCIZ_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_<>:,*& ()[].-")


def asciz(text: str) -> str:
    """A string as data the assembler places byte for byte (anything but plain ASCII escaped)."""
    return '.asciz "' + "".join(chr(b) if b in ASCIZ_PLAIN else f"\\{b:03o}" for b in text.encode("utf-8")) + '"'


def build(run_uid: int, stubs: Stubs) -> None:
    """The test build in the current directory (test.cpp, digest.txt -> t, needs.txt)."""
    with open("digest.txt", encoding="ascii", errors="replace") as fh:
        digest = fh.read().strip()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        die(1, "digest.txt is not a SHA-256 in hex")

    with open("test.cpp", encoding="utf-8", errors="replace") as fh:
        cxx = CXX + prefix_for(fh.read())
    run(cxx + [f"-fplugin={PLUGIN}", "-fplugin-arg-rlce_sig-out=types.txt", "-c", "test.cpp", "-o", "test.o"])
    syms = symbols("test.o")
    if not any(name == "main" and kind in "TW" for name, kind in syms):
        die(114, "the test defines no test (no main function)")
    with open(LIBRARY_SYMBOLS) as fh:
        library = set(fh.read().split())
    needed = sorted({name for name, kind in syms if kind == "U" and name not in library})
    with open("types.txt", encoding="utf-8", errors="surrogateescape") as fh:  # a name may be any identifier
        types = {name: kind for name, _, kind in (line.partition(" ") for line in fh.read().splitlines()) if kind}

    names: list[str] = []
    spelled_types: list[str] = []
    if needed:
        names = spawn(["c++filt"], "\n".join(needed) + "\n")[1].splitlines()
        spelled_types = spawn(["c++filt", "-t"], "\n".join(types.get(n, "?") for n in needed) + "\n")[1].splitlines()
    if len(names) != len(needed) or len(spelled_types) != len(needed):
        die(1, "c++filt did not answer one line per symbol")

    headers: set[str] = set()
    functions = []
    for mangled, text, ftype in zip(needed, names, spelled_types):
        who = text.split("(")[0] if "(" in text else text
        if not mangled.startswith("_Z") or mangled not in types:
            die(113, f"unsupported: function {text}: type (a C symbol or variable the test declares)")
        try:
            fheaders: set[str] = set()
            name, params = function(text, fheaders)
            returns, noexcept = function_type(ftype, text[text.index("(") :], fheaders)
        except Unsupported as e:
            die(113, f"unsupported: function {who}: type {e}")
        headers |= fheaders
        functions.append((mangled, name, params, stub_source(returns, params, noexcept), returns))
    missing = list(dict.fromkeys(key for _, _, _, key, _ in functions if stubs.get(key) is None))
    if len(missing) <= stubs.SEPARATE_MAX:
        for key in missing:
            stubs.compile(key, sorted(headers))

    # The test's data: its digest, the uid it runs as, each call's signature (the harness's).
    data = [
        ".section .rodata",
        ".globl rlce_test_digest",
        f"rlce_test_digest: {asciz(digest)}",
        ".globl rlce_judge_uid",
        ".balign 4",
        f"rlce_judge_uid: .long {run_uid}",
    ]
    objects = []
    unkept: list[str] = []  # the stubs of this build alone, compiled together below
    needs = ["// rlce: the program functions this test calls (testgen.py, the test build)", "#if RLCE_PART == 0"]
    entries = []
    for n, (mangled, name, params, key, returns) in enumerate(functions):
        spelled = [p for p, _ in params]
        sig = f"{name}({','.join(spelled)})"
        data += [f".globl rlce_sig_{n}", f"rlce_sig_{n}: {asciz(sig)}"]
        kept = stubs.get(key)
        if kept is not None:
            objects.append(stubs.copy(kept, n, mangled))
        else:  # compiled below with the build's other missing ones, bound to the test's very symbol
            stub = key.replace(" rlce_stub(", f" rlce_stub_{n}(", 1).replace("(rlce_stub_sig", f"(rlce_sig_{n}")
            unkept += [
                f'extern "C" const char rlce_sig_{n}[];',
                stub.split(" { ", 1)[0] + f' __asm__("{mangled}");',
                stub,
            ]
        entries.append(f'RLCE_NEED({n}, {name}, "{sig}", {returns}({", ".join(spelled)}))')
    if unkept:
        objects.append(compile_stubs("rlce_stubs", sorted(headers), unkept))
    with open("rlce_data.s", "w") as fh:
        fh.write("\n".join(data) + "\n")
    run(["g++", "rlce_data.s", *objects, "test.o", "-o", "t"] + LINK)
    needs += [f"#include {h}" for h in sorted(headers)] + ["#else"] + entries + ["#endif"]
    with open("needs.txt", "w") as fh:
        fh.write("\n".join(needs) + "\n")


def serve() -> None:
    """The test side's build server (docs/RUNTIMES.md "Build servers"): one build per request.

    A request on stdin is ``[count][int32 length, UTF-8]...``: the build
    directory, then the step's argv; the answer on stdout is ``[exit code]
    [ending][length][output]``, as RlceBuild.java's. The build's temporary
    files go to its own directory (the runner refuses a server that leaves
    anything elsewhere).
    """
    import ctypes
    import struct

    if ctypes.CDLL(None).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE: no same-uid ptrace, no /proc/pid/mem
        sys.exit(1)
    stubs = Stubs()

    def read_exact(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = os.read(0, n - len(buf))
            if not chunk:
                sys.exit(0)  # the runner closed our stdin: end
            buf += chunk
        return buf

    while True:
        (count,) = struct.unpack(">i", read_exact(4))
        parts = []
        for _ in range(count):
            (length,) = struct.unpack(">i", read_exact(4))
            parts.append(read_exact(length).decode("utf-8", "surrogateescape"))
        build_dir, argv = parts[0], parts[1:]
        said = io.StringIO()
        code, ending = 0, 0
        saved_stderr = sys.stderr
        sys.stderr = said
        try:
            os.chdir(build_dir)
            os.environ["TMPDIR"] = build_dir
            build(run_uid(argv), stubs)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # our own failure: answered, and this server is not trusted on
            code, ending = 1, 1
            said.write(f"rlce: the test build server failed: {exc!r}\n")
        finally:
            sys.stderr = saved_stderr
            os.chdir("/")
        out = said.getvalue().encode("utf-8", "replace")[-OUTPUT_KEEP:]
        del said
        with open("/proc/self/statm") as fh:
            resident = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        if resident > SERVER_RSS_MAX:  # within its share of build_servers_mb while stopped, or ended
            ending = 1
        answer = memoryview(struct.pack(">iii", code, ending, len(out)) + out)
        while answer:
            answer = answer[os.write(1, answer) :]
        del out, answer


def run_uid(argv: list[str]) -> int:
    """``--run-uid N``: the uid the test will run as (the harness refuses any other)."""
    if "--run-uid" in argv:
        return int(argv[argv.index("--run-uid") + 1])
    return os.getuid()


def main() -> None:
    if sys.argv[1:] == ["--precompile"]:
        return precompile()
    if sys.argv[1:] == ["--serve"]:
        return serve()
    build(run_uid(sys.argv), Stubs())


if __name__ == "__main__":
    main()
