"""Adding a charger, changing its options and swapping its entities.

The options open on a menu: the charger's entities and thresholds, its prices
and fees, its users. Each form saves when submitted.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous_serialize

from custom_components.ev_sessions.const import (
    CONF_CHARGER_TYPE,
    CONF_CHARGING_STATES,
    CONF_CONNECTED_STATES,
    CONF_COST_PER_KWH,
    CONF_DISCONNECTED_STATES,
    CONF_ENERGY_ENTITY,
    CONF_FEE_PER_HOUR,
    CONF_FEE_PER_KWH,
    CONF_FEE_PER_SESSION,
    CONF_IDLE_FEE_PER_HOUR,
    CONF_IDLE_GRACE_MINUTES,
    CONF_MARKUP_FACTOR,
    CONF_MARKUP_PER_KWH,
    CONF_MIN_SESSION_ENERGY_KWH,
    CONF_MINIMUM_FEE,
    CONF_NAME,
    CONF_POWER_ENTITY,
    CONF_POWER_THRESHOLD_W,
    CONF_PRICE_ENTITY,
    CONF_SESSION_TIMEOUT_MINUTES,
    CONF_STATUS_ENTITY,
    CONF_USER_ENTITY,
    CONF_USERS,
    DOMAIN,
)
from custom_components.ev_sessions.pricing import TARIFF_KEYS

STATUS = "binary_sensor.charger_plug"
POWER = "sensor.charger_power"
POWER_KW = "sensor.charger_power_kw"
ENERGY = "sensor.charger_energy"
ENERGY_WH = "sensor.charger_energy_wh"
STATUS_ENUM = "sensor.charger_state"
RFID = "sensor.charger_rfid_tag"
PRICE_ORE_KWH = "sensor.nord_pool_se3"
PRICE_EUR_MWH = "sensor.entsoe_price"
PRICE_PERCENT = "sensor.price_level"
PRICE_NO_UNIT = "sensor.price_text"

DEFAULT_THRESHOLDS = {
    CONF_POWER_THRESHOLD_W: 200.0,
    CONF_MIN_SESSION_ENERGY_KWH: 0.05,
    CONF_SESSION_TIMEOUT_MINUTES: 60,
}
THRESHOLD_INPUT = {
    CONF_POWER_THRESHOLD_W: 200,
    CONF_MIN_SESSION_ENERGY_KWH: 0.05,
    CONF_SESSION_TIMEOUT_MINUTES: 60,
}


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep the integration itself out of the flow tests."""
    with patch(
        "custom_components.ev_sessions.async_setup_entry", return_value=True
    ) as mock:
        yield mock


@pytest.fixture(autouse=True)
def charger_entities(hass: HomeAssistant) -> None:
    """A wallbox as its integration shows it, plus a few entities to pick wrongly."""
    hass.states.async_set(STATUS, "off", {"device_class": "plug"})
    hass.states.async_set(
        STATUS_ENUM,
        "Gone",
        {"device_class": "enum", "options": ["Plugged", "Juicing", "Gone"]},
    )
    hass.states.async_set(
        POWER, "0", {"unit_of_measurement": "W", "device_class": "power"}
    )
    hass.states.async_set(
        POWER_KW, "0.0", {"unit_of_measurement": "kW", "device_class": "power"}
    )
    hass.states.async_set(
        ENERGY,
        "1234.56",
        {
            "unit_of_measurement": "kWh",
            "device_class": "energy",
            "state_class": "total_increasing",
        },
    )
    hass.states.async_set(
        ENERGY_WH,
        "7300",
        {
            "unit_of_measurement": "Wh",
            "device_class": "energy",
            "state_class": "measurement",
        },
    )
    hass.states.async_set("sensor.charger_current", "0", {"unit_of_measurement": "A"})
    hass.states.async_set(
        "sensor.outdoor_temperature",
        "4.5",
        {"unit_of_measurement": "°C", "device_class": "temperature"},
    )
    hass.states.async_set(
        "sensor.heat_meter",
        "12",
        {"unit_of_measurement": "GJ", "device_class": "energy"},
    )
    hass.states.async_set(RFID, "unknown")
    hass.states.async_set(PRICE_ORE_KWH, "87.3", {"unit_of_measurement": "öre/kWh"})
    hass.states.async_set(PRICE_EUR_MWH, "92.4", {"unit_of_measurement": "EUR/MWh"})
    hass.states.async_set(PRICE_PERCENT, "40", {"unit_of_measurement": "%"})
    hass.states.async_set(PRICE_NO_UNIT, "cheap")


