"""Length-prefixed frames over blocking file descriptors.

Every channel in the sandbox (host <-> runner, driver <-> program server)
carries frames: a 4-byte big-endian length, then that many bytes. A frame
larger than ``limit`` is a protocol violation and ends the channel, so a
hostile peer can never make a reader allocate without bound.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .protocol import FRAME_HEADER as HEADER
from .protocol import MAX_FRAME_BYTES as DEFAULT_LIMIT


class ChannelClosed(EOFError):
    """The peer closed the channel (or broke the framing)."""


def _read_exact(fd: int, n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        try:
            chunk = os.read(fd, min(n, 1 << 20))
        except OSError as exc:
            raise ChannelClosed(str(exc)) from None
        if not chunk:
            raise ChannelClosed("end of channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = DEFAULT_LIMIT) -> bytes:
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size))
    if size > limit:
        raise ChannelClosed(f"frame of {size} bytes exceeds {limit}")
    return _read_exact(fd, size)


class FrameReader:
    """``read_frame`` with a buffer: a small frame costs one ``read`` call,
    not two (header, then body). For the value channel, where a test may
    make thousands of calls."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            try:
                chunk = os.read(self.fd, max(n - len(self.buf), 1 << 16))
            except OSError as exc:
                raise ChannelClosed(str(exc)) from None
            if not chunk:
                raise ChannelClosed("end of channel")
            self.buf += chunk

    def read(self, limit: int = DEFAULT_LIMIT) -> bytes:
        self._fill(HEADER.size)
        (size,) = HEADER.unpack_from(self.buf)
        if size > limit:
            raise ChannelClosed(f"frame of {size} bytes exceeds {limit}")
        self._fill(HEADER.size + size)
        frame = bytes(self.buf[HEADER.size : HEADER.size + size])
        del self.buf[: HEADER.size + size]
        return frame


def write_frame(fd: int, payload: bytes) -> None:
    data = memoryview(HEADER.pack(len(payload)) + payload)
    try:
        n = os.write(fd, data)  # nearly always the whole frame at once
    except OSError as exc:
        raise ChannelClosed(str(exc)) from None
    data = data[n:]
    while data:
        try:
            n = os.write(fd, data)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from None
        data = data[n:]


def read_json(fd: int, limit: int = DEFAULT_LIMIT) -> Any:
    try:
        return json.loads(read_frame(fd, limit))
    except (ValueError, RecursionError) as exc:
        raise ChannelClosed(f"malformed frame: {exc}") from None


# Made once (json.dumps with arguments makes one per call). Text as UTF-8, not \u escapes: a
# returned value the driver measured in UTF-8 then takes as many bytes in the reply, not up
# to three times as many (json.loads of bytes reads lone surrogates back: surrogatepass).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_json(obj: Any) -> bytes:
    return _ENCODER.encode(obj).encode("utf-8", "surrogatepass")


def write_json(fd: int, obj: Any) -> None:
    write_frame(fd, encode_json(obj))


def read_all(fd: int) -> bytes:
    """Everything until end of file (a blocking descriptor)."""
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
