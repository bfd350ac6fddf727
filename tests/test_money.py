"""Cost and revenue of sessions, with figures checked by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.ev_sessions.const import DOMAIN, EVENT_SESSION_ENDED

from .charger import ENTRY_ID, POWER_ID, STATUS_ID, T0, advance, set_source, setup_entry
from .traces import POWER, STATUS

PRICE_ID = "sensor.nordpool_kwh_se3"
USER_ID = "sensor.garage_charger_user"


def set_price(hass: HomeAssistant, price: str, unit: str = "öre/kWh") -> None:
    """Set the spot price sensor."""
    hass.states.async_set(PRICE_ID, price, {"unit_of_measurement": unit})


async def at(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime
) -> None:
    """Let time pass until `when` (timers fire on the way)."""
    await advance(hass, freezer, when)


def options(**extra: Any) -> dict[str, Any]:
    """A status + power charger (energy from integrated power: exact figures)."""
    return {
        "name": "Garage",
        "status_entity": STATUS_ID,
        "power_entity": POWER_ID,
    } | extra


@pytest.fixture(autouse=True)
def swedish_home(hass: HomeAssistant) -> None:
    """Home Assistant set to Swedish kronor."""
    hass.config.currency = "SEK"


async def charge_session(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    intervals: list[tuple[datetime, datetime, int]],
    unplug: datetime,
    *,
    plug: datetime = T0,
) -> None:
    """Plug in at `plug`, charge at the given watts in each interval, unplug."""
    await at(hass, freezer, plug)
    set_source(hass, STATUS, "awaiting_start")
    await hass.async_block_till_done()
    for start, end, watts in intervals:
        await at(hass, freezer, start)
        set_source(hass, POWER, str(watts))
        set_source(hass, STATUS, "charging")
        await hass.async_block_till_done()
        await at(hass, freezer, end)
        set_source(hass, POWER, "0")
        set_source(hass, STATUS, "awaiting_start")
        await hass.async_block_till_done()
    await at(hass, freezer, unplug)
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()


def sensor(hass: HomeAssistant, key: str) -> str:
    """The state of one of our sensors, by key."""
    from homeassistant.helpers import entity_registry as er

    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{ENTRY_ID}_{key}"
    )
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [options(price_entity=PRICE_ID)])
async def test_homeowner_on_spot_price(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """15-minute spot prices in öre/kWh: each kWh costs the price when drawn.

    11 kW from 18:05 to 18:35 = 5.5 kWh. Prices 100 öre until 18:15, 200 öre
    until 18:30, then 50 öre: 10 min x 11 kW = 1.8333 kWh x 1.00 = 1.833333,
    15 min = 2.75 kWh x 2.00 = 5.5, 5 min = 0.916667 kWh x 0.50 = 0.458333;
    7.791667 SEK in all.
    """
    set_price(hass, "100")
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    assert float(sensor(hass, "current_price")) == 1.0

    await at(hass, freezer, T0)
    set_source(hass, STATUS, "awaiting_start")
    await at(hass, freezer, T0 + timedelta(minutes=5))
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "11000")
    await at(hass, freezer, T0 + timedelta(minutes=15))
    set_price(hass, "200")
    await at(hass, freezer, T0 + timedelta(minutes=30))
    set_price(hass, "50")
    await at(hass, freezer, T0 + timedelta(minutes=35))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "completed")
    await at(hass, freezer, T0 + timedelta(minutes=40))
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()

    (event,) = ended
    data = event.data
    assert data["energy_kwh"] == pytest.approx(5.5)
    assert data["currency"] == "SEK"
    assert data["cost"] == pytest.approx(7.7916667, abs=1e-6)
    assert data["avg_cost_per_kwh"] == pytest.approx(7.7916667 / 5.5, abs=1e-6)
    assert data["price_min"] == 0.5
    assert data["price_max"] == 2.0
    assert data["revenue"] == 0.0
    assert data["margin"] == pytest.approx(-7.7916667, abs=1e-6)
    assert "price_gap" not in data["flags"]
    assert float(sensor(hass, "last_session_cost")) == pytest.approx(7.791667)
    assert float(sensor(hass, "total_cost")) == pytest.approx(7.791667)
    assert float(sensor(hass, "current_price")) == 0.5


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [
        options(
            cost_per_kwh=1.5,
            fee_per_kwh=3,
            fee_per_session=10,
            idle_fee_per_hour=20,
            idle_grace_minutes=30,
        )
    ],
)
async def test_housing_association_tariff(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """3 SEK/kWh + 10 SEK start fee + 20 SEK/h idle after 30 min of grace.

    10 kW 18:00-19:00 and (after a 45-minute smart-charging pause, which is
    not idle time) 19:45-20:45: 20 kWh. Unplugged 22:15, 90 min after charging
    ended: 60 min billed idle. Revenue 60 + 10 + 20 = 90 SEK; cost 20 x 1.5 =
    30 SEK; margin 60 SEK.
    """
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    await charge_session(
        hass,
        freezer,
        [
            (T0, T0 + timedelta(hours=1), 10000),
            (T0 + timedelta(minutes=105), T0 + timedelta(minutes=165), 10000),
        ],
        unplug=T0 + timedelta(minutes=255),
    )
    (event,) = ended
    data = event.data
    assert data["energy_kwh"] == pytest.approx(20.0)
    assert data["revenue_breakdown"] == {
        "session_fee": 10.0,
        "energy_fee": 60.0,
        "time_fee": 0.0,
        "idle_fee": 20.0,
        "minimum_fee_adjustment": 0.0,
    }
    assert data["revenue"] == 90.0
    assert data["cost"] == 30.0
    assert data["margin"] == 60.0
    assert data["tariff"]["fee_per_kwh"] == 3.0
    assert data["tariff"]["idle_grace_minutes"] == 30.0
    assert float(sensor(hass, "last_session_revenue")) == 90.0
    assert float(sensor(hass, "total_revenue")) == 90.0


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [options(price_entity=PRICE_ID, markup_factor=1, fee_per_hour=0.5, minimum_fee=2)],
)
async def test_employer_reimbursement_at_cost_in_eur_per_mwh(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A company car paid back at cost: EUR/MWh prices, revenue = cost.

    7 kW for 1 h at 85.30 EUR/MWh = 0.0853 EUR/kWh: cost 0.5971 EUR; revenue
    at cost (markup factor 1) 0.5971 + 0.5 EUR/h x 1 h = 1.0971, raised to the
    2 EUR minimum (adjustment 0.9029).
    """
    hass.config.currency = "EUR"
    set_price(hass, "85.30", "EUR/MWh")
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    await charge_session(
        hass,
        freezer,
        [(T0, T0 + timedelta(hours=1), 7000)],
        unplug=T0 + timedelta(hours=1, minutes=5),
    )
    (event,) = ended
    data = event.data
    assert data["currency"] == "EUR"
    assert data["cost"] == pytest.approx(0.5971)
    assert data["revenue_breakdown"]["energy_fee"] == pytest.approx(0.5971)
    assert data["revenue_breakdown"]["time_fee"] == pytest.approx(0.5)
    assert data["revenue_breakdown"]["minimum_fee_adjustment"] == pytest.approx(0.9029)
    assert data["revenue"] == pytest.approx(2.0)


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [options(price_entity=PRICE_ID)])
async def test_price_entity_unavailable_uses_last_price(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The price goes unavailable: the last known price is used, and flagged."""
    set_price(hass, "150")
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    await at(hass, freezer, T0)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "6000")
    await at(hass, freezer, T0 + timedelta(minutes=20))
    hass.states.async_set(PRICE_ID, "unavailable")
    await at(hass, freezer, T0 + timedelta(minutes=60))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    (event,) = ended
    assert event.data["cost"] == pytest.approx(6.0 * 1.5)
    assert "price_gap" in event.data["flags"]


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [options(price_entity=PRICE_ID)])
async def test_price_entity_in_an_unknown_unit(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A price in a unit that cannot be converted: a repair, readings ignored."""
    set_price(hass, "1.2", "USD/kWh")
    await setup_entry(hass, config_entry)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"unsupported_unit_{PRICE_ID}_{ENTRY_ID}"
    )
    assert issue is not None
    assert sensor(hass, "current_price") == "unknown"


