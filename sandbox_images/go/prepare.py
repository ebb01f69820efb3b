"""Give Go sources without a package clause ``package main``.

HumanEval-X's Go prompts start at the import block; the test file says
``package main``. Runs as a build step, as the candidate, on its own files.
"""

import re
import sys

CLAUSE = re.compile(r"^\s*package\s+\w+", re.MULTILINE)


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)


for path in sys.argv[1:]:
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        text = fh.read()
    if not CLAUSE.match(strip_comments(text)):
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write("package main\n\n" + text)
