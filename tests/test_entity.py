"""When entities write: only what changed, and durations every 5 minutes.

Every write is a state calculation, a `state_changed` or `state_reported`
event and, when the state changed, a recorder row; on a Raspberry Pi with a
1 Hz power sensor these add up.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_sessions.const import DOMAIN

from .charger import ENTRY_ID, T0, advance, play, set_source, setup_entry
from .traces import POWER, STATUS, Trace, charge


def entity_id_of(hass: HomeAssistant, key: str) -> str:
    """The entity id of one of our sensors, by key."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{ENTRY_ID}_{key}"
    )
    assert entity_id is not None, key
    return entity_id


def value(hass: HomeAssistant, key: str) -> str:
    """The state of one of our sensors, by key."""
    state = hass.states.get(entity_id_of(hass, key))
    assert state is not None
    return state.state


def count_writes(hass: HomeAssistant) -> Counter[str]:
    """Count every state write of our entities, changed or not, by entity id.

    A write that changes nothing still fires `state_reported` (and updates
    `last_reported`): that is work too.
    """
    ours = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
    }
    writes: Counter[str] = Counter()

    @callback
    def count(event: Event[Any]) -> None:
        if (entity_id := event.data["entity_id"]) in ours:
            writes[entity_id] += 1

    async_track_state_change_event(hass, ours, count)
    async_track_state_report_event(hass, ours, count)
    return writes


@pytest.mark.usefixtures("idle_charger")
async def test_entities_write_only_what_changed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A publish that changes nothing writes nothing; a changed value still writes."""
    await setup_entry(hass, config_entry)
    writes = count_writes(hass)
    # Idle, the charger's sensors keep reporting its standby draw.
    for second in range(0, 600, 10):
        await advance(hass, freezer, T0 + timedelta(seconds=second))
        set_source(hass, POWER, str(second % 3))
        await hass.async_block_till_done()
    assert not writes

    start = T0 + timedelta(minutes=10)
    await advance(hass, freezer, start)
    set_source(hass, STATUS, "charging")
    trace = Trace()
    charge(trace, start, 10, kw=11.0, meter_start_kwh=1520.0, seed=5)
    await play(hass, freezer, trace.sorted())
    assert value(hass, "status") == "charging"
    # Connected at the plug-in (power still at standby), then charging.
    assert writes["sensor.garage_status"] == 2
    assert writes["sensor.garage_session_started"] == 1
    # The energy rises: written at the publish cadence, about every 30 s.
    assert 15 <= writes["sensor.garage_session_energy"] <= 25
    # Nothing about the last session changed while this one runs.
    assert writes["sensor.garage_last_session_energy"] == 0
    assert writes["sensor.garage_sessions"] == 0


def minutes_written(hass: HomeAssistant, key: str) -> list[float]:
    """Every value a duration sensor of ours writes from now on, in minutes."""
    entity_id = entity_id_of(hass, key)
    written: list[float] = []

    @callback
    def record(event: Event[Any]) -> None:
        written.append(round(float(event.data["new_state"].state) * 60, 2))

    async_track_state_change_event(hass, entity_id, record)
    async_track_state_report_event(hass, entity_id, record)
    return written


@pytest.mark.usefixtures("idle_charger")
async def test_durations_every_5_minutes_exact_at_changes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Durations, which change only as time passes, are written every 5 minutes.

    Yet when a session or a charging interval starts or ends they are
    written at once, and exactly.
    """
    await setup_entry(hass, config_entry)
    duration = minutes_written(hass, "session_duration")
    charging = minutes_written(hass, "session_charging_duration")
    energy = count_writes(hass)
    await advance(hass, freezer, T0)
    set_source(hass, STATUS, "charging")
    trace = Trace()
    start = T0 + timedelta(minutes=1)
    end, _ = charge(trace, start, 22, kw=11.0, meter_start_kwh=1520.0, seed=7)
    await play(hass, freezer, trace.sorted())
    # Plugged in, charging from a minute later, then every 5 minutes.
    assert duration == [0, 1, 6, 11, 16, 21]
    assert charging == [0, 5, 10, 15, 20]
    # The energy follows the 30 s publish.
    assert energy["sensor.garage_session_energy"] >= 40

    # Charging stops at the end (confirmed a minute later, at the engine's
    # next tick, within 30 s): written at once.
    set_source(hass, POWER, "0")
    await advance(hass, freezer, end + timedelta(minutes=1, seconds=30))
    assert charging[-1] == 22
    assert 24 <= duration[-1] <= 24.5
    # Unplugged: the session's exact plugged-in time.
    freezer.tick(timedelta(seconds=20))
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert float(value(hass, "session_duration")) * 60 == pytest.approx(24 + 5 / 6)
    assert float(value(hass, "session_charging_duration")) * 60 == pytest.approx(22)
