"""A simulated clock: hours of 1 Hz samples in seconds of real time.

Home Assistant reads the time in a few places: `dt_util.utcnow()` and
`dt_util.now()`, the event helpers' `time_tracker_utcnow`/`time_tracker_timestamp`,
`time.time()` and the entity helper's `timer` (state timestamps, point-in-time
trackers) and the event loop's
`loop.time()` (every timer). `SimClock.install` points all of them at one
simulated time that only moves when the benchmark moves it, so timers (the
coordinator's 30 s tick, the store's delayed saves, the recorder's commit
interval, utility meter resets) fire at their simulated moment and nothing
else: an 8-hour session runs in seconds, exactly as it would over 8 hours.

`time.monotonic()` is left alone: threads (the recorder, the executor) wait on
real time. freezegun would do the same job but inspects the call stack on
every clock read, which would weigh on the figures being measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
import time

from homeassistant import util as ha_util
from homeassistant.helpers import entity as entity_helper, event as event_helper
from homeassistant.util import dt as dt_util


class SimClock:
    """Simulated wall and loop time, moved forward only by `advance_to`."""

    def __init__(self, start: datetime) -> None:
        """Start the simulated time at `start` (timezone-aware)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._timestamp = self._now.timestamp()
        self._loop_base = 0.0
        self._start_timestamp = self._timestamp

    @property
    def now(self) -> datetime:
        """The simulated time (UTC)."""
        return self._now

    def utcnow(self) -> datetime:
        """Return the simulated time, like `dt_util.utcnow`."""
        return self._now

    def local_now(self, time_zone: tzinfo | None = None) -> datetime:
        """Return the simulated time in `time_zone`, like `dt_util.now`."""
        return self._now.astimezone(time_zone or dt_util.get_default_time_zone())

    def timestamp(self) -> float:
        """Return the simulated time as a POSIX timestamp, like `time.time`."""
        return self._timestamp

    def loop_time(self) -> float:
        """Return the simulated monotonic time of the event loop."""
        return self._loop_base + (self._timestamp - self._start_timestamp)

    def advance_to(self, at: datetime) -> None:
        """Move the time forward to `at` (never backwards)."""
        if at > self._now:
            self._now = at.astimezone(UTC)
            self._timestamp = self._now.timestamp()

    def advance(self, delta: timedelta) -> None:
        """Move the time forward by `delta`."""
        self.advance_to(self._now + delta)

    @contextmanager
    def install(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """Make Home Assistant and `loop` run on this clock until the block ends."""
        self._loop_base = loop.time()
        self._start_timestamp = self._timestamp
        replacements: list[tuple[object, str, object]] = [
            (dt_util, "utcnow", self.utcnow),
            (dt_util, "now", self.local_now),
            (ha_util, "utcnow", self.utcnow),
            (event_helper, "time_tracker_utcnow", self.utcnow),
            (event_helper, "time_tracker_timestamp", self.timestamp),
            (entity_helper, "timer", self.timestamp),
            (time, "time", self.timestamp),
            (loop, "time", self.loop_time),
        ]
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in replacements]
        for owner, name, value in replacements:
            setattr(owner, name, value)
        try:
            yield
        finally:
            for owner, name, value in saved:
                setattr(owner, name, value)
            del loop.time  # back to the class's method
