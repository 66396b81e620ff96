"""The search cache's rules, without a database: bounded, expiring, each answer computed once."""

from __future__ import annotations

import asyncio

import pytest

from booking.errors import InvalidInput
from booking.search_cache import AnswerCache


class Ticking:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """A computation that says how often it ran, optionally held until released."""

    def __init__(self, value: str = "answer") -> None:
        self.value = value
        self.runs = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> str:
        self.runs += 1
        await self.gate.wait()
        return f"{self.value} {self.runs}"


async def test_an_answer_is_computed_once_and_kept_for_its_seconds() -> None:
    clock = Ticking()
    cache, compute = AnswerCache(2, now=clock), Counting()
    assert await cache.get("q", compute) == "answer 1"
    clock.now += 1.9
    assert await cache.get("q", compute) == "answer 1"
    assert compute.runs == 1


async def test_after_its_time_one_caller_refreshes_while_the_others_get_the_old_answer() -> None:
    clock = Ticking()
    cache, compute = AnswerCache(2, now=clock), Counting()
    await cache.get("q", compute)
    clock.now += 2
    compute.gate.clear()
    refreshing = asyncio.create_task(cache.get("q", compute))
    await asyncio.sleep(0)
    assert await cache.get("q", compute) == "answer 1"  # nobody else waits for the refresh
    compute.gate.set()
    assert await refreshing == "answer 2"
    assert await cache.get("q", compute) == "answer 2"
    assert compute.runs == 2


async def test_a_failed_refresh_is_tried_again_by_the_next_request() -> None:
    clock = Ticking()
    cache = AnswerCache(2, now=clock)
    await cache.get("q", Counting("old"))

    async def failing() -> str:
        raise InvalidInput("location: unknown location: q")

    clock.now += 2
    with pytest.raises(InvalidInput):
        await cache.get("q", failing)
    assert await cache.get("q", Counting("new")) == "new 1"


async def test_the_old_answer_is_given_at_most_twice_its_time_then_all_wait_for_the_new() -> None:
    clock = Ticking()
    cache = AnswerCache(2, now=clock)
    await cache.get("q", Counting("old"))
    clock.now += 2
    slow = Counting("new")
    slow.gate.clear()
    refreshing = asyncio.create_task(cache.get("q", slow))
    await asyncio.sleep(0)
    assert await cache.get("q", Counting("other")) == "old 1"
    clock.now += 2
    waiting = asyncio.create_task(cache.get("q", Counting("other")))
    await asyncio.sleep(0)
    assert not waiting.done()
    slow.gate.set()
    assert await refreshing == await waiting == "new 1"


async def test_many_asking_at_once_share_one_computation() -> None:
    cache, compute = AnswerCache(2), Counting()
    compute.gate.clear()
    asking = [asyncio.create_task(cache.get("q", compute)) for _ in range(50)]
    await asyncio.sleep(0)
    compute.gate.set()
    assert set(await asyncio.gather(*asking)) == {"answer 1"}
    assert compute.runs == 1


async def test_a_refusal_reaches_everyone_who_asked_the_same_and_is_not_kept() -> None:
    cache = AnswerCache(2)
    gate = asyncio.Event()

    async def refused() -> str:
        await gate.wait()
        raise InvalidInput("service: unknown service: x")

    asking = [asyncio.create_task(cache.get("q", refused)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    outcomes = await asyncio.gather(*asking, return_exceptions=True)
    assert all(isinstance(o, InvalidInput) for o in outcomes)
    assert len(cache) == 0
    assert await cache.get("q", Counting()) == "answer 1"


async def test_when_the_computing_request_goes_away_a_waiter_computes_itself() -> None:
    cache, slow = AnswerCache(2), Counting()
    slow.gate.clear()
    first = asyncio.create_task(cache.get("q", slow))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cache.get("q", Counting("own")))
    await asyncio.sleep(0)
    first.cancel()
    assert await waiter == "own 1"


async def test_the_least_recently_asked_answer_goes_first_when_full() -> None:
    cache = AnswerCache(60, max_entries=2)
    await cache.get("a", Counting("a"))
    await cache.get("b", Counting("b"))
    await cache.get("a", Counting("again"))  # a is now the most recently used
    await cache.get("c", Counting("c"))
    assert len(cache) == 2
    assert await cache.get("a", Counting("again")) == "a 1"
    assert await cache.get("b", Counting("again")) == "again 1"


async def test_zero_seconds_computes_every_time() -> None:
    cache, compute = AnswerCache(0), Counting()
    await cache.get("q", compute)
    await cache.get("q", compute)
    assert compute.runs == 2
    assert len(cache) == 0
