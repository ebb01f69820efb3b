"""Image build only: make the class-data sharing archives of the split assertion JVMs.

Runs, once, the build steps (RlceBuild's "warm" mode: both build modes in one
JVM) and a program/test pair connected as the runner connects them, each with
its ``-XX:SharedArchiveFile=X`` of runtime.toml turned into
``-XX:ArchiveClassesAtExit=X``, so the archives hold the classes those JVMs
load (javac's above all) and start from them afterwards. An archive's class
path must be a prefix of the one it is used with, so the ``{build}/out``
entry is dropped here and the sample's classes come from ``-Drlce.warm``.

usage: python3 warm.py runtime.toml WORK_DIR
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tomllib


def dump(argv: list[str]) -> list[str]:
    return [a.replace("-XX:SharedArchiveFile=", "-XX:ArchiveClassesAtExit=") for a in argv]


def without_build(argv: list[str], classes: str) -> list[str]:
    out = []
    for a in argv:
        if "{build}/out" in a and ":" in a:
            a = ":".join(p for p in a.split(":") if "{build}" not in p)
        out.append(a.replace("{memory_mb}", "256").replace("{build}", os.path.dirname(classes)))
    i = next(k for k, a in enumerate(out) if a.startswith("-XX:ArchiveClassesAtExit="))
    return out[: i + 1] + [f"-Drlce.warm={classes}"] + out[i + 1 :]


def main() -> None:
    with open(sys.argv[1], "rb") as fh:
        spec = tomllib.load(fh)["build"]["assertion"]
    work = sys.argv[2]
    os.makedirs(work, exist_ok=True)
    step = dump(spec["program"]["steps"][0])
    step = step[: step.index("RlceBuild") + 1] + ["warm", work]
    subprocess.run(step, check=True)

    chan_p, chan_t = socket.socketpair()
    nonce_r, nonce_w = os.pipe()
    os.write(nonce_w, secrets.token_hex(16).encode())
    os.close(nonce_w)
    rec_r, rec_w = os.pipe()

    def fds(mapping: dict[int, int]):
        def pre() -> None:
            high = {t: os.dup(s) for t, s in mapping.items()}
            for t, s in high.items():
                os.dup2(s, t, inheritable=True)

        return pre

    prog = subprocess.Popen(
        without_build(dump(spec["program"]["run"]), f"{work}/p/out"),
        preexec_fn=fds({3: chan_p.fileno()}),
        pass_fds=[3],
        stdin=subprocess.DEVNULL,
    )
    test = subprocess.Popen(
        without_build(dump(spec["test"]["run"]), f"{work}/t/out"),
        preexec_fn=fds({3: nonce_r, 4: rec_w, 5: chan_t.fileno()}),
        pass_fds=[3, 4, 5],
        stdin=subprocess.DEVNULL,
    )
    for fd in (chan_p, chan_t):
        fd.close()
    os.close(nonce_r)
    os.close(rec_w)
    if test.wait(timeout=120) != 0 or prog.wait(timeout=120) != 0 or len(os.read(rec_r, 200)) != 96:
        sys.exit("warm.py: the sample split test did not pass")


if __name__ == "__main__":
    main()
