"""Adding a charger, changing its options and swapping its entities."""

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
    CONF_DISCONNECTED_STATES,
    CONF_ENERGY_ENTITY,
    CONF_MIN_SESSION_ENERGY_KWH,
    CONF_NAME,
    CONF_POWER_ENTITY,
    CONF_POWER_THRESHOLD_W,
    CONF_SESSION_TIMEOUT_MINUTES,
    CONF_STATUS_ENTITY,
    DOMAIN,
)

STATUS = "binary_sensor.charger_plug"
POWER = "sensor.charger_power"
POWER_KW = "sensor.charger_power_kw"
ENERGY = "sensor.charger_energy"
ENERGY_WH = "sensor.charger_energy_wh"
STATUS_ENUM = "sensor.charger_state"

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


async def test_options_change_thresholds_and_add_meter(hass: HomeAssistant) -> None:
    entry = charger_entry(
        hass, **{CONF_STATUS_ENTITY: STATUS, CONF_POWER_ENTITY: POWER}
    )

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
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
    result = await hass.config_entries.options.async_init(entry.entry_id)

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
    result = await hass.config_entries.options.async_init(entry.entry_id)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**sources, CONF_CHARGER_TYPE: "ac_3_phase", **THRESHOLD_INPUT},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["errors"] == errors
    assert entry.options[CONF_POWER_ENTITY] == POWER


async def test_options_recognised_status_has_no_second_step(
    hass: HomeAssistant,
) -> None:
    entry = charger_entry(hass, **{CONF_POWER_ENTITY: POWER})
    result = await hass.config_entries.options.async_init(entry.entry_id)

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
    result = await hass.config_entries.options.async_init(entry.entry_id)

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
    result = await hass.config_entries.options.async_init(entry.entry_id)
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
    result = await hass.config_entries.options.async_init(entry.entry_id)
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
    result = await hass.config_entries.options.async_init(entry.entry_id)

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
    result = await hass.config_entries.options.async_init(entry.entry_id)
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
