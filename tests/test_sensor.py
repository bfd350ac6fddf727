"""The sensors a user sees while a car charges, and after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_sessions.const import (
    CONF_ENERGY_ENTITY,
    CONF_POWER_ENTITY,
    CONF_STATUS_ENTITY,
    DOMAIN,
)

from .charger import ENTRY_ID, T0, advance, play, set_source, setup_entry
from .taper_traces import FRACTIONS, Car, charge as charge_taper, error_minutes
from .traces import ENERGY, POWER, STATUS, Trace, charge, easee_evening

SENSOR_KEYS = (
    "status",
    "session_energy",
    "session_duration",
    "session_charging_duration",
    "session_power_peak",
    "session_started",
    "last_session_ended",
    "last_session_energy",
    "total_energy",
    "sessions",
    "estimated_end",
    "energy_this_month",
    "energy_last_month",
)


def sensor_states(hass: HomeAssistant) -> dict[str, Any]:
    """Every ev_sessions sensor's state and attributes, by key."""
    registry = er.async_get(hass)
    states: dict[str, Any] = {}
    for entry in er.async_entries_for_config_entry(registry, ENTRY_ID):
        if entry.domain != "sensor":
            continue
        state = hass.states.get(entry.entity_id)
        assert state is not None
        key = entry.unique_id.removeprefix(f"{ENTRY_ID}_")
        states[key] = {
            "entity_id": entry.entity_id,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
    return states


def value(hass: HomeAssistant, key: str) -> str:
    """The state of one of our sensors, by key."""
    states = sensor_states(hass)
    return str(states[key]["state"])


@pytest.mark.usefixtures("charger_device", "idle_charger")
async def test_a_session_as_the_user_sees_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Idle, plugged in, charging, finished: every sensor along the way."""
    await setup_entry(hass, config_entry)
    assert sensor_states(hass) == snapshot(name="idle")

    trace = easee_evening(T0, meter_start_kwh=1520.0)
    samples = trace.sorted()
    charging = [s for s in samples if s.at < T0 + timedelta(minutes=60)]
    await play(hass, freezer, charging)
    assert value(hass, "status") == "charging"
    live_energy = float(value(hass, "session_energy"))
    assert 9.0 < live_energy < 11.5
    assert sensor_states(hass)["session_energy"]["attributes"]["last_reset"] == (
        T0.isoformat()
    )
    assert value(hass, "session_started") == T0.isoformat()
    # The energy counts in the total once it is sure to be recorded.
    assert float(value(hass, "total_energy")) == pytest.approx(live_energy)
    assert value(hass, "sessions") == "0"

    await play(
        hass, freezer, [s for s in samples if s.at >= T0 + timedelta(minutes=60)]
    )
    assert value(hass, "status") == "idle"
    states = sensor_states(hass)
    assert float(states["session_energy"]["state"]) == pytest.approx(
        trace.true_energy_kwh, abs=2e-3
    )
    assert states["last_session_energy"]["state"] == states["session_energy"]["state"]
    assert states["total_energy"]["state"] == states["last_session_energy"]["state"]
    assert states["sessions"]["state"] == "1"
    assert (
        states["last_session_ended"]["state"]
        == (T0 + timedelta(minutes=162)).isoformat()
    )
    assert float(states["session_duration"]["state"]) == pytest.approx(2.7)
    assert float(states["session_charging_duration"]["state"]) == pytest.approx(2.0)
    assert sensor_states(hass) == snapshot(name="after_session")


@pytest.mark.usefixtures("charger_device", "idle_charger")
async def test_entities_join_the_chargers_device(
    hass: HomeAssistant, config_entry: MockConfigEntry, charger_device: dr.DeviceEntry
) -> None:
    """Our entities appear on the charger's own device page."""
    await setup_entry(hass, config_entry)
    registry = er.async_get(hass)
    ours = er.async_entries_for_config_entry(registry, ENTRY_ID)
    assert len(ours) == 14
    assert {entry.device_id for entry in ours} == {charger_device.id}
    assert {entry.unique_id for entry in ours} == {
        f"{ENTRY_ID}_{key}" for key in [*SENSOR_KEYS, "session"]
    }


@pytest.mark.usefixtures("idle_charger")
async def test_own_device_without_a_charger_device(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Sources without a device: ev_sessions shows a device of its own."""
    await setup_entry(hass, config_entry)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ENTRY_ID)})
    assert device is not None
    assert device.name == "Garage"
    assert hass.states.get("sensor.garage_session_energy") is not None


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            "name": "Garage",
            CONF_STATUS_ENTITY: "sensor.garage_charger_status",
            CONF_POWER_ENTITY: "sensor.garage_charger_power",
        }
    ],
)
async def test_live_sensors_are_throttled_yet_exact_at_the_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A 1 Hz power sensor does not write a recorder row per second."""
    await setup_entry(hass, config_entry)
    writes: list[str] = []

    @callback
    def count(event: Event[Any]) -> None:
        if event.data["entity_id"] == "sensor.garage_session_energy":
            writes.append(event.data["new_state"].state)

    hass.bus.async_listen("state_changed", count)
    trace = Trace()
    set_source(hass, STATUS, "charging")
    await hass.async_block_till_done()
    charge(trace, T0, 10, kw=11.0, power_every_s=1, seed=3)
    await play(hass, freezer, [s for s in trace.sorted() if s.source == POWER])
    # 600 power readings in 10 minutes: about one write per 30 s.
    assert 15 <= len(writes) <= 25
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert float(value(hass, "session_energy")) == pytest.approx(
        trace.true_energy_kwh, abs=1e-3
    )


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    ("power_unit", "energy_unit"), [("kW", "Wh"), ("W", "MWh"), ("kW", "kWh")]
)
async def test_unit_variants(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    power_unit: str,
    energy_unit: str,
) -> None:
    """W or kW power, Wh, kWh or MWh meters: the same session energy."""
    factor = {"Wh": 1000, "kWh": 1, "MWh": 0.001}[energy_unit]
    set_source(hass, ENERGY, f"{1520.0 * factor}", energy_unit)
    await setup_entry(hass, config_entry)
    trace = Trace()
    end, meter = charge(
        trace,
        T0 + timedelta(minutes=1),
        30,
        kw=7.0,
        power_unit=power_unit,
        energy_unit=energy_unit,
        meter_start_kwh=1520.0,
        meter_step_kwh=0.1,
    )
    set_source(hass, STATUS, "charging")
    await play(hass, freezer, trace.sorted())
    await advance(hass, freezer, end + timedelta(minutes=2))
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert meter is not None
    assert float(value(hass, "last_session_energy")) == pytest.approx(
        meter - 1520.0, abs=2e-3
    )


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [{"name": "Plug", CONF_POWER_ENTITY: "sensor.garage_charger_power"}],
)
async def test_power_only_smart_plug(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A smart plug with only power: the session ends after the timeout."""
    await setup_entry(hass, config_entry)
    trace = Trace()
    end, _ = charge(trace, T0, 60, kw=2.3, seed=9)
    await play(hass, freezer, trace.sorted())
    await advance(hass, freezer, end + timedelta(minutes=2))
    assert value(hass, "status") == "connected"
    await advance(hass, freezer, end + timedelta(minutes=61))
    assert value(hass, "status") == "idle"
    assert value(hass, "sessions") == "1"
    assert float(value(hass, "last_session_energy")) == pytest.approx(
        trace.true_energy_kwh, abs=1e-3
    )


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            "name": "Garage",
            CONF_STATUS_ENTITY: "sensor.garage_charger_status",
            CONF_ENERGY_ENTITY: "sensor.garage_charger_energy",
        }
    ],
)
async def test_meter_and_status_without_power(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A charger with a status and a meter only: peak power from the meter."""
    await setup_entry(hass, config_entry)
    assert value(hass, "session_power_peak") == STATE_UNKNOWN
    trace = Trace()
    set_source(hass, STATUS, "charging")
    charge(trace, T0, 30, kw=11.0, meter_start_kwh=1520.0, meter_step_kwh=0.05)
    await play(hass, freezer, [s for s in trace.sorted() if s.source == ENERGY])
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert float(value(hass, "last_session_energy")) == pytest.approx(5.5, rel=0.02)
    assert float(value(hass, "session_power_peak")) == pytest.approx(11.0, rel=0.1)


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            "name": "Garage",
            CONF_STATUS_ENTITY: "sensor.garage_charger_status",
            CONF_POWER_ENTITY: "sensor.garage_charger_power",
            "soc_entity": "sensor.car_battery",
        }
    ],
)
async def test_target_soc_is_restored(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """The target state of charge survives a restart (restored number)."""
    hass.states.async_set("sensor.car_battery", "55", {"device_class": "battery"})
    entity_id = "number.garage_target_state_of_charge"
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(entity_id, "80"),
                {
                    "native_value": 80.0,
                    "native_min_value": 10,
                    "native_max_value": 100,
                    "native_step": 1,
                    "native_unit_of_measurement": "%",
                },
            )
        ],
    )
    await setup_entry(hass, config_entry)
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "80.0"
    assert config_entry.runtime_data.tracker.target_soc == 80.0
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity_id, "value": 90},
        blocking=True,
    )
    assert config_entry.runtime_data.tracker.target_soc == 90.0


