"""The committed stubs must equal what scripts/gen_proto.py makes now."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_fresh():
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    fresh = gen.generate(gen.OUT_DIR)
    assert fresh, "nothing generated"
    for rel, text in fresh.items():
        committed = (gen.OUT_DIR / rel).read_text()
        assert committed == text, f"{rel} is stale: run python scripts/gen_proto.py"