USERS = [
    {"name": "Anna", "tag": "04A1B2C3", "tariff": {"fee_per_kwh": 2}},
    {"name": "Bo", "tag": "99FF0011"},
]


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize(
    "entry_options",
    [options(cost_per_kwh=1, fee_per_kwh=3, user_entity=USER_ID, users=USERS)],
)
@pytest.mark.parametrize(
    ("tag", "user", "revenue", "flags"),
    [
        ("04A1B2C3", "Anna", 2 * 5.0, []),  # her own tariff
        ("99ff0011", "Bo", 3 * 5.0, []),  # no own tariff: the default
        ("DEADBEEF", "DEADBEEF", 3 * 5.0, ["unknown_user"]),
    ],
)
async def test_per_user_tariff(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    tag: str,
    user: str,
    revenue: float,
    flags: list[str],
) -> None:
    """The RFID tag shown after plug-in picks the user and their tariff."""
    hass.states.async_set(USER_ID, "unknown")
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    await at(hass, freezer, T0)
    set_source(hass, STATUS, "awaiting_start")
    await at(hass, freezer, T0 + timedelta(minutes=1))
    hass.states.async_set(USER_ID, tag)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "10000")
    await at(hass, freezer, T0 + timedelta(minutes=31))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    (event,) = ended
    assert event.data["user"] == user
    assert event.data["revenue"] == pytest.approx(revenue)
    assert [flag for flag in event.data["flags"] if flag == "unknown_user"] == flags


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [options(cost_per_kwh=1, fee_per_kwh=3)])
async def test_tariff_changed_mid_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A new tariff applies from the next session; the running one keeps its own."""
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await setup_entry(hass, config_entry)
    await at(hass, freezer, T0)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "10000")
    await at(hass, freezer, T0 + timedelta(minutes=30))
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "fee_per_kwh": 4}
    )
    await hass.async_block_till_done()
    await at(hass, freezer, T0 + timedelta(minutes=60))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()
    await charge_session(
        hass,
        freezer,
        [(T0 + timedelta(hours=2), T0 + timedelta(hours=3), 10000)],
        unplug=T0 + timedelta(hours=3),
        plug=T0 + timedelta(hours=2),
    )
    first, second = ended
    assert first.data["energy_kwh"] == pytest.approx(10.0)
    assert first.data["revenue"] == pytest.approx(30.0)
    assert first.data["tariff"]["fee_per_kwh"] == 3.0
    assert second.data["revenue"] == pytest.approx(40.0)
    assert second.data["tariff"]["fee_per_kwh"] == 4.0
