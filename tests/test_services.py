"""The actions and websocket commands: query, export, correct, delete, rebuild."""

from __future__ import annotations

import csv
from datetime import timedelta
import io
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol

from custom_components.ev_sessions.const import DOMAIN

from .charger import ENTRY_ID, POWER_ID, STATUS_ID, T0, advance, set_source, setup_entry
from .traces import ENERGY, POWER, STATUS

USERS = [
    {"name": "Anna", "tag": "04A1B2C3", "tariff": {"fee_per_kwh": 2}},
    {"name": "Bo", "tag": "99FF0011"},
]
OPTIONS = {
    "name": "Garage",
    "status_entity": STATUS_ID,
    "power_entity": POWER_ID,
    "cost_per_kwh": 1.5,
    "fee_per_kwh": 3,
    "fee_per_session": 10,
    "users": USERS,
}


async def session(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    start: Any,
    hours: float,
    kw: float,
) -> None:
    """One session: plug in and charge at `kw` for `hours`, then unplug."""
    await advance(hass, freezer, start, step=timedelta(hours=1))
    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, str(int(kw * 1000)))
    await advance(hass, freezer, start + timedelta(hours=hours))
    set_source(hass, POWER, "0")
    set_source(hass, STATUS, "disconnected")
    await hass.async_block_till_done()


async def call(hass: HomeAssistant, service: str, **data: Any) -> dict[str, Any]:
    """Call one of our actions and return its response."""
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


