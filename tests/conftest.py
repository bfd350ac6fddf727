"""Fixtures shared by the ev_sessions tests."""

from __future__ import annotations

# Import our package before pytest-homeassistant-custom-component puts its own
# testing_config/custom_components first on the path, or that one shadows ours.
import custom_components.ev_sessions  # noqa: F401  # isort: skip

from collections.abc import AsyncGenerator
from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_sessions.const import (
    CONF_CHARGER_TYPE,
    CONF_ENERGY_ENTITY,
    CONF_MIN_SESSION_ENERGY_KWH,
    CONF_POWER_ENTITY,
    CONF_POWER_THRESHOLD_W,
    CONF_SESSION_TIMEOUT_MINUTES,
    CONF_STATUS_ENTITY,
    DOMAIN,
)

from .charger import (
    ENERGY_ID,
    ENTRY_ID,
    POWER_ID,
    SOURCE_IDS,
    STATUS_ID,
    T0,
    set_source,
)
from .traces import ENERGY, POWER, STATUS

# The plugin's recorder fixtures log every SQL statement at INFO: on a failure
# that drowns the test's own output.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def _home_assistant_with_recorder(request: pytest.FixtureRequest) -> None:
    """Give every test that uses `hass` a recorder and our custom integration.

    The recorder must exist before `hass` is built, so it is requested here, in an
    autouse fixture that runs before the test's own fixtures. Pure engine tests
    (no `hass`) stay free of Home Assistant.
    """
    if "hass" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def persistent_database() -> bool:
    """Record to an SQLite file, as Home Assistant does, not to memory.

    The in-memory database shares one connection between the recorder's
    thread and its executor; statistics reads while states are written then
    crash SQLite. A file gives each thread its own connection.
    """
    return True


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format, in tests/snapshots/ on every version."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entry_options() -> dict[str, object]:
    """Options of a status + power + meter charger (override per test)."""
    return {
        "name": "Garage",
        CONF_STATUS_ENTITY: STATUS_ID,
        CONF_POWER_ENTITY: POWER_ID,
        CONF_ENERGY_ENTITY: ENERGY_ID,
        CONF_CHARGER_TYPE: "ac_3_phase",
        CONF_POWER_THRESHOLD_W: 200,
        CONF_MIN_SESSION_ENERGY_KWH: 0.05,
        CONF_SESSION_TIMEOUT_MINUTES: 60,
    }


@pytest.fixture
async def config_entry(
    hass: HomeAssistant, entry_options: dict[str, object]
) -> AsyncGenerator[MockConfigEntry]:
    """The charger's config entry, added to hass (not set up).

    At the end, statistics updates are let finish before the recorder is torn
    down: they read the database from the recorder's executor, and closing the
    database under a running read crashes SQLite. (Home Assistant waits for
    them when it stops; a test's teardown does not stop it that way.)
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        data={},
        options=entry_options,
        entry_id=ENTRY_ID,
        version=1,
    )
    entry.add_to_hass(hass)
    yield entry
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
def charger_device(hass: HomeAssistant) -> dr.DeviceEntry:
    """The charger's own device holding its source entities (like Easee's)."""
    owner = MockConfigEntry(domain="easee", title="Easee")
    owner.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=owner.entry_id,
        identifiers={("easee", "EH123456")},
        manufacturer="Easee",
        model="Home",
        name="Garage charger",
    )
    registry = er.async_get(hass)
    for source, entity_id in SOURCE_IDS.items():
        registry.async_get_or_create(
            "sensor",
            "easee",
            f"EH123456_{source}",
            suggested_object_id=entity_id.split(".", 1)[1],
            device_id=device.id,
            config_entry=owner,
        )
    return device


@pytest.fixture
async def idle_charger(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The charger's sources a minute before the car arrives at T0."""
    freezer.move_to(T0 - timedelta(minutes=1))
    set_source(hass, STATUS, "disconnected")
    set_source(hass, POWER, "0")
    set_source(hass, ENERGY, "1520.0")
    await hass.async_block_till_done()
