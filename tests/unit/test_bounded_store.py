"""The response cache's store: bounded, least recently used first out, expiring on time."""

from __future__ import annotations

from booking.api.response_cache import BoundedMemoryStore


class Ticking:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_least_recently_asked_answer_goes_first_when_full() -> None:
    store = BoundedMemoryStore(max_entries=2)
    await store.set("a", b"1", 60)
    await store.set("b", b"2", 60)
    assert await store.get("a") == b"1"  # a is now the most recently used
    await store.set("c", b"3", 60)
    assert len(store) == 2
    assert await store.get("b") is None
    assert await store.get("a") == b"1"
    assert await store.get("c") == b"3"


async def test_after_its_time_one_caller_refreshes_while_the_others_get_the_old_answer() -> None:
    clock = Ticking()
    store = BoundedMemoryStore(now=clock)
    await store.set("a", "x", 2)
    clock.now += 1.9
    assert await store.get("a") == b"x"
    assert await store.expires_in("a") == 0
    clock.now += 0.1
    assert await store.get("a") is None  # this caller computes the answer anew
    assert await store.get("a") == b"x"  # everybody else meanwhile: the previous one
    await store.set("a", "y", 2)
    assert await store.get("a") == b"y"
    assert await store.expires_in("a") == 2


async def test_an_answer_nobody_refreshed_is_gone_at_twice_its_time() -> None:
    clock = Ticking()
    store = BoundedMemoryStore(now=clock)
    await store.set("a", "x", 2)
    clock.now += 2
    assert await store.get("a") is None  # the refresh fails: nothing new is stored
    clock.now += 1.9
    assert await store.get("a") == b"x"
    clock.now += 0.1
    assert await store.get("a") is None
    assert await store.get("a") is None
    assert not await store.exists("a")
    assert len(store) == 0


async def test_without_seconds_an_answer_stays_until_deleted() -> None:
    clock = Ticking()
    store = BoundedMemoryStore(now=clock)
    await store.set("a", b"x")
    clock.now += 10**6
    assert await store.exists("a")
    assert await store.expires_in("a") is None
    await store.delete("a")
    assert await store.get("a") is None
    await store.set("b", b"y")
    await store.delete_all()
    assert len(store) == 0