@pytest.fixture
async def three_sessions(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Garage with three recorded sessions: 11, 7.4 and 3.6 kWh, a day apart."""
    await setup_entry(hass, config_entry)
    await session(hass, freezer, T0, 1, 11.0)
    await session(hass, freezer, T0 + timedelta(days=1), 1, 7.4)
    await session(hass, freezer, T0 + timedelta(days=2), 0.5, 7.2)
    assert len(config_entry.runtime_data.history) == 3
    return config_entry


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_get_sessions_newest_first_with_totals(hass: HomeAssistant) -> None:
    """All sessions, newest first, with totals for the selection."""
    response = await call(hass, "get_sessions", config_entry_id=ENTRY_ID)
    energies = [record["energy_kwh"] for record in response["sessions"]]
    assert energies == pytest.approx([3.6, 7.4, 11.0])
    assert response["count"] == 3
    assert response["energy_kwh"] == pytest.approx(22.0)
    assert response["cost"] == pytest.approx(33.0)
    assert response["revenue"] == pytest.approx(3 * 22.0 + 3 * 10)
    assert "curve" not in response["sessions"][0]

    # Filters: time range, minimum energy, limit, curves.
    response = await call(
        hass,
        "get_sessions",
        start=(T0 + timedelta(hours=12)).isoformat(),
        end=(T0 + timedelta(days=1, hours=12)).isoformat(),
    )
    assert [r["energy_kwh"] for r in response["sessions"]] == pytest.approx([7.4])
    response = await call(hass, "get_sessions", min_energy_kwh=5, limit=1)
    assert [r["energy_kwh"] for r in response["sessions"]] == pytest.approx([7.4])
    response = await call(hass, "get_sessions", include_curve=True, limit=1)
    curve = response["sessions"][0]["curve"]
    assert curve[0] == [0, 7.2]
    assert curve[-1] == [1800, 0.0]


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_action_errors(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Unknown charger, unloaded charger, bad range, unknown session."""
    await setup_entry(hass, config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_sessions", config_entry_id="nope")
    assert err.value.translation_key == "entry_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "get_sessions",
            start=T0.isoformat(),
            end=(T0 - timedelta(hours=1)).isoformat(),
        )
    assert err.value.translation_key == "bad_range"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_sessions", limit=0)
    assert err.value.translation_key == "bad_limit"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "update_session", config_entry_id=ENTRY_ID, session_id="missing"
        )
    assert err.value.translation_key == "session_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "delete_session", config_entry_id=ENTRY_ID, session_id="missing"
        )
    assert err.value.translation_key == "session_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_session",
            config_entry_id=ENTRY_ID,
            session_id="x",
            energy_kwh=-1,
        )
    assert err.value.translation_key == "invalid_energy"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "rebuild_sessions",
            config_entry_id=ENTRY_ID,
            start=T0.isoformat(),
            end=T0.isoformat(),
        )
    assert err.value.translation_key == "bad_range"
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_sessions", config_entry_id=ENTRY_ID)
    assert err.value.translation_key == "entry_not_loaded"


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_export_csv_cell_by_cell(hass: HomeAssistant, tmp_path: Path) -> None:
    """A Nordic CSV opens in Excel with Swedish settings: ; and decimal commas."""
    await hass.config.async_set_time_zone("Europe/Stockholm")
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "exports" / "garage.csv"
    response = await call(hass, "export_sessions", path=str(target), dialect="nordic")
    assert response == {"path": str(target), "count": 3}
    text = target.read_text(encoding="utf-8")
    assert text.startswith("\ufeffid;charger;user;started_at;ended_at;")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    header, first, *_, total = rows
    assert len(rows) == 5
    cell = dict(zip(header, first, strict=True))
    assert cell["charger"] == "Garage"
    assert cell["started_at"] == "2026-11-20 19:00:00"  # Stockholm time
    assert cell["energy_kwh"] == "11,000"
    assert cell["cost"] == "16,50"
    assert cell["revenue"] == "43,00"
    assert cell["session_fee"] == "10,00"
    total_cell = dict(zip(header, total, strict=True))
    assert total_cell["id"] == "TOTAL"
    assert total_cell["energy_kwh"] == "22,000"
    assert total_cell["cost"] == "33,00"

    # Never overwritten unless asked; JSON on request.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "export_sessions", path=str(target))
    assert err.value.translation_key == "file_exists"
    await call(hass, "export_sessions", path=str(target), overwrite=True)
    assert target.read_text(encoding="utf-8").startswith("\ufeffid,charger,")
    json_path = tmp_path / "garage.json"
    await call(hass, "export_sessions", path=str(json_path), format="json")
    exported = json.loads(json_path.read_text(encoding="utf-8"))
    assert len(exported["sessions"]) == 3
    assert exported["totals"]["energy_kwh"] == pytest.approx(22.0)


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
@pytest.mark.parametrize(
    "path",
    [
        "/etc/ev_sessions.csv",  # outside every allowed folder
        "www/../secrets.yaml",  # a traversal out of www
        "secrets.csv",  # the configuration folder itself is not allowed
    ],
)
async def test_export_refuses_paths_outside_allowed_folders(
    hass: HomeAssistant, path: str
) -> None:
    """Only allowlist_external_dirs and the www folder can be written."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "export_sessions", path=path)
    assert err.value.translation_key == "path_not_allowed"


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_export_to_www(hass: HomeAssistant, tmp_path: Path) -> None:
    """A relative path in www lands in the configuration's www folder."""
    hass.config.config_dir = str(tmp_path)
    response = await call(hass, "export_sessions", path="www/ev/garage.csv")
    assert response["path"] == str(Path(hass.config.path("www/ev/garage.csv")))
    assert Path(response["path"]).exists()


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_update_session_recomputes_money(hass: HomeAssistant) -> None:
    """A corrected energy and a new user: cost and revenue follow."""
    newest = (await call(hass, "get_sessions", limit=1))["sessions"][0]
    assert newest["energy_kwh"] == pytest.approx(3.6)
    response = await call(
        hass,
        "update_session",
        config_entry_id=ENTRY_ID,
        session_id=newest["id"],
        energy_kwh=4.0,
        user="Anna",
        vehicle="Polestar 2",
        note="Meter was offline",
    )
    record = response["session"]
    assert record["energy_kwh"] == 4.0
    assert record["cost"] == pytest.approx(6.0)  # 1.5 SEK/kWh kept
    assert record["user"] == "Anna"
    assert record["revenue"] == pytest.approx(2 * 4.0)  # Anna's tariff: 2/kWh
    assert record["tariff"]["fee_per_kwh"] == 2.0
    assert record["vehicle"] == "Polestar 2"
    assert record["note"] == "Meter was offline"
    assert record["edited_at"] is not None
    assert "energy_corrected" in record["flags"]
    # The totals follow the correction.
    response = await call(hass, "get_sessions")
    assert response["energy_kwh"] == pytest.approx(22.4)


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_delete_session(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A deleted session leaves the history, the totals and the sensors."""
    oldest = (await call(hass, "get_sessions"))["sessions"][-1]
    await call(
        hass, "delete_session", config_entry_id=ENTRY_ID, session_id=oldest["id"]
    )
    response = await call(hass, "get_sessions")
    assert response["count"] == 2
    assert response["energy_kwh"] == pytest.approx(11.0)
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{ENTRY_ID}_total_energy"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert float(state.state) == pytest.approx(11.0)


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_history_survives_reload(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Finished sessions and their curves come back after a reload."""
    before = await call(hass, "get_sessions", include_curve=True)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    after = await call(hass, "get_sessions", include_curve=True)
    assert after == before


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_websocket_commands(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Front ends list sessions and fetch one with its curve."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "ev_sessions/sessions", "config_entry_id": ENTRY_ID, "limit": 2}
    )
    result = await client.receive_json()
    assert result["success"]
    sessions = result["result"]["sessions"]
    assert len(sessions) == 2
    await client.send_json_auto_id(
        {
            "type": "ev_sessions/session",
            "config_entry_id": ENTRY_ID,
            "session_id": sessions[0]["id"],
        }
    )
    result = await client.receive_json()
    assert result["success"]
    assert result["result"]["session"]["curve"][0] == [0, 7.2]
    await client.send_json_auto_id(
        {"type": "ev_sessions/session", "config_entry_id": ENTRY_ID, "session_id": "x"}
    )
    result = await client.receive_json()
    assert not result["success"]
    assert result["error"]["code"] == "not_found"
    await client.send_json_auto_id({"type": "ev_sessions/sessions", "limit": 0})
    result = await client.receive_json()
    assert not result["success"]


@pytest.mark.usefixtures("idle_charger")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_rebuild_sessions_from_recorded_history(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Sessions the recorder saw before EV Sessions was installed come back."""
    # The charger's history, recorded before the entry existed.
    await session(hass, freezer, T0, 1, 11.0)
    await session(hass, freezer, T0 + timedelta(hours=3), 0.5, 7.2)
    await async_wait_recording_done(hass)
    await advance(hass, freezer, T0 + timedelta(hours=5), step=timedelta(hours=1))

    await setup_entry(hass, config_entry)
    response = await call(
        hass,
        "rebuild_sessions",
        config_entry_id=ENTRY_ID,
        start=(T0 - timedelta(hours=1)).isoformat(),
    )
    assert response["count"] == 2
    energies = [record["energy_kwh"] for record in response["sessions"]]
    assert energies == pytest.approx([11.0, 3.6])
    assert all("reconstructed" in record["flags"] for record in response["sessions"])
    assert response["sessions"][0]["started_at"] == T0.isoformat()
    # Ranges already covered are skipped: nothing is duplicated.
    again = await call(
        hass,
        "rebuild_sessions",
        config_entry_id=ENTRY_ID,
        start=(T0 - timedelta(hours=1)).isoformat(),
    )
    assert again["count"] == 0
    assert (await call(hass, "get_sessions"))["count"] == 2


@pytest.mark.usefixtures("idle_charger", "three_sessions")
@pytest.mark.parametrize("entry_options", [OPTIONS])
async def test_statistics_follow_sessions_edits_and_deletes(
    hass: HomeAssistant,
) -> None:
    """Hourly energy statistics: written at session end, corrected, not duplicated."""

    async def hourly_energy() -> dict[str, float]:
        await hass.async_block_till_done(wait_background_tasks=True)
        await async_wait_recording_done(hass)
        stats = await get_instance(hass).async_add_executor_job(
            statistics_during_period,
            hass,
            T0 - timedelta(hours=1),
            None,
            {"ev_sessions:garage_energy"},
            "hour",
            None,
            {"change"},
        )
        return {
            dt_util.utc_from_timestamp(row["start"]).isoformat(): row["change"]
            for row in stats.get("ev_sessions:garage_energy", [])
            if row["change"]
        }

    assert await hourly_energy() == pytest.approx(
        {
            T0.isoformat(): 11.0,
            (T0 + timedelta(days=1)).isoformat(): 7.4,
            (T0 + timedelta(days=2)).isoformat(): 3.6,
        }
    )
    sessions = (await call(hass, "get_sessions"))["sessions"]
    await call(
        hass,
        "update_session",
        config_entry_id=ENTRY_ID,
        session_id=sessions[0]["id"],
        energy_kwh=4.0,
    )
    await call(
        hass, "delete_session", config_entry_id=ENTRY_ID, session_id=sessions[1]["id"]
    )
    assert await hourly_energy() == pytest.approx(
        {T0.isoformat(): 11.0, (T0 + timedelta(days=2)).isoformat(): 4.0}
    )


@pytest.mark.usefixtures("idle_charger")
async def test_set_session_target(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """An energy target gives a charger without SoC an estimated end."""
    await setup_entry(hass, config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "set_session_target", config_entry_id=ENTRY_ID, soc=80)
    assert err.value.translation_key == "no_active_session"

    set_source(hass, STATUS, "charging")
    set_source(hass, POWER, "11000")
    await advance(hass, freezer, T0 + timedelta(minutes=5))
    response = await call(
        hass, "set_session_target", config_entry_id=ENTRY_ID, energy_kwh=11.0
    )
    assert response["session"]["energy_target_kwh"] == 11.0
    assert response["session"]["target_soc"] is None
    estimated_end = "sensor.garage_estimated_end_of_charging"
    for minute in range(6, 11):
        await advance(hass, freezer, T0 + timedelta(minutes=minute))
        set_source(hass, ENERGY, f"{1520 + 11 * minute / 60:.3f}")
        set_source(hass, POWER, "11000")
    await advance(hass, freezer, T0 + timedelta(minutes=10, seconds=30))
    state = hass.states.get(estimated_end)
    assert state is not None
    estimate = dt_util.parse_datetime(state.state)
    assert estimate is not None
    # 11 kWh at 11 kW: an hour from the start.
    assert abs((estimate - (T0 + timedelta(hours=1))).total_seconds()) < 180

    # The target survives a restart.
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    live = config_entry.runtime_data.view.live
    assert live is not None
    assert live.energy_target_kwh == 11.0

    # Leaving every target out clears them: unknown again.
    response = await call(hass, "set_session_target", config_entry_id=ENTRY_ID)
    assert response["session"]["energy_target_kwh"] is None
    await advance(hass, freezer, T0 + timedelta(minutes=12))
    state = hass.states.get(estimated_end)
    assert state is not None
    assert state.state == "unknown"

    with pytest.raises(vol.Invalid):
        await call(hass, "set_session_target", config_entry_id=ENTRY_ID, soc=120)
