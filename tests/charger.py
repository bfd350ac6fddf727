"""The simulated charger of the Home Assistant tests: its entities and a player."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ev_sessions.coordinator import TURN_INTERVAL

from .traces import ENERGY, POWER, STATUS, Sample

ENTRY_ID = "01JTESTENTRY0000000000ABCD"
STATUS_ID = "sensor.garage_charger_status"
POWER_ID = "sensor.garage_charger_power"
ENERGY_ID = "sensor.garage_charger_energy"
SOURCE_IDS = {STATUS: STATUS_ID, POWER: POWER_ID, ENERGY: ENERGY_ID}
T0 = datetime.fromisoformat("2026-11-20T18:00:00+00:00")


def source_attributes(source: str, unit: str | None) -> dict[str, str]:
    """Attributes a charger integration gives its sensors."""
    if source == POWER:
        return {"unit_of_measurement": unit or "W", "device_class": "power"}
    if source == ENERGY:
        return {
            "unit_of_measurement": unit or "kWh",
            "device_class": "energy",
            "state_class": "total_increasing",
        }
    return {}


def set_source(
    hass: HomeAssistant, source: str, state: str, unit: str | None = None
) -> None:
    """Set one of the charger's source entities."""
    hass.states.async_set(SOURCE_IDS[source], state, source_attributes(source, unit))


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up ev_sessions for `entry` and wait until it runs."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


# When `advance` last fired the timers (kept on `hass.data`).
_FIRED_AT = "ev_sessions_tests_fired_at"


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    until: datetime,
    step: timedelta = TURN_INTERVAL,
) -> None:
    """Let time pass until `until`, firing timers at every tick on the way.

    Timers fire on a grid of `step` that continues across calls, as Home
    Assistant's clock would fire them: firing at each sample's odd moment
    instead would push every later tick back, one sample at a time. State
    changes already made are handled first: the timers fire at once inside
    `async_fire_time_changed`, before queued state listeners would.
    """
    await hass.async_block_till_done()
    now = dt_util.utcnow()
    fired: datetime = hass.data.get(_FIRED_AT) or now
    if fired + step < now:  # time moved on without us: start a new grid
        fired = now
    while fired + step <= until:
        fired += step
        freezer.move_to(fired)
        async_fire_time_changed(hass, fired)
        await hass.async_block_till_done()
    hass.data[_FIRED_AT] = fired
    if dt_util.utcnow() < until:
        freezer.move_to(until)


async def play(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, samples: list[Sample]
) -> None:
    """Play a trace: move time to each sample (timers fire) and set it."""
    for sample in samples:
        await advance(hass, freezer, sample.at)
        set_source(hass, sample.source, sample.state, sample.unit)
        await hass.async_block_till_done()
