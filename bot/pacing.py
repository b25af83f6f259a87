"""How fast and how long a redrive runs: its deadline and its rate limit.

Apart from the engine so that the CLI and the request can check a ``--rate`` (``check_rate``)
and the callers can build a ``Deadline`` without loading the engine, and so that the timing
rules can be read (and tested) on their own. No I/O: a clock is passed in.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.errors import UsageError

RECEIVE_BATCH = 10  # messages per ReceiveMessage, and so the rate tokens a worker takes at once


class Deadline:
    """A point in time after which no new batch is started."""

    def __init__(self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._at = None if seconds is None else clock() + seconds

    @classmethod
    def from_lambda_context(cls, context: Any, *, reserve_s: float = 20.0) -> Deadline:
        """The Lambda's remaining time, minus a reserve to release held messages and report."""
        remaining = context.get_remaining_time_in_millis() / 1000
        return cls(max(0.0, remaining - reserve_s))

    def remaining(self) -> float | None:
        return None if self._at is None else self._at - self._clock()

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0


class RateLimiter:
    """A token schedule shared by the workers: on average at most ``per_second`` messages.

    A worker reserves the tokens of a whole receive *before* receiving, so messages never wait
    for tokens while they are held invisible, and gives back what the receive did not use. The
    caller does the waiting (it must wake when the run stops); this only says how long.
    """

    def __init__(
        self, per_second: float | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next = clock()

    def reserve(self, count: int) -> float:
        """Take ``count`` tokens; the seconds to wait before using them (0: at once)."""
        if not self.per_second:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + count / self.per_second
        return start - now

    def refund(self, count: int) -> None:
        """Give back ``count`` reserved tokens that were not used."""
        if self.per_second and count > 0:
            with self._lock:
                self._next -= count / self.per_second


def check_rate(rate: float | None, workers: int, visibility_timeout: int) -> None:
    """Refuse a ``rate`` at which a worker could wait longer than the visibility timeout.

    Each worker takes the tokens of a whole receive, so with every worker waiting the last one
    waits ``workers × 10 / rate`` seconds; longer than the visibility timeout, the messages the
    run holds would come back (and be received again) while it waits.
    """
    if not rate:
        return
    wait = max(1, workers) * RECEIVE_BATCH / rate
    if wait <= visibility_timeout:
        return
    fitting = math.floor(visibility_timeout * rate / RECEIVE_BATCH)
    lowest_rate = math.ceil(RECEIVE_BATCH / visibility_timeout * 1000) / 1000
    fix = (
        f"at most {fitting} workers at this rate"
        if fitting >= 1
        else f"a --rate of at least {lowest_rate:g}"
    )
    raise UsageError(
        f"--rate {rate:g} with {workers} worker(s) can make a worker wait {wait:,.0f} s for its "
        f"next {RECEIVE_BATCH} messages, longer than the {visibility_timeout} s visibility "
        f"timeout: use {fix}, or a longer --visibility-timeout"
    )