def charger_entry(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """Add an ev_sessions entry as the user step would have created it."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=options.get(CONF_NAME, "Garage"),
        data={},
        options={
            CONF_NAME: "Garage",
            CONF_CHARGER_TYPE: "ac_3_phase",
            **DEFAULT_THRESHOLDS,
            **options,
        },
    )
    entry.add_to_hass(hass)
    return entry


def assert_serializable(result: Any) -> None:
    """The frontend must be able to render the form."""
    voluptuous_serialize.convert(
        result["data_schema"], custom_serializer=cv.custom_serializer
    )


def suggested_values(result: Any) -> dict[str, Any]:
    """Return what the form shows pre-filled, by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def section_suggested_values(result: Any, name: str) -> dict[str, Any]:
    """Return what a form's section shows pre-filled, by field."""
    for key, value in result["data_schema"].schema.items():
        if str(key) == name:
            return {
                str(field): field.description["suggested_value"]
                for field in value.schema.schema
                if field.description and "suggested_value" in field.description
            }
    raise AssertionError(f"the form has no section {name!r}")


async def open_options(hass: HomeAssistant, entry: MockConfigEntry, topic: str) -> Any:
    """Open the charger's options and pick a topic from the menu."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": topic}
    )


async def open_users(hass: HomeAssistant, entry: MockConfigEntry, action: str) -> Any:
    """Open the charger's options, then Users, then `action` from that menu."""
    result = await open_options(hass, entry, "users")
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "users"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": action}
    )


async def start_user_flow(hass: HomeAssistant) -> Any:
    """Open the "add charger" dialog."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert_serializable(result)
    return result


# ------------------------------------------------------------------ user step


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_adds_charger_with_status_power_and_meter(
    hass: HomeAssistant,
) -> None:
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Garage",
            CONF_STATUS_ENTITY: STATUS,
            CONF_POWER_ENTITY: POWER,
            CONF_ENERGY_ENTITY: ENERGY,
            CONF_CHARGER_TYPE: "ac_1_phase",
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["data"] == {}
    entry = result["result"]
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_STATUS_ENTITY: STATUS,
        CONF_POWER_ENTITY: POWER,
        CONF_ENERGY_ENTITY: ENERGY,
        CONF_CHARGER_TYPE: "ac_1_phase",
        **DEFAULT_THRESHOLDS,
    }
    assert entry.version == 1
    assert entry.minor_version == 1


@pytest.mark.parametrize(
    ("sources", "expected_sources"),
    [
        pytest.param(
            {CONF_POWER_ENTITY: POWER_KW},
            {CONF_POWER_ENTITY: POWER_KW},
            id="power_only_kw",
        ),
        pytest.param(
            {CONF_ENERGY_ENTITY: ENERGY_WH},
            {CONF_ENERGY_ENTITY: ENERGY_WH},
            id="meter_only_wh",
        ),
    ],
)
async def test_user_adds_charger_with_one_measurement(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    sources: dict[str, str],
    expected_sources: dict[str, str],
) -> None:
    """Name and type fall back to their defaults; unset entities are not stored."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], sources)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "EV charger"
    assert result["options"] == {
        CONF_NAME: "EV charger",
        **expected_sources,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
    }
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize(
    ("sources", "errors"),
    [
        pytest.param({}, {"base": "no_measurement"}, id="nothing"),
        pytest.param(
            {CONF_STATUS_ENTITY: STATUS}, {"base": "no_measurement"}, id="status_only"
        ),
        pytest.param(
            {CONF_STATUS_ENTITY: "binary_sensor.gone", CONF_POWER_ENTITY: POWER},
            {CONF_STATUS_ENTITY: "entity_not_found"},
            id="status_missing",
        ),
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.gone"},
            {CONF_POWER_ENTITY: "entity_not_found"},
            id="power_missing",
        ),
        pytest.param(
            {CONF_ENERGY_ENTITY: "sensor.gone"},
            {CONF_ENERGY_ENTITY: "entity_not_found"},
            id="energy_missing",
        ),
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.charger_current"},
            {CONF_POWER_ENTITY: "invalid_power_unit"},
            id="power_in_amperes",
        ),
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.outdoor_temperature"},
            {CONF_POWER_ENTITY: "invalid_power_device_class"},
            id="power_is_temperature",
        ),
        pytest.param(
            {CONF_ENERGY_ENTITY: "sensor.heat_meter"},
            {CONF_ENERGY_ENTITY: "invalid_energy_unit"},
            id="energy_in_gigajoule",
        ),
        pytest.param(
            {CONF_ENERGY_ENTITY: POWER},
            {CONF_ENERGY_ENTITY: "invalid_energy_device_class"},
            id="energy_is_power",
        ),
        pytest.param(
            {CONF_STATUS_ENTITY: POWER, CONF_POWER_ENTITY: POWER},
            {"base": "same_entity"},
            id="same_entity",
        ),
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.gone", CONF_ENERGY_ENTITY: "sensor.heat_meter"},
            {
                CONF_POWER_ENTITY: "entity_not_found",
                CONF_ENERGY_ENTITY: "invalid_energy_unit",
            },
            id="two_fields_wrong",
        ),
    ],
)
async def test_user_errors_then_recovers(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    sources: dict[str, str],
    errors: dict[str, str],
) -> None:
    """A wrong pick keeps the form open with the user's input; fixing it finishes."""
    result = await start_user_flow(hass)
    user_input = {CONF_NAME: "Garage", CONF_CHARGER_TYPE: "dc", **sources}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    assert_serializable(result)
    assert suggested_values(result) == user_input

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Garage", CONF_CHARGER_TYPE: "dc", CONF_POWER_ENTITY: POWER},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_POWER_ENTITY] == POWER


