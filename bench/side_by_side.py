"""Benchmarks 1 and 2: ev_sessions and the DIY recipe on one identical stream.

One Home Assistant instance (real core, real recorder on SQLite) holds three
copies of the same charger sensors, each fed the identical 1 Hz stream:

* `bare`: a power sensor and a meter nobody listens to (only the recorder):
  the cost of a state change as such, subtracted from the other two;
* `charger`: the sources of an ev_sessions entry (power + meter);
* `recipe`: the source of the DIY recipe, an `integration` helper and two
  `utility_meter` helpers (its meter copy has no listener, as in real life).

For every source state change, the three copies are set one after the other,
in an order that rotates with each change, and each is timed on its own:
`hass.states.async_set(...)` plus `await hass.async_block_till_done()`, as
event-loop thread CPU time (`time.thread_time_ns`; the recorder's own thread
is not counted, its cost shows in benchmark 2) and as wall time.

Timers are part of the cost: before the changes of each simulated second, the
timers that fell due (ev_sessions' 30 s tick and 5 s turns, its delayed store
saves, the recorder's commit, a utility meter's reset) are run one by one,
timed, and charged to whoever scheduled them; ev_sessions' timer time is added
to its next state change. Timers of Home Assistant itself are charged to
nobody (but what the loop then does is charged to ev_sessions if one of its
timers was among them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import gc
from pathlib import Path
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.async_ import get_scheduled_timer_handles

from .archive import build_archive, store_archive
from .clock import SimClock
from .instance import (
    ENERGY_ATTRIBUTES,
    POWER_ATTRIBUTES,
    RecorderGate,
    Rows,
    add_ev_sessions,
    add_recipe,
    entities_of,
    has_money,
    home_assistant,
    last_state_id,
    price_attributes,
    recording_done,
    settle,
    state_rows,
)
from .profiling import Profiles
from .traces import PowerTrace, SourceChange, source_changes

BARE = "bare"
OURS = "ev_sessions"
RECIPE = "recipe"
OTHER = "other"
STREAMS = (BARE, OURS, RECIPE)
SOURCES: Mapping[str, Mapping[str, str]] = {
    stream: {
        "power": f"sensor.src_{prefix}_power",
        "energy": f"sensor.src_{prefix}_energy",
    }
    for stream, prefix in ((BARE, "bare"), (OURS, "charger"), (RECIPE, "diy"))
}
# The sources are not recorded: the same for all three streams, their rows are
# the charger integration's cost, not ev_sessions' nor the recipe's.
SOURCE_GLOB = "sensor.src_*"
ATTRIBUTES = {"power": POWER_ATTRIBUTES, "energy": ENERGY_ATTRIBUTES}
START = datetime.fromisoformat("2026-11-20T17:00:00+00:00")
ENTRY_ID = "01JBENCHSIDEBYSIDE00000000A"
# A spot price (EUR/kWh), changing every hour; only ev_sessions reads it.
PRICE_ID = "sensor.src_spot_price"
# Let the recorder catch up this often (untimed), so its queue stays short.
RECORDER_SYNC_S = 60

_OURS_MODULE = "custom_components.ev_sessions"
_RECIPE_MODULES = (
    "homeassistant.components.integration",
    "homeassistant.components.utility_meter",
)


@dataclass(slots=True)
class SideBySide:
    """What one play of the stream measured."""

    cpu_ns: dict[str, list[int]] = field(default_factory=dict)
    wall_ns: dict[str, list[int]] = field(default_factory=dict)
    # ev_sessions' changes without its timers folded in.
    change_cpu_ns: list[int] = field(default_factory=list)
    timer_cpu_ns: Counter[str] = field(default_factory=Counter)
    rows: dict[str, int] = field(default_factory=dict)
    attribute_rows: dict[str, int] = field(default_factory=dict)
    rows_by_entity: dict[str, Rows] = field(default_factory=dict)
    store_writes: Counter[str] = field(default_factory=Counter)
    store_bytes: int = 0
    charging_hours: float = 0.0
    stream_hours: float = 0.0
    sessions: int = 0
    ours_energy_kwh: float = 0.0
    recipe_energy_kwh: float = 0.0
    true_energy_kwh: float = 0.0
    history_sessions: int = 0
    priced: bool = False


async def play_side_by_side(
    config_dir: Path,
    trace: PowerTrace,
    profiles: Profiles | None = None,
    *,
    history_sessions: int = 0,
) -> SideBySide:
    """Play `trace` to the three copies; return times, rows and store writes.

    ev_sessions starts with `history_sessions` finished sessions stored, as
    a charger in use for years has.
    """
    clock = SimClock(START - timedelta(minutes=1))
    if history_sessions:
        records = build_archive(history_sessions, entry_id=ENTRY_ID)
        async with home_assistant(config_dir, clock, with_recorder=False) as hass:
            await store_archive(hass, ENTRY_ID, records)
        del records
    result = SideBySide(
        cpu_ns={stream: [] for stream in STREAMS},
        wall_ns={stream: [] for stream in STREAMS},
        charging_hours=trace.charging_hours,
        stream_hours=trace.seconds / 3600,
        true_energy_kwh=trace.energy_kwh,
        history_sessions=history_sessions,
    )
    with count_store_writes() as writes:
        async with home_assistant(
            config_dir, clock, recorder_exclude_globs=(SOURCE_GLOB,)
        ) as hass:
            changes = list(source_changes(trace))
            for stream in STREAMS:
                for change in changes[:2]:  # the first meter and power readings
                    hass.states.async_set(
                        SOURCES[stream][change.source],
                        change.state,
                        ATTRIBUTES[change.source],
                    )
            priced = result.priced = has_money()
            if priced:
                hass.states.async_set(PRICE_ID, spot_price(0), price_attributes(hass))
            entry = await add_ev_sessions(
                hass,
                "Charger",
                power_entity=SOURCES[OURS]["power"],
                energy_entity=SOURCES[OURS]["energy"],
                price_entity=PRICE_ID if priced else None,
                entry_id=ENTRY_ID,
            )
            recipe_entities = await add_recipe(hass, "Recipe", SOURCES[RECIPE]["power"])
            ours_entities = entities_of(hass, entry.entry_id)
            first_new_row = await last_state_id(hass)

            # Home Assistant's own objects (a million or so) need not be
            # traversed by every full garbage collection during the stream:
            # a collection lands on whichever stream allocates at that moment.
            gc.collect()
            gc.freeze()
            gate = RecorderGate(hass)
            player = _Player(hass, clock, gate, profiles or Profiles(), priced=priced)
            try:
                await player.play(changes[2:], result)
            finally:
                gate.open()
                gc.unfreeze()

            rows = await state_rows(hass, first_new_row)
            result.rows_by_entity = {
                entity_id: rows.get(entity_id, Rows(0, 0))
                for entity_id in (*ours_entities, *recipe_entities)
            }
            for stream, entities in ((OURS, ours_entities), (RECIPE, recipe_entities)):
                result.rows[stream] = sum(
                    result.rows_by_entity[e].states for e in entities
                )
                result.attribute_rows[stream] = sum(
                    result.rows_by_entity[e].attribute_sets for e in entities
                )
            coordinator = entry.runtime_data
            # Only the sessions of this stream (not the stored years).
            played = [
                record for record in coordinator.history if record.started_at >= START
            ]
            result.sessions = len(played)
            result.ours_energy_kwh = sum(record.energy_kwh for record in played)
            if (live := coordinator.tracker.live(clock.now)) is not None:
                result.ours_energy_kwh += live.energy_kwh
            recipe_state = hass.states.get(recipe_entities[0])
            result.recipe_energy_kwh = (
                float(recipe_state.state) if recipe_state is not None else 0.0
            )
            writes_during_stream = Counter(writes)
        result.store_writes = writes_during_stream
        storage = config_dir / ".storage"
        result.store_bytes = sum(
            path.stat().st_size for path in storage.glob("ev_sessions.*")
        )
    return result


class _Player:
    """Plays source changes second by second, timing each one."""

    def __init__(
        self,
        hass: HomeAssistant,
        clock: SimClock,
        gate: RecorderGate,
        profiles: Profiles,
        *,
        priced: bool,
    ) -> None:
        self.hass = hass
        self.clock = clock
        self.gate = gate
        self.priced = priced
        # `--profile hot_path` profiles ev_sessions' timed sections only.
        self.profiles = profiles
        self._pending_ours = (0, 0)

    async def play(self, changes: list[SourceChange], result: SideBySide) -> None:
        second = -1
        for turn, change in enumerate(changes):
            if change.second != second:
                second = change.second
                self.clock.advance_to(START + timedelta(seconds=second))
                await self._run_due_timers(result)
                if self.priced and second % 3600 == 0:
                    await self._new_price(second // 3600, result)
                if second % RECORDER_SYNC_S == 0:
                    await self.gate.drain()
            order = STREAMS[turn % 3 :] + STREAMS[: turn % 3]
            for stream in order:
                with self._profiled(stream):
                    cpu, wall = await self._timed_set(
                        SOURCES[stream][change.source],
                        change.state,
                        ATTRIBUTES[change.source],
                    )
                if stream == OURS:
                    result.change_cpu_ns.append(cpu)
                    cpu += self._pending_ours[0]
                    wall += self._pending_ours[1]
                    self._pending_ours = (0, 0)
                result.cpu_ns[stream].append(cpu)
                result.wall_ns[stream].append(wall)
        # One more timer round after the last change: a final tick or save.
        self.clock.advance(timedelta(seconds=61))
        await self._run_due_timers(result)
        self.gate.open()
        await recording_done(self.hass)

    async def _new_price(self, hour: int, result: SideBySide) -> None:
        """The spot price of the new hour: work for ev_sessions alone."""
        with self._profiled(OURS):
            cpu, wall = await self._timed_set(
                PRICE_ID, spot_price(hour), price_attributes(self.hass)
            )
        result.timer_cpu_ns[OURS] += cpu
        self._pending_ours = (
            self._pending_ours[0] + cpu,
            self._pending_ours[1] + wall,
        )

    async def _timed_set(
        self, entity_id: str, state: str, attributes: Mapping[str, str]
    ) -> tuple[int, int]:
        cpu = time.thread_time_ns()
        wall = time.perf_counter_ns()
        self.hass.states.async_set(entity_id, state, attributes)
        await settle(self.hass)
        return time.thread_time_ns() - cpu, time.perf_counter_ns() - wall

    async def _run_due_timers(self, result: SideBySide) -> None:
        """Run the timers due at the simulated time, charging each to its owner.

        Each due timer runs synchronously (as the event loop would run it),
        then the tasks they started are awaited; that part is charged to
        ev_sessions when one of its timers ran, else to nobody.
        """
        loop = self.hass.loop
        now = loop.time()
        due = sorted(
            (
                handle
                for handle in get_scheduled_timer_handles(loop)
                if not handle.cancelled() and handle.when() <= now
            ),
            key=lambda handle: handle.when(),
        )
        if not due:
            return
        owners: set[str] = set()
        for handle in due:
            if handle.cancelled():
                continue
            owner = timer_owner(
                getattr(handle, "_callback", None), getattr(handle, "_args", None)
            )
            with self._profiled(owner):
                cpu = time.thread_time_ns()
                wall = time.perf_counter_ns()
                # What the event loop does with a due timer (and what
                # pytest-homeassistant-custom-component's time travel does).
                handle._run()  # noqa: SLF001
                handle.cancel()
                cpu = time.thread_time_ns() - cpu
                wall = time.perf_counter_ns() - wall
            self._charge(result, owner, cpu, wall)
            owners.add(owner)
        owner = OURS if OURS in owners else OTHER
        with self._profiled(owner):
            cpu = time.thread_time_ns()
            wall = time.perf_counter_ns()
            await settle(self.hass)
            cpu = time.thread_time_ns() - cpu
            wall = time.perf_counter_ns() - wall
        self._charge(result, owner, cpu, wall)

    def _profiled(self, stream: str) -> AbstractContextManager[None]:
        """Profile ev_sessions' sections when asked to (`--profile hot_path`)."""
        return self.profiles.section("hot_path") if stream == OURS else nullcontext()

    def _charge(self, result: SideBySide, owner: str, cpu: int, wall: int) -> None:
        result.timer_cpu_ns[owner] += cpu
        if owner == OURS:
            self._pending_ours = (
                self._pending_ours[0] + cpu,
                self._pending_ours[1] + wall,
            )


