"""Compiled runtimes against their bare toolchain, in the same run (issue 19).

For each runtime (``--languages``), the first ``--tasks`` HumanEval-X
canonical solutions, ``--rounds`` rounds, each round the baseline then rlce,
back to back; the median round (by ratio; of an even number, the lower middle
one) is reported, since the shared VM's speed drifts by tens of percent over
minutes.

* **rlce**: a real server (its own process, that runtime only, ``--workers``
  sandboxes: one per core) scores the programs over ``ScoreStream`` with
  ``no_cache``: programs/s, passed, build p50/p90 from ``compile.time_s``.
  Then the same requests again (result cache still off: the sandboxes'
  artifact cache gives back the test build and the program build), reported
  separately; then a GRPO-style pass: per task ``--group`` different programs
  (the canonical solution with a trailing comment that differs: the program
  build differs, the test build is the group's) against one new test.
  Every round's programs and tests carry a comment of their own, so nothing
  built in an earlier round is reused by a first pass.
* **baseline, the bare toolchain**: the same image, ONE long-lived container
  per runtime (``docker run -d --network none --entrypoint sleep IMAGE
  infinity``: no rlce hardening, no sandbox machinery) in which a small
  driver (copied in, started once per round with one ``docker exec``) runs
  ``--workers`` threads, each compiling one program the way HumanEval-X's own
  harness does -- program and test as ONE source, with rlce's compiler flags
  where they apply -- and running it. Its wall time is the driver's own
  (first compile to last run): no ``docker exec`` cost is charged to it.
  The exact commands are in ``bare_job`` (and printed at the start).
* **C++ stdio** (with ``cpp``): one competitive-programming problem with 50
  stdio tests (bench/judges.py's, without its checker), ``--stdio-programs``
  distinct programs per round, each built once: rlce (``no_cache``) against a
  host loop (g++ once with rlce's ``[build.stdio]`` flags, then 50 runs via
  subprocess, output compared by tokens), both ``--workers`` programs at once.

    python3 bench/runtimes.py [--languages cpp,java,javascript,go,rust] [--tasks 80] [--rounds 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from judges import TESTS as STDIO_TESTS  # noqa: E402
from judges import problem as stdio_problem  # noqa: E402
from judges import program as stdio_program  # noqa: E402
from throughput import percentile, start_server  # noqa: E402

from rlce_server.client import Client, pb  # noqa: E402
from rlce_server.config import Settings  # noqa: E402
from rlce_server.evaluation.formats import load_problems, read_rows  # noqa: E402
from rlce_server.runtimes import load_runtimes  # noqa: E402
from rlce_server.runtimes.registry import BuildSpec, RuntimeSpec  # noqa: E402

FOLDERS = {"cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust"}
DATASETS = ROOT.parent / "shared" / "datasets" / "humaneval-x"
BENCH_DIR = "/tmp/rlce-bench"  # inside the baseline's container
MEMORY_MB = "512"  # {memory_mb} of a run argv (rlce's default test limit)
# HumanEval-X's harness (CodeGeeX) adds these Go imports when the code uses them
GO_HELPER = ("math", "strings", "fmt", "strconv", "time", "bytes", "regexp", "sort", "math/rand", "crypto/md5")
GO_IMPORT = re.compile(r'^[ \t]*import[ \t]*(?:\((?P<block>.*?)\)|(?P<one>"[^"\n]*"))', re.M | re.S)
GO_PACKAGE = re.compile(r"^[ \t]*package[ \t]+\w+[ \t]*$", re.M)
GO_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)

# Runs inside the baseline's container with the image's own python3: --workers
# threads, each compiling and running one program at a time; a JSON line per
# program, then one with the wall time from the first compile to the last run.
DRIVER = r"""
import json, os, subprocess, sys, threading, time

jobs = json.load(open(sys.argv[1]))
todo = list(reversed(jobs))
lock = threading.Lock()


def tail(p):
    return (p.stdout + p.stderr)[-400:].decode(errors="replace")


def one(job):
    env = dict(os.environ, **job["env"])
    res = {"id": job["id"], "ok": False, "phase": "compile", "rc": 0, "tail": ""}
    t0 = time.perf_counter()
    try:
        for step in job["compile"]:
            p = subprocess.run(step, cwd=job["dir"], env=env, capture_output=True, timeout=120)
            if p.returncode:
                res.update(rc=p.returncode, tail=tail(p))
                return res
        if job["compile"]:
            res["compile_s"] = time.perf_counter() - t0
        res["phase"] = "run"
        p = subprocess.run(
            job["run"], cwd=job["dir"], env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
        )
        marker = job["fail_marker"].encode()
        res.update(rc=p.returncode, tail=tail(p), ok=p.returncode == 0 and not (marker and marker in p.stderr))
    except subprocess.TimeoutExpired:
        res["phase"] += " timeout"
    finally:
        res["wall_s"] = time.perf_counter() - t0
    return res


