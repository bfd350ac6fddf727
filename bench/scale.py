"""Benchmark 6: 20 chargers at 1 Hz in one Home Assistant for a simulated day.

Every charger is an ev_sessions entry on its own power sensor (1 Hz, all day,
also at 0 W) and lifetime meter; each has one evening session of its own
(`traces.charger_day`). The first charger also holds years of history, so
its session end saves a large history as a long-lived install would.

Time is compressed: the simulated clock moves second by second and the
event loop is driven as fast as it goes, each source state change set on its
own and followed by a pass of the loop. Sustained events per second is the
number of source state changes over the wall time of the whole day: how
many the instance absorbs, to compare with the rate 20 chargers produce.
The event loop's worst delay is the longest single callback (wall time): while
it runs, nothing else in Home Assistant can. The recorder records the
chargers' entities (not the source sensors) in its own thread as usual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import gc
import heapq
import os
from pathlib import Path
import threading
import time
from typing import Any, Self

from homeassistant.core import HomeAssistant

from .archive import build_archive, store_archive
from .clock import SimClock
from .instance import (
    ENERGY_ATTRIBUTES,
    POWER_ATTRIBUTES,
    add_ev_sessions,
    has_money,
    home_assistant,
    last_state_id,
    price_attributes,
    settle,
    state_rows,
)
from .profiling import Profiles
from .side_by_side import spot_price
from .traces import POWER, charger_day, source_changes

DAY_START = datetime.fromisoformat("2026-11-20T00:00:00+00:00")
PRICE_ID = "sensor.src_spot_price"
SOURCE_GLOB = "sensor.src_*"


@dataclass(slots=True)
class ScaleRun:
    """One simulated day's figures."""

    chargers: int
    simulated_s: int
    changes: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    worst_callback_s: float = 0.0
    worst_callback: str = ""
    worst_callback_cpu_s: float = 0.0
    worst_callback_cpu: str = ""
    callbacks_over_10ms: int = 0
    sessions: int = 0
    rows: int = 0
    store_writes: int = 0
    needed_per_s: float = 0.0
    slowest: list[tuple[float, float, str]] = field(default_factory=list)
    hourly_rates: list[float] = field(default_factory=list)
    gc_worst_s: float = 0.0
    gc_total_s: float = 0.0
    gc_collections: int = 0
    tracked_objects: int = 0
    tracked_before_chargers: int = 0

    @property
    def events_per_s(self) -> float:
        """Return source state changes absorbed per wall second."""
        return self.changes / self.wall_s if self.wall_s else 0.0


def entry_id(index: int) -> str:
    """Return a stable 26-character entry id for charger `index`."""
    return f"01JBENCHSCALE{index:013d}"


async def write_long_history(config_dir: Path, sessions: int) -> None:
    """Give charger 1 years of finished sessions (as ev_sessions stores them)."""
    records = build_archive(sessions, entry_id=entry_id(1), charger="Charger 01")
    clock = SimClock(DAY_START)
    async with home_assistant(config_dir, clock, with_recorder=False) as hass:
        await store_archive(hass, entry_id(1), records)