@pytest.mark.parametrize(
    ("existing", "sources"),
    [
        pytest.param(
            {CONF_POWER_ENTITY: POWER}, {CONF_POWER_ENTITY: POWER}, id="power"
        ),
        pytest.param(
            {CONF_ENERGY_ENTITY: ENERGY},
            {CONF_POWER_ENTITY: POWER_KW, CONF_ENERGY_ENTITY: ENERGY},
            id="meter",
        ),
    ],
)
@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_aborts_when_another_charger_measures_the_same_entity(
    hass: HomeAssistant, existing: dict[str, str], sources: dict[str, str]
) -> None:
    charger_entry(hass, **existing)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Second charger", **sources}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_may_share_only_the_status_entity(hass: HomeAssistant) -> None:
    """Only measurements count as "already configured"."""
    charger_entry(hass, **{CONF_STATUS_ENTITY: STATUS, CONF_POWER_ENTITY: POWER})
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_STATUS_ENTITY: STATUS, CONF_POWER_ENTITY: POWER_KW}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY


# ------------------------------------------------------------------ options flow


async def test_options_open_on_a_menu(hass: HomeAssistant) -> None:
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"
    assert result["menu_options"] == ["charger", "pricing", "users"]


async def test_options_change_thresholds_and_add_meter(hass: HomeAssistant) -> None:
    entry = charger_entry(
        hass, **{CONF_STATUS_ENTITY: STATUS, CONF_POWER_ENTITY: POWER}
    )

    result = await open_options(hass, entry, "charger")

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger"
    assert result["errors"] == {}
    assert_serializable(result)
    assert suggested_values(result) == {
        CONF_STATUS_ENTITY: STATUS,
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS,
            CONF_POWER_ENTITY: POWER,
            CONF_ENERGY_ENTITY: ENERGY,
            CONF_CHARGER_TYPE: "ac_1_phase",
            CONF_POWER_THRESHOLD_W: 500,
            CONF_MIN_SESSION_ENERGY_KWH: 0.25,
            CONF_SESSION_TIMEOUT_MINUTES: 90,
        },
    )

    expected = {
        CONF_NAME: "Garage",
        CONF_STATUS_ENTITY: STATUS,
        CONF_POWER_ENTITY: POWER,
        CONF_ENERGY_ENTITY: ENERGY,
        CONF_CHARGER_TYPE: "ac_1_phase",
        CONF_POWER_THRESHOLD_W: 500.0,
        CONF_MIN_SESSION_ENERGY_KWH: 0.25,
        CONF_SESSION_TIMEOUT_MINUTES: 90,
    }
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == expected
    assert entry.options == expected
    assert isinstance(entry.options[CONF_SESSION_TIMEOUT_MINUTES], int)


async def test_options_clear_status_entity_drops_its_state_lists(
    hass: HomeAssistant,
) -> None:
    entry = charger_entry(
        hass,
        **{
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGING_STATES: ["Juicing"],
        },
    )
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_POWER_ENTITY: POWER, CONF_CHARGER_TYPE: "ac_3_phase", **THRESHOLD_INPUT},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
    }


@pytest.mark.parametrize(
    ("sources", "errors"),
    [
        pytest.param(
            {CONF_STATUS_ENTITY: STATUS},
            {"base": "no_measurement"},
            id="no_measurement",
        ),
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.charger_current"},
            {CONF_POWER_ENTITY: "invalid_power_unit"},
            id="invalid_power_unit",
        ),
        pytest.param(
            {CONF_POWER_ENTITY: POWER, CONF_ENERGY_ENTITY: "sensor.carport_energy"},
            {CONF_ENERGY_ENTITY: "already_configured"},
            id="meter_of_another_charger",
        ),
    ],
)
async def test_options_errors(
    hass: HomeAssistant, sources: dict[str, str], errors: dict[str, str]
) -> None:
    """Options cannot abort nicely: another charger's meter is a form error."""
    hass.states.async_set(
        "sensor.carport_energy",
        "5",
        {"unit_of_measurement": "kWh", "device_class": "energy"},
    )
    charger_entry(hass, **{CONF_ENERGY_ENTITY: "sensor.carport_energy"})
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**sources, CONF_CHARGER_TYPE: "ac_3_phase", **THRESHOLD_INPUT},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger"
    assert result["errors"] == errors
    assert entry.options[CONF_POWER_ENTITY] == POWER


async def test_options_recognised_status_has_no_second_step(
    hass: HomeAssistant,
) -> None:
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_STATUS_ENTITY] == STATUS