def worker():
    while True:
        with lock:
            if not todo:
                return
            job = todo.pop()
        res = one(job)
        with lock:
            print(json.dumps(res), flush=True)


t0 = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(int(sys.argv[2]))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"wall_s": time.perf_counter() - t0}), flush=True)
"""


@dataclass
class Task:
    task_id: str
    program: str  # rlce's program: the prompt (humaneval_x.prompt) and the canonical solution
    test: str  # rlce's assertion test (humaneval_x.assertion_test)
    row: dict[str, Any]


@dataclass
class Pass:
    """One pass of programs: wall time, which passed, build times, why the others failed."""

    n: int
    wall_s: float
    passed: set[str]
    builds: list[float]
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def sandbox_errors(self) -> int:
        return sum(why.startswith("SANDBOX_ERROR") for why in self.failures.values())

    @property
    def rate(self) -> float:
        return self.n / self.wall_s

    def build_pct(self) -> str:
        if not self.builds:
            return "-"
        return f"{percentile(self.builds, 0.5):.2f} / {percentile(self.builds, 0.9):.2f}"


@dataclass
class Round:
    bare: Pass
    rlce: Pass
    second: Pass | None = None
    grpo: Pass | None = None

    @property
    def ratio(self) -> float:
        return self.rlce.rate / self.bare.rate


def mark(tag: str) -> str:
    """A trailing line comment (the same syntax in all five languages): a program or test of its own."""
    return f"\n// rlce-bench {tag}\n"


def load_tasks(language: str, n: int) -> list[Task]:
    path = next((DATASETS / FOLDERS[language]).rglob("*.jsonl.gz"))
    rows = {str(r["task_id"]): r for r in read_rows(path)}
    tasks = []
    for tid, p in list(load_problems(path).items())[:n]:
        row = rows[tid]
        tasks.append(Task(tid, p.prompt + str(row["canonical_solution"]), p.tests[0].assertion.code, row))
    return tasks


# --- rlce ---------------------------------------------------------------------------------------


def rlce_request(language: str, rid: str, program: str, test: str) -> pb.ScoreRequest:
    req = pb.ScoreRequest(
        request_id=rid,
        language=language,
        program=program,
        tests=[pb.TestCase(name="test", assertion=pb.AssertTest(code=test))],
    )
    req.policy.no_cache = True
    return req


def rlce_pass(target: str, reqs: list[pb.ScoreRequest], key: Callable[[str], str] = lambda rid: rid) -> Pass:
    """Score ``reqs`` on one stream; ``key`` maps a request id to the task it counts for."""
    with Client(target) as client:
        t0 = time.perf_counter()
        answers = list(client.score_stream(reqs, timeout_s=3600))
        wall = time.perf_counter() - t0
    passed = {key(a.request_id) for a in answers if a.verdict == pb.ACCEPTED}
    failures = {}
    for a in answers:
        if a.verdict != pb.ACCEPTED:
            why = a.error or a.compile.output[-300:] or next((t.message for t in a.tests if t.message), "")
            failures[key(a.request_id)] = f"{pb.Verdict.Name(a.verdict)}: {why.strip()[-300:]}"
    builds = [a.compile.time_s for a in answers if a.compile.time_s > 0]
    return Pass(len(reqs), wall, passed, builds, failures)


# --- the bare toolchain ----------------------------------------------------------------------------


def go_single_file(program: str, row: dict[str, Any]) -> str:
    """HumanEval-X's Go layout: ``test_setup``'s package clause, program and test in one file.

    Go refuses an unused import, and the program's imports are its own; as
    HumanEval-X's harness (and goimports) does: the union of the setup's and
    the program's imports that the code uses, plus the harness's helper
    packages the code uses without importing them.
    """
    setup = str(row["test_setup"])
    imports: list[str] = []
    for text in (setup, program):
        for m in GO_IMPORT.finditer(text):
            imports += re.findall(r'"([^"]+)"', m.group("block") or m.group("one"))
    code = GO_PACKAGE.sub("", GO_IMPORT.sub("", program)) + "\n" + str(row["test"])
    without_comments = GO_COMMENT.sub("", code)  # Go/158's doc comment says "a list of strings."

    def used(path: str) -> bool:
        return re.search(rf"\b{re.escape(path.rsplit('/', 1)[-1])}\.", without_comments) is not None

    keep = [p for p in dict.fromkeys(imports) if used(p)]
    keep += [p for p in GO_HELPER if p not in keep and used(p)]
    block = "".join(f'    "{p}"\n' for p in keep)
    return f"package main\n\nimport (\n{block})\n\n{code}"


def cpp_single_file(program: str, row: dict[str, Any]) -> str:
    """Program and test in one TU: the declaration's includes the program lacks first, as HumanEval-X's
    layout (declaration + solution + test) gave them."""
    missing = [
        line
        for line in str(row["declaration"]).splitlines()
        if line.strip().startswith("#include") and line.strip() not in program
    ]
    return "".join(line + "\n" for line in missing) + program + "\n" + str(row["test"])


def stdio_step(spec: RuntimeSpec) -> list[str]:
    build = spec.build["stdio"]
    assert isinstance(build, BuildSpec)
    step = list(build.steps[0])
    # the compiler itself: rlce's precompiled-header wrapper (pchcc.py) is rlce's, not the toolchain's
    return step[step.index("--") + 1 :] if "--" in step else step


def bare_job(language: str, spec: RuntimeSpec, task: Task, tag: str) -> tuple[dict[str, str], dict[str, Any]]:
    """One program for the bare toolchain: its files and how the driver compiles and runs it.

    The commands, per language (``{d}`` is the program's own directory):

    * cpp: ``g++ -std=c++17 -O2 -pipe -o prog main.cpp -Wl,--as-needed -lcrypto`` (rlce's
      ``[build.stdio]`` step); ``./prog``
    * java: ``javac -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -J-Xmx512m -J-XX:-UsePerfData
      -encoding UTF-8 -nowarn -d out Solution.java Main.java`` (rlce's ``[build.stdio]`` step, both
      files); ``java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xss64m -Xmx512m -cp
      {d}/out Main`` (its run argv)
    * javascript: ``node main.js`` (``NODE_PATH`` = the image's node_modules, for js-md5); a
      ``console.assert`` that failed (it only prints) fails, as in rlce
    * go: ``go test -c -o t`` with ``[build.stdio]``'s environment (GOPATH mode, testify in
      /usr/share/gocode, ``CGO_ENABLED=0 GOFLAGS=-trimpath``) but one long-lived ``GOCACHE`` warmed
      at the start; ``./t``
    * rust: ``rustc --edition 2021 --test --cap-lints allow -L dependency=/opt/rlce/rustlib --extern
      rand=... --extern regex=... --extern md5=... -o t main.rs`` (``[build.stdio]``'s step with
      ``--test`` for ``-O``: rustc's and ``cargo test``'s default opt-level 0); ``./t``
    """
    d = f"{BENCH_DIR}/{tag}/{task.task_id.replace('/', '_')}"
    files: dict[str, str]
    compile_steps: list[list[str]]
    env: dict[str, str] = {}
    fail_marker = ""
    step = stdio_step(spec)
    if language == "cpp":
        files = {"main.cpp": cpp_single_file(task.program, task.row) + mark(tag)}
        compile_steps, run = [step], ["./prog"]
    elif language == "java":
        files = {"Solution.java": task.program + mark(tag), "Main.java": task.test + mark(tag)}
        i = step.index("Main.java")
        compile_steps = [[*step[:i], "Solution.java", "Main.java", *step[i + 1 :]]]
        build = spec.build["stdio"]
        assert isinstance(build, BuildSpec)
        run = [a.replace("{build}", d).replace("{memory_mb}", MEMORY_MB) for a in build.run]
    elif language == "javascript":
        files = {"main.js": task.program + "\n" + str(task.row["test"]) + mark(tag)}
        compile_steps, run, fail_marker = [], ["node", "main.js"], "Assertion failed"
        env = {"NODE_PATH": "/opt/rlce/runtime/node_modules"}  # js-md5 (JavaScript/162): the image's stand-in
    elif language == "go":
        files = {"main_test.go": go_single_file(task.program, task.row) + mark(tag)}
        build = spec.build["stdio"]
        assert isinstance(build, BuildSpec)
        env = {k: v.replace("{dir}", d) for k, v in build.env.items()}
        env["GOCACHE"] = f"{BENCH_DIR}/gocache"
        compile_steps, run = [["go", "test", "-c", "-o", "t"]], ["./t"]
    elif language == "rust":
        files = {"main.rs": task.program + "\n" + str(task.row["test"]) + mark(tag)}
        rustc = [a for a in step if a != "-O"]
        rustc[rustc.index("2021") + 1 : rustc.index("2021") + 1] = ["--test"]
        rustc[rustc.index("-o") + 1] = "t"
        compile_steps, run, env = [rustc], ["./t"], {"TMPDIR": d}
    else:
        raise SystemExit(f"no baseline for {language}")
    job = {"id": task.task_id, "dir": d, "compile": compile_steps, "run": run, "env": env, "fail_marker": fail_marker}
    return files, job


class BareToolchain:
    """One long-lived, unhardened container of the runtime's image; programs run in it by the driver."""

    def __init__(self, engine: docker.DockerClient, image: str, language: str) -> None:
        self.container = engine.containers.run(
            image,
            entrypoint=["sleep", "infinity"],
            detach=True,
            network_mode="none",
            name=f"rlce-bench-{language}-{os.getpid()}",
            labels={"rlce-bench": "runtimes"},
        )
        self.put({"driver.py": DRIVER})

    def put(self, files: dict[str, str]) -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{BENCH_DIR.lstrip('/')}/{name}")
                info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
                tar.addfile(info, io.BytesIO(data))
        self.container.put_archive("/", buf.getvalue())

    def run(self, jobs: list[dict[str, Any]], tag: str, workers: int) -> list[dict[str, Any]]:
        """The driver over ``jobs``: a result per program, then ``{"wall_s": ...}``."""
        self.put({f"{tag}/jobs.json": json.dumps(jobs)})
        code, (out, err) = self.container.exec_run(
            ["python3", f"{BENCH_DIR}/driver.py", f"{BENCH_DIR}/{tag}/jobs.json", str(workers)], demux=True
        )
        if code != 0:
            raise RuntimeError(f"baseline driver exited {code}: {(err or b'').decode(errors='replace')[-2000:]}")
        return [json.loads(line) for line in (out or b"").decode().splitlines() if line.strip()]

    def close(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception as exc:  # the engine gone (restarted meanwhile): say so, keep what was measured
            print(f"could not remove {self.container.name}: {exc}", file=sys.stderr)


def bare_pass(bare: BareToolchain, language: str, spec: RuntimeSpec, tasks: list[Task], tag: str, workers: int) -> Pass:
    files: dict[str, str] = {}
    jobs = []
    for task in tasks:
        job_files, job = bare_job(language, spec, task, tag)
        rel = job["dir"].removeprefix(BENCH_DIR + "/")
        files.update({f"{rel}/{name}": text for name, text in job_files.items()})
        jobs.append(job)
    bare.put(files)
    results = bare.run(jobs, tag, workers)
    wall = results.pop()["wall_s"]
    passed = {r["id"] for r in results if r["ok"]}
    failures = {r["id"]: f"{r['phase']} exit {r['rc']}: {r['tail'].strip()[-300:]}" for r in results if not r["ok"]}
    return Pass(len(tasks), wall, passed, [r["compile_s"] for r in results if "compile_s" in r], failures)


# --- the C++ stdio problem ---------------------------------------------------------------------------


def stdio_rlce_round(target: str, n: int, offset: int) -> Pass:
    tests = stdio_problem()
    reqs = []
    for k in range(offset, offset + n):
        req = pb.ScoreRequest(request_id=str(k), language="cpp", program=stdio_program("cpp", k), tests=tests)
        req.policy.no_cache = True
        reqs.append(req)
    return rlce_pass(target, reqs)


def stdio_host_round(step: list[str], n: int, offset: int, workers: int, work: Path) -> Pass:
    """What a script on the host does: build once with rlce's stdio flags, run the 50 tests, compare tokens."""
    tests = stdio_problem()
    builds: list[float] = []

    def one(k: int) -> bool:
        d = Path(tempfile.mkdtemp(dir=work))
        (d / "main.cpp").write_text(stdio_program("cpp", k))
        t0 = time.perf_counter()
        subprocess.run(step, cwd=d, check=True)
        builds.append(time.perf_counter() - t0)
        ok = True
        for t in tests:
            p = subprocess.run([str(d / "prog")], input=t.stdio.stdin, capture_output=True, timeout=10)
            ok &= p.returncode == 0 and p.stdout.split() == t.stdio.expected_stdout.split()
        return ok

    ks = list(range(offset, offset + n))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        oks = list(pool.map(one, ks))
    wall = time.perf_counter() - t0
    return Pass(n, wall, {str(k) for k, ok in zip(ks, oks) if ok}, builds)


# --- the run ----------------------------------------------------------------------------------------


def median_round(rounds: list[Round]) -> Round:
    return sorted(rounds, key=lambda r: r.ratio)[(len(rounds) - 1) // 2]


def differences(language: str, rlce: Pass, bare: Pass, console: Console) -> None:
    """Tasks one side passed and the other did not, with the failing side's reason."""
    for tid in sorted(rlce.passed - bare.passed):
        console.print(f"  {language}: {tid} passed in rlce, not bare: {bare.failures.get(tid, '?')}", markup=False)
    for tid in sorted(bare.passed - rlce.passed):
        console.print(f"  {language}: {tid} passed bare, not in rlce: {rlce.failures.get(tid, '?')}", markup=False)
    for tid in sorted(set(rlce.failures) & set(bare.failures)):
        console.print(f"  {language}: {tid} failed in both: rlce {rlce.failures[tid]}", markup=False)


def bench_language(
    language: str,
    spec: RuntimeSpec,
    image: str,
    engine: docker.DockerClient,
    args: argparse.Namespace,
    run_id: str,
    console: Console,
) -> tuple[list[Round], list[Round]]:
    """``--rounds`` rounds of (bare, rlce, rlce 2nd pass, GRPO group[, C++ stdio host loop, rlce])."""
    tasks = load_tasks(language, args.tasks)
    n, w = len(tasks), args.workers
    console.print(f"[bold]{language}[/]: {n} tasks; load {os.getloadavg()[0]:.2f}")
    _, job = bare_job(language, spec, tasks[0], "<tag>")
    console.print(f"  bare compile: {' && '.join(shlex.join(s) for s in job['compile']) or '-'}", markup=False)
    console.print(f"  bare run:     {shlex.join(job['run'])}  (env {job['env']})", markup=False)
    bare = BareToolchain(engine, image, language)
    proc = None
    rounds: list[Round] = []
    stdio_rounds: list[Round] = []
    try:
        # warm-up, not timed: the toolchain's files in the page cache, and Go's long-lived build cache
        # (the standard library and testify built once, as any Go user has them)
        warm = tasks if language == "go" else tasks[:4]
        bare_pass(bare, language, spec, warm, f"{run_id}-warm", w)
        proc, target, start_s = start_server(w, RLCE_RUNTIMES=json.dumps([language]))
        console.print(f"  server SERVING after {start_s:.1f}s")

        def reqs(program_tag: str, test_tag: str) -> list[pb.ScoreRequest]:
            return [
                rlce_request(language, t.task_id, t.program + mark(program_tag), t.test + mark(test_tag)) for t in tasks
            ]

        rlce_pass(target, reqs(f"{run_id}-warm", f"{run_id}-warm")[:4])
        if language == "cpp" and args.stdio_programs:
            stdio_rlce_round(target, 1, 10**6)
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                tag = f"{run_id}-r{r}"
                b = bare_pass(bare, language, spec, tasks, tag, w)
                first = reqs(tag, tag)
                s = rlce_pass(target, first)
                second = rlce_pass(target, first)
                rnd = Round(b, s, second=second)
                if args.group:
                    group = [
                        rlce_request(
                            language, f"{t.task_id}#{k}", t.program + mark(f"{tag}-g{k}"), t.test + mark(f"{tag}-g")
                        )
                        for t in tasks
                        for k in range(args.group)
                    ]
                    rnd.grpo = rlce_pass(target, group, key=lambda rid: rid.split("#")[0])
                rounds.append(rnd)
                console.print(
                    f"  round {r + 1}: bare {b.rate:.2f} prog/s ({len(b.passed)}/{n}), rlce {s.rate:.2f} "
                    f"({len(s.passed)}/{n}) = {rnd.ratio:.2f}x; 2nd pass {second.rate:.2f}"
                    + (f", GRPO x{args.group} {rnd.grpo.rate:.2f}" if rnd.grpo else "")
                    + f"; load {os.getloadavg()[0]:.2f}"
                )
                void = sum(p.sandbox_errors for p in (s, second, rnd.grpo) if p)
                if void:
                    console.print(f"  [red]round {r + 1}: {void} SANDBOX_ERROR answers: its rlce numbers are void[/]")
                if language == "cpp" and args.stdio_programs:
                    k0 = (r + 1) * 1000
                    hb = stdio_host_round(stdio_step(spec), args.stdio_programs, k0, w, Path(tmp))
                    hs = stdio_rlce_round(target, args.stdio_programs, k0)
                    stdio_rounds.append(Round(hb, hs))
                    console.print(
                        f"  round {r + 1}, stdio x{STDIO_TESTS}: host {hb.rate:.2f} prog/s, rlce {hs.rate:.2f} "
                        f"= {hs.rate / hb.rate:.2f}x"
                    )
        mid = median_round(rounds)
        differences(language, mid.rlce, mid.bare, console)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)
        bare.close()
    return rounds, stdio_rounds


def ratios(rounds: Iterable[Round]) -> str:
    return ", ".join(f"{r.ratio:.2f}x" for r in rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--languages", default=",".join(FOLDERS))
    ap.add_argument("--tasks", type=int, default=80, help="the first N HumanEval-X tasks")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of (bare, rlce) back to back; the median reported")
    ap.add_argument("--group", type=int, default=4, help="programs per task in the GRPO pass (0: no GRPO pass)")
    ap.add_argument("--stdio-programs", type=int, default=8, help="C++ stdio programs per round (0: none)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="sandboxes, and bare programs at once")
    args = ap.parse_args()
    console = Console(width=220)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    console.print(f"$ {shlex.join([sys.executable, *sys.argv])}", markup=False)
    console.print(f"{os.cpu_count()} cores, load average {load}")
    settings = Settings()
    specs = load_runtimes(settings.images_dir)
    engine = docker.from_env(timeout=3600)
    run_id = secrets.token_hex(4)
    results: dict[str, tuple[float, list[Round], list[Round]]] = {}
    for language in args.languages.split(","):
        image = settings.image_name(language)
        size_mb = engine.images.get(image).attrs["Size"] / 1e6
        rounds, stdio_rounds = bench_language(language, specs[language], image, engine, args, run_id, console)
        results[language] = (size_mb, rounds, stdio_rounds)

    title = (
        f"HumanEval-X canonical, first {args.tasks} tasks, {args.workers} at once: rlce against the bare toolchain "
        f"(median of {args.rounds} rounds by ratio)"
    )
    table = Table(title=title)
    cols = ["runtime", "image MB", "rlce prog/s", "bare prog/s", "rlce / bare", "rlce build p50 / p90 s"]
    cols += ["bare compile p50 / p90 s", "passed rlce / bare", "rlce 2nd pass prog/s"]
    cols += [f"rlce GRPO x{args.group} prog/s" if args.group else "rlce GRPO", "ratios by round"]
    for col in cols:
        table.add_column(col, justify="right")
    for language, (size_mb, rounds, _) in results.items():
        m = median_round(rounds)
        table.add_row(
            language,
            f"{size_mb:.0f}",
            f"{m.rlce.rate:.2f}",
            f"{m.bare.rate:.2f}",
            f"[bold]{m.ratio:.2f}x[/]",
            m.rlce.build_pct(),
            m.bare.build_pct(),
            f"{len(m.rlce.passed)} / {len(m.bare.passed)} of {m.rlce.n}",
            f"{m.second.rate:.2f}" if m.second else "-",
            f"{m.grpo.rate:.2f}" if m.grpo else "-",
            ratios(rounds),
        )
    console.print(table)

    stdio = results.get("cpp", (0.0, [], []))[2]
    if stdio:
        m = median_round(stdio)
        table = Table(
            title=f"C++ stdio problem, {STDIO_TESTS} tests, no checker, {args.stdio_programs} distinct programs per "
            f"round, {args.workers} at once (median of {len(stdio)} rounds by ratio)"
        )
        cols = ["rlce prog/s", "rlce tests/s", "host loop prog/s", "host loop tests/s", "rlce / host"]
        cols += ["rlce build p50 / p90 s", "host g++ p50 / p90 s", "passed rlce / host", "ratios by round"]
        for col in cols:
            table.add_column(col, justify="right")
        table.add_row(
            f"{m.rlce.rate:.2f}",
            f"{m.rlce.rate * STDIO_TESTS:.0f}",
            f"{m.bare.rate:.2f}",
            f"{m.bare.rate * STDIO_TESTS:.0f}",
            f"[bold]{m.ratio:.2f}x[/]",
            m.rlce.build_pct(),
            m.bare.build_pct(),
            f"{len(m.rlce.passed)} / {len(m.bare.passed)} of {m.rlce.n}",
            ratios(stdio),
        )
        console.print(table)


if __name__ == "__main__":
    main()
