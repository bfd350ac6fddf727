"""Bad input from the sources: logged, repaired where the user must act, nothing lost.

And time passing: the tick lets time pass for a session and does nothing idle.
"""

from __future__ import annotations

from datetime import timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.ev_sessions.const import (
    CONF_CHARGING_STATES,
    CONF_CONNECTED_STATES,
    CONF_DISCONNECTED_STATES,
    CONF_PRICE_ENTITY,
    DOMAIN,
    EVENT_SESSION_ENDED,
)
from custom_components.ev_sessions.coordinator import (
    TICK_GROUPS,
    TICK_INTERVAL,
    TURN_INTERVAL,
    PublishGroup,
)

from .charger import (
    ENERGY_ID,
    ENTRY_ID,
    POWER_ID,
    STATUS_ID,
    T0,
    advance,
    set_source,
    setup_entry,
)
from .taper_traces import Car, charge as charge_taper
from .traces import ENERGY, POWER, STATUS


def issue(hass: HomeAssistant, kind: str, entity_id: str) -> ir.IssueEntry | None:
    """Our repair issue of `kind` about `entity_id`, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entity_id}_{ENTRY_ID}")


@pytest.mark.usefixtures("idle_charger")
async def test_garbage_readings_are_gaps_not_zero(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """unknown, unavailable, text and NaN neither count nor reset the energy."""
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "7000")
    await hass.async_block_till_done()
    for minute, reading in enumerate(
        ["1521.0", "unavailable", "unknown", "n/a", "nan", "inf", "1522.0", "1523.0"],
        start=1,
    ):
        await advance(hass, freezer, T0 + timedelta(minutes=minute * 10))
        set_source(hass, ENERGY, reading)
        await hass.async_block_till_done()
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    (event,) = ended
    assert event.data["energy_kwh"] == pytest.approx(3.0)
    assert event.data["energy_source"] == "meter"
    assert event.data["flags"] == []


@pytest.mark.usefixtures("idle_charger")
async def test_meter_reset_spike_and_unit_change(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A spike is rejected, a unit change converted, and each is flagged."""
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    await hass.async_block_till_done()
    readings = [
        ("1521.0", "kWh"),
        ("99999.0", "kWh"),  # a spike no charger can deliver
        ("1522.0", "kWh"),
        ("1523000", "Wh"),  # the integration switched to Wh
        ("1524.0", "kWh"),
    ]
    for minute, (reading, unit) in enumerate(readings, start=1):
        await advance(hass, freezer, T0 + timedelta(minutes=minute * 10))
        set_source(hass, ENERGY, reading, unit)
        await hass.async_block_till_done()
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    (event,) = ended
    assert event.data["energy_kwh"] == pytest.approx(4.0)
    assert set(event.data["flags"]) == {"glitch_rejected", "unit_changed"}


