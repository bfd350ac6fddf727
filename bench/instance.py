"""A real Home Assistant in this process, with a recorder, on a simulated clock.

Built the way pytest-homeassistant-custom-component builds the `hass` of the
tests (`async_test_home_assistant`: real core, registries, config entries),
plus a real recorder on an SQLite file, our custom integration enabled, and the
DIY recipe's helpers (`integration` and `utility_meter`) set up from config
entries exactly as the UI would create them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
import tempfile
import threading
from typing import Any

from homeassistant import loader
from homeassistant.components.recorder.const import DOMAIN as RECORDER_DOMAIN
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.tasks import RecorderTask
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import recorder as recorder_helper
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)
from sqlalchemy import text

from .clock import SimClock

# Attributes a charger integration gives its power and energy sensors.
POWER_ATTRIBUTES: Mapping[str, str] = {
    "unit_of_measurement": "W",
    "device_class": "power",
    "state_class": "measurement",
}
ENERGY_ATTRIBUTES: Mapping[str, str] = {
    "unit_of_measurement": "kWh",
    "device_class": "energy",
    "state_class": "total_increasing",
}

EV_SESSIONS = "ev_sessions"
# The recorder's database lives in memory where the system offers a tmpfs: its
# thousands of commits would otherwise wait on the disk's fsync, slowing the
# suite without changing any figure (rows are counted, the recorder's thread
# is not timed). The .storage files stay on disk, as a user's do.
_MEMORY_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108


@asynccontextmanager
async def home_assistant(
    config_dir: Path,
    clock: SimClock,
    *,
    with_recorder: bool = True,
    recorder_exclude_globs: tuple[str, ...] = (),
) -> AsyncIterator[HomeAssistant]:
    """Run Home Assistant on `clock`, storing under `config_dir`, then stop it."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(
        None, partial(config_dir.mkdir, parents=True, exist_ok=True)
    )
    with (
        clock.install(loop),
        tempfile.TemporaryDirectory(dir=_MEMORY_DIR) as database_dir,
    ):
        async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
            # async_test_home_assistant disables custom integrations; ours is one.
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            try:
                if with_recorder:
                    await _setup_recorder(
                        hass, Path(database_dir), recorder_exclude_globs
                    )
                yield hass
            finally:
                # Unload first, as a user's restart does not but a clean test
                # must: an entry's own timers outlive `async_stop` otherwise.
                for entry in hass.config_entries.async_entries():
                    if entry.state is ConfigEntryState.LOADED:
                        await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_stop(force=True)


async def _setup_recorder(
    hass: HomeAssistant, database_dir: Path, exclude_globs: tuple[str, ...]
) -> None:
    config: dict[str, Any] = {
        "db_url": f"sqlite:///{database_dir / 'home-assistant_v2.db'}",
        # Home Assistant's defaults: commit every 5 s, keep 10 days.
        "auto_purge": False,
    }
    if exclude_globs:
        config["exclude"] = {"entity_globs": list(exclude_globs)}
    recorder_helper.async_initialize_recorder(hass)
    if not await async_setup_component(
        hass, RECORDER_DOMAIN, {RECORDER_DOMAIN: config}
    ):
        raise RuntimeError("the recorder did not set up")
    await hass.async_block_till_done()
    await recording_done(hass)


async def settle(hass: HomeAssistant) -> None:
    """Return once the event loop has nothing left to do for what happened.

    `async_block_till_done` waits for tasks, not for callbacks already queued:
    a state written by a listener is dispatched to its own listeners (a
    utility meter on an integration sensor) one loop iteration later, after
    `async_block_till_done` may have returned. Loop until the ready queue is
    empty too, so that every stream is timed with all the work it caused.
    """
    ready = getattr(hass.loop, "_ready", ())  # asyncio's queue of ready callbacks
    for _ in range(100):
        await hass.async_block_till_done()
        if not ready:
            return
        await asyncio.sleep(0)


async def recording_done(hass: HomeAssistant) -> None:
    """Wait until the recorder has written and committed everything queued."""
    await hass.async_block_till_done()
    await get_instance(hass).async_block_till_done()
    await hass.async_block_till_done()


@dataclass(slots=True)
class _HoldTask(RecorderTask):
    """Keeps the recorder's thread waiting until `released` is set."""

    released: threading.Event
    commit_before = False

    def run(self, instance: Recorder) -> None:
        """Wait (the thread holds no lock meanwhile, not even the GIL)."""
        self.released.wait()


class RecorderGate:
    """Hold the recorder's thread while the event loop is being timed.

    The recorder writes in its own thread. Left running, it would take the
    GIL in the middle of the timed sections, at moments that depend on the
    other streams' writes. Held, events queue up exactly as usual (the
    event-loop side of recording stays in the figures) and are written when
    the gate opens between timed sections.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare a gate for `hass`'s recorder (open)."""
        self._hass = hass
        self._released: threading.Event | None = None

    def close(self) -> None:
        """Make the recorder's thread wait once it has done what is queued."""
        if self._released is None:
            self._released = threading.Event()
            get_instance(self._hass).queue_task(_HoldTask(self._released))

    def open(self) -> None:
        """Let the recorder's thread go on."""
        if self._released is not None:
            self._released.set()
            self._released = None

    async def drain(self) -> None:
        """Let the recorder write everything queued, then close again."""
        self.open()
        await recording_done(self._hass)
        self.close()


@dataclass(frozen=True, slots=True)
class Rows:
    """What the recorder wrote for one entity."""

    states: int
    attribute_sets: int  # distinct attribute rows its states point to


