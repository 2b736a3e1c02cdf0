"""Rate limits and a concurrency bound shared by every worker, kept in Redis.

Per *limit key* (provider + model id + base URL):

- **requests per minute** and **tokens per minute**: two token buckets (capacity = one
  minute's allowance, refilled continuously), checked and charged together in one Lua
  script, so all workers on all machines draw from the same allowance. Tokens are charged
  with an estimate before the call and corrected with the real usage afterwards.
- **concurrency**: a semaphore as a sorted set of leases that expire, so a worker killed
  while holding a lease cannot block the model forever.

Without Redis (a laptop on the filesystem broker) :class:`LocalLimiter` does the same within
one process.

Live runs ask from one event loop per worker process (:mod:`evaluation.event_loop`):
:class:`AsyncRedisLimiter` runs the scripts on those keys without blocking it, and
:func:`async_slot` holds a slot for one request (:class:`AsyncSlots` hands a freed lease
straight to a request of the process that waits). :class:`RedisLimiter` is the same limiter
on a blocking client (the buckets' and leases' contract, tested directly).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis
import redis.asyncio

_BUCKET_STEPS = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local wait = 0
local state = {}
for i = 1, 2 do
  local capacity = tonumber(ARGV[(i - 1) * 2 + 1])
  local cost = tonumber(ARGV[(i - 1) * 2 + 2])
  if capacity > 0 then
    local rate = capacity / 60.0
    if cost > capacity then cost = capacity end
    local data = redis.call('HMGET', KEYS[i], 'level', 'ts')
    local level = tonumber(data[1]) or capacity
    local ts = tonumber(data[2]) or now
    level = math.min(capacity, level + (now - ts) * rate)
    state[i] = {level, cost}
    if ARGV[5] ~= 'force' and level < cost then
      wait = math.max(wait, (cost - level) / rate)
    end
  end
end
for i = 1, 2 do
  if state[i] then
    local level = state[i][1]
    if wait == 0 then level = level - state[i][2] end
    redis.call('HSET', KEYS[i], 'level', level, 'ts', now)
    redis.call('EXPIRE', KEYS[i], 600)
  end
end
"""
_BUCKETS = _BUCKET_STEPS + "return tostring(wait)"
# A held lease (KEYS[3], ARGV[6]) is checked and its expiry renewed in the same round trip
# as the buckets are charged: -1 when the lease has expired (the slot was lost).
_CHARGE_HELD_STEPS = (
    """
local expires = redis.call('ZSCORE', KEYS[3], ARGV[6])
local clock = redis.call('TIME')
if not expires or tonumber(expires) < tonumber(clock[1]) + tonumber(clock[2]) / 1000000 then
  return '-1'
end
"""
    + _BUCKET_STEPS
    + """
redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[7]), ARGV[6])
"""
)
_CHARGE_HELD = _CHARGE_HELD_STEPS + "return tostring(wait)"
# The same, answering also how many *other* processes (KEYS[4]: the ids of those refused a
# lease lately; ARGV[8]: ours) wait for a lease: "<wait> <others waiting>".
_CHARGE_HELD_WANTING = (
    _CHARGE_HELD_STEPS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local others = redis.call('ZCARD', KEYS[4])
if redis.call('ZSCORE', KEYS[4], ARGV[8]) then others = others - 1 end
return tostring(wait) .. ' ' .. others
"""
)

_ACQUIRE_LEASE_STEPS = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
  return 1
end
"""
_ACQUIRE_LEASE = _ACQUIRE_LEASE_STEPS + "return 0"
# The same, noting a refused process (ARGV[4]) as waiting (KEYS[2]) for ARGV[5] seconds.
_ACQUIRE_LEASE_WANTING = (
    _ACQUIRE_LEASE_STEPS
    + """
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[4])
redis.call('EXPIRE', KEYS[2], 60)
return 0
"""
)
# How long a process refused a lease counts as waiting for one (it asks again every ~20 ms
# while it waits).
WANTING_SECONDS = 0.5


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int
    tokens_per_minute: int = 0  # 0: no token limit
    max_concurrency: int = 8
    lease_seconds: float = 600.0  # longest a request may hold a concurrency slot


class RedisLimiter:
    def __init__(self, client, *, prefix: str = "vp:eval:limit"):
        self.redis = client
        self.prefix = prefix
        self._buckets = client.register_script(_BUCKETS)
        self._charge_held = client.register_script(_CHARGE_HELD)
        self._lease = client.register_script(_ACQUIRE_LEASE)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}:{key}:rpm", f"{self.prefix}:{key}:tpm"]

    def try_acquire(self, key: str, limits: Limits, tokens: int = 0) -> float:
        """Charge one request and ``tokens``; 0.0 when granted, else seconds to wait."""
        args = [limits.requests_per_minute, 1, limits.tokens_per_minute, tokens, "check"]
        return float(self._buckets(keys=self._keys(key), args=args))

    def charge_held(self, key: str, limits: Limits, token: str, tokens: int = 0) -> float:
        """:meth:`try_acquire` for the holder of lease ``token``, renewing the lease in the
        same round trip; -1.0 when the lease has expired (ask for a new one)."""
        args = [limits.requests_per_minute, 1, limits.tokens_per_minute, tokens, "check",
                token, limits.lease_seconds]  # fmt: skip
        keys = [*self._keys(key), f"{self.prefix}:{key}:slots"]
        return float(self._charge_held(keys=keys, args=args))

    def record_tokens(self, key: str, limits: Limits, extra_tokens: int) -> None:
        """Charge tokens used beyond the estimate (may leave the bucket in debt)."""
        if limits.tokens_per_minute and extra_tokens > 0:
            args = [0, 0, limits.tokens_per_minute, extra_tokens, "force"]
            self._buckets(keys=self._keys(key), args=args)

    def try_lease(self, key: str, limits: Limits, token: str) -> bool:
        args = [limits.max_concurrency, token, limits.lease_seconds]
        return bool(self._lease(keys=[f"{self.prefix}:{key}:slots"], args=args))

    def release(self, key: str, token: str) -> None:
        self.redis.zrem(f"{self.prefix}:{key}:slots", token)

    def in_flight(self, key: str) -> int:
        return int(self.redis.zcount(f"{self.prefix}:{key}:slots", time.time(), "+inf"))


