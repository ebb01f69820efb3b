"""Sandboxes are pinned one per host CPU, and a replacement fills the gap."""

from types import SimpleNamespace

from rlce_server.config import Settings
from rlce_server.sandbox.docker_backend import DockerBackend


class Engine:
    def info(self):
        return {"NCPU": 3}


def test_least_used_cpu_and_replacements_fill_the_gap():
    backend = DockerBackend(Settings(), {}, client=Engine())
    assert [backend._pick_cpu(f"s{i}") for i in range(3)] == [0, 1, 2]
    backend._destroy_sync(SimpleNamespace(id="s1", container=SimpleNamespace(remove=lambda force: None),
                                          control_dir=backend.run_dir / "none"))  # fmt: skip
    assert backend._pick_cpu("s3") == 1, "the replacement goes where the destroyed sandbox was"
    assert sorted([backend._pick_cpu("s4"), backend._pick_cpu("s5"), backend._pick_cpu("s6")]) == [0, 1, 2]


def test_no_pinning_when_off_or_wider_than_one_cpu():
    assert DockerBackend(Settings(pin_sandbox_cpus=False), {}, client=Engine())._pick_cpu("a") is None
    assert DockerBackend(Settings(sandbox_cpus=2), {}, client=Engine())._pick_cpu("a") is None