async def test_own_device_removed_once_the_chargers_device_is_known(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A first start before the charger's entities exist leaves no empty device."""
    await setup_entry(hass, config_entry)
    devices = dr.async_get(hass)
    assert devices.async_get_device(identifiers={(DOMAIN, ENTRY_ID)}) is not None
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    # The charger's integration registers its entities on its device.
    owner = MockConfigEntry(domain="easee", title="Easee")
    owner.add_to_hass(hass)
    charger = devices.async_get_or_create(
        config_entry_id=owner.entry_id, identifiers={("easee", "EH1")}, name="Charger"
    )
    status = er.async_get(hass).async_get_or_create(
        "sensor",
        "easee",
        "EH1_status",
        suggested_object_id="garage_charger_status",
        device_id=charger.id,
        config_entry=owner,
    )
    assert status.entity_id == "sensor.garage_charger_status"
    set_source(hass, STATUS, "disconnected")
    await setup_entry(hass, config_entry)
    assert devices.async_get_device(identifiers={(DOMAIN, ENTRY_ID)}) is None
    ours = er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
    assert {entry.device_id for entry in ours} == {charger.id}


# --------------------------------------------------- estimated end, months

SOC_ID = "sensor.car_battery"
VEHICLE_OPTIONS = {
    "name": "Garage",
    CONF_STATUS_ENTITY: "sensor.garage_charger_status",
    CONF_POWER_ENTITY: "sensor.garage_charger_power",
    "soc_entity": SOC_ID,
    "battery_capacity_kwh": 75,
}


def set_soc(hass: HomeAssistant, soc: float) -> None:
    hass.states.async_set(
        SOC_ID, f"{soc:g}", {"device_class": "battery", "unit_of_measurement": "%"}
    )


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [VEHICLE_OPTIONS])
async def test_estimated_end_counts_down_while_charging(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Within 5 minutes of the true end; unavailable when not charging."""
    trace = charge_taper(
        Car(), start_soc=55, target_soc=90, seed=5, sample_s=30, start=T0
    )
    set_soc(hass, 55)
    await setup_entry(hass, config_entry)
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.garage_target_state_of_charge", "value": 90},
        blocking=True,
    )
    entity_id = sensor_states(hass)["estimated_end"]["entity_id"]
    assert hass.states.get(entity_id).state == "unavailable"  # type: ignore[union-attr]

    set_source(hass, STATUS, "charging")
    shown: dict[datetime, str] = {}
    for sample in trace.samples:
        await advance(hass, freezer, sample.at)
        set_source(hass, POWER, str(round(sample.power_kw * 1000)))
        set_soc(hass, sample.soc)
        await hass.async_block_till_done()
        shown[sample.at] = hass.states.get(entity_id).state  # type: ignore[union-attr]
    for fraction in FRACTIONS:
        moment = trace.moment(fraction)
        state = [value for at, value in shown.items() if at <= moment][-1]
        estimate = dt_util.parse_datetime(state)
        assert estimate is not None, state
        assert error_minutes(trace, estimate) < 5
    # Updated at most once a minute.
    changes = [at for (at, a), (_, b) in pairwise(shown.items()) if a != b]
    assert all(
        (later - earlier) >= timedelta(minutes=1)
        for earlier, later in pairwise(changes)
    )

    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "completed")
    await advance(hass, freezer, trace.ended_at + timedelta(minutes=3))
    assert hass.states.get(entity_id).state == "unavailable"  # type: ignore[union-attr]


@pytest.mark.usefixtures("idle_charger")
async def test_without_soc_the_estimated_end_is_unknown(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "11000")
    await advance(hass, freezer, T0 + timedelta(minutes=10))
    assert value(hass, "estimated_end") == STATE_UNKNOWN


STOCKHOLM_OPTIONS = {
    "name": "Garage",
    CONF_STATUS_ENTITY: "sensor.garage_charger_status",
    CONF_POWER_ENTITY: "sensor.garage_charger_power",
    "user_entity": "sensor.garage_charger_user",
    "cost_per_kwh": 2,
    "users": [
        {"name": "Anna", "tag": "A1"},
        {"name": "Bo Ek", "tag": "B2"},
    ],
}


@pytest.mark.parametrize("entry_options", [STOCKHOLM_OPTIONS])
async def test_month_rollover_with_a_session_across_midnight(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Bo charges 11 kW from 23:30 on 31 October to 00:30 on 1 November."""
    await hass.config.async_set_time_zone("Europe/Stockholm")
    tz = dt_util.get_default_time_zone()
    october_evening = datetime(2026, 10, 30, 18, 0, tzinfo=tz)
    halloween = datetime(2026, 10, 31, 23, 30, tzinfo=tz)
    november = datetime(2026, 11, 1, tzinfo=tz)
    freezer.move_to(october_evening - timedelta(minutes=1))
    set_source(hass, STATUS, "disconnected")
    set_source(hass, POWER, "0")
    hass.states.async_set("sensor.garage_charger_user", "A1")
    await setup_entry(hass, config_entry)

    # Anna: 3.6 kWh on the 30th.
    await advance(hass, freezer, october_evening)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "7200")
    await advance(hass, freezer, october_evening + timedelta(minutes=30))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert float(value(hass, "energy_this_month")) == pytest.approx(3.6, abs=0.01)
    assert float(value(hass, "user_anna_energy_this_month")) == pytest.approx(
        3.6, abs=0.01
    )
    assert float(value(hass, "user_bo_ek_energy_this_month")) == 0

    # Bo plugs in at 23:30: the live session counts this month.
    await advance(hass, freezer, halloween, step=timedelta(hours=1))
    hass.states.async_set("sensor.garage_charger_user", "B2")
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "11000")
    await advance(hass, freezer, november - timedelta(minutes=1))
    await advance(hass, freezer, november - timedelta(seconds=30))
    # Month totals refresh every 5 minutes: between 23:55 and now.
    this_month = float(value(hass, "energy_this_month"))
    assert 3.6 + 11 * 25 / 60 - 0.01 <= this_month <= 3.6 + 11 * 29.5 / 60 + 0.01
    assert float(value(hass, "user_bo_ek_energy_this_month")) == pytest.approx(
        this_month - 3.6, abs=0.01
    )

    # Midnight: a new month; what Bo drew before it belongs to October.
    await advance(hass, freezer, november + timedelta(minutes=2))
    states = sensor_states(hass)
    assert states["energy_this_month"]["attributes"]["last_reset"] == (
        november.astimezone(UTC).isoformat()
    )
    assert 0 <= float(states["energy_this_month"]["state"]) <= 11 * 2 / 60 + 0.01
    assert float(states["energy_last_month"]["state"]) == pytest.approx(
        3.6 + 5.5, abs=0.1
    )
    assert float(states["user_anna_energy_this_month"]["state"]) == 0

    # Bo unplugs at 00:30: split by the curve, 5.5 kWh on each side.
    await advance(hass, freezer, november + timedelta(minutes=30))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    states = sensor_states(hass)
    assert float(states["energy_this_month"]["state"]) == pytest.approx(5.5, abs=0.01)
    assert float(states["energy_last_month"]["state"]) == pytest.approx(9.1, abs=0.01)
    assert float(states["cost_this_month"]["state"]) == pytest.approx(11.0, abs=0.02)
    assert float(states["cost_last_month"]["state"]) == pytest.approx(18.2, abs=0.02)
    assert float(states["user_bo_ek_energy_this_month"]["state"]) == pytest.approx(
        5.5, abs=0.01
    )
    assert float(states["user_bo_ek_cost_this_month"]["state"]) == pytest.approx(
        11.0, abs=0.02
    )
    assert states["user_bo_ek_energy_this_month"]["attributes"]["friendly_name"] == (
        "Garage Bo Ek energy this month"
    )
    assert states["energy_last_month"]["attributes"].get("state_class") is None

    # A restart reads the curve of the session across the month's start back.
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert float(value(hass, "energy_this_month")) == pytest.approx(5.5, abs=0.01)
    assert float(value(hass, "energy_last_month")) == pytest.approx(9.1, abs=0.01)


@pytest.mark.parametrize("entry_options", [STOCKHOLM_OPTIONS])
async def test_a_removed_user_takes_their_sensors_along(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    assert "user_bo_ek_energy_this_month" in sensor_states(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={**STOCKHOLM_OPTIONS, "users": [{"name": "Anna", "tag": "A1"}]},
    )
    await hass.async_block_till_done()
    keys = sensor_states(hass)
    assert "user_anna_energy_this_month" in keys
    assert not [key for key in keys if key.startswith("user_bo_ek")]
