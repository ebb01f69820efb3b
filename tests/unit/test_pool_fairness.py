"""Fair share: a freed sandbox goes to the owner with the fewest running jobs."""

import asyncio

from prometheus_client import CollectorRegistry

from rlce_server.metrics import Metrics
from rlce_server.sandbox.fake import FakeBackend, facts
from rlce_server.scheduling.pool import Pool


async def one_sandbox_pool() -> Pool:
    pool = Pool(FakeBackend(lambda m: facts()), "python", 1, 100, Metrics(CollectorRegistry()))
    await pool.start()
    return pool


async def lease_and_return(pool: Pool, owner: str, order: list[str], tag: str) -> None:
    sb = await pool.lease(owner)
    order.append(tag)
    await asyncio.sleep(0)
    pool.give_back(sb, reusable=True)


def test_a_new_owner_is_served_before_a_busy_owners_backlog():
    async def go():
        pool = await one_sandbox_pool()
        order = []
        first = await pool.lease("big")

        backlog = [asyncio.create_task(lease_and_return(pool, "big", order, f"big{i}")) for i in range(5)]
        await asyncio.sleep(0.01)
        small = asyncio.create_task(lease_and_return(pool, "small", order, "small"))
        await asyncio.sleep(0.01)
        pool.give_back(first, reusable=True)
        await asyncio.gather(*backlog, small)
        # "big" holds the sandbox when "small" arrives: small goes next, then big's backlog in order
        assert order == ["small", "big0", "big1", "big2", "big3", "big4"]
        assert pool.busy == 0 and not pool.running and len(pool.idle) == 1
        await pool.close()

    asyncio.run(go())


def test_cancelled_waiter_does_not_lose_the_sandbox():
    async def go():
        pool = await one_sandbox_pool()
        held = await pool.lease("a")
        waiter = asyncio.create_task(pool.lease("b"))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await asyncio.sleep(0.01)
        pool.give_back(held, reusable=True)
        assert len(pool.idle) == 1 and not pool.waiters
        again = await asyncio.wait_for(pool.lease("c"), 1)
        pool.give_back(again, reusable=True)
        await pool.close()

    asyncio.run(go())


def test_owner_with_less_recent_sandbox_time_goes_first():
    async def go():
        pool = await one_sandbox_pool()
        pool._charge("heavy", 5.0)
        pool._charge("light", 0.5)
        held = await pool.lease("other")
        order = []

        tasks = [asyncio.create_task(lease_and_return(pool, "heavy", order, "heavy"))]
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(lease_and_return(pool, "light", order, "light")))
        await asyncio.sleep(0.01)
        pool.give_back(held, reusable=True)
        await asyncio.gather(*tasks)
        assert order == ["light", "heavy"], "the lighter user is served first although it asked later"
        await pool.close()

    asyncio.run(go())