async def test_options_map_unknown_status_states(hass: HomeAssistant) -> None:
    """A charger that says "Juicing" gets a second page to explain itself."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "status_states"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "entity_id": STATUS_ENUM,
        "states": "Juicing, Gone",  # "Plugged" is in the built-in vocabulary
    }
    assert_serializable(result)
    selector = result["data_schema"].schema[CONF_CHARGING_STATES]
    assert selector.config["options"] == ["Plugged", "Juicing", "Gone"]
    assert selector.config["multiple"] is True
    assert selector.config["custom_value"] is True
    assert entry.options.get(CONF_STATUS_ENTITY) is None  # nothing saved yet

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CHARGING_STATES: ["Juicing"],
            CONF_CONNECTED_STATES: ["Plugged", " Done ", "Done", ""],
            CONF_DISCONNECTED_STATES: ["Gone"],
        },
    )

    expected = {
        CONF_NAME: "Garage",
        CONF_STATUS_ENTITY: STATUS_ENUM,
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
        CONF_CHARGING_STATES: ["Juicing"],
        CONF_CONNECTED_STATES: ["Plugged", "Done"],
        CONF_DISCONNECTED_STATES: ["Gone"],
    }
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == expected
    assert entry.options == expected


@pytest.mark.parametrize(
    "connected_states",
    [
        pytest.param(["Plugged", "Juicing"], id="same_spelling"),
        pytest.param(["Plugged", " juicing"], id="other_case"),
    ],
)
async def test_options_state_in_two_lists(
    hass: HomeAssistant, connected_states: list[str]
) -> None:
    entry = charger_entry(
        hass, **{CONF_STATUS_ENTITY: STATUS_ENUM, CONF_POWER_ENTITY: POWER}
    )
    result = await open_options(hass, entry, "charger")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )
    assert result["step_id"] == "status_states"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CHARGING_STATES: ["Juicing"],
            CONF_CONNECTED_STATES: connected_states,
        },
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "status_states"
    assert result["errors"] == {"base": "state_in_two_lists"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_CHARGING_STATES: ["Juicing"], CONF_CONNECTED_STATES: ["Plugged"]},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CHARGING_STATES] == ["Juicing"]
    assert entry.options[CONF_CONNECTED_STATES] == ["Plugged"]
    assert CONF_DISCONNECTED_STATES not in entry.options


async def test_options_mapped_states_can_be_reviewed_and_cleared(
    hass: HomeAssistant,
) -> None:
    """Once states are mapped, the second page stays reachable to undo them."""
    entry = charger_entry(
        hass,
        **{
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGING_STATES: ["Juicing"],
            CONF_CONNECTED_STATES: ["Plugged"],
            CONF_DISCONNECTED_STATES: ["Gone", "Offline"],
        },
    )
    result = await open_options(hass, entry, "charger")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )

    assert result["step_id"] == "status_states"
    assert result["description_placeholders"]["states"] == "-"
    schema = result["data_schema"].schema
    assert schema[CONF_CHARGING_STATES].config["options"] == [
        "Plugged",
        "Juicing",
        "Gone",
        "Offline",
    ]
    assert suggested_values(result) == {
        CONF_CHARGING_STATES: ["Juicing"],
        CONF_CONNECTED_STATES: ["Plugged"],
        CONF_DISCONNECTED_STATES: ["Gone", "Offline"],
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CHARGING_STATES: [], CONF_CONNECTED_STATES: []}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_STATUS_ENTITY: STATUS_ENUM,
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
    }


async def test_options_offer_the_state_named_by_a_repair(hass: HomeAssistant) -> None:
    """A sensor without an options list: the unknown states come from the repair."""
    hass.states.async_set("sensor.wallbox_status", "Charging")
    entry = charger_entry(
        hass,
        **{CONF_STATUS_ENTITY: "sensor.wallbox_status", CONF_POWER_ENTITY: POWER},
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"unknown_status_state_sensor.wallbox_status_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="unknown_status_state",
        translation_placeholders={
            "charger": "Garage",
            "entity_id": "sensor.wallbox_status",
            "state": "Error 42, Overheated",
        },
    )
    other = charger_entry(hass, **{CONF_STATUS_ENTITY: "sensor.wallbox_status"})
    ir.async_create_issue(  # another charger's repair: not ours to offer
        hass,
        DOMAIN,
        f"unknown_status_state_sensor.wallbox_status_{other.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="unknown_status_state",
        translation_placeholders={
            "charger": "Carport",
            "entity_id": "sensor.wallbox_status",
            "state": "Sleeping",
        },
    )
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: "sensor.wallbox_status",
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "status_states"
    assert result["description_placeholders"]["states"] == "Error 42, Overheated"
    assert result["data_schema"].schema[CONF_CHARGING_STATES].config["options"] == [
        "Charging",
        "Error 42",
        "Overheated",
    ]


async def test_options_status_entity_vanishes_before_second_step(
    hass: HomeAssistant,
) -> None:
    """The second page still renders (empty) if the entity disappears meanwhile."""
    entry = charger_entry(
        hass,
        **{
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGING_STATES: ["Juicing"],
        },
    )
    result = await open_options(hass, entry, "charger")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )
    hass.states.async_remove(STATUS_ENUM)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_CHARGING_STATES: ["Juicing"], CONF_CONNECTED_STATES: ["Juicing"]},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "state_in_two_lists"}
    assert result["description_placeholders"]["states"] == "-"
    assert result["data_schema"].schema[CONF_CHARGING_STATES].config["options"] == [
        "Juicing"
    ]


async def test_options_charger_stores_user_entity(hass: HomeAssistant) -> None:
    """The user entity survives the status-state page and can be cleared again."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_USER_ENTITY: RFID,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )
    assert result["step_id"] == "status_states"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CHARGING_STATES: ["Juicing"]}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_STATUS_ENTITY: STATUS_ENUM,
        CONF_POWER_ENTITY: POWER,
        CONF_USER_ENTITY: RFID,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
        CONF_CHARGING_STATES: ["Juicing"],
    }

    result = await open_options(hass, entry, "charger")
    assert suggested_values(result)[CONF_USER_ENTITY] == RFID
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_POWER_ENTITY: POWER, CONF_CHARGER_TYPE: "ac_3_phase", **THRESHOLD_INPUT},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_USER_ENTITY not in entry.options


