"""Tests for reading charger status entities."""

from __future__ import annotations

import pytest

from custom_components.ev_sessions.charger_status import (
    BUILT_IN_VOCABULARY,
    KNOWN_VOCABULARIES,
    ChargerState,
    is_recognised,
    map_status,
    merge_vocabularies,
    normalise_state,
)

DISCONNECTED = ChargerState.DISCONNECTED
CONNECTED = ChargerState.CONNECTED
CHARGING = ChargerState.CHARGING

# Every built-in word, as the integrations show it, and what it must mean.
EXPECTED: dict[str, dict[str, ChargerState]] = {
    "easee": {
        "disconnected": DISCONNECTED,
        "awaiting_start": CONNECTED,
        "charging": CHARGING,
        "completed": CONNECTED,
        "error": CONNECTED,
        "ready_to_charge": CONNECTED,
        "awaiting_authorization": CONNECTED,
        "de_authorizing": CONNECTED,
        "awaiting_authentication": CONNECTED,
        "de_authenticating": CONNECTED,
    },
    "zaptec": {
        "disconnected": DISCONNECTED,
        "connected_requesting": CONNECTED,
        "connected_charging": CHARGING,
        "connected_finished": CONNECTED,
        "Waiting": CONNECTED,
        "Charging": CHARGING,
        "Charge done": CONNECTED,
    },
    "wallbox": {
        "Ready": DISCONNECTED,
        "Charging": CHARGING,
        "Connected: waiting for car demand": CONNECTED,
        "Connected: waiting for next schedule": CONNECTED,
        "Paused by user": CONNECTED,
        "Paused": CONNECTED,
        "Disconnected": DISCONNECTED,
        "Error": CONNECTED,
        "Scheduled": CONNECTED,
        "Waiting for car demand": CONNECTED,
        "Discharging": CONNECTED,
        "Locked": DISCONNECTED,
        "Updating": CONNECTED,
        "Waiting in queue by Power Sharing": CONNECTED,
        "Waiting in queue by Power Boost": CONNECTED,
        "Waiting MID failed": CONNECTED,
        "Waiting MID safety margin exceeded": CONNECTED,
        "Waiting in queue by Eco-Smart": CONNECTED,
        "Locked, car connected": CONNECTED,
        "Waiting": CONNECTED,
    },
    "go_e": {
        "Idle": DISCONNECTED,
        "Charging": CHARGING,
        "wait_car": CONNECTED,
        "WaitCar": CONNECTED,
        "Complete": CONNECTED,
        "Error": CONNECTED,
        "Ready": DISCONNECTED,
        "Waiting for car": CONNECTED,
        "Charging finished": CONNECTED,
        "Charger ready, no car connected": DISCONNECTED,
        "Car is charging": CHARGING,
        "Car connected, authentication required": CONNECTED,
        "Charging finished, car can be disconnected": CONNECTED,
    },
    "ocpp": {
        "Available": DISCONNECTED,
        "Preparing": CONNECTED,
        "Charging": CHARGING,
        "SuspendedEVSE": CONNECTED,
        "SuspendedEV": CONNECTED,
        "suspended_evse": CONNECTED,
        "suspended_ev": CONNECTED,
        "Finishing": CONNECTED,
        "Reserved": DISCONNECTED,
        "Faulted": CONNECTED,
    },
    "tesla_wall_connector": {
        "booting": CONNECTED,
        "not_connected": DISCONNECTED,
        "connected": CONNECTED,
        "ready": CONNECTED,
        "negotiating": CONNECTED,
        "error": CONNECTED,
        "charging_finished": CONNECTED,
        "waiting_car": CONNECTED,
        "charging_reduced": CHARGING,
        "charging": CHARGING,
    },
    "keba": {
        "starting": CONNECTED,
        "not ready for charging": CONNECTED,
        "ready for charging": CONNECTED,
        "charging": CHARGING,
        "error": CONNECTED,
        "authorization rejected": CONNECTED,
        "unplugged": DISCONNECTED,
        "plugged on charging station": DISCONNECTED,
        "plugged on charging station and locked": DISCONNECTED,
        "plugged on charging station and EV": CONNECTED,
        "plugged on charging station and EV and locked": CONNECTED,
    },
    "ohme": {
        "unplugged": DISCONNECTED,
        "plugged_in": CONNECTED,
        "charging": CHARGING,
        "pending_approval": CONNECTED,
        "paused": CONNECTED,
        "finished": CONNECTED,
    },
    "generic": {
        "plugged": CONNECTED,
        "connected": CONNECTED,
        "disconnected": DISCONNECTED,
        "charging": CHARGING,
        "not_charging": CONNECTED,
        "idle": DISCONNECTED,
        "complete": CONNECTED,
        "completed": CONNECTED,
        "full": CONNECTED,
    },
}

