"""The shared rate limiter: Redis-backed buckets and leases, and the in-process fallback."""

import asyncio
import os
import socket
import time
import uuid

import pytest
import redis
import redis.asyncio

from evaluation.ratelimit import (
    AsyncLocalLimiter,
    AsyncRedisLimiter,
    Limits,
    LocalLimiter,
    RedisLimiter,
    async_slot,
)


@pytest.fixture
def redis_limiter():
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    prefix = f"vp:test:{uuid.uuid4().hex}"
    yield RedisLimiter(client, prefix=prefix)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _limiters():
    return [pytest.param("redis", marks=pytest.mark.redis), "local"]


@pytest.fixture(params=_limiters())
def limiter(request):
    if request.param == "redis":
        return request.getfixturevalue("redis_limiter")
    return LocalLimiter()


def test_requests_per_minute_bucket(limiter):
    limits = Limits(requests_per_minute=3)
    assert [limiter.try_acquire("m", limits) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire("m", limits)
    assert 0 < wait <= 20.0 + 1e-6  # one request every 20 s refills
    assert limiter.try_acquire("other-model", limits) == 0.0  # per key


def test_tokens_per_minute_bucket_and_correction(limiter):
    limits = Limits(requests_per_minute=1000, tokens_per_minute=600)
    assert limiter.try_acquire("m", limits, tokens=500) == 0.0
    assert limiter.try_acquire("m", limits, tokens=200) > 0  # only ~100 left
    limiter.record_tokens("m", limits, 400)  # real usage beyond the estimate: in debt
    wait = limiter.try_acquire("m", limits, tokens=100)
    assert wait > 30  # ~ (100 + 300 debt) tokens at 10 tokens/s


def test_concurrency_leases(limiter):
    limits = Limits(requests_per_minute=1000, max_concurrency=2, lease_seconds=0.5)
    assert limiter.try_lease("m", limits, "a") and limiter.try_lease("m", limits, "b")
    assert not limiter.try_lease("m", limits, "c")
    limiter.release("m", "a")
    assert limiter.try_lease("m", limits, "c")
    time.sleep(0.6)  # a lease of a killed worker expires
    assert limiter.try_lease("m", limits, "d")


def test_charging_a_held_lease_renews_it_and_refuses_an_expired_one(limiter):
    limits = Limits(requests_per_minute=1000, max_concurrency=1, lease_seconds=0.3)
    assert limiter.try_lease("m", limits, "a")
    time.sleep(0.2)
    assert limiter.charge_held("m", limits, "a") == 0.0  # renewed for another 0.3 s
    time.sleep(0.2)
    assert not limiter.try_lease("m", limits, "b")  # still held thanks to the renewal
    time.sleep(0.35)
    assert limiter.charge_held("m", limits, "a") == -1.0  # expired: the slot is lost


# --- coroutines: the live runs' path ---------------------------------------------------------
class CountingAsyncLimiter(AsyncRedisLimiter):
    """Counts the leases the shared limiter granted to this "process"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.granted = 0

    async def try_lease(self, key, limits, token, *, process=""):
        granted = await super().try_lease(key, limits, token, process=process)
        self.granted += granted
        return granted


@pytest.mark.redis
def test_async_slots_are_handed_over_within_a_process_and_bounded_across_processes(
    redis_limiter,
):
    """Two async limiters on one Redis stand for two worker processes' event loops: together
    never more than the bound in flight, most slots handed from one request to the next
    without a new lease, and every lease given back at the end."""
    limits = Limits(requests_per_minute=100000, max_concurrency=4)
    active, peak = [0], [0]

    async def work(limiter):
        for _ in range(3):
            async with async_slot(limiter, "m", limits):
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                await asyncio.sleep(0.03)
                active[0] -= 1

    async def main():
        processes = [
            CountingAsyncLimiter(
                redis.asyncio.Redis.from_url(os.environ["REDIS_URL"]), prefix=redis_limiter.prefix
            )
            for _ in "ab"
        ]
        await asyncio.gather(*(work(p) for p in processes for _ in range(8)))
        await asyncio.sleep(0.05)  # the last leases' release (scheduled, not awaited)
        for process in processes:
            await process.redis.aclose()
        return processes

    processes = asyncio.run(main())
    assert peak[0] == 4
    assert redis_limiter.in_flight("m") == 0
    assert sum(p.granted for p in processes) < 2 * 8 * 3 / 2


@pytest.mark.redis
def test_a_process_that_started_first_shares_the_slots_with_one_that_waits(redis_limiter):
    """Process a fills every slot and has work for long after; process b comes later. Once b
    waits, a gives freed leases back until each holds half, instead of handing them all to
    its own requests until it runs out of work."""
    limits = Limits(requests_per_minute=100000, max_concurrency=4)
    running = {"a": 0, "b": 0}
    answered = {"a": 0, "b": 0}
    seen_while_both_ran: list[tuple[int, int]] = []

    async def work(name, limiter):
        async with async_slot(limiter, "m", limits):
            running[name] += 1
            if running["a"] and running["b"]:
                seen_while_both_ran.append((running["a"], running["b"]))
            await asyncio.sleep(0.02)
            running[name] -= 1
            answered[name] += 1

    async def main():
        a, b = (
            AsyncRedisLimiter(
                redis.asyncio.Redis.from_url(os.environ["REDIS_URL"]), prefix=redis_limiter.prefix
            )
            for _ in "ab"
        )
        first = asyncio.gather(*(work("a", a) for _ in range(120)))
        await asyncio.sleep(0.1)  # a holds all four slots and has most of its work left
        assert running["a"] == 4
        await asyncio.gather(*(work("b", b) for _ in range(40)))
        a_answered_meanwhile = answered["a"]
        await first
        await asyncio.sleep(0.05)
        for limiter in (a, b):
            await limiter.redis.aclose()
        return a_answered_meanwhile

    assert asyncio.run(main()) < 120  # b was done while a still had work
    assert (2, 2) in seen_while_both_ran
    assert all(x + y <= 4 for x, y in seen_while_both_ran)
    assert redis_limiter.in_flight("m") == 0


def test_async_slots_honour_the_local_limiter():
    limits = Limits(requests_per_minute=100000, max_concurrency=3)
    limiter = AsyncLocalLimiter(LocalLimiter())
    active, peak = [0], [0]

    async def work():
        async with async_slot(limiter, "m", limits):
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            await asyncio.sleep(0.02)
            active[0] -= 1

    async def main():
        await asyncio.gather(*(work() for _ in range(12)))
        await asyncio.sleep(0)

    asyncio.run(main())
    assert peak[0] == 3 and limiter.local.in_flight("m") == 0


@pytest.mark.redis
def test_a_waiter_that_is_cancelled_takes_no_lease_with_it(redis_limiter):
    """A request cancelled while it waits (its task stopped) leaves no lease behind: the
    lease freed later goes back to Redis."""
    limits = Limits(requests_per_minute=100000, max_concurrency=1)

    async def main():
        limiter = AsyncRedisLimiter(
            redis.asyncio.Redis.from_url(os.environ["REDIS_URL"]), prefix=redis_limiter.prefix
        )
        release = asyncio.Event()

        async def holder():
            async with async_slot(limiter, "m", limits):
                await release.wait()

        async def waiter():
            async with async_slot(limiter, "m", limits):
                raise AssertionError("never granted while the holder holds the only slot")

        held = asyncio.create_task(holder())
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(waiter())
        await asyncio.sleep(0.05)
        waiting.cancel()
        release.set()
        await held
        await asyncio.sleep(0.05)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await limiter.redis.aclose()

    asyncio.run(main())
    assert redis_limiter.in_flight("m") == 0


def test_every_waiting_request_gets_the_error_when_redis_is_unreachable():
    """Redis down: the requests waiting for a slot fail (their units are recorded as failed
    and asked again on resume) instead of waiting forever."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    limits = Limits(requests_per_minute=100000, max_concurrency=2)

    async def ask(limiter):
        async with async_slot(limiter, "m", limits):
            return "answered"

    async def main():
        limiter = AsyncRedisLimiter(redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{port}/0"))
        return await asyncio.wait_for(
            asyncio.gather(*(ask(limiter) for _ in range(5)), return_exceptions=True), 30
        )

    outcomes = asyncio.run(main())
    assert all(isinstance(o, redis.exceptions.ConnectionError) for o in outcomes), outcomes
