"""JSON logs: one object per line, request ids, candidate bytes escaped."""

import io
import json
import logging

from rlce_server.logs import JsonFormatter


def test_json_line_with_request_id_and_escaped_candidate_bytes():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("rlce.test-logs")
    log.addHandler(handler)
    log.propagate = False
    hostile = 'file /w/x\n{"level": "INFO", "msg": "forged"}\x1b[2J'
    log.warning("runner not clean: %s", hostile, extra={"request_id": "req-7"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, "a newline in candidate bytes must not split the record"
    record = json.loads(lines[0])
    assert record["request_id"] == "req-7" and record["level"] == "WARNING"
    assert record["msg"].endswith(hostile)
    assert "\x1b" not in lines[0] and lines[0].isascii()
