"""Set-up, unload, reload, restart and removal: nothing is lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.ev_sessions.charger_status import ChargerState
from custom_components.ev_sessions.const import EVENT_SESSION_ENDED
from custom_components.ev_sessions.coordinator import tracker_settings
from custom_components.ev_sessions.session_tracker import SessionTracker

from .charger import ENTRY_ID, T0, advance, set_source, setup_entry
from .traces import ENERGY, POWER, STATUS

ACTIVE_KEY = f"ev_sessions.{ENTRY_ID}.active"
HISTORY_KEY = f"ev_sessions.{ENTRY_ID}.history"


def stored(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A store file as Home Assistant writes it."""
    return {"version": 1, "minor_version": 1, "key": key, "data": data}


def snapshot_mid_session(entry: MockConfigEntry) -> dict[str, Any]:
    """What the store held when Home Assistant stopped 30 min into a session."""
    tracker = SessionTracker(tracker_settings(entry, "EUR"))
    tracker.meter_changed(1520.0, T0 - timedelta(minutes=1))
    tracker.status_changed(ChargerState.CHARGING, T0)
    tracker.power_changed(11.0, T0)
    tracker.meter_changed(1525.5, T0 + timedelta(minutes=30))
    tracker.tick(T0 + timedelta(minutes=30))
    return tracker.snapshot()


async def test_restart_mid_session_recovers_the_energy(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """HA was down 20 minutes while charging: the meter tells what was drawn."""
    hass_storage[ACTIVE_KEY] = stored(snapshot_mid_session(config_entry), ACTIVE_KEY)
    back = T0 + timedelta(minutes=50)
    freezer.move_to(back)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "11000")
    set_source(hass, ENERGY, "1529.2")
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)

    view = config_entry.runtime_data.view
    assert view.status == "charging"
    assert view.live is not None
    assert view.live.energy_kwh == pytest.approx(9.2)
    assert "restarted" in view.live.flags

    await advance(hass, freezer, back + timedelta(minutes=10))
    set_source(hass, ENERGY, "1531.0")
    set_source(hass, POWER, "0")
    await advance(hass, freezer, back + timedelta(minutes=12))
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    (event,) = ended
    assert event.data["energy_kwh"] == pytest.approx(11.0)
    assert event.data["started_at"] == T0.isoformat()
    assert "restarted" in event.data["flags"]


async def test_car_left_while_down_closes_at_last_known_time(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """The car left during the outage: the session ends when HA last saw it."""
    hass_storage[ACTIVE_KEY] = stored(snapshot_mid_session(config_entry), ACTIVE_KEY)
    freezer.move_to(T0 + timedelta(hours=6))
    set_source(hass, STATUS, "disconnected")
    set_source(hass, POWER, "0")
    set_source(hass, ENERGY, "1541.0")
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    (event,) = ended
    assert event.data["ended_at"] == (T0 + timedelta(minutes=30)).isoformat()
    assert event.data["energy_kwh"] == pytest.approx(21.0)
    assert {"restarted", "closed_while_down"} <= set(event.data["flags"])
    assert config_entry.runtime_data.view.sessions == 1


@pytest.mark.usefixtures("idle_charger")
async def test_reload_resumes_the_session_exactly(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """Changing options reloads the entry; the session carries on."""
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "7000")
    await advance(hass, freezer, T0 + timedelta(minutes=10))
    set_source(hass, ENERGY, "1521.0")
    await hass.async_block_till_done()
    session_id = config_entry.runtime_data.view.live.id  # type: ignore[union-attr]

    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "power_threshold_w": 300}
    )
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    # Unloading wrote the store at once.
    assert hass_storage[ACTIVE_KEY]["data"]["active"]["id"] == session_id
    coordinator = config_entry.runtime_data
    assert coordinator.settings.power_threshold_kw == 0.3
    assert coordinator.view.live is not None
    assert coordinator.view.live.id == session_id
    assert coordinator.view.live.energy_kwh == pytest.approx(1.0)


@contextmanager
def count_store_writes() -> Iterator[Counter[str]]:
    """Count the files Home Assistant's Store writes, by key."""
    writes: Counter[str] = Counter()
    write = Store._async_write_data

    async def counted(self: Store[Any], *args: Any, **kwargs: Any) -> None:
        writes[self.key] += 1
        await write(self, *args, **kwargs)

    with patch.object(Store, "_async_write_data", counted):
        yield writes