@pytest.mark.parametrize(
    ("user_entity", "errors"),
    [
        pytest.param(
            "sensor.gone", {CONF_USER_ENTITY: "entity_not_found"}, id="missing"
        ),
        pytest.param(POWER, {CONF_USER_ENTITY: "same_entity"}, id="power_sensor"),
    ],
)
async def test_options_charger_user_entity_errors(
    hass: HomeAssistant, user_entity: str, errors: dict[str, str]
) -> None:
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "charger")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS,
            CONF_POWER_ENTITY: POWER,
            CONF_USER_ENTITY: user_entity,
            CONF_CHARGER_TYPE: "ac_3_phase",
            **THRESHOLD_INPUT,
        },
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger"
    assert result["errors"] == errors
    assert CONF_STATUS_ENTITY not in entry.options


# ------------------------------------------------------------------ pricing

# Every tariff field, filled in as a user would.
TARIFF_INPUT = {
    CONF_FEE_PER_SESSION: 5,
    CONF_FEE_PER_KWH: 0.25,
    CONF_FEE_PER_HOUR: 1.5,
    CONF_IDLE_FEE_PER_HOUR: 30,
    CONF_IDLE_GRACE_MINUTES: 15,
    CONF_MINIMUM_FEE: 10,
    CONF_MARKUP_FACTOR: 1.25,
    CONF_MARKUP_PER_KWH: -0.1,
}


@pytest.mark.parametrize(
    ("cost_price", "expected_cost_price"),
    [
        pytest.param(
            {CONF_COST_PER_KWH: 1.85}, {CONF_COST_PER_KWH: 1.85}, id="fixed_price"
        ),
        pytest.param(
            {CONF_PRICE_ENTITY: PRICE_ORE_KWH},
            {CONF_PRICE_ENTITY: PRICE_ORE_KWH},
            id="price_entity",
        ),
        pytest.param(
            {CONF_COST_PER_KWH: 0, CONF_PRICE_ENTITY: PRICE_ORE_KWH},
            {CONF_COST_PER_KWH: 0.0, CONF_PRICE_ENTITY: PRICE_ORE_KWH},
            id="all_ten_keys",
        ),
    ],
)
async def test_options_pricing_stores_every_money_key(
    hass: HomeAssistant,
    cost_price: dict[str, Any],
    expected_cost_price: dict[str, Any],
) -> None:
    """Prices and fees land in the options by their contract keys, as entered."""
    hass.config.currency = "SEK"
    users = [{"name": "Anna", "tag": "04A1B2"}]
    entry = charger_entry(
        hass,
        **{CONF_POWER_ENTITY: POWER, CONF_USER_ENTITY: RFID, CONF_USERS: users},
    )

    result = await open_options(hass, entry, "pricing")

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pricing"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"currency": "SEK"}
    assert_serializable(result)
    assert suggested_values(result) == {}
    schema = {str(key): value for key, value in result["data_schema"].schema.items()}
    assert set(schema) == {CONF_COST_PER_KWH, CONF_PRICE_ENTITY, *TARIFF_KEYS}
    assert schema[CONF_FEE_PER_KWH].config["unit_of_measurement"] == "SEK/kWh"
    assert schema[CONF_IDLE_FEE_PER_HOUR].config["unit_of_measurement"] == "SEK/h"
    assert schema[CONF_MINIMUM_FEE].config["unit_of_measurement"] == "SEK"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**cost_price, **TARIFF_INPUT}
    )

    expected = {
        CONF_NAME: "Garage",
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
        CONF_USER_ENTITY: RFID,
        CONF_USERS: users,
        **expected_cost_price,
        CONF_FEE_PER_SESSION: 5.0,
        CONF_FEE_PER_KWH: 0.25,
        CONF_FEE_PER_HOUR: 1.5,
        CONF_IDLE_FEE_PER_HOUR: 30.0,
        CONF_IDLE_GRACE_MINUTES: 15,
        CONF_MINIMUM_FEE: 10.0,
        CONF_MARKUP_FACTOR: 1.25,
        CONF_MARKUP_PER_KWH: -0.1,
    }
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == expected
    assert entry.options == expected
    assert isinstance(entry.options[CONF_IDLE_GRACE_MINUTES], int)


