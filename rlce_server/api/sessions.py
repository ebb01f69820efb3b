"""Run and sessions: proto <-> domain, with validation that names the field (as ``convert``)."""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Iterable, Mapping

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..config import Settings
from ..domain import Limits
from ..errors import InvalidRequest
from ..sandbox.rlce_runner.workfiles import FileRefused, parts
from ..scheduling.oneshot import RunJob, RunResult
from ..sessions import CellResult
from .convert import MAX_NAME, _text, convert_limits

MAX_FILES = 256


def convert_files(files: Mapping[str, bytes], field: str = "files") -> dict[str, bytes]:
    """Files to write: relative paths of plain parts (no '..', no absolute path)."""
    if len(files) > MAX_FILES:
        raise InvalidRequest(field, f"has {len(files)} files; at most {MAX_FILES} are allowed")
    for name in files:
        try:
            parts(name)
        except FileRefused as exc:
            raise InvalidRequest(f"{field}[{name[:80]!r}]", str(exc).split(": ", 1)[-1]) from None
    return {name: bytes(data) for name, data in files.items()}


def convert_fetch(names: Iterable[str], field: str = "fetch") -> list[str]:
    found = list(dict.fromkeys(names))
    if len(found) > MAX_FILES:
        raise InvalidRequest(field, f"names {len(found)} files; at most {MAX_FILES} are allowed")
    for i, name in enumerate(found):
        try:
            parts(name)
        except FileRefused as exc:
            raise InvalidRequest(f"{field}[{i}]", str(exc)) from None
    return found


def _code(code: str, settings: Settings, field: str = "code", required: bool = True) -> str:
    if required and not code.strip():
        raise InvalidRequest(field, "is empty")
    if len(code.encode("utf-8", "surrogatepass")) > settings.max_program_bytes:
        raise InvalidRequest(field, f"is larger than {settings.max_program_bytes} bytes")
    return code


def _size(request: object, settings: Settings) -> None:
    size = request.ByteSize()  # type: ignore[attr-defined]
    if size > settings.max_request_bytes:
        raise InvalidRequest("request", f"is {size} bytes; at most {settings.max_request_bytes} are allowed")


def convert_run(req: pb.RunRequest, settings: Settings, runtimes: Iterable[str]) -> RunJob:
    _size(req, settings)
    request_id = req.request_id or uuid.uuid4().hex
    if len(request_id) > MAX_NAME:
        raise InvalidRequest("request_id", f"is longer than {MAX_NAME} characters")
    served = sorted(runtimes)
    if not req.language:
        raise InvalidRequest("language", f"is required; one of {served}")
    if req.language not in served:
        raise InvalidRequest("language", f"unknown runtime {req.language[:64]!r}; one of {served}")
    return RunJob(
        request_id=request_id,
        language=req.language,
        code=_code(req.code, settings),
        stdin=req.stdin,
        limits=convert_limits(req.limits, settings),
        files=convert_files(req.files),
        fetch=tuple(convert_fetch(req.fetch)),
    )


def run_response(result: RunResult) -> pb.RunResponse:
    return pb.RunResponse(
        request_id=result.request_id,
        verdict=int(result.verdict),  # type: ignore[arg-type]
        stdout=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
        signal=result.signal,
        wall_time_s=result.wall_s,
        cpu_time_s=result.cpu_s,
        peak_memory_kb=result.peak_memory_kb,
        files=result.files,
        error=_text(result.error),
    )


@dataclasses.dataclass(frozen=True)
class OpenJob:
    language: str
    limits: Limits  # total_time_limit_s: the session's CPU budget
    idle_timeout_s: float
    files: dict[str, bytes]


def convert_open(req: pb.OpenSessionRequest, settings: Settings, languages: Iterable[str]) -> OpenJob:
    _size(req, settings)
    served = sorted(languages)
    if not req.language:
        raise InvalidRequest("language", f"is required; sessions are served for {served}")
    if req.language not in served:
        raise InvalidRequest(
            "language", f"no sessions for {req.language[:64]!r} here; sessions are served for {served}"
        )
    config = settings.sessions
    budget = req.limits.total_time_limit_s
    if budget and (not math.isfinite(budget) or budget < 0 or budget > config.cpu_budget_s):
        raise InvalidRequest(
            "limits.total_time_limit_s", f"a session's CPU budget is a positive number up to {config.cpu_budget_s:g}s"
        )
    limits = dataclasses.replace(convert_limits(req.limits, settings), total_time_limit_s=budget or config.cpu_budget_s)
    idle = float(req.idle_timeout_s) or config.idle_timeout_s
    if idle > config.max_idle_timeout_s:
        raise InvalidRequest("idle_timeout_s", f"{idle:g} exceeds the server's maximum {config.max_idle_timeout_s:g}")
    return OpenJob(req.language, limits, idle, convert_files(req.files))


@dataclasses.dataclass(frozen=True)
class ExecJob:
    session_id: str
    code: str
    stdin: bytes
    files: dict[str, bytes]
    fetch: list[str]
    time_limit_s: float  # 0: the session's


def session_id(value: str) -> str:
    if not value:
        raise InvalidRequest("session_id", "is required")
    if len(value) > MAX_NAME:
        raise InvalidRequest("session_id", f"is longer than {MAX_NAME} characters")
    return value


def convert_exec(req: pb.ExecRequest, settings: Settings) -> ExecJob:
    _size(req, settings)
    limit = req.time_limit_s
    floor, cap = settings.limits.min_time_limit_s, settings.limits.max_time_limit_s
    if limit and (not math.isfinite(limit) or limit < floor or limit > cap):
        raise InvalidRequest(
            "time_limit_s", f"must be from {floor:g} to {cap:g} seconds (0: the session's), got {limit}"
        )
    return ExecJob(
        session_id=session_id(req.session_id),
        code=_code(req.code, settings, required=False),
        stdin=req.stdin,
        files=convert_files(req.files),
        fetch=convert_fetch(req.fetch),
        time_limit_s=limit,
    )


def exec_response(sid: str, result: CellResult) -> pb.ExecResponse:
    return pb.ExecResponse(
        session_id=sid,
        verdict=int(result.verdict),  # type: ignore[arg-type]
        stdout=result.stdout,
        stderr=result.stderr,
        result=_text(result.result),
        error=_text(result.error),
        wall_time_s=result.wall_s,
        cpu_time_s=result.cpu_s,
        files=result.files,
        session_ended=result.ended,
    )
