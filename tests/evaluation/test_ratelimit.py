"""The shared rate limiter: Redis-backed buckets and leases, and the in-process fallback."""

import os
import threading
import time
import uuid

import pytest

from evaluation.ratelimit import Limits, LocalLimiter, RedisLimiter, slot


@pytest.fixture
def redis_limiter():
    import redis

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


@pytest.mark.redis
def test_slot_bounds_concurrency_across_threads(redis_limiter):
    limits = Limits(requests_per_minute=100000, max_concurrency=3)
    active, peak, lock = [0], [0], threading.Lock()

    def work():
        with slot(redis_limiter, "m", limits):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert redis_limiter.in_flight("m") == 0


def test_charging_a_held_lease_renews_it_and_refuses_an_expired_one(limiter):
    limits = Limits(requests_per_minute=1000, max_concurrency=1, lease_seconds=0.3)
    assert limiter.try_lease("m", limits, "a")
    time.sleep(0.2)
    assert limiter.charge_held("m", limits, "a") == 0.0  # renewed for another 0.3 s
    time.sleep(0.2)
    assert not limiter.try_lease("m", limits, "b")  # still held thanks to the renewal
    time.sleep(0.35)
    assert limiter.charge_held("m", limits, "a") == -1.0  # expired: the slot is lost


class CountingLimiter(RedisLimiter):
    """Counts the leases granted by the shared limiter (another process's view)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.granted = 0
        self.count_lock = threading.Lock()

    def try_lease(self, key, limits, token):
        granted = super().try_lease(key, limits, token)
        with self.count_lock:
            self.granted += granted
        return granted


@pytest.mark.redis
def test_slots_are_handed_over_within_a_process_and_bounded_across_processes(redis_limiter):
    """Two limiters on one Redis stand for two worker processes (each has its own held
    slots): together never more than the bound in flight; within one, a freed slot goes to a
    waiting request without a new lease; every lease is given back at the end."""
    limits = Limits(requests_per_minute=100000, max_concurrency=4)
    processes = [CountingLimiter(redis_limiter.redis, prefix=redis_limiter.prefix) for _ in "ab"]
    active, peak, lock = [0], [0], threading.Lock()

    def work(limiter):
        for _ in range(3):
            with slot(limiter, "m", limits):
                with lock:
                    active[0] += 1
                    peak[0] = max(peak[0], active[0])
                time.sleep(0.03)
                with lock:
                    active[0] -= 1

    threads = [threading.Thread(target=work, args=(p,)) for p in processes for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 4
    assert redis_limiter.in_flight("m") == 0
    uses = 2 * 8 * 3
    assert sum(p.granted for p in processes) < uses / 2  # most slots were handed over
