"""Diagnostics: what a user attaches to a bug report."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_sessions.diagnostics import async_get_config_entry_diagnostics

from .charger import T0, advance, play, set_source, setup_entry
from .traces import POWER, STATUS, easee_evening


@pytest.mark.usefixtures("idle_charger")
async def test_diagnostics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """One finished session and one in progress, as diagnostics show them."""
    await setup_entry(hass, config_entry)
    await play(hass, freezer, easee_evening(T0).sorted())
    later = T0 + timedelta(hours=4)
    await advance(hass, freezer, later)
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "3600")
    await advance(hass, freezer, later + timedelta(minutes=5))

    diagnostics = await async_get_config_entry_diagnostics(hass, config_entry)
    assert diagnostics["view"]["status"] == "charging"
    assert diagnostics["view"]["sessions"] == 1
    assert diagnostics["tracker"]["active"]["started_at"] == later.isoformat()
    assert len(diagnostics["recent_sessions"]) == 1
    assert "curve" not in diagnostics["recent_sessions"][0]
    assert diagnostics == snapshot
