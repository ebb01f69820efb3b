"""Point a Rust test's std macros at ``::std`` so a program cannot redefine them.

A program's ``macro_rules! assert_eq`` (or ``vec``) defined before the test
would be what the test's ``assert_eq!`` means; ``::std::assert_eq!`` always
is the standard one. Runs as a build step, as the candidate, on the test file.
"""

import re
import sys

STD_MACROS = (
    "assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "vec",
    "format", "panic", "matches", "unreachable", "todo", "unimplemented", "print", "println", "eprint",
    "eprintln", "write", "writeln", "concat", "stringify", "line", "file", "column", "env",
)  # fmt: skip
MACRO = re.compile(r"(?<![\w:$])(" + "|".join(STD_MACROS) + r")!")

for path in sys.argv[1:]:
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(MACRO.sub(r"::std::\1!", text))
