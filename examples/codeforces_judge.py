"""A Codeforces-style problem with a checker, judged by rlce (docs/JUDGES.md).

Problem "Derangement": given n (1 <= n <= 100), print a permutation p of
1..n with p_i != i for every i, or -1 if there is none. Many outputs are
correct, so the tests' expected outputs are only the jury's answers and a
checker decides. The problem is registered once (tests + checker); every
submission then names it by ``tests_ref``.

    rlce serve --runtimes python,cpp &          # cpp only for --checker cpp
    python examples/codeforces_judge.py --target 127.0.0.1:50051
    python examples/codeforces_judge.py --checker cpp --testlib ../shared/datasets/testlib/testlib.h

The C++ checker is a testlib checker; testlib.h is yours to pass (rlce ships
none).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rlce_server.client import Client, judge, pb, stdio

CHECKER_PY = r"""
import sys
inp, out, ans = (open(p).read().split() for p in sys.argv[1:4])
n, jury = int(inp[0]), int(ans[0])
def verdict(code, words):
    print(words); sys.exit(code)
if not out or not all(t.lstrip("-").isdigit() for t in out):
    verdict(2, "expected integers")                      # presentation error
if jury == -1:
    verdict(0, "no derangement") if out == ["-1"] else verdict(1, f"expected -1, found {out[0]}")
if out == ["-1"]:
    verdict(1, f"a derangement of {n} exists")
p = [int(t) for t in out]
if len(p) != n or sorted(p) != list(range(1, n + 1)):
    verdict(1, f"not a permutation of 1..{n}")
fixed = [i + 1 for i, v in enumerate(p) if v == i + 1]
verdict(1, f"p_{fixed[0]} = {fixed[0]} is a fixed point") if fixed else verdict(0, f"a derangement of {n}")
"""

CHECKER_CPP = r"""
#include "testlib.h"
#include <vector>
int main(int argc, char* argv[]) {
    registerTestlibCmd(argc, argv);
    int n = inf.readInt();
    int jury = ans.readInt();
    int first = ouf.readInt(-1, n, "p_1");
    if (jury == -1) {
        if (first != -1) quitf(_wa, "expected -1, found %d", first);
        quitf(_ok, "no derangement");
    }
    if (first == -1) quitf(_wa, "a derangement of %d exists", n);
    std::vector<bool> seen(n + 1);
    for (int i = 1; i <= n; i++) {
        int p = i == 1 ? first : ouf.readInt(1, n, "p_i");
        if (p < 1) quitf(_wa, "p_%d = %d is out of range", i, p);
        if (p == i) quitf(_wa, "p_%d = %d is a fixed point", i, i);
        if (seen[p]) quitf(_wa, "%d appears twice", p);
        seen[p] = true;
    }
    quitf(_ok, "a derangement of %d", n);
}
"""

# (n, the jury's answer)
JURY = [(1, "-1"), (2, "2 1"), (3, "2 3 1"), (5, "2 3 4 5 1"), (100, " ".join(map(str, [*range(2, 101), 1])))]

SUBMISSIONS = {
    # rotate by one: the jury's own idea
    "rotation": "n = int(input())\nprint(-1 if n == 1 else ' '.join(map(str, [*range(2, n + 1), 1])))\n",
    # swap neighbours, the last three rotated when n is odd: other correct outputs
    "pair swaps": (
        "n = int(input())\np = list(range(1, n + 1))\n"
        "for i in range(0, n - 1, 2):\n    p[i], p[i + 1] = p[i + 1], p[i]\n"
        "if n % 2 and n > 1:\n    p[-1], p[-2] = p[-2], p[-1]\n"
        "print(-1 if n == 1 else ' '.join(map(str, p)))\n"
    ),
    "identity": "n = int(input())\nprint(' '.join(map(str, range(1, n + 1))))\n",
    "forgets n = 1": "n = int(input())\nprint(' '.join(map(str, [*range(2, n + 1), 1])))\n",
    "prints words": "print('no idea')\n",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="127.0.0.1:50051")
    ap.add_argument("--checker", choices=["python", "cpp"], default="python")
    ap.add_argument("--testlib", type=Path, help="your testlib.h (for --checker cpp)")
    args = ap.parse_args()
    if args.checker == "cpp":
        if not args.testlib:
            ap.error("--checker cpp needs --testlib PATH")
        checker = judge("cpp", CHECKER_CPP, files={"testlib.h": args.testlib.read_bytes()})
    else:
        checker = judge("python", CHECKER_PY)
    tests = [stdio(f"{n}\n", f"{answer}\n", name=f"n={n}") for n, answer in JURY]
    with Client(args.target) as client:
        # once per problem: rlce builds the checker and runs it on every jury answer
        ref = client.register_tests(tests, checker=checker)
        for name, program in SUBMISSIONS.items():
            r = client.score("python", program, tests_ref=ref, no_cache=True)
            first = next((t for t in r.tests if t.verdict != pb.ACCEPTED), None)
            why = f"  {first.name}: {first.message.strip()}" if first else ""
            print(f"{name:14} {pb.Verdict.Name(r.verdict):13} reward={r.reward:.2f}{why}")


if __name__ == "__main__":
    main()
