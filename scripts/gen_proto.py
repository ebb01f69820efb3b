"""Generate the Python stubs for proto/rlce/v1/scorer.proto.

Run ``python scripts/gen_proto.py``; ``tests/unit/test_proto_fresh.py`` fails
when the committed stubs differ from what this produces.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "rlce_server" / "_proto"
PROTO = "rlce/v1/scorer.proto"


def generate(out_dir: Path) -> dict[str, str]:
    """Return {relative path: text} of the generated stubs."""
    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).parent / "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        rc = protoc.main(
            [
                "protoc",
                f"-I{PROTO_DIR}",
                f"-I{include}",
                f"--python_out={tmp}",
                f"--pyi_out={tmp}",
                f"--grpc_python_out={tmp}",
                str(PROTO_DIR / PROTO),
            ]
        )
        if rc != 0:
            raise SystemExit(f"protoc failed with {rc}")
        files = {}
        for path in sorted(Path(tmp).rglob("*.py*")):
            text = path.read_text()
            # protoc writes absolute imports from the proto root; make them package-relative.
            text = text.replace("from rlce.v1 import", "from rlce_server._proto.rlce.v1 import")
            files[str(path.relative_to(tmp))] = text
    return files


def main() -> None:
    files = generate(OUT_DIR)
    for rel, text in files.items():
        target = OUT_DIR / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for pkg in (OUT_DIR, OUT_DIR / "rlce", OUT_DIR / "rlce" / "v1"):
        (pkg / "__init__.py").touch()
    print(f"generated {len(files)} files under {OUT_DIR.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
