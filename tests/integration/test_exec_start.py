"""How an exec'd program starts, through the real stack: the spawn helper and C++'s precompiled headers.

Every compiled program, build step and compiled judge starts as a fork of
one of the zygote's fork servers that runs the static spawn helper's code
(sandbox_images/spawn/{forkserver,spawn}.c) and execs it, rather than a fork
of the Python zygote: the process it hands over must be set up exactly as
the sandbox promises. A C++ program may be compiled after a precompiled
header of the standard headers it opens with (sandbox_images/cpp/pchcc.py):
that must never change what it means, and the headers must stay usable by
the flags the builds actually use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rlce_server.client import Client, pb, stdio
from rlce_server.config import Settings
from tests.conftest import image_script

from .server import ServerThread

pchcc = image_script("cpp", "pchcc")

# Prints what the process was given; every line is checked below.
PROBE = r"""
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>
#include <cstdlib>
static long long soft(int which) {
    struct rlimit r;
    getrlimit(which, &r);
    return r.rlim_cur == RLIM_INFINITY ? -1 : (long long)r.rlim_cur;
}
static const char* disposition(int sig) {
    struct sigaction sa;
    sigaction(sig, nullptr, &sa);
    return sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "handled";
}
int main() {
    printf("uid %d %d\n", (int)getuid(), (int)geteuid());
    printf("gid %d %d\n", (int)getgid(), (int)getegid());
    printf("groups %d\n", getgroups(0, nullptr));
    printf("session_leader %d\n", getsid(0) == getpid());
    mode_t old = umask(0);
    printf("umask %o\n", (unsigned)old);
    printf("nofile %lld\n", soft(RLIMIT_NOFILE));
    printf("core %lld\n", soft(RLIMIT_CORE));
    printf("fsize_finite %d\n", soft(RLIMIT_FSIZE) > 0);
    printf("as_finite %d\n", soft(RLIMIT_AS) > 0);
    printf("cpu_finite %d\n", soft(RLIMIT_CPU) > 0);
    FILE* f = fopen("/proc/self/oom_score_adj", "r");
    int oom = 0;
    if (f && fscanf(f, "%d", &oom) == 1) printf("oom %d\n", oom);
    DIR* d = opendir("/proc/self/fd");
    int mine = dirfd(d), fds = 0;
    while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == mine) continue;
        if (f && atoi(e->d_name) == fileno(f)) continue;
        printf("fd %s\n", e->d_name);
        fds++;
    }
    printf("sigint %s\nsigterm %s\nsigchld %s\n", disposition(SIGINT), disposition(SIGTERM), disposition(SIGCHLD));
    FILE* st = fopen("/proc/self/status", "r");
    char line[256];
    while (st && fgets(line, sizeof line, st))
        if (strncmp(line, "SigIgn:", 7) == 0) printf("sigign %s", line + 8);
        else if (strncmp(line, "Seccomp:", 8) == 0) printf("seccomp %s", line + 9);
        else if (strncmp(line, "Seccomp_filters:", 16) == 0) printf("seccomp_filters %s", line + 17);
        else if (strncmp(line, "NoNewPrivs:", 11) == 0) printf("nonewprivs %s", line + 12);
        else if (strncmp(line, "CapEff:", 7) == 0) printf("capeff %s", line + 8);
        else if (strncmp(line, "CapPrm:", 7) == 0) printf("capprm %s", line + 8);
    char cwd[4096];
    printf("cwd_ok %d\n", getcwd(cwd, sizeof cwd) != nullptr);
    printf("env_path %d\n", getenv("PATH") != nullptr);
}
"""


@pytest.fixture()
def client(polyglot: ServerThread) -> Iterator[Client]:
    with Client(polyglot.target) as c:
        yield c


def run_stdio(client: Client, program: str, expected: str = "") -> pb.ScoreResponse:
    req = pb.ScoreRequest(request_id="p", language="cpp", program=program, tests=[stdio("", expected, name="t")])
    req.policy.no_cache = True
    return client.score_request(req)


def test_an_exec_process_starts_as_the_sandbox_promises(client: Client) -> None:
    resp = run_stdio(client, PROBE)
    assert resp.verdict == pb.WRONG_ANSWER, resp  # ran (its output is not the expected empty one)
    seen = dict(line.split(" ", 1) for line in resp.tests[0].stdout.decode().splitlines())
    uid, euid = map(int, seen["uid"].split())
    gid, egid = map(int, seen["gid"].split())
    assert uid == euid and uid != 0 and gid == egid and gid != 0
    assert seen["groups"] == "0"
    assert seen["session_leader"] == "1"
    assert seen["umask"] == "77"
    assert seen["nofile"] == "256" and seen["core"] == "0"
    assert seen["fsize_finite"] == "1" and seen["as_finite"] == "1" and seen["cpu_finite"] == "1"
    assert seen["oom"] == "1000"
    fds = [line.split()[1] for line in resp.tests[0].stdout.decode().splitlines() if line.startswith("fd ")]
    assert sorted(fds) == ["0", "1", "2"], fds  # nothing of the zygote's, the runner's or another test's
    assert (seen["sigint"], seen["sigterm"], seen["sigchld"]) == ("default", "default", "default")
    # ignored: SIGPIPE and SIGXFSZ only, as the zygote has them (a forked child's were so too);
    # never glibc's internal 32 and 33, which posix_spawn leaves ignored (red team)
    assert int(seen["sigign"].strip(), 16) == (1 << 12) | (1 << 24), seen["sigign"]
    assert seen["cwd_ok"] == "1" and seen["env_path"] == "1"
    # filtered (mode 2) by the engine's profile and the zygote's own filter on top (a fork
    # server started before the zygote installed it would give its processes one), no privileges
    assert seen["seccomp"].strip() == "2" and int(seen["seccomp_filters"]) >= 2, seen
    assert seen["nonewprivs"].strip() == "1", seen
    assert int(seen["capeff"], 16) == 0 and int(seen["capprm"], 16) == 0, seen


def test_a_program_that_defines_a_macro_first_is_compiled_as_written(client: Client) -> None:
    """``_GLIBCXX_DEBUG`` before <vector> selects the debug containers; a precompiled
    <vector> put in front would have made the program's own include a no-op."""
    program = (
        "#define _GLIBCXX_DEBUG 1\n#include <vector>\n#include <cstdio>\n#include <type_traits>\n"
        'int main() { std::printf("%d\\n",\n'
        "  (int)std::is_same<std::vector<int>, std::__debug::vector<int>>::value); }\n"
    )
    resp = run_stdio(client, program, "1\n")
    assert resp.verdict == pb.ACCEPTED, resp