async def state_rows(hass: HomeAssistant, after_state_id: int = 0) -> dict[str, Rows]:
    """Return the `states` rows per entity (those after `after_state_id`)."""
    await recording_done(hass)

    def _count() -> dict[str, Rows]:
        with recorder_helper.session_scope(hass=hass, read_only=True) as session:
            result = session.execute(
                text(
                    "SELECT states_meta.entity_id, COUNT(*),"
                    " COUNT(DISTINCT states.attributes_id) FROM states"
                    " JOIN states_meta"
                    " ON states.metadata_id = states_meta.metadata_id"
                    " WHERE states.state_id > :after"
                    " GROUP BY states_meta.entity_id"
                ),
                {"after": after_state_id},
            )
            return {
                str(entity_id): Rows(int(count), int(attributes))
                for entity_id, count, attributes in result
            }

    return await get_instance(hass).async_add_executor_job(_count)


async def last_state_id(hass: HomeAssistant) -> int:
    """Return the id of the last row in the `states` table (0 when empty)."""
    await recording_done(hass)

    def _last() -> int:
        with recorder_helper.session_scope(hass=hass, read_only=True) as session:
            value = session.execute(text("SELECT MAX(state_id) FROM states")).scalar()
            return int(value or 0)

    return await get_instance(hass).async_add_executor_job(_last)


def has_money() -> bool:
    """Return whether this ev_sessions prices sessions (a price entity option)."""
    from custom_components.ev_sessions import const

    return hasattr(const, "CONF_PRICE_ENTITY")


def charger_options(
    title: str,
    *,
    power_entity: str,
    energy_entity: str | None,
    price_entity: str | None = None,
) -> dict[str, Any]:
    """Options of a power + meter charger, priced when `price_entity` is given.

    Priced as a home charger shared with others is: the cost from a spot
    price sensor, a tariff of a fee per session and per kWh.
    """
    options: dict[str, Any] = {
        "name": title,
        "power_entity": power_entity,
        "charger_type": "ac_3_phase",
        "power_threshold_w": 200,
        "min_session_energy_kwh": 0.05,
        "session_timeout_minutes": 60,
    }
    if energy_entity is not None:
        options["energy_entity"] = energy_entity
    if price_entity is not None and has_money():
        options["price_entity"] = price_entity
        options["fee_per_session"] = 1.0
        options["fee_per_kwh"] = 0.35
    return options


def price_attributes(hass: HomeAssistant) -> dict[str, str]:
    """Attributes of a spot price sensor in Home Assistant's currency."""
    return {"unit_of_measurement": f"{hass.config.currency}/kWh"}


async def add_ev_sessions(
    hass: HomeAssistant,
    title: str,
    *,
    power_entity: str,
    energy_entity: str | None,
    price_entity: str | None = None,
    entry_id: str | None = None,
    setup: bool = True,
) -> MockConfigEntry:
    """Add (and set up) an ev_sessions charger on `power_entity` and a meter."""
    options = charger_options(
        title,
        power_entity=power_entity,
        energy_entity=energy_entity,
        price_entity=price_entity,
    )
    entry = MockConfigEntry(
        domain=EV_SESSIONS,
        title=title,
        data={},
        options=options,
        entry_id=entry_id,
        version=1,
    )
    entry.add_to_hass(hass)
    if setup:
        if not await hass.config_entries.async_setup(entry.entry_id):
            raise RuntimeError(f"ev_sessions did not set up for {title}")
        await hass.async_block_till_done()
    return entry


async def add_recipe(hass: HomeAssistant, name: str, power_entity: str) -> list[str]:
    """Add the DIY recipe on `power_entity`; return its three entity ids.

    An `integration` (Riemann sum) helper turning W into kWh, with the UI's
    defaults (trapezoidal method, no rounding), and two `utility_meter`
    helpers on it, daily and monthly, as the energy guides suggest.
    """
    integration = MockConfigEntry(
        domain="integration",
        title=f"{name} energy",
        options={
            "name": f"{name} energy",
            "source": power_entity,
            "method": "trapezoidal",
            "unit_prefix": "k",
            "unit_time": "h",
        },
    )
    integration.add_to_hass(hass)
    if not await hass.config_entries.async_setup(integration.entry_id):
        raise RuntimeError("the integration helper did not set up")
    await hass.async_block_till_done()
    energy_entity = _entity_of(hass, integration.entry_id)
    meters = []
    for cycle in ("daily", "monthly"):
        meter = MockConfigEntry(
            domain="utility_meter",
            title=f"{name} energy {cycle}",
            options={
                "name": f"{name} energy {cycle}",
                "source": energy_entity,
                "cycle": cycle,
                "offset": 0,
                "tariffs": [],
                "net_consumption": False,
                "delta_values": False,
                "periodically_resetting": True,
                "always_available": False,
            },
        )
        meter.add_to_hass(hass)
        if not await hass.config_entries.async_setup(meter.entry_id):
            raise RuntimeError("the utility_meter helper did not set up")
        await hass.async_block_till_done()
        meters.append(_entity_of(hass, meter.entry_id))
    return [energy_entity, *meters]


def entities_of(hass: HomeAssistant, entry_id: str) -> list[str]:
    """Return the entity ids a config entry created."""
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    return sorted(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, entry_id)
    )


def _entity_of(hass: HomeAssistant, entry_id: str) -> str:
    entities = entities_of(hass, entry_id)
    if len(entities) != 1:
        raise RuntimeError(f"expected one entity for {entry_id}, got {entities}")
    return entities[0]
