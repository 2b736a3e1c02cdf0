"""The worker process's event loop for provider calls (no Django).

One asyncio loop per process, run by a daemon thread started on first use, drives every
live request of every task of the process: waiting for a rate-limit slot, handing a freed
slot on, retries and their backoff are coroutines, so hundreds of waiting units cost no
thread each; only the HTTP call itself runs on a thread of the client's pool (one per
connection). With a thread per unit, every answer woke threads that fought for the
interpreter lock over a condition variable, and a sixth of the slots sat idle between one
answer and the next request. Database access stays in the task's own thread; nothing on
this loop touches the database.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import Future

_LOCK = threading.Lock()
_LOOP: asyncio.AbstractEventLoop | None = None
_PID = 0


def get_loop() -> asyncio.AbstractEventLoop:
    """The process's loop, started on first use (again in a forked child: a thread does
    not survive ``fork``)."""
    global _LOOP, _PID
    with _LOCK:
        if _LOOP is None or _PID != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="vp-eval-loop", daemon=True)
            thread.start()
            _LOOP, _PID = loop, os.getpid()
        return _LOOP


def submit(coroutine: Coroutine) -> Future:
    """Run ``coroutine`` on the process's loop; a thread-safe future of its result
    (cancelling the future cancels the coroutine)."""
    return asyncio.run_coroutine_threadsafe(coroutine, get_loop())
