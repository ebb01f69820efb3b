"""Admission shares the server's capacity fairly between clients, streams included."""

import asyncio

from rlce_server.api.registered_tests import RegisteredTests
from rlce_server.scheduling.admission import Admission


def test_a_client_within_its_share_always_gets_in():
    adm = Admission(capacity=4)
    assert all(adm.try_enter("hog") for _ in range(4))
    assert not adm.try_enter("hog"), "full, and the hog holds more than its share"
    assert adm.try_enter("small"), "a new client gets in although the queue is full"
    assert adm.try_enter("small")  # its share of 4 between two clients is 2
    assert not adm.try_enter("small")
    adm.leave("hog")
    adm.leave("hog")
    assert not adm.try_enter("hog"), "the hog is at its share (2) and the queue is full"


def test_a_stream_waits_for_room_instead_of_failing():
    async def go():
        adm = Admission(capacity=2)
        await adm.enter("a")
        await adm.enter("a")
        third = asyncio.create_task(adm.enter("a"))
        await asyncio.sleep(0)
        assert not third.done(), "back-pressure: the stream waits"
        adm.leave("a")
        await asyncio.wait_for(third, 1)
        assert adm.total == 2 and adm.held["a"] == 2

    asyncio.run(go())


def test_registered_test_sets_are_bounded_by_bytes():
    store = RegisteredTests(max_sets=100, max_bytes=1000)
    for i in range(5):
        store.put(f"ref{i}", (), 400)
    assert store.bytes <= 1000
    assert store.get("ref4") == () and store.get("ref0") is None, "the oldest went first"