async def run_scale(
    config_dir: Path,
    *,
    chargers: int,
    hours: float,
    history_sessions: int,
    profiles: Profiles,
) -> ScaleRun:
    """Play a simulated day of `chargers` chargers; return the figures."""
    await write_long_history(config_dir, history_sessions)
    seconds = round(hours * 3600)
    run = ScaleRun(chargers=chargers, simulated_s=seconds)
    # The evening sessions start from 16:00: a short window starts there.
    start_second = 0 if hours >= 24 else 17 * 3600
    clock = SimClock(DAY_START + timedelta(seconds=start_second - 1))
    async with home_assistant(
        config_dir, clock, recorder_exclude_globs=(SOURCE_GLOB,)
    ) as hass:
        entries = []
        priced = has_money()
        if priced:
            hass.states.async_set(PRICE_ID, spot_price(0), price_attributes(hass))
        gc.collect()
        run.tracked_before_chargers = len(gc.get_objects())
        for index in range(1, chargers + 1):
            power_id, energy_id = _sources(index)
            hass.states.async_set(power_id, "0", POWER_ATTRIBUTES)
            hass.states.async_set(energy_id, f"{1000.0 * index:.2f}", ENERGY_ATTRIBUTES)
            entries.append(
                await add_ev_sessions(
                    hass,
                    f"Charger {index:02d}",
                    power_entity=power_id,
                    energy_entity=energy_id,
                    price_entity=PRICE_ID if priced else None,
                    entry_id=entry_id(index),
                )
            )
        await settle(hass)
        gc.collect()
        run.tracked_objects = len(gc.get_objects())
        first_new_row = await last_state_id(hass)
        writes_before = sum(entry.runtime_data.store.writes for entry in entries)
        sessions_before = sum(len(entry.runtime_data.history) for entry in entries)

        changes = _merged_changes(
            chargers,
            start_second,
            start_second + seconds,
            price=price_attributes(hass) if priced else None,
        )
        with _CallbackTimer() as timer, profiles.section("scale"):
            wall = time.perf_counter()
            cpu = time.thread_time()
            await _play(hass, clock, changes, run)
            run.cpu_s = time.thread_time() - cpu
            run.wall_s = time.perf_counter() - wall
        run.worst_callback_s, run.worst_callback = timer.worst
        run.worst_callback_cpu_s, run.worst_callback_cpu = timer.worst_cpu
        run.gc_worst_s, run.gc_total_s = timer.gc_worst, timer.gc_total
        run.gc_collections = timer.gc_collections
        run.callbacks_over_10ms = timer.over_10ms
        run.slowest = timer.slowest
        run.rows = sum(
            rows.states for rows in (await state_rows(hass, first_new_row)).values()
        )
        run.store_writes = (
            sum(entry.runtime_data.store.writes for entry in entries) - writes_before
        )
        run.sessions = (
            sum(len(entry.runtime_data.history) for entry in entries) - sessions_before
        )
    run.needed_per_s = run.changes / seconds
    return run


def _sources(index: int) -> tuple[str, str]:
    return f"sensor.src_c{index:02d}_power", f"sensor.src_c{index:02d}_energy"


def _merged_changes(
    chargers: int, start: int, end: int, *, price: dict[str, str] | None
) -> Iterator[tuple[int, str, str, dict[str, str]]]:
    """Yield (second, entity_id, state, attributes) of all chargers, in time order.

    With `price` (its attributes), a spot price sensor changes every hour.
    """

    def prices() -> Iterator[tuple[int, str, str, dict[str, str]]]:
        if price is None:
            return
        for second in range(start - start % 3600 + 3600, end, 3600):
            yield second, PRICE_ID, spot_price(second // 3600), price

    def one(index: int) -> Iterator[tuple[int, str, str, dict[str, str]]]:
        power_id, energy_id = _sources(index)
        meter_start = 1000.0 * index
        for change in source_changes(
            charger_day(index),
            meter_start_kwh=meter_start,
            start_second=start,
            end_second=end,
        ):
            if change.source == POWER:
                yield change.second, power_id, change.state, dict(POWER_ATTRIBUTES)
            else:
                yield change.second, energy_id, change.state, dict(ENERGY_ATTRIBUTES)

    return heapq.merge(
        prices(), *(one(index) for index in range(1, chargers + 1)), key=lambda c: c[0]
    )


async def _play(
    hass: HomeAssistant,
    clock: SimClock,
    changes: Iterator[tuple[int, str, str, dict[str, str]]],
    run: ScaleRun,
) -> None:
    """Set each change, second by second, letting the loop run between them.

    Nothing waits for Home Assistant's tasks (store writes, the recorder):
    they run alongside, as they do when the events come from devices.
    """
    second: int | None = None
    hour_started = time.perf_counter()
    hour_changes = 0
    attributes: dict[str, dict[str, str]] = {}
    for at, entity_id, state, attrs in changes:
        if at != second:
            second = at
            clock.advance_to(DAY_START + timedelta(seconds=at))
            if at % 3600 == 0 and hour_changes:
                now = time.perf_counter()
                run.hourly_rates.append(hour_changes / (now - hour_started))
                hour_started, hour_changes = now, 0
        # The same attributes object each time, as an integration's entity has.
        hass.states.async_set(entity_id, state, attributes.setdefault(entity_id, attrs))
        run.changes += 1
        hour_changes += 1
        await asyncio.sleep(0)
    if hour_changes:
        run.hourly_rates.append(hour_changes / (time.perf_counter() - hour_started))
    clock.advance(timedelta(seconds=61))
    await settle(hass)


class _CallbackTimer:
    """Times every callback the event loop runs (asyncio `Handle._run`)."""

    def __init__(self) -> None:
        self.worst: tuple[float, str] = (0.0, "")
        self.worst_cpu: tuple[float, str] = (0.0, "")
        self.over_10ms = 0
        # (wall, cpu, name) of the slowest callbacks, a min-heap on wall time.
        self.slowest: list[tuple[float, float, str]] = []
        self.gc_worst = 0.0
        self.gc_total = 0.0
        self.gc_collections = 0
        self.gc_ns = 0
        self._gc_started = 0
        self._loop_thread = threading.get_ident()
        self._original: Any = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        """Time garbage collections (they stop the loop too, inside a callback)."""
        if phase == "start":
            self._gc_started = time.perf_counter_ns()
            return
        took = time.perf_counter_ns() - self._gc_started
        self.gc_total += took / 1e9
        self.gc_collections += 1
        self.gc_worst = max(self.gc_worst, took / 1e9)
        if threading.get_ident() == self._loop_thread:
            self.gc_ns += took  # inside the callback running now

    def _record(self, callback: object, wall: float, cpu: float) -> None:
        if wall > 0.010:
            self.over_10ms += 1
        if wall > self.worst[0]:
            self.worst = (wall, _describe(callback))
        if cpu > self.worst_cpu[0]:
            self.worst_cpu = (cpu, _describe(callback))
        if len(self.slowest) < 5:
            heapq.heappush(self.slowest, (wall, cpu, _describe(callback)))
        elif wall > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, (wall, cpu, _describe(callback)))

    def __enter__(self) -> Self:
        original = asyncio.events.Handle._run  # noqa: SLF001
        self._original = original
        record = self._record
        perf_counter_ns = time.perf_counter_ns
        thread_time_ns = time.thread_time_ns
        timer = self

        def _run(handle: asyncio.Handle) -> None:
            callback = getattr(handle, "_callback", None)  # cancelling clears it
            gc_before = timer.gc_ns
            wall = perf_counter_ns()
            cpu = thread_time_ns()
            original(handle)
            cpu = thread_time_ns() - cpu
            wall = perf_counter_ns() - wall
            if wall > 1_000_000:  # only callbacks over 1 ms can be the worst
                # A garbage collection that happened inside is reported apart.
                collected = timer.gc_ns - gc_before
                record(callback, (wall - collected) / 1e9, (cpu - collected) / 1e9)

        setattr(asyncio.events.Handle, "_run", _run)  # noqa: B010
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        setattr(asyncio.events.Handle, "_run", self._original)  # noqa: B010
        gc.callbacks.remove(self._on_gc)
        self.slowest.sort(reverse=True)


def _describe(callback: object) -> str:
    """Name a callback: the coroutine a task step runs, or the function."""
    target = getattr(callback, "__self__", None)
    if target is not None and hasattr(target, "get_coro"):  # a task step
        coro = target.get_coro()
        code = getattr(coro, "cr_code", None)
        if code is not None and f"{os.sep}bench{os.sep}" in code.co_filename:
            return "a source state change as its integration writes it (async_set)"
        return str(getattr(coro, "__qualname__", repr(coro)))[:120]
    name = getattr(callback, "__qualname__", None)
    if name is None:
        return repr(callback)[:120]
    if target is not None and type(target).__module__.startswith("custom_components"):
        name = f"{type(target).__module__}.{name}"
    return str(name)[:120]