async def test_options_pricing_prefilled_and_cleared(hass: HomeAssistant) -> None:
    """The form shows the prices in force; emptied fields leave the options."""
    pricing = {
        CONF_PRICE_ENTITY: PRICE_EUR_MWH,
        CONF_FEE_PER_SESSION: 2.0,
        CONF_MARKUP_FACTOR: 1.1,
        CONF_IDLE_GRACE_MINUTES: 30,
    }
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, **pricing})

    result = await open_options(hass, entry, "pricing")

    assert result["description_placeholders"] == {"currency": "EUR"}
    assert suggested_values(result) == pricing

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_COST_PER_KWH: 0.32, CONF_FEE_PER_SESSION: 2}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
        CONF_COST_PER_KWH: 0.32,
        CONF_FEE_PER_SESSION: 2.0,
    }


@pytest.mark.parametrize(
    ("currency", "price_entity", "error"),
    [
        pytest.param("SEK", PRICE_ORE_KWH, None, id="ore_per_kwh_in_sek"),
        pytest.param("EUR", PRICE_EUR_MWH, None, id="eur_per_mwh_in_eur"),
        pytest.param("SEK", PRICE_EUR_MWH, "invalid_price_unit", id="eur_in_sek"),
        pytest.param("EUR", PRICE_ORE_KWH, "invalid_price_unit", id="ore_in_eur"),
        pytest.param("EUR", PRICE_PERCENT, "invalid_price_unit", id="percent"),
        pytest.param("EUR", PRICE_NO_UNIT, "invalid_price_unit", id="no_unit"),
        pytest.param("EUR", "sensor.gone", "entity_not_found", id="missing"),
    ],
)
async def test_options_price_entity_unit(
    hass: HomeAssistant, currency: str, price_entity: str, error: str | None
) -> None:
    """A price sensor must give a price per energy in Home Assistant's currency."""
    hass.config.currency = currency
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "pricing")
    user_input = {CONF_PRICE_ENTITY: price_entity, CONF_MARKUP_FACTOR: 1.2}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )

    if error is None:
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options[CONF_PRICE_ENTITY] == price_entity
        return
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pricing"
    assert result["errors"] == {CONF_PRICE_ENTITY: error}
    assert suggested_values(result) == user_input
    assert CONF_PRICE_ENTITY not in entry.options

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_COST_PER_KWH: 0.3, CONF_MARKUP_FACTOR: 1.2}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_COST_PER_KWH] == 0.3
    assert CONF_PRICE_ENTITY not in entry.options


async def test_options_pricing_one_source_of_cost_price(hass: HomeAssistant) -> None:
    """A fixed price and a price sensor would contradict each other."""
    hass.config.currency = "SEK"
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_options(hass, entry, "pricing")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_COST_PER_KWH: 1.5, CONF_PRICE_ENTITY: PRICE_ORE_KWH},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cost_and_price_entity"}
    assert CONF_PRICE_ENTITY not in entry.options


# ------------------------------------------------------------------ users

ANNA = {"name": "Anna", "tag": "04A1B2"}
BJORN_TARIFF = {CONF_FEE_PER_KWH: 2.5, CONF_FEE_PER_SESSION: 0.0}
BJORN = {"name": "Björn", "tag": "77FF00", "tariff": BJORN_TARIFF}