class LocalLimiter:
    """The same contract within one process (no Redis)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.levels: dict[tuple[str, str], tuple[float, float]] = {}
        self.leases: dict[str, dict[str, float]] = {}

    def _bucket(self, name, capacity, cost, now, charge, force):
        if capacity <= 0:
            return 0.0, None
        rate = capacity / 60.0
        cost = min(cost, capacity)
        level, ts = self.levels.get(name, (capacity, now))
        level = min(capacity, level + (now - ts) * rate)
        wait = 0.0 if force or level >= cost else (cost - level) / rate
        return wait, (name, level, cost)

    def _apply(self, states, wait, now):
        for state in states:
            if state:
                name, level, cost = state
                self.levels[name] = (level - cost if wait == 0 else level, now)

    def try_acquire(self, key, limits, tokens=0):
        with self.lock:
            now = time.monotonic()
            w1, s1 = self._bucket((key, "rpm"), limits.requests_per_minute, 1, now, True, False)
            w2, s2 = self._bucket((key, "tpm"), limits.tokens_per_minute, tokens, now, True, False)
            wait = max(w1, w2)
            self._apply((s1, s2), wait, now)
            return wait

    def charge_held(self, key, limits, token, tokens=0):
        with self.lock:
            now = time.monotonic()
            leases = self.leases.get(key, {})
            if leases.get(token, 0) < now:
                leases.pop(token, None)
                return -1.0
            leases[token] = now + limits.lease_seconds
        return self.try_acquire(key, limits, tokens)

    def record_tokens(self, key, limits, extra_tokens):
        if limits.tokens_per_minute and extra_tokens > 0:
            with self.lock:
                now = time.monotonic()
                _, state = self._bucket(
                    (key, "tpm"), limits.tokens_per_minute, extra_tokens, now, True, True
                )
                self._apply((state,), 0.0, now)

    def try_lease(self, key, limits, token):
        with self.lock:
            now = time.monotonic()
            leases = {t: exp for t, exp in self.leases.get(key, {}).items() if exp > now}
            granted = len(leases) < limits.max_concurrency
            if granted:
                leases[token] = now + limits.lease_seconds
            self.leases[key] = leases
            return granted

    def release(self, key, token):
        with self.lock:
            self.leases.get(key, {}).pop(token, None)

    def in_flight(self, key):
        with self.lock:
            now = time.monotonic()
            return sum(1 for exp in self.leases.get(key, {}).values() if exp > now)


_LOCAL = LocalLimiter()


# --- coroutines (one event loop per process) ------------------------------------------------
class AsyncRedisLimiter:
    """:class:`RedisLimiter`'s buckets and leases on an asyncio Redis client: the same shared
    allowance, awaited. Belongs to one event loop (its connections do). A process refused a
    lease is noted as waiting for a while, and charging a held lease says how many other
    processes wait: what :class:`AsyncSlots` needs to share the slots fairly."""

    def __init__(self, client, *, prefix: str = "vp:eval:limit"):
        self.redis = client
        self.prefix = prefix
        self._buckets = client.register_script(_BUCKETS)
        self._charge_held = client.register_script(_CHARGE_HELD_WANTING)
        self._lease = client.register_script(_ACQUIRE_LEASE_WANTING)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}:{key}:rpm", f"{self.prefix}:{key}:tpm"]

    async def charge_held(
        self, key: str, limits: Limits, token: str, tokens: int = 0, *, process: str = ""
    ) -> tuple[float, int]:
        """``(wait, other processes waiting for a lease)``; wait as
        :meth:`RedisLimiter.charge_held` (-1.0: the lease has expired)."""
        args = [limits.requests_per_minute, 1, limits.tokens_per_minute, tokens, "check",
                token, limits.lease_seconds, process]  # fmt: skip
        keys = [*self._keys(key), f"{self.prefix}:{key}:slots", f"{self.prefix}:{key}:wanting"]
        answer = await self._charge_held(keys=keys, args=args)
        wait, _, others = (answer.decode() if isinstance(answer, bytes) else answer).partition(" ")
        return float(wait), int(others or 0)

    async def record_tokens(self, key: str, limits: Limits, extra_tokens: int) -> None:
        """:meth:`RedisLimiter.record_tokens`."""
        if limits.tokens_per_minute and extra_tokens > 0:
            args = [0, 0, limits.tokens_per_minute, extra_tokens, "force"]
            await self._buckets(keys=self._keys(key), args=args)

    async def try_lease(self, key: str, limits: Limits, token: str, *, process: str = "") -> bool:
        """:meth:`RedisLimiter.try_lease`; a refused ``process`` counts as waiting."""
        args = [limits.max_concurrency, token, limits.lease_seconds, process, WANTING_SECONDS]
        keys = [f"{self.prefix}:{key}:slots", f"{self.prefix}:{key}:wanting"]
        return bool(await self._lease(keys=keys, args=args))

    async def release(self, key: str, token: str) -> None:
        await self.redis.zrem(f"{self.prefix}:{key}:slots", token)


class AsyncLocalLimiter:
    """A :class:`LocalLimiter` behind the coroutine interface (its calls never block)."""

    def __init__(self, local: LocalLimiter):
        self.local = local

    async def charge_held(self, key, limits, token, tokens=0, *, process=""):
        return self.local.charge_held(key, limits, token, tokens), 0  # one process

    async def record_tokens(self, key, limits, extra_tokens):
        self.local.record_tokens(key, limits, extra_tokens)

    async def try_lease(self, key, limits, token, *, process=""):
        return self.local.try_lease(key, limits, token)

    async def release(self, key, token):
        self.local.release(key, token)


class AsyncSlots:
    """The leases this process holds for
    one limit key. A lease given back goes straight to the request that has waited longest;
    with none waiting it returns to the shared limiter. While requests wait, one poller asks
    the shared limiter for a new lease (at once again after a grant, every ``poll`` seconds
    after a refusal).

    Shared fairly: while other processes wait for a lease, this one keeps at most its share
    (``max_concurrency`` ÷ the processes waiting, itself included) and gives the rest back
    as they come free (handing every freed lease to its own requests, the process that
    started first kept nearly all of them for as long as it had work, however slowly it got
    through it). When the limiter itself fails (Redis unreachable), every request waiting
    then gets the error (its unit is recorded as failed, as a failed call is)."""

    def __init__(self, limiter, key: str):
        self.limiter = limiter
        self.key = key
        self.process = uuid.uuid4().hex
        self.waiters: deque[asyncio.Future] = deque()
        self.poller: asyncio.Task | None = None
        self.releases: set[asyncio.Task] = set()
        self.held = 0  # leases of this process, in use or being handed over
        self.others_waiting = 0  # as the last charge of a held lease said
        self.max_concurrency = 1

    def share(self) -> int:
        """The leases this process may hold now."""
        return -(-self.max_concurrency // (self.others_waiting + 1))

    async def take(self, limits: Limits, *, poll: float = 0.02) -> str:
        self.max_concurrency = limits.max_concurrency
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        if self.poller is None:
            self.poller = asyncio.create_task(self._poll(limits, poll))
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.give_back(waiter.result())  # handed over just as this request left
            raise

    async def charge(self, limits: Limits, token: str, tokens: int) -> float:
        """Charge the request holding ``token``: seconds to wait, 0.0, or -1.0 when the
        lease has expired (it is then no longer this process's)."""
        wait, self.others_waiting = await self.limiter.charge_held(
            self.key, limits, token, tokens, process=self.process
        )
        if wait < 0:
            self.held -= 1
        return wait

    def give_back(self, token: str) -> None:
        if self.held <= self.share():
            while self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(token)
                    return
        self.held -= 1
        task = asyncio.create_task(self.limiter.release(self.key, token))
        self.releases.add(task)  # a reference until it ran (the loop keeps only weak ones)
        task.add_done_callback(self.releases.discard)

    def _waiting(self) -> bool:
        while self.waiters and self.waiters[0].done():
            self.waiters.popleft()
        return bool(self.waiters)

    async def _poll(self, limits: Limits, poll: float) -> None:
        try:
            while self._waiting():
                if self.held >= self.share():  # others wait too: no more than the share
                    await asyncio.sleep(poll * (0.5 + random.random()))
                    continue
                token = uuid.uuid4().hex
                try:
                    granted = await self.limiter.try_lease(
                        self.key, limits, token, process=self.process
                    )
                except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
                    while self.waiters:
                        waiter = self.waiters.popleft()
                        if not waiter.done():
                            waiter.set_exception(exc)
                    return
                if granted:
                    self.held += 1
                    self.give_back(token)
                else:
                    await asyncio.sleep(poll * (0.5 + random.random()))
        finally:
            self.poller = None


_ASYNC_SLOTS: dict[tuple[object, str], AsyncSlots] = {}


def async_slots(limiter, key: str) -> AsyncSlots:
    """This process's :class:`AsyncSlots` of ``key`` (call on the event loop only)."""
    slots = _ASYNC_SLOTS.get((limiter, key))
    if slots is None:
        slots = _ASYNC_SLOTS[(limiter, key)] = AsyncSlots(limiter, key)
    return slots


@asynccontextmanager
async def async_slot(
    limiter, key: str, limits: Limits, *, tokens: int = 0, poll: float = 0.02
) -> AsyncIterator[None]:
    """Wait for a concurrency lease and the rate allowance,
    then hold the lease (one Redis round trip per request while work keeps coming)."""
    slots = async_slots(limiter, key)
    token = await slots.take(limits, poll=poll)
    try:
        while (wait := await slots.charge(limits, token, tokens)) != 0:
            if wait < 0:  # the lease expired while handed over: a new one
                token = None
                token = await slots.take(limits, poll=poll)
                continue
            await asyncio.sleep(min(wait, 5.0) * (1 + 0.1 * random.random()))
        yield
    finally:
        if token is not None:
            slots.give_back(token)


_ASYNC_REDIS: dict[tuple[asyncio.AbstractEventLoop, str], AsyncRedisLimiter] = {}
_ASYNC_LOCAL = AsyncLocalLimiter(_LOCAL)


def async_limiter_for(redis_url: str):
    """The shared limiter for coroutines: Redis-backed on a client of the running event
    loop (call it on that loop), else the process's :class:`LocalLimiter`."""
    if not redis_url:
        return _ASYNC_LOCAL
    key = (asyncio.get_running_loop(), redis_url)
    if key not in _ASYNC_REDIS:
        _ASYNC_REDIS[key] = AsyncRedisLimiter(redis.asyncio.Redis.from_url(redis_url))
    return _ASYNC_REDIS[key]