@pytest.mark.usefixtures("idle_charger")
async def test_unsupported_unit_raises_a_repair(
    hass: HomeAssistant, config_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A power sensor in an unknown unit: a clear log line and a repair issue."""
    await setup_entry(hass, config_entry)
    set_source(hass, POWER, "7", "hp")
    await hass.async_block_till_done()
    found = issue(hass, "unsupported_unit", POWER_ID)
    assert found is not None
    assert found.translation_key == "unsupported_unit"
    assert found.translation_placeholders == {
        "charger": "Garage",
        "entity_id": POWER_ID,
        "unit": "hp",
    }
    assert "cannot convert" in caplog.text
    # Fixed at the source: the issue goes away by itself.
    set_source(hass, POWER, "7000", "W")
    await hass.async_block_till_done()
    assert issue(hass, "unsupported_unit", POWER_ID) is None


@pytest.mark.usefixtures("idle_charger")
async def test_unknown_status_raises_a_repair_and_changes_nothing(
    hass: HomeAssistant, config_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """An unrecognised status: logged once, a repair, no session started."""
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "Juicing")
    await hass.async_block_till_done()
    set_source(hass, STATUS, "Juicing", None)
    await hass.async_block_till_done()
    found = issue(hass, "unknown_status_state", STATUS_ID)
    assert found is not None
    assert found.translation_placeholders is not None
    assert found.translation_placeholders["state"] == "Juicing"
    assert caplog.text.count("is not a state ev_sessions knows") == 1
    assert config_entry.runtime_data.view.status == "idle"


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            "name": "Garage",
            "status_entity": STATUS_ID,
            "power_entity": POWER_ID,
            CONF_CHARGING_STATES: ["Juicing"],
            CONF_CONNECTED_STATES: ["Plugged"],
            CONF_DISCONNECTED_STATES: ["Gone"],
        }
    ],
)
async def test_user_mapped_states(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """States mapped in the options start and end sessions."""
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "Plugged")
    await hass.async_block_till_done()
    assert config_entry.runtime_data.view.status == "connected"
    set_source(hass, STATUS, "Gone")
    await hass.async_block_till_done()
    assert config_entry.runtime_data.view.status == "idle"
    assert ended == []  # nothing drawn: discarded
    assert issue(hass, "unknown_status_state", STATUS_ID) is None


async def test_missing_source_raises_a_repair(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A source that does not exist once HA has started: a repair issue."""
    hass.set_state(CoreState.not_running)
    set_source(hass, STATUS, "disconnected")
    set_source(hass, ENERGY, "1520.0")
    await setup_entry(hass, config_entry)
    assert issue(hass, "source_entity_missing", POWER_ID) is None
    await hass.async_start()
    await hass.async_block_till_done()
    found = issue(hass, "source_entity_missing", POWER_ID)
    assert found is not None
    assert found.translation_placeholders == {
        "charger": "Garage",
        "entity_id": POWER_ID,
    }
    assert issue(hass, "source_entity_missing", ENERGY_ID) is None
    # The entity shows up after all: the issue resolves itself.
    set_source(hass, POWER, "0")
    await hass.async_block_till_done()
    assert issue(hass, "source_entity_missing", POWER_ID) is None


@pytest.mark.usefixtures("idle_charger")
async def test_removed_source_mid_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The meter entity is removed mid-session: a repair; the session survives."""
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "7000")
    await advance(hass, freezer, T0 + timedelta(minutes=30))
    set_source(hass, ENERGY, "1523.5")
    await hass.async_block_till_done()
    hass.states.async_remove(ENERGY_ID)
    await hass.async_block_till_done()
    assert issue(hass, "source_entity_missing", ENERGY_ID) is not None
    await advance(hass, freezer, T0 + timedelta(minutes=40))
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    (event,) = ended
    assert event.data["energy_kwh"] == pytest.approx(3.5)

    # Unloading clears the charger's issues (a reload checks again).
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert issue(hass, "source_entity_missing", ENERGY_ID) is None


@pytest.mark.usefixtures("idle_charger")
async def test_idle_ticks_do_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a session the tick neither runs the engine nor publishes."""
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data
    published: list[str] = []
    coordinator.async_add_listener(lambda: published.append(coordinator.view.status))
    tracker = coordinator.tracker
    ticks: list[object] = []
    tick = tracker.tick
    monkeypatch.setattr(tracker, "tick", lambda at: ticks.append(at) or tick(at))
    await advance(hass, freezer, T0 + timedelta(minutes=5))
    # An idle charger's power and meter readings change nothing shown.
    set_source(hass, POWER, "12")
    set_source(hass, ENERGY, "1520.0")
    await advance(hass, freezer, T0 + timedelta(minutes=10))
    assert not ticks
    assert not published

    # A session runs: every tick lets time pass for it.
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "7000")
    await hass.async_block_till_done()
    await advance(hass, freezer, T0 + timedelta(minutes=15))
    assert len(ticks) == 10  # once per cycle of the tick's turns: every 30 s
    assert published[-1] == "charging"