@pytest.mark.parametrize(
    ("users", "menu_options"),
    [
        pytest.param([], ["add_user", "init"], id="no_users"),
        pytest.param(
            [ANNA], ["add_user", "edit_user", "remove_user", "init"], id="users"
        ),
    ],
)
async def test_options_users_menu(
    hass: HomeAssistant, users: list[dict[str, Any]], menu_options: list[str]
) -> None:
    """Edit and remove appear once there is someone to edit; "init" goes back."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, CONF_USERS: users})

    result = await open_options(hass, entry, "users")

    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "users"
    assert result["menu_options"] == menu_options

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "init"}
    )

    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"


async def test_options_add_user_without_tariff(hass: HomeAssistant) -> None:
    """The tag just presented at the charger is filled in."""
    hass.states.async_set(RFID, "C0FFEE")
    entry = charger_entry(
        hass, **{CONF_POWER_ENTITY: POWER, CONF_USER_ENTITY: RFID, CONF_USERS: [ANNA]}
    )

    result = await open_users(hass, entry, "add_user")

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "add_user"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"currency": "EUR"}
    assert_serializable(result)
    assert suggested_values(result) == {"tag": "C0FFEE"}
    tariff = result["data_schema"].schema["tariff"]
    assert tariff.options["collapsed"] is True
    assert [str(key) for key in tariff.schema.schema] == [
        CONF_MARKUP_FACTOR,
        CONF_MARKUP_PER_KWH,
        CONF_FEE_PER_KWH,
        CONF_FEE_PER_SESSION,
        CONF_FEE_PER_HOUR,
        CONF_MINIMUM_FEE,
        CONF_IDLE_FEE_PER_HOUR,
        CONF_IDLE_GRACE_MINUTES,
    ]
    assert {str(key) for key in tariff.schema.schema} == set(TARIFF_KEYS)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"name": " Cecilia ", "tag": "C0FFEE ", "tariff": {}}
    )

    expected_users = [ANNA, {"name": "Cecilia", "tag": "C0FFEE"}]
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_NAME: "Garage",
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
        CONF_USER_ENTITY: RFID,
        CONF_USERS: expected_users,
    }
    assert entry.options[CONF_USERS] == expected_users


async def test_options_add_user_with_tariff(hass: HomeAssistant) -> None:
    """Only the tariff fields filled in are kept; a 0 is kept (free charging)."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, CONF_USER_ENTITY: RFID})

    result = await open_users(hass, entry, "add_user")
    assert suggested_values(result) == {}  # the tag reader shows no tag now

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"name": "Björn", "tag": "77FF00", "tariff": {**BJORN_TARIFF}},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [BJORN]

    result = await open_users(hass, entry, "add_user")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"name": "Anna", "tag": "04A1B2", "tariff": TARIFF_INPUT}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [
        BJORN,
        {
            **ANNA,
            "tariff": {key: float(value) for key, value in TARIFF_INPUT.items()},
        },
    ]
    assert isinstance(
        entry.options[CONF_USERS][1]["tariff"][CONF_IDLE_GRACE_MINUTES], int
    )


async def test_options_add_user_before_the_user_entity(hass: HomeAssistant) -> None:
    """Users can be listed before the charger's tag reader is picked."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await open_users(hass, entry, "add_user")
    assert suggested_values(result) == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"name": "Anna", "tag": "04A1B2"}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [ANNA]
    assert CONF_USER_ENTITY not in entry.options


@pytest.mark.parametrize(
    ("name", "tag", "errors"),
    [
        pytest.param("", "1234", {"name": "user_name_required"}, id="no_name"),
        pytest.param("  ", "1234", {"name": "user_name_required"}, id="blank_name"),
        pytest.param("Cecilia", " ", {"tag": "user_tag_required"}, id="blank_tag"),
        pytest.param(
            "",
            "",
            {"name": "user_name_required", "tag": "user_tag_required"},
            id="both",
        ),
        pytest.param(" anna", "1234", {"name": "user_name_taken"}, id="name_taken"),
        pytest.param("Cecilia", "04a1b2", {"tag": "user_tag_taken"}, id="tag_taken"),
    ],
)
async def test_options_add_user_errors(
    hass: HomeAssistant, name: str, tag: str, errors: dict[str, str]
) -> None:
    """Names and tags must be given and unique, whatever their case and spaces."""
    hass.states.async_set(RFID, "04A1B2")  # Anna's: not suggested again
    entry = charger_entry(
        hass, **{CONF_POWER_ENTITY: POWER, CONF_USER_ENTITY: RFID, CONF_USERS: [ANNA]}
    )
    result = await open_users(hass, entry, "add_user")
    assert suggested_values(result) == {}
    user_input = {"name": name, "tag": tag, "tariff": {CONF_FEE_PER_KWH: 3}}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "add_user"
    assert result["errors"] == errors
    assert suggested_values(result) == {"name": name, "tag": tag}
    assert section_suggested_values(result, "tariff") == {CONF_FEE_PER_KWH: 3}
    assert entry.options[CONF_USERS] == [ANNA]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"name": "Cecilia", "tag": "1234"}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [ANNA, {"name": "Cecilia", "tag": "1234"}]


async def test_options_edit_user(hass: HomeAssistant) -> None:
    """The form starts with the user as stored; the tariff can be taken away."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, CONF_USERS: [ANNA, BJORN]})

    result = await open_users(hass, entry, "edit_user")

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "edit_user"
    assert_serializable(result)
    assert result["data_schema"].schema["user"].config["options"] == ["Anna", "Björn"]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": "Björn"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "edit_user_details"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"name": "Björn", "currency": "EUR"}
    assert_serializable(result)
    assert suggested_values(result) == {"name": "Björn", "tag": "77FF00"}
    assert section_suggested_values(result, "tariff") == BJORN_TARIFF
    assert result["data_schema"].schema["tariff"].options["collapsed"] is False

    # Keeping its own name and tag is no clash; the empty tariff is no tariff.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"name": "björn", "tag": "77FF00", "tariff": {}}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [ANNA, {"name": "björn", "tag": "77FF00"}]


async def test_options_edit_user_gives_a_tariff(hass: HomeAssistant) -> None:
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, CONF_USERS: [ANNA, BJORN]})
    result = await open_users(hass, entry, "edit_user")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": "Anna"}
    )
    assert result["data_schema"].schema["tariff"].options["collapsed"] is True

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"name": "Anna", "tag": "04A1B2", "tariff": {CONF_MARKUP_FACTOR: 1}},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [
        {**ANNA, "tariff": {CONF_MARKUP_FACTOR: 1.0}},
        BJORN,
    ]