def spot_price(hour: int) -> str:
    """Return the spot price of `hour` (EUR/kWh, a day's shape)."""
    shape = (8, 7, 6, 6, 7, 9, 14, 21, 24, 19, 15, 13, 12, 12, 13, 16, 22, 28, 31, 26)
    return f"{shape[hour % len(shape)] / 100 + 0.0123:.4f}"


def timer_owner(*objects: object) -> str:
    """Return who scheduled a timer: ev_sessions, the recipe, or other."""
    return _owner(objects, 0) or OTHER


def _owner(obj: object, depth: int) -> str | None:
    if obj is None or depth > 5:
        return None
    for module in (getattr(obj, "__module__", None), type(obj).__module__):
        if isinstance(module, str):
            if module.startswith(_OURS_MODULE):
                return OURS
            if module.startswith(_RECIPE_MODULES):
                return RECIPE
    key = getattr(obj, "key", None)
    if isinstance(key, str) and key.startswith("ev_sessions."):
        return OURS  # a Store of ours
    children: list[object] = []
    if isinstance(obj, tuple | list):
        children.extend(obj)
    children.extend(
        getattr(obj, name, None)
        for name in ("__self__", "action", "job", "target", "func")
    )
    for cell in getattr(obj, "__closure__", None) or ():
        try:
            children.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    for child in children:
        if child is not obj and (owner := _owner(child, depth + 1)) is not None:
            return owner
    return None


@contextmanager
def count_store_writes(prefix: str = "ev_sessions.") -> Iterator[Counter[str]]:
    """Count the files Home Assistant's `Store` writes whose key has `prefix`."""
    counts: Counter[str] = Counter()
    original = Store._async_write_data  # noqa: SLF001

    async def _counted(self: Store[Any], *args: Any, **kwargs: Any) -> None:
        # (path, data) on Home Assistant 2025.4, (data) on 2026.
        if self.key.startswith(prefix):
            counts[self.key.rsplit(".", 1)[-1]] += 1
        await original(self, *args, **kwargs)

    Store._async_write_data = _counted  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield counts
    finally:
        Store._async_write_data = original  # type: ignore[method-assign]  # noqa: SLF001
