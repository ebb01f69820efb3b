"""OpenRLHF: a remote reward-model endpoint for ``--remote_rm_url``.

    rlce openrlhf-rm --port 5000 --target sandbox-host:50051
    # then train with: --remote_rm_url http://this-host:5000/get_reward --label_key tests

OpenRLHF POSTs JSON ``{"query": [...], "prompts": [...], "labels": [...]}``
(``query`` is prompt + response as the model saw them; ``labels`` is the
dataset column named by ``--label_key``) and reads ``rewards`` from the
reply; newer versions also read ``scores`` (for dynamic filtering) and
``extra_logs`` (logged). Labels are any ground-truth shape of
``rlce_server.rl.ground_truth`` (stdin/stdout lists, fn_name cases, assert
lists, HumanEval test + entry_point), as JSON strings or objects.

OpenRLHF has no per-sample mask either, so a sample that could not be scored
gets the mean reward of the scored samples with the same prompt (zero
advantage under a group baseline), and ``extra_logs.rlce_unscored`` flags
them. Current OpenRLHF (0.11) posts one query per rollout, so the group is
not in the request: the mean is then taken over the rewards this endpoint
recently gave the same prompt (bounded memory), 0.0 if it gave none. A
malformed body is a 400 naming the field.

Access (``rlce openrlhf-rm --auth-tokens-file/--tls-cert/...``): without a
valid token a request is a 401 and nothing is scored. OpenRLHF posts with
aiohttp and no headers of its own, so give it the token in the URL
(``--remote_rm_url https://rlce:<token>@host:5000/get_reward``: sent as
Basic with the token as password) and, for a private CA, ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rlce_server.access import ServerAccess, TLSServerMixin
from rlce_server.client import pb
from rlce_server.datasets import DatasetProblem
from rlce_server.rl.batch import BatchScorer
from rlce_server.rl.ground_truth import UnknownGroundTruth, problem_from
from rlce_server.rl.shaping import Shaping, group_neutral, score_completions

log = logging.getLogger("rlce.openrlhf")
MAX_BODY = 256 << 20
REFUSED_BODY_READ = 1 << 20


class BadRequest(ValueError):
    pass


def _response_of(query: str, prompt: str | None) -> str:
    return query[len(prompt) :] if prompt and query.startswith(prompt) else query


class _PromptMeans:
    """Recent rewards per prompt (LRU), for the group of a one-query request."""

    def __init__(self, max_prompts: int = 50_000) -> None:
        self.max_prompts = max_prompts
        self._sums: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, prompt: str, reward: float) -> None:
        with self._lock:
            total, n = self._sums.pop(prompt, (0.0, 0))
            self._sums[prompt] = (total + reward, n + 1)
            while len(self._sums) > self.max_prompts:
                self._sums.popitem(last=False)

    def mean(self, prompt: str) -> float | None:
        with self._lock:
            total, n = self._sums.get(prompt, (0.0, 0))
        return total / n if n else None


class RewardService:
    def __init__(self, scorer: BatchScorer, *, language: str = "python", shaping: Shaping = Shaping()) -> None:
        self.scorer = scorer
        self.language = language
        self.shaping = shaping
        self.recent = _PromptMeans()

    def rewards(self, body: dict[str, Any]) -> dict[str, Any]:
        queries = body.get("query", body.get("queries"))
        if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            raise BadRequest("query: must be a list of strings")
        prompts = body.get("prompts") or [None] * len(queries)
        labels = body.get("labels", body.get("references"))
        if not isinstance(prompts, list) or len(prompts) != len(queries):
            raise BadRequest(f"prompts: must be a list of {len(queries)} strings")
        if not isinstance(labels, list) or len(labels) != len(queries):
            raise BadRequest(f"labels: must be a list of {len(queries)} ground truths (--label_key)")
        texts = [_response_of(q, p) for q, p in zip(queries, prompts, strict=True)]

        def tests_of(i: int) -> DatasetProblem:
            try:
                return problem_from(labels[i])
            except UnknownGroundTruth as exc:
                raise BadRequest(f"labels[{i}]: {exc}") from None

        raw, answers = score_completions(
            self.scorer, texts, tests_of, language=self.language, shaping=self.shaping, timeout_s=600
        )
        groups = [str(p) if p is not None else repr(lbl) for p, lbl in zip(prompts, labels, strict=True)]
        for group, reward in zip(groups, raw, strict=True):
            if reward is not None:
                self.recent.add(group, reward)
        # one query per request (OpenRLHF 0.11): a group unscored here gets what its prompt got lately
        rewards, scored = group_neutral(raw, groups, self.recent.mean)
        accepted = [1.0 if r is not None and r.verdict == pb.ACCEPTED else 0.0 for r in answers]
        return {
            "rewards": rewards,
            "scores": rewards,
            "extra_logs": {"rlce_accepted": accepted, "rlce_unscored": [0.0 if s else 1.0 for s in scored]},
        }


class _Server(TLSServerMixin, ThreadingHTTPServer):
    pass


def make_server(
    service: RewardService, host: str, port: int, access: ServerAccess = ServerAccess()
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        timeout = 600  # a client that stops sending releases its thread

        def _send(self, status: int, obj: dict[str, Any], *headers: tuple[str, str]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self) -> None:
            """401; a small body is read first (closing on unread data would reset the connection)."""
            declared = self.headers.get("Content-Length", "")
            length = int(declared) if declared.isdigit() else 0
            if 0 < length <= REFUSED_BODY_READ:
                self.rfile.read(length)
            else:
                self.close_connection = True
            error = {"error": "a valid token is needed: Authorization: Bearer <token>"}
            self._send(401, error, ("WWW-Authenticate", 'Bearer realm="rlce"'))

        def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
            if not access.allows(self.headers.get("Authorization")):
                self._refuse()
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if length <= 0 or length > MAX_BODY:
                    raise BadRequest(f"body: Content-Length must be 1..{MAX_BODY}")
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError as exc:
                    raise BadRequest(f"body: not JSON ({exc})") from None
                if not isinstance(body, dict):
                    raise BadRequest("body: must be a JSON object")
                self._send(200, service.rewards(body))
            except BadRequest as exc:
                self._send(400, {"error": str(exc)})
            except Exception as exc:  # ours: say so, never a silent 0
                log.exception("reward request failed")
                self._send(500, {"error": f"rlce reward service failed: {exc}"})

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("%s " + format, self.address_string(), *args)

    return _Server((host, port), Handler, access.tls.context if access.tls else None)


def serve(
    target: str | Sequence[str], host: str, port: int, language: str = "python", access: ServerAccess = ServerAccess()
) -> None:
    server = make_server(RewardService(BatchScorer(target), language=language), host, port, access)
    access.warn_if_exposed(host, "the OpenRLHF reward endpoint")
    url = f"{'https' if access.tls else 'http'}://{host}:{server.server_port}/"
    log.info("OpenRLHF reward endpoint on %s (any path), scoring on %s", url, target)
    server.serve_forever()