# Words vendors disagree on, and how the merged vocabulary resolves them.
DISAGREEMENTS = {"ready": CONNECTED}  # no car (Wallbox, go-e) / car ready (Tesla)

ALL_ENTRIES = [
    (family, raw, state)
    for family, table in EXPECTED.items()
    for raw, state in table.items()
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("charging", "charging"),
        ("  Charging  ", "charging"),
        ("Connected: waiting for car demand", "connected_waiting_for_car_demand"),
        ("Locked, car connected", "locked_car_connected"),
        ("Waiting in queue by Eco-Smart", "waiting_in_queue_by_eco_smart"),
        ("SuspendedEVSE", "suspendedevse"),
        ("de-authorizing", "de_authorizing"),
        ("a  -  b__c", "a_b_c"),
        ("-charging-", "charging"),
        ("Ready\tto charge", "ready_to_charge"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_state(raw: str, expected: str) -> None:
    assert normalise_state(raw) == expected


def test_families_are_as_documented() -> None:
    assert list(KNOWN_VOCABULARIES) == list(EXPECTED)


@pytest.mark.parametrize("family", list(EXPECTED))
def test_vendor_table_is_exactly_as_expected(family: str) -> None:
    expected = {normalise_state(raw): state for raw, state in EXPECTED[family].items()}
    assert dict(KNOWN_VOCABULARIES[family]) == expected


@pytest.mark.parametrize(("family", "raw", "state"), ALL_ENTRIES)
def test_every_vendor_word_with_its_vocabulary(
    family: str, raw: str, state: ChargerState
) -> None:
    assert map_status(raw, domain="sensor", vocabulary=family) is state
    assert is_recognised(raw, domain="sensor", vocabulary=family)


@pytest.mark.parametrize(("family", "raw", "state"), ALL_ENTRIES)
def test_every_vendor_word_in_the_merged_vocabulary(
    family: str, raw: str, state: ChargerState
) -> None:
    expected = DISAGREEMENTS.get(normalise_state(raw), state)
    assert map_status(raw, domain="sensor") is expected
    for domain in ("input_select", "select", "template", "mqtt"):
        assert map_status(raw, domain=domain) is expected


def test_merged_vocabulary_is_the_union_of_the_tables() -> None:
    words = {word for table in KNOWN_VOCABULARIES.values() for word in table}
    assert set(BUILT_IN_VOCABULARY) == words


def test_vendors_disagree_only_where_expected() -> None:
    meanings: dict[str, set[ChargerState]] = {}
    for table in KNOWN_VOCABULARIES.values():
        for word, state in table.items():
            meanings.setdefault(word, set()).add(state)
    disputed = {word for word, states in meanings.items() if len(states) > 1}
    assert disputed == set(DISAGREEMENTS)
    assert meanings["ready"] == {DISCONNECTED, CONNECTED}


def test_ready_depends_on_the_vocabulary() -> None:
    assert map_status("Ready", domain="sensor") is CONNECTED
    assert map_status("Ready", domain="sensor", vocabulary="wallbox") is DISCONNECTED
    assert map_status("Ready", domain="sensor", vocabulary="go_e") is DISCONNECTED
    assert (
        map_status("ready", domain="sensor", vocabulary="tesla_wall_connector")
        is CONNECTED
    )


def test_vocabulary_falls_back_to_the_merged_words() -> None:
    # Not a Wallbox word, but a generic one.
    assert map_status("plugged", domain="sensor", vocabulary="wallbox") is CONNECTED
    # An unknown family is ignored.
    assert map_status("Ready", domain="sensor", vocabulary="acme") is CONNECTED
    assert map_status("Idle", domain="sensor", vocabulary="acme") is DISCONNECTED


def test_merge_resolves_disagreements_to_connected() -> None:
    merged = merge_vocabularies(
        [
            {"ready": DISCONNECTED, "busy": CHARGING, "gone": DISCONNECTED},
            {"ready": CONNECTED, "busy": CONNECTED, "gone": DISCONNECTED},
            {"ready": DISCONNECTED, "busy": CHARGING},
        ]
    )
    assert dict(merged) == {"ready": CONNECTED, "busy": CONNECTED, "gone": DISCONNECTED}
    assert dict(merge_vocabularies([])) == {}


@pytest.mark.parametrize("raw", ["unavailable", "Unavailable", "unknown", "UNKNOWN"])
def test_gap_words_are_not_recognised(raw: str) -> None:
    assert map_status(raw, domain="sensor") is None
    assert map_status(raw, domain="sensor", vocabulary="ocpp") is None
    assert map_status(raw, domain="binary_sensor") is None
    # Not even when the user lists them.
    assert (
        map_status(
            raw,
            domain="sensor",
            charging_states=[raw],
            connected_states=[raw],
            disconnected_states=[raw],
        )
        is None
    )
    assert not is_recognised(raw, domain="sensor")


@pytest.mark.parametrize("raw", ["", "  ", "banana", "on", "off", "charging2", "42"])
def test_unrecognised_words_give_none(raw: str) -> None:
    assert map_status(raw, domain="sensor") is None
    assert not is_recognised(raw, domain="sensor")


@pytest.mark.parametrize("domain", ["binary_sensor", "switch", "input_boolean"])
def test_off_is_disconnected(domain: str) -> None:
    assert map_status("off", domain=domain) is DISCONNECTED
    assert map_status("Off", domain=domain, device_class="power") is DISCONNECTED


@pytest.mark.parametrize("device_class", ["battery_charging", "power", "running"])
def test_on_means_charging_for_charging_device_classes(device_class: str) -> None:
    assert (
        map_status("on", domain="binary_sensor", device_class=device_class) is CHARGING
    )
    assert (
        map_status("ON", domain="binary_sensor", device_class=device_class.upper())
        is CHARGING
    )


@pytest.mark.parametrize(
    ("domain", "device_class"),
    [
        ("binary_sensor", "plug"),
        ("binary_sensor", None),
        ("binary_sensor", "connectivity"),
        ("switch", None),
        ("switch", "outlet"),
        ("switch", "power"),  # only a binary sensor's device class says charging
        ("input_boolean", None),
        (" Binary_Sensor ", "plug"),
    ],
)
def test_on_means_connected_otherwise(domain: str, device_class: str | None) -> None:
    assert map_status("on", domain=domain, device_class=device_class) is CONNECTED


def test_on_off_domains_ignore_the_vocabulary() -> None:
    assert map_status("charging", domain="binary_sensor") is None
    assert map_status("disconnected", domain="switch") is None
    assert not is_recognised("charging", domain="input_boolean")


def test_non_string_device_class_is_ignored() -> None:
    assert map_status("on", domain="binary_sensor", device_class=3) is CONNECTED  # type: ignore[arg-type]


def test_on_off_in_a_sensor_is_not_recognised() -> None:
    assert map_status("on", domain="sensor") is None
    assert map_status("off", domain="select") is None


def test_user_lists_override_the_built_in_words() -> None:
    assert (
        map_status("Ready", domain="sensor", disconnected_states=["ready"])
        is DISCONNECTED
    )
    assert (
        map_status("Charging", domain="sensor", connected_states=["CHARGING"])
        is CONNECTED
    )
    assert (
        map_status(
            "Connected: waiting for car demand",
            domain="sensor",
            vocabulary="wallbox",
            charging_states=["connected waiting-for car demand"],
        )
        is CHARGING
    )


def test_user_lists_add_words() -> None:
    assert map_status("Laden", domain="sensor", charging_states=["laden"]) is CHARGING
    assert (
        map_status("Angeschlossen", domain="sensor", connected_states=["angeschlossen"])
        is CONNECTED
    )
    assert (
        map_status("Frei", domain="sensor", disconnected_states={"frei"})
        is DISCONNECTED
    )
    assert is_recognised("Frei", domain="sensor", disconnected_states=("Frei",))


def test_user_lists_override_on_off() -> None:
    assert map_status("on", domain="switch", charging_states=["on"]) is CHARGING
    assert map_status("off", domain="switch", connected_states=["off"]) is CONNECTED
    assert (
        map_status(
            "on",
            domain="binary_sensor",
            device_class="power",
            disconnected_states=["on"],
        )
        is DISCONNECTED
    )


def test_user_list_priority_is_charging_then_connected_then_disconnected() -> None:
    both = ["busy"]
    assert (
        map_status("busy", domain="sensor", connected_states=both, charging_states=both)
        is CHARGING
    )
    assert (
        map_status(
            "busy", domain="sensor", disconnected_states=both, connected_states=both
        )
        is CONNECTED
    )


def test_user_list_given_as_a_lone_string_is_one_state() -> None:
    assert (
        map_status("Busy Now", domain="sensor", charging_states="busy now") is CHARGING
    )
    # Not its letters.
    assert map_status("b", domain="sensor", charging_states="busy now") is None


def test_non_string_entries_in_user_lists_are_skipped() -> None:
    states = ["laden", 3, None]
    assert map_status("laden", domain="sensor", charging_states=states) is CHARGING  # type: ignore[arg-type]