@pytest.mark.usefixtures("idle_charger")
async def test_ticks_publish_the_groups_in_turn(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """One group a tick, each every 30 s; a session change publishes them all.

    So no tick writes every changed sensor at once: the energy, cost and
    revenue sensors of a charging session are written 10 s apart.
    """
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data
    calls: list[tuple[PublishGroup, object]] = []
    for group in PublishGroup:
        coordinator.async_add_listener(
            lambda group=group: calls.append((group, dt_util.utcnow())), group
        )
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "7000")
    await hass.async_block_till_done()
    # The session and its charging started: every group at once.
    assert {group for group, _ in calls} == set(PublishGroup)
    assert len({at for _, at in calls}) == 1
    calls.clear()

    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=3))
    # Every 30 s the tick takes the view; the groups show it in turn, 5 s
    # apart. None for what only a session change changes, nor the slow group
    # within 5 minutes.
    assert len({at for _, at in calls}) == len(calls)
    assert {group for group, _ in calls} == set(TICK_GROUPS)
    first = [at for group, at in calls if group is TICK_GROUPS[0]]
    assert len(first) >= 5
    for index, group in enumerate(TICK_GROUPS):
        times = [at for published, at in calls if published is group]
        assert times[0] == first[0] + index * TURN_INTERVAL
        assert {b - a for a, b in itertools.pairwise(times)} == {TICK_INTERVAL}
    # Five minutes into the session the tick takes the slow view, and the
    # slow group's entities (six here) take the five turns too.
    slow: list[object] = []
    for _ in range(len(TICK_GROUPS)):
        coordinator.async_add_listener(
            lambda: slow.append(dt_util.utcnow()), PublishGroup.SLOW
        )
    calls.clear()
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=2, seconds=30))
    slow += [at for group, at in calls if group is PublishGroup.SLOW]
    assert len(slow) == len(TICK_GROUPS) + 1
    turns = [at for group, at in calls if group in TICK_GROUPS]
    assert set(slow) == set(turns[-len(TICK_GROUPS) :])

    # The session's end: every group at once again.
    calls.clear()
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    assert {group for group, _ in calls} == set(PublishGroup)
    assert len({at for _, at in calls}) == 1
    # Idle and nothing changed: no group is published any more.
    calls.clear()
    await advance(hass, freezer, dt_util.utcnow() + timedelta(minutes=3))
    assert not calls


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            "name": "Garage",
            "status_entity": STATUS_ID,
            "power_entity": POWER_ID,
            CONF_PRICE_ENTITY: "sensor.spot_price",
        }
    ],
)
async def test_idle_tick_publishes_what_samples_changed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A price change shows at its group's next turn, idle or not."""
    price = {"unit_of_measurement": "EUR/kWh"}
    hass.states.async_set("sensor.spot_price", "1.50", price)
    await setup_entry(hass, config_entry)
    assert current_price(hass) == "1.50"
    coordinator = config_entry.runtime_data
    published: list[PublishGroup] = []
    for group in PublishGroup:
        coordinator.async_add_listener(
            lambda group=group: published.append(group), group
        )

    freezer.tick(timedelta(seconds=10))
    hass.states.async_set("sensor.spot_price", "2.25", price)
    await hass.async_block_till_done()
    # Samples are shown by the tick.
    assert current_price(hass) == "1.50"
    await advance(hass, freezer, T0 + timedelta(seconds=30))
    assert current_price(hass) == "2.25"
    # Each of the tick's groups once, in its turn; then nothing until the
    # next change.
    await advance(hass, freezer, T0 + timedelta(minutes=5))
    assert tuple(sorted(published)) == TICK_GROUPS


def current_price(hass: HomeAssistant) -> str:
    """What the current price sensor shows."""
    state = hass.states.get("sensor.garage_current_price")
    assert state is not None
    return state.state


async def test_wallbox_ready_means_no_car(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A Wallbox status entity: its own words win ("Ready" is an empty charger)."""
    entry = er.async_get(hass).async_get_or_create(
        "sensor",
        "wallbox",
        "WB1_status",
        suggested_object_id="garage_charger_status",
    )
    assert entry.entity_id == STATUS_ID
    set_source(hass, POWER, "0")
    set_source(hass, ENERGY, "1520.0")
    set_source(hass, STATUS, "Charging")
    await setup_entry(hass, config_entry)
    assert config_entry.runtime_data.view.status != "idle"
    set_source(hass, STATUS, "Ready")
    await hass.async_block_till_done()
    assert config_entry.runtime_data.view.status == "idle"


VEHICLE_OPTIONS = {
    "name": "Garage",
    "status_entity": STATUS_ID,
    "power_entity": POWER_ID,
    "soc_entity": "sensor.car_battery",
    "battery_capacity_kwh": 75,
}


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [VEHICLE_OPTIONS])
async def test_the_learned_taper_model_survives_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session with SoC readings teaches the model; a restart keeps it."""
    trace = charge_taper(
        Car(), start_soc=40, target_soc=70, seed=2, sample_s=60, start=T0
    )
    hass.states.async_set("sensor.car_battery", "40")
    await setup_entry(hass, config_entry)
    set_source(hass, STATUS, "charging")
    for sample in trace.samples:
        await advance(hass, freezer, sample.at)
        set_source(hass, POWER, str(round(sample.power_kw * 1000)))
        hass.states.async_set("sensor.car_battery", f"{sample.soc:g}")
    await advance(hass, freezer, trace.ended_at)
    hass.states.async_set("sensor.car_battery", "70")
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    learner = config_entry.runtime_data.tracker.learner
    assert learner.sessions == 1
    learned = learner.to_dict()
    assert learned["sessions"][0]["efficiency"] == pytest.approx(0.9, abs=0.03)

    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.tracker.learner.to_dict() == learned
    stored = hass_storage[f"{DOMAIN}.{ENTRY_ID}.history"]["data"]
    assert stored["taper_model"] == learned

    # Damaged: the sessions are kept, the model starts afresh.
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{ENTRY_ID}.history"]["data"]
    stored["taper_model"] = {"sessions": [{"knee_soc": "high"}]}
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.tracker.learner.sessions == 0
    assert len(config_entry.runtime_data.history) == 1
    assert "stored taper model is unreadable" in caplog.text