@pytest.mark.usefixtures("idle_charger")
async def test_store_writes_every_5_minutes(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """An hour of 1 Hz samples writes the session every 5 minutes, not per sample."""
    await setup_entry(hass, config_entry)
    with count_store_writes() as writes:
        set_source(hass, STATUS, "charging")
        await hass.async_block_till_done()
        # Plugged in: written at once (at the loop's next turn: in the
        # tests, when timers fire).
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert writes[ACTIVE_KEY] == 1
        start = T0
        for second in range(3600):
            at = start + timedelta(seconds=second)
            freezer.move_to(at)
            async_fire_time_changed(hass, at)
            set_source(hass, POWER, str(7000 + second % 7))
            await hass.async_block_till_done()
        # Charging started (at once), then every 5 minutes: at 5, 10, ... 55.
        assert writes[ACTIVE_KEY] == 13
        assert hass_storage[ACTIVE_KEY]["data"]["active"] is not None

        # The write at 60 minutes; then charging stops (below the threshold
        # for a minute): written at once, with the stop.
        freezer.tick(timedelta(seconds=1))
        set_source(hass, POWER, "0")
        await advance(hass, freezer, start + timedelta(minutes=61, seconds=30))
        assert writes[ACTIVE_KEY] == 15
        stored_session = hass_storage[ACTIVE_KEY]["data"]["active"]
        assert stored_session["charging_since"] is None

        # And Home Assistant's final write flushes what is pending.
        hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
        await hass.async_block_till_done()
    # As of the engine's last tick (every 30 s); stopping takes the moment.
    last_seen = datetime.fromisoformat(hass_storage[ACTIVE_KEY]["data"]["last_seen_at"])
    end = start + timedelta(minutes=61, seconds=30)
    assert end - timedelta(seconds=30) <= last_seen <= end


@pytest.mark.usefixtures("idle_charger")
async def test_crash_mid_session_resumes_from_the_last_write(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """A crash 4 minutes after the last write: the meter recovers the energy."""
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    for second in range(0, 14 * 60, 10):
        await advance(
            hass, freezer, T0 + timedelta(seconds=second), timedelta(seconds=10)
        )
        set_source(hass, POWER, "11000")
        set_source(hass, ENERGY, f"{1520 + 11 * second / 3600:.2f}")
        await hass.async_block_till_done()
    session_id = config_entry.runtime_data.view.live.id  # type: ignore[union-attr]
    # What the disk holds when Home Assistant crashes: the 10-minute write.
    on_disk = deepcopy(hass_storage[ACTIVE_KEY])
    assert on_disk["data"]["last_seen_at"] == (T0 + timedelta(minutes=10)).isoformat()
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    hass_storage[ACTIVE_KEY] = on_disk

    # Back 6 minutes later; the car charged on meanwhile.
    freezer.move_to(T0 + timedelta(minutes=20))
    set_source(hass, ENERGY, f"{1520 + 11 * 20 / 60:.2f}")
    await setup_entry(hass, config_entry)
    live = config_entry.runtime_data.view.live
    assert live is not None
    assert live.id == session_id
    assert "restarted" in live.flags
    assert live.energy_kwh == pytest.approx(11 * 20 / 60, abs=0.01)


@pytest.mark.usefixtures("idle_charger")
async def test_unload_and_remove(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry
) -> None:
    """Unload stops listening; removing the charger deletes its store."""
    await setup_entry(hass, config_entry)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert ACTIVE_KEY in hass_storage
    # Unloaded: the sources are no longer followed.
    set_source(hass, STATUS, "charging")
    await hass.async_block_till_done()
    assert hass_storage[ACTIVE_KEY]["data"]["active"] is None

    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert ACTIVE_KEY not in hass_storage
    assert HISTORY_KEY not in hass_storage


@pytest.mark.usefixtures("idle_charger")
async def test_no_store_writes_while_idle(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """An idle charger whose sensors keep reporting writes nothing to disk."""
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data
    writes = coordinator.store.writes
    for minute in range(30):
        at = T0 + timedelta(minutes=minute)
        freezer.move_to(at)
        async_fire_time_changed(hass, at)
        set_source(hass, POWER, str(minute % 3))  # standby draw, below threshold
        await hass.async_block_till_done()
    assert coordinator.store.writes == writes
    assert not coordinator.tracker.active


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            "name": "Garage",
            "status_entity": "sensor.garage_charger_status",
            "power_entity": "sensor.garage_charger_power",
        }
    ],
)
async def test_without_a_meter_the_session_is_saved_every_2_minutes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """Nothing recovers integrated power after a crash: save it more often."""
    await setup_entry(hass, config_entry)
    with count_store_writes() as writes:
        set_source(hass, STATUS, "charging")
        set_source(hass, POWER, "7000")
        await advance(hass, freezer, T0 + timedelta(seconds=30))
        assert writes[ACTIVE_KEY] == 1  # plugged in and charging: at once
        for second in range(30, 1800, 10):
            await advance(
                hass,
                freezer,
                T0 + timedelta(seconds=second),
                step=timedelta(seconds=10),
            )
            set_source(hass, POWER, str(7000 + second % 7))
        # Then every 2 minutes: 14 writes in the next 29.5 minutes.
        assert 14 <= writes[ACTIVE_KEY] - 1 <= 15
