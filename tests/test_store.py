"""The history on disk: migration, unreadable files, how long it is kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ev_sessions.const import DOMAIN
from custom_components.ev_sessions.period_totals import last_month_bounds, month_bounds
from custom_components.ev_sessions.session import SessionRecord
from custom_components.ev_sessions.store import decode_curve, encode_curve

from .charger import ENTRY_ID, POWER_ID, STATUS_ID, T0, setup_entry

HISTORY_KEY = f"ev_sessions.{ENTRY_ID}.history"
CURVES_KEY = f"ev_sessions.{ENTRY_ID}.curves"


def stored_record(session_id: str, days_ago: float, energy: float) -> dict[str, Any]:
    """A finished session as the v1 store kept it (curve inside)."""
    start = T0 - timedelta(days=days_ago)
    return {
        "id": session_id,
        "entry_id": ENTRY_ID,
        "charger": "Garage",
        "charger_type": "ac_3_phase",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=2)).isoformat(),
        "charging_started_at": start.isoformat(),
        "charging_ended_at": (start + timedelta(hours=1)).isoformat(),
        "duration_s": 7200,
        "charging_duration_s": 3600,
        "energy_kwh": energy,
        "peak_power_kw": energy,
        "avg_power_kw": energy,
        "meter_start_kwh": None,
        "meter_end_kwh": None,
        "energy_source": "power",
        "flags": [],
        "curve_points": 2,
        "curve": [[0, energy], [3600, 0.0]],
    }


OPTIONS = {"name": "Garage", "status_entity": STATUS_ID, "power_entity": POWER_ID}


@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_v1_history_is_migrated(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry
) -> None:
    """A v1 history with curves inside: curves move to their own file."""
    hass_storage[HISTORY_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": HISTORY_KEY,
        "data": {"sessions": [stored_record("a", 3, 7.0), stored_record("b", 1, 5.0)]},
    }
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data
    assert len(coordinator.history) == 2
    assert coordinator.view.total_energy_kwh == pytest.approx(12.0)
    assert hass_storage[HISTORY_KEY]["version"] == 2
    assert "curve" not in hass_storage[HISTORY_KEY]["data"]["sessions"][0]
    assert hass_storage[CURVES_KEY]["version"] == 2
    assert hass_storage[CURVES_KEY]["data"]["curves"]["a"] == "0,7;3600,0"
    record = await coordinator.async_session_with_curve("b")
    assert record is not None
    assert record.curve == ((0, 5.0), (3600, 0.0))
    assert record.curve_points == 2


@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_unreadable_history_is_moved_aside(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry
) -> None:
    """A damaged file is renamed, never overwritten, and a repair says where."""
    storage = Path(hass.config.path(".storage"))
    storage.mkdir(parents=True, exist_ok=True)
    damaged = storage / HISTORY_KEY
    damaged.write_text('{"version": 2, "data": {"sessions": [tru', encoding="utf-8")
    # The same damage as Home Assistant's store reads it.
    hass_storage[HISTORY_KEY] = {"version": 2, "key": HISTORY_KEY, "data": "garbage"}
    try:
        await setup_entry(hass, config_entry)
        moved = list(storage.glob(f"{HISTORY_KEY}.corrupt-*"))
        assert len(moved) == 1
        assert moved[0].read_text(encoding="utf-8").endswith("[tru")
        issues = [
            issue
            for (domain, _), issue in ir.async_get(hass).issues.items()
            if domain == DOMAIN and issue.translation_key == "store_moved_aside"
        ]
        assert len(issues) == 1
        assert issues[0].translation_placeholders == {
            "charger": "Garage",
            "path": str(moved[0]),
        }
        # The charger runs, with an empty history.
        assert len(config_entry.runtime_data.history) == 0
    finally:
        for path in storage.glob(f"{HISTORY_KEY}*"):
            path.unlink()


@pytest.mark.parametrize("entry_options", [OPTIONS | {"keep_days": 2}])
async def test_keep_days_forgets_old_sessions(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """Sessions older than keep_days are forgotten, curves too."""
    freezer.move_to(T0)
    hass_storage[HISTORY_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": HISTORY_KEY,
        "data": {
            "sessions": [stored_record("old", 5, 7.0), stored_record("new", 1, 5.0)]
        },
    }
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data
    assert [record.id for record in coordinator.history] == ["new"]
    await hass.async_block_till_done()
    assert "old" not in await coordinator.store.async_curves()


def test_curve_text_round_trip() -> None:
    """Curves are stored as compact text: steps between offsets, short powers."""
    points = [[0, 7.123], [60, 11.0], [125, None], [3725, 0.0]]
    text = encode_curve(points)
    assert text == "0,7.123;60,11;65,;3600,0"
    assert decode_curve(text) == points
    assert decode_curve("") == []


@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_v1_curves_file_is_migrated(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry
) -> None:
    """A v1 curves file (lists) is read and rewritten as text."""
    hass_storage[HISTORY_KEY] = {
        "version": 2,
        "minor_version": 1,
        "key": HISTORY_KEY,
        "data": {"sessions": [{**stored_record("a", 1, 7.0)} | {"curve_points": 2}]},
    }
    del hass_storage[HISTORY_KEY]["data"]["sessions"][0]["curve"]
    hass_storage[CURVES_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": CURVES_KEY,
        "data": {"curves": {"a": [[0, 7.0], [3600, 0.0]]}},
    }
    await setup_entry(hass, config_entry)
    record = await config_entry.runtime_data.async_session_with_curve("a")
    assert record is not None
    assert record.curve == ((0, 7.0), (3600, 0.0))


@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_start_up_reads_only_the_records_it_needs(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
) -> None:
    """Years of sessions: start-up reads this and last month's, not the rest.

    The totals and the statistics' start-up check come from each session's
    facts; a restart then writes back what it never read, as stored.
    """
    freezer.move_to(T0)
    sessions = [
        SessionRecord.from_dict(
            stored_record(f"s{number:03d}", 3 * number, 5.0)
        ).to_dict()
        for number in reversed(range(60))
    ]
    hass_storage[HISTORY_KEY] = {
        "version": 2,
        "minor_version": 1,
        "key": HISTORY_KEY,
        "data": {"sessions": sessions},
    }
    since = last_month_bounds(T0, dt_util.get_default_time_zone())[0]
    recent = [
        data for data in sessions if datetime.fromisoformat(data["ended_at"]) >= since
    ]
    assert 10 < len(recent) < 30
    # The first start writes the statistics (reading every record to do so).
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data
    await coordinator.async_wait_statistics()
    await async_wait_recording_done(hass)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[HISTORY_KEY]["data"]["sessions"] == sessions

    with patch.object(
        SessionRecord, "from_dict", wraps=SessionRecord.from_dict
    ) as reads:
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        coordinator = config_entry.runtime_data
        await coordinator.async_wait_statistics()
        await async_wait_recording_done(hass)

        assert reads.call_count == len(recent)
        assert coordinator.view.sessions == 60
        assert coordinator.view.total_energy_kwh == pytest.approx(300.0)
        assert coordinator.view.last is not None
        assert coordinator.view.last.id == "s000"
        assert coordinator.view.months is not None
        this_month = month_bounds(T0, dt_util.get_default_time_zone())[0]
        assert coordinator.view.months.this_month.energy_kwh == pytest.approx(
            5.0
            * sum(
                1
                for data in recent
                if datetime.fromisoformat(data["started_at"]) >= this_month
            )
        )
        assert await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()
        assert reads.call_count == len(recent)
    assert hass_storage[HISTORY_KEY]["data"]["sessions"] == sessions
