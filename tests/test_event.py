"""Session events: the event entity and the bus events automations trigger on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.ev_sessions.const import (
    EVENT_CHARGING_COMPLETED,
    EVENT_SESSION_ENDED,
    EVENT_SESSION_STARTED,
)

from .charger import ENTRY_ID, T0, play, set_source, setup_entry
from .traces import STATUS, easee_evening

RECORD_KEYS = {
    "id",
    "entry_id",
    "charger",
    "charger_type",
    "started_at",
    "ended_at",
    "charging_started_at",
    "charging_ended_at",
    "duration_s",
    "charging_duration_s",
    "energy_kwh",
    "peak_power_kw",
    "avg_power_kw",
    "meter_start_kwh",
    "meter_end_kwh",
    "energy_source",
    "flags",
    "curve_points",
}


def event_entity_id(hass: HomeAssistant) -> str:
    """The entity id of our `session` event entity."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", "ev_sessions", f"{ENTRY_ID}_session"
    )
    assert entity_id is not None
    return entity_id


@pytest.mark.usefixtures("idle_charger")
async def test_bus_events_carry_the_record(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """`ev_sessions_session_started`/`_ended` fire once each, with the record."""
    started = async_capture_events(hass, EVENT_SESSION_STARTED)
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    trace = easee_evening(T0)
    await play(hass, freezer, trace.sorted())

    assert len(started) == 1
    assert len(ended) == 1
    assert started[0].data["started_at"] == T0.isoformat()
    assert started[0].data["ended_at"] is None
    record: dict[str, Any] = dict(ended[0].data)
    assert set(record) >= RECORD_KEYS
    assert "curve" not in record
    assert record["entry_id"] == ENTRY_ID
    assert record["charger"] == "Garage"
    assert record["charger_type"] == "ac_3_phase"
    assert record["energy_source"] == "meter"
    assert record["energy_kwh"] == pytest.approx(trace.true_energy_kwh, abs=2e-3)
    assert record["meter_start_kwh"] == 1520.0
    assert record["ended_at"] == (T0 + timedelta(minutes=162)).isoformat()
    assert record["curve_points"] > 2
    assert record["id"] == started[0].data["id"]


@pytest.mark.usefixtures("idle_charger")
async def test_event_entity_follows_the_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The event entity shows each step of the session's life."""
    await setup_entry(hass, config_entry)
    entity_id = event_entity_id(hass)
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["event_types"] == [
        "session_started",
        "charging_started",
        "charging_stopped",
        "session_ended",
        "charging_completed",
    ]
    seen: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == entity_id and event.data["new_state"]:
            seen.append(event.data["new_state"].attributes["event_type"])

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    trace = easee_evening(T0)
    await play(hass, freezer, trace.sorted())
    assert seen == [
        "session_started",
        "charging_started",
        "charging_stopped",
        "charging_completed",  # Easee reported "completed": the car is full
        "session_ended",
    ]
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["energy_kwh"] == pytest.approx(
        trace.true_energy_kwh, abs=2e-3
    )
    assert "curve" not in state.attributes


@pytest.mark.usefixtures("idle_charger")
async def test_discarded_session_fires_no_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A plug-in below the minimum energy is not recorded and fires no end."""
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "awaiting_start")
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=5))
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert ended == []
    assert config_entry.runtime_data.view.sessions == 0


@pytest.mark.usefixtures("idle_charger")
async def test_charging_completed_fires_once_when_full(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The car is full, move it: once, when the charger says it finished."""
    completed = async_capture_events(hass, EVENT_CHARGING_COMPLETED)
    await setup_entry(hass, config_entry)
    await play(hass, freezer, easee_evening(T0).sorted())
    (event,) = completed
    assert event.data["started_at"] == T0.isoformat()
    assert event.data["charging_ended_at"] == (T0 + timedelta(minutes=122)).isoformat()
    ended = config_entry.runtime_data.history.last
    assert ended is not None
    assert ended.completed


@pytest.mark.usefixtures("idle_charger")
async def test_no_completion_when_unplugged_early(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Unplugged while still charging: no charging_completed."""
    completed = async_capture_events(hass, EVENT_CHARGING_COMPLETED)
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    early = [
        sample
        for sample in easee_evening(T0).sorted()
        if sample.at < T0 + timedelta(minutes=60)
    ]
    await play(hass, freezer, early)
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert completed == []
    (event,) = ended
    assert event.data["completed"] is False
