"""veRL: a code-interpreter tool backed by rlce sessions (veRL's ``BaseTool``).

veRL's multi-turn rollouts load tools from a YAML file
(``actor_rollout_ref.rollout.multi_turn.tool_config_path``), as it loads its
own sandbox-fusion code interpreter; this class goes in its place::

    tools:
      - class_name: rlce_server.rl.verl_tool.RlceCodeTool
        config:
          type: native
          target: 127.0.0.1:50051     # or RLCE_TARGETS; a list, or dns:///name:port
          time_limit_s: 5             # CPU seconds per call
          memory_limit_mb: 512
          idle_timeout_s: 600
        tool_schema: ...              # optional: rlce_server.rl.tools.PYTHON_TOOL by default

Each trajectory gets its own session and every call of that trajectory runs
as a cell in it, so names persist from call to call:

* veRL 0.9's ``ToolAgentLoop`` calls create -> execute -> release around
  *each* tool call and hands ``execute`` the trajectory's ``agent_data``:
  the session belongs to that trajectory (opened at its first call, closed
  when veRL drops the trajectory's data, the idle timeout as a backstop);
* a caller that keeps one instance for a whole trajectory (create once,
  execute many times, release at the end, as veRL's earlier rollouts did)
  gets one session per instance, closed by ``release``.

Token and TLS come from ``RLCE_TOKEN`` and ``RLCE_TLS_*`` as for every rlce
client. The step reward is 0: the reward is the final answer's score
(``rlce_server.rl.verl``).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any
from uuid import uuid4

import grpc
from verl.tools.base_tool import BaseTool
from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse

from rlce_server.client import AsyncClient, pb
from rlce_server.rl.tools import PYTHON_TOOL, observation, parse_arguments


def _targets(config: dict[str, Any]) -> str | list[str]:
    raw = config.get("target") or os.environ.get("RLCE_TARGETS", "127.0.0.1:50051")
    if isinstance(raw, list):
        return [str(t) for t in raw]
    raw = str(raw)
    if raw.startswith("dns:") or "," not in raw:
        return raw
    return [t.strip() for t in raw.split(",") if t.strip()]


class RlceCodeTool(BaseTool):
    """A stateful Python interpreter per trajectory, in an rlce session."""

    TRAJECTORY_ATTR = "_rlce_session"  # where a trajectory's session is kept on veRL's agent_data

    def __init__(self, config: dict[str, Any], tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        super().__init__(config, tool_schema or OpenAIFunctionToolSchema.model_validate(PYTHON_TOOL))
        self.targets = _targets(config)
        self.language = str(config.get("language", "python"))
        self.time_limit_s = float(config.get("time_limit_s", 0.0))
        self.memory_limit_mb = int(config.get("memory_limit_mb", 0))
        self.idle_timeout_s = int(config.get("idle_timeout_s", 600))
        self.max_chars = int(config.get("max_output_chars", 8192))
        self._client: AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._instances: dict[str, dict[str, Any]] = {}  # instance id -> its create kwargs, its own session

    def _rlce(self) -> AsyncClient:
        """The client of the running event loop (a grpc.aio channel belongs to the loop it was made in)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = AsyncClient(self.targets), loop
        return self._client

    async def _open(self, files: dict[str, Any]) -> str:
        limits = pb.Limits(time_limit_s=self.time_limit_s, memory_limit_mb=self.memory_limit_mb)
        info = await self._rlce().open_session(
            self.language, limits=limits, idle_timeout_s=self.idle_timeout_s, files=dict(files)
        )
        return info.session_id

    async def create(self, instance_id: str | None = None, **kwargs: Any) -> tuple[str, ToolResponse]:
        """An instance; ``create_kwargs={"files": {name: text}}`` go into its session's directory."""
        instance_id = instance_id or str(uuid4())
        create_kwargs = kwargs.get("create_kwargs") or {}
        self._instances[instance_id] = {"files": create_kwargs.get("files") or kwargs.get("files") or {}}
        return instance_id, ToolResponse()

    async def _session(self, instance_id: str, agent_data: Any) -> str:
        """The session this call runs in: its trajectory's when veRL says which, else the instance's own."""
        instance = self._instances.setdefault(instance_id, {"files": {}})
        if agent_data is None:
            if "session" not in instance:
                instance["session"] = asyncio.ensure_future(self._open(instance["files"]))
            return str(await instance["session"])
        opening = getattr(agent_data, self.TRAJECTORY_ATTR, None)
        if opening is None:
            opening = asyncio.ensure_future(self._open(instance["files"]))
            setattr(agent_data, self.TRAJECTORY_ATTR, opening)  # concurrent calls of one turn share it
            opening.add_done_callback(lambda done: self._close_with(agent_data, done))
        return str(await opening)

    def _close_with(self, holder: Any, opened: asyncio.Future[str]) -> None:
        """Close the trajectory's session once veRL drops its data."""
        if opened.cancelled() or opened.exception() is not None:
            return
        client, loop, session_id = self._rlce(), asyncio.get_running_loop(), opened.result()

        def close() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda: asyncio.ensure_future(_close_quietly(client, session_id)))

        try:
            weakref.finalize(holder, close)
        except TypeError:  # an object that takes no weak references: the idle timeout closes it
            pass

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict[str, Any]]:
        """One call: the code as a cell of the trajectory's session; what the model sees back."""
        try:
            code = parse_arguments(parameters)
        except ValueError as exc:
            return ToolResponse(text=f"error: {exc}"), 0.0, {}
        session_id = await self._session(instance_id, kwargs.get("agent_data"))
        resp = await self._rlce().exec(session_id, code, time_limit_s=self.time_limit_s)
        if resp.session_ended and kwargs.get("agent_data") is not None:
            delattr(kwargs["agent_data"], self.TRAJECTORY_ATTR)  # its next call opens a new one
        metrics = {"verdict": pb.Verdict.Name(resp.verdict), "cpu_time_s": resp.cpu_time_s}
        return ToolResponse(text=observation(resp, self.max_chars)), 0.0, metrics

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        return 0.0

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        """The instance's own session ends here (a trajectory's session lives on for its next call)."""
        instance = self._instances.pop(instance_id, None)
        if instance is not None and "session" in instance:
            await _close_quietly(self._rlce(), str(await instance["session"]))


async def _close_quietly(client: AsyncClient, session_id: str) -> None:
    """Close a session; one that already ended (expired, spent its budget) is no error."""
    try:
        await client.close_session(session_id)
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise
