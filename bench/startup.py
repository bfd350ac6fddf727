"""Benchmark 3: setting up a charger with years of history, versus `json.loads`.

The sessions (with their curves) are written by ev_sessions' own
`SessionStore`, through Home Assistant's `Store`, so the files are byte for
byte what a user's disk holds, in whatever layout this version uses (one
history file with the curves inside, or the history plus a curves file).
Then, in a fresh Home Assistant each time (the recorder already running),
the timed section is `await hass.config_entries.async_setup(entry_id)` until
the loop is idle: reading and parsing what set-up reads, rebuilding the
records, adding the entities. The reference is the standard library's
`json.loads` of the same files' bytes (already in memory; median of 3): all
of them (the sessions with their curves), and the history file alone. Peak
memory is measured in a second pass under `tracemalloc` (which slows Python
down, so not in the timed pass).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
import gc
import json
from pathlib import Path
import statistics
import time
import tracemalloc

from homeassistant.core import HomeAssistant
import orjson
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .archive import build_archive, store_archive
from .clock import SimClock
from .instance import (
    ENERGY_ATTRIBUTES,
    EV_SESSIONS,
    POWER_ATTRIBUTES,
    charger_options,
    home_assistant,
    price_attributes,
    settle,
)
from .profiling import Profiles

ENTRY_ID = "01JBENCHSTARTUP0000000000AB"
EMPTY_ENTRY_ID = "01JBENCHSTARTUP0000000000CD"
POWER_ID = "sensor.src_garage_power"
ENERGY_ID = "sensor.src_garage_energy"
PRICE_ID = "sensor.src_spot_price"
NOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StoredHistory:
    """The written store files, how many sessions, when the last one ended."""

    files: tuple[Path, ...]
    sessions: int
    last_ended_at: datetime

    @property
    def history_file(self) -> Path:
        """Return the file set-up must read (the history)."""
        return next(path for path in self.files if path.name.endswith(".history"))


@dataclass(slots=True)
class StartupRun:
    """One repeat's figures."""

    setup_s: float
    empty_setup_s: float
    json_loads_s: float
    json_loads_history_s: float
    orjson_loads_s: float
    setup_peak_bytes: int
    json_loads_peak_bytes: int
    file_bytes: int
    history_bytes: int
    files: int
    sessions: int


async def write_history_store(config_dir: Path, sessions: int) -> StoredHistory:
    """Write `sessions` finished sessions as ev_sessions stores them."""
    records = build_archive(sessions, entry_id=ENTRY_ID)
    last_ended_at = records[-1].ended_at
    clock = SimClock(last_ended_at + NOW)
    async with home_assistant(config_dir, clock, with_recorder=False) as hass:
        files = await store_archive(hass, ENTRY_ID, records)
    return StoredHistory(tuple(files), sessions, last_ended_at)


async def measure_startup(
    config_dir: Path, stored: StoredHistory, profiles: Profiles
) -> StartupRun:
    """Time and measure one set-up of the entry whose sessions are `stored`."""
    sessions = stored.sessions
    clock = SimClock(stored.last_ended_at + NOW)
    contents = [path.read_bytes() for path in stored.files]
    history = stored.history_file.read_bytes()

    setup_s, _ = await _setup_once(config_dir, clock, ENTRY_ID, sessions, profiles)
    empty_s, _ = await _setup_once(config_dir, clock, EMPTY_ENTRY_ID, 0, None)
    _, peak = await _setup_once(
        config_dir, clock, ENTRY_ID, sessions, None, memory=True
    )
    # The set-ups rewrote the files on unload: the bytes read above are
    # what each set-up found.
    json_s = _median_time(lambda: [json.loads(data) for data in contents])
    history_s = _median_time(lambda: json.loads(history))
    orjson_s = _median_time(lambda: [orjson.loads(data) for data in contents])
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        parsed = [json.loads(data) for data in contents]
        json_peak = tracemalloc.get_traced_memory()[1] - base
        del parsed
    finally:
        tracemalloc.stop()
    return StartupRun(
        setup_s=setup_s,
        empty_setup_s=empty_s,
        json_loads_s=json_s,
        json_loads_history_s=history_s,
        orjson_loads_s=orjson_s,
        setup_peak_bytes=peak,
        json_loads_peak_bytes=json_peak,
        file_bytes=sum(len(data) for data in contents),
        history_bytes=len(history),
        files=len(contents),
        sessions=sessions,
    )


def _median_time(parse: Callable[[], object], runs: int = 3) -> float:
    """Median of `runs` timings of `parse` (collector on, as for the set-up)."""
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        parse()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _setup_once(
    config_dir: Path,
    clock: SimClock,
    entry_id: str,
    sessions: int,
    profiles: Profiles | None,
    *,
    memory: bool = False,
) -> tuple[float, int]:
    """Set the entry up in a fresh Home Assistant; return (seconds, peak bytes)."""
    async with home_assistant(config_dir, clock) as hass:
        hass.states.async_set(POWER_ID, "0", POWER_ATTRIBUTES)
        hass.states.async_set(ENERGY_ID, "1520.00", ENERGY_ATTRIBUTES)
        hass.states.async_set(PRICE_ID, "0.1523", price_attributes(hass))
        entry = MockConfigEntry(
            domain=EV_SESSIONS,
            title="Garage",
            data={},
            options=charger_options(
                "Garage",
                power_entity=POWER_ID,
                energy_entity=ENERGY_ID,
                price_entity=PRICE_ID,
            ),
            entry_id=entry_id,
            version=1,
        )
        entry.add_to_hass(hass)
        await settle(hass)
        gc.collect()
        peak = 0
        if memory:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        try:
            section = profiles.section("startup") if profiles else nullcontext()
            started = time.perf_counter()
            with section:
                ok = await hass.config_entries.async_setup(entry.entry_id)
                await settle(hass)
            elapsed = time.perf_counter() - started
            if memory:
                peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            if memory:
                tracemalloc.stop()
        _check(hass, entry, ok, sessions)
        return elapsed, peak


def _check(
    hass: HomeAssistant, entry: MockConfigEntry, ok: bool, sessions: int
) -> None:
    if not ok:
        raise RuntimeError("ev_sessions did not set up")
    loaded = len(entry.runtime_data.history)
    if loaded != sessions:
        raise RuntimeError(f"set up with {loaded} sessions, not {sessions}")