@pytest.mark.parametrize(
    ("name", "tag", "errors"),
    [
        pytest.param("ANNA", "77FF00", {"name": "user_name_taken"}, id="name_taken"),
        pytest.param("Björn", "04a1b2", {"tag": "user_tag_taken"}, id="tag_taken"),
        pytest.param("", "77FF00", {"name": "user_name_required"}, id="no_name"),
        pytest.param("Björn", "", {"tag": "user_tag_required"}, id="no_tag"),
    ],
)
async def test_options_edit_user_errors(
    hass: HomeAssistant, name: str, tag: str, errors: dict[str, str]
) -> None:
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, CONF_USERS: [ANNA, BJORN]})
    result = await open_users(hass, entry, "edit_user")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": "Björn"}
    )

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"name": name, "tag": tag}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "edit_user_details"
    assert result["errors"] == errors
    assert suggested_values(result) == {"name": name, "tag": tag}
    assert entry.options[CONF_USERS] == [ANNA, BJORN]


async def test_options_remove_user(hass: HomeAssistant) -> None:
    """A user goes after a confirmation; with the last one, the list goes too."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER, CONF_USERS: [ANNA, BJORN]})

    result = await open_users(hass, entry, "remove_user")

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "remove_user"
    assert_serializable(result)
    assert result["data_schema"].schema["user"].config["options"] == ["Anna", "Björn"]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": "Anna"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "remove_user_confirm"
    assert result["description_placeholders"] == {"name": "Anna"}
    assert entry.options[CONF_USERS] == [ANNA, BJORN]

    result = await hass.config_entries.options.async_configure(result["flow_id"], {})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_USERS] == [BJORN]

    result = await open_users(hass, entry, "remove_user")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"user": "Björn"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_POWER_ENTITY: POWER,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
    }


# ------------------------------------------------------------------ reconfigure


async def test_reconfigure_swaps_power_sensor(hass: HomeAssistant) -> None:
    entry = charger_entry(
        hass,
        **{
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_CHARGING_STATES: ["Juicing"],
            CONF_POWER_THRESHOLD_W: 400.0,
        },
    )

    result = await entry.start_reconfigure_flow(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"name": "Garage"}
    assert_serializable(result)
    assert suggested_values(result) == {
        CONF_STATUS_ENTITY: STATUS_ENUM,
        CONF_POWER_ENTITY: POWER,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER_KW,
            CONF_ENERGY_ENTITY: ENERGY,
        },
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_STATUS_ENTITY: STATUS_ENUM,
        CONF_POWER_ENTITY: POWER_KW,
        CONF_ENERGY_ENTITY: ENERGY,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
        CONF_POWER_THRESHOLD_W: 400.0,
        CONF_CHARGING_STATES: ["Juicing"],
    }


async def test_reconfigure_clears_status_and_power(hass: HomeAssistant) -> None:
    entry = charger_entry(
        hass,
        **{
            CONF_STATUS_ENTITY: STATUS_ENUM,
            CONF_POWER_ENTITY: POWER,
            CONF_ENERGY_ENTITY: ENERGY,
            CONF_DISCONNECTED_STATES: ["Gone"],
        },
    )
    result = await entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ENERGY_ENTITY: ENERGY}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.options == {
        CONF_NAME: "Garage",
        CONF_ENERGY_ENTITY: ENERGY,
        CONF_CHARGER_TYPE: "ac_3_phase",
        **DEFAULT_THRESHOLDS,
    }


@pytest.mark.parametrize(
    ("sources", "errors"),
    [
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.gone"},
            {CONF_POWER_ENTITY: "entity_not_found"},
            id="entity_not_found",
        ),
        pytest.param({}, {"base": "no_measurement"}, id="no_measurement"),
        pytest.param(
            {CONF_POWER_ENTITY: "sensor.carport_power"},
            {CONF_POWER_ENTITY: "already_configured"},
            id="power_of_another_charger",
        ),
    ],
)
async def test_reconfigure_errors_then_recovers(
    hass: HomeAssistant, sources: dict[str, str], errors: dict[str, str]
) -> None:
    """Another charger's sensor is a form error here too: the user picks again."""
    hass.states.async_set(
        "sensor.carport_power",
        "0",
        {"unit_of_measurement": "W", "device_class": "power"},
    )
    charger_entry(hass, **{CONF_POWER_ENTITY: "sensor.carport_power"})
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], sources)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == errors
    assert entry.options[CONF_POWER_ENTITY] == POWER

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_POWER_ENTITY: POWER_KW}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.options[CONF_POWER_ENTITY] == POWER_KW


async def test_reconfigure_keeps_its_own_sensor(hass: HomeAssistant) -> None:
    """The entry being reconfigured does not count as "another charger"."""
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_POWER_ENTITY: POWER, CONF_STATUS_ENTITY: STATUS}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.options[CONF_STATUS_ENTITY] == STATUS