def test_a_precompiled_header_adds_no_header_the_program_lacks(client: Client) -> None:
    """<vector> alone: <iostream> (in other precompiled headers) must stay undeclared."""
    program = (
        "// leading comment\n/* and a block */\n#include <vector>\n#include <cstdio>\n"
        "#ifdef _GLIBCXX_IOSTREAM\n#error iostream came from nowhere\n#endif\n"
        'int main() { std::vector<int> v{1, 2}; std::printf("%zu\\n", v.size()); }\n'
    )
    assert run_stdio(client, program, "2\n").verdict == pb.ACCEPTED


def test_competitive_programs_with_the_whole_library_build_and_run(client: Client) -> None:
    program = (
        "#include <bits/stdc++.h>\nusing namespace std;\n#define int long long\n"
        "signed main() { vector<int> v{3, 1, 2}; sort(v.begin(), v.end()); cout << v[0] << v[2] << endl; }\n"
    )
    assert run_stdio(client, program, "13\n").verdict == pb.ACCEPTED


def test_the_precompiled_headers_fit_the_flags_the_builds_use(polyglot: ServerThread, engine: Any) -> None:
    """g++ silently ignores a binary header built with other flags: each flag set's
    headers must be valid for the compiles that set serves (unit tests check that
    every wrapped step of runtime.toml has its set)."""
    script = ["set -e", "cd /tmp", ": > e.cpp", "n=0"]
    for name, (flags, variants) in pchcc.FLAG_SETS.items():
        script.append(
            f"for v in {' '.join(variants)}; do g++ {' '.join(flags)} -Winvalid-pch -Werror=invalid-pch "
            f"-include /opt/rlce/runtime/pch/{name}/$v.h -fsyntax-only e.cpp; n=$((n+1)); done"
        )
    script.append("echo $n")
    out = engine.containers.run(
        Settings().image_name("cpp"), ["-c", "\n".join(script)], entrypoint="sh", network_mode="none", remove=True
    )
    assert int(out.decode().split()[-1]) == sum(len(v) for _, v in pchcc.FLAG_SETS.values())


def test_a_precompiled_header_never_changes_how_the_program_is_optimised(client: Client) -> None:
    """The split program side builds at -O1; a header precompiled at -O2 made g++ inline
    as at -O2 (red team): a recursion a million deep then survived that otherwise
    overflows the stack. Differential: the same program with a no-op macro first
    (so compiled exactly as written) must get the same verdict."""
    body = "long long f(long long n, long long acc) { if (n == 0) return acc; return f(n - 1, acc + (n & 7)); }\n"
    test = (
        "#include <cassert>\nlong long f(long long n, long long acc);\n"
        "int main() { assert(f(1000000, 0) == 3500000); }\n"
    )
    verdicts = []
    for head in ("#include <vector>\n", "#define RLCE_AS_WRITTEN 1\n#include <vector>\n"):
        req = pb.ScoreRequest(
            request_id="o",
            language="cpp",
            program=head + body,
            tests=[pb.TestCase(name="t", assertion=pb.AssertTest(code=test))],
        )
        req.policy.no_cache = True
        verdicts.append(client.score_request(req).verdict)
    assert verdicts[0] == verdicts[1], [pb.Verdict.Name(v) for v in verdicts]
