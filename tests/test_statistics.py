"""Long-term statistics: each session's energy and money in the hours drawn."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
import json
from typing import Any
from unittest.mock import patch

from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ev_sessions.history import SessionHistory
from custom_components.ev_sessions.session import SessionRecord
from custom_components.ev_sessions.statistics import (
    HAS_UNIT_CLASS,
    SessionStatistics,
    async_clear_charger_statistics,
    async_rebuild_statistics,
    charger_series,
)

from .records import finished_session

EVENING = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)
ENERGY = "ev_sessions:garage_energy"
COST = "ev_sessions:garage_cost"
REVENUE = "ev_sessions:garage_revenue"


def hour(h: int, day: int = 1) -> datetime:
    return datetime(2025, 3, day, h, tzinfo=UTC)


def session(
    started_at: datetime,
    hours: float,
    kw: float,
    *,
    user: str | None = None,
    cost: str | None = None,
    revenue: str = "0",
    energy_kwh: float | None = None,
    session_id: str | None = None,
) -> SessionRecord:
    """A session charging at a steady `kw` for `hours` from `started_at`."""
    seconds = round(hours * 3600)
    ended_at = started_at + timedelta(seconds=seconds)
    return finished_session(
        started_at,
        ended_at,
        energy_kwh=kw * hours if energy_kwh is None else energy_kwh,
        curve=((0, kw), (seconds, 0.0)),
        charging=(started_at, ended_at),
        charging_duration_s=seconds,
        peak_power_kw=kw,
        avg_power_kw=kw,
        user=user,
        cost=cost,
        revenue=revenue,
        session_id=session_id,
    )


def three_hours(**kwargs: Any) -> SessionRecord:
    """18:30 to 20:30 at 6 kW: 3, 6 and 3 kWh in three hours."""
    return session(EVENING, 2, 6.0, session_id="evening", **kwargs)


async def stored(
    hass: HomeAssistant, statistic_ids: Iterable[str]
) -> dict[str, list[tuple[datetime, float, float]]]:
    """Return each series' hourly (start, change, sum), once the recorder is done."""
    await async_wait_recording_done(hass)
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2020, 1, 1, tzinfo=UTC),
        None,
        set(statistic_ids),
        "hour",
        None,
        {"change", "sum"},
    )
    return {
        statistic_id: [
            (
                datetime.fromtimestamp(row["start"], UTC),
                round(row["change"] or 0.0, 9),
                round(row["sum"] or 0.0, 9),
            )
            for row in rows
        ]
        for statistic_id, rows in result.items()
    }


async def rebuild(
    hass: HomeAssistant,
    records: list[SessionRecord],
    users: list[str] | None = None,
    removed: list[SessionRecord] | None = None,
) -> None:
    await async_rebuild_statistics(
        hass,
        title="Garage",
        currency="SEK",
        records=records,
        users=users or [],
        removed=removed or [],
    )


def track_recorder_jobs(hass: HomeAssistant) -> tuple[Any, Any]:
    """Spy on the recorder's clear and import jobs."""
    instance = get_instance(hass)
    return (
        patch.object(
            instance, "async_clear_statistics", wraps=instance.async_clear_statistics
        ),
        patch.object(
            instance, "async_import_statistics", wraps=instance.async_import_statistics
        ),
    )


# ------------------------------------------------------------------ ids


def test_statistic_ids_are_slugs_of_charger_and_users() -> None:
    ids = [
        series.statistic_id
        for series in charger_series("Garage Ö 2", "SEK", ["Anna Lena", "Anna-Lena"])
    ]
    assert ids == [
        "ev_sessions:garage_o_2_energy",
        "ev_sessions:garage_o_2_cost",
        "ev_sessions:garage_o_2_revenue",
        "ev_sessions:garage_o_2_anna_lena_energy",
        "ev_sessions:garage_o_2_anna_lena_cost",
        "ev_sessions:garage_o_2_anna_lena_revenue",
        "ev_sessions:garage_o_2_anna_lena_2_energy",
        "ev_sessions:garage_o_2_anna_lena_2_cost",
        "ev_sessions:garage_o_2_anna_lena_2_revenue",
    ]


# ------------------------------------------------------- the user's story


async def test_a_session_over_three_hours_then_corrected_then_deleted(
    hass: HomeAssistant,
) -> None:
    original = three_hours(cost="6", revenue="15")
    await rebuild(hass, [original])
    assert await stored(hass, [ENERGY, COST, REVENUE]) == {
        ENERGY: [(hour(18), 3.0, 3.0), (hour(19), 6.0, 9.0), (hour(20), 3.0, 12.0)],
        COST: [(hour(18), 1.5, 1.5), (hour(19), 3.0, 4.5), (hour(20), 1.5, 6.0)],
        REVENUE: [
            (hour(18), 3.75, 3.75),
            (hour(19), 7.5, 11.25),
            (hour(20), 3.75, 15.0),
        ],
    }

    # The energy is corrected to 18 kWh: the same hours, corrected, not added.
    corrected = three_hours(cost="9", revenue="21", energy_kwh=18.0)
    await rebuild(hass, [corrected], removed=[original])
    assert await stored(hass, [ENERGY, COST, REVENUE]) == {
        ENERGY: [(hour(18), 4.5, 4.5), (hour(19), 9.0, 13.5), (hour(20), 4.5, 18.0)],
        COST: [(hour(18), 2.25, 2.25), (hour(19), 4.5, 6.75), (hour(20), 2.25, 9.0)],
        REVENUE: [
            (hour(18), 5.25, 5.25),
            (hour(19), 10.5, 15.75),
            (hour(20), 5.25, 21.0),
        ],
    }

    # Deleted: nothing is left in those hours.
    await rebuild(hass, [], removed=[corrected])
    assert await stored(hass, [ENERGY, COST, REVENUE]) == {}


async def test_deleting_a_later_session_leaves_the_earlier_sums(
    hass: HomeAssistant,
) -> None:
    morning = session(hour(8), 1, 4.0, session_id="morning", cost="2")
    evening = three_hours(cost="6")
    await rebuild(hass, [morning, evening])
    assert (await stored(hass, [ENERGY]))[ENERGY][-1] == (hour(20), 3.0, 16.0)

    # The evening's hours stay, with nothing in them.
    await rebuild(hass, [morning], removed=[evening])
    await async_wait_recording_done(hass)
    assert await stored(hass, [ENERGY, COST]) == {
        ENERGY: [
            (hour(8), 4.0, 4.0),
            (hour(18), 0.0, 4.0),
            (hour(19), 0.0, 4.0),
            (hour(20), 0.0, 4.0),
        ],
        COST: [
            (hour(8), 2.0, 2.0),
            (hour(18), 0.0, 2.0),
            (hour(19), 0.0, 2.0),
            (hour(20), 0.0, 2.0),
        ],
    }
    # After a restart they are taken as they are, and the next session follows.
    restarted = SessionStatistics(hass, title="Garage", currency="SEK")
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        await restarted.async_update([morning])
    assert not cleared.called
    assert not imported.called
    night = session(hour(22), 1, 3.0, cost="1", session_id="night")
    await restarted.async_update([morning, night])
    assert (await stored(hass, [ENERGY]))[ENERGY][-2:] == [
        (hour(20), 0.0, 4.0),
        (hour(22), 3.0, 7.0),
    ]


async def test_per_user_series(hass: HomeAssistant) -> None:
    anna = three_hours(user="Anna", cost="6", revenue="12")
    bo = session(hour(19) + timedelta(minutes=30), 1, 4.0, user="Bo", cost="2")
    stranger = session(hour(21), 0.5, 2.0, user="C0FFEE", session_id="tag")
    await rebuild(hass, [anna, bo, stranger], users=["Anna", "Bo", "Cleo"])
    result = await stored(
        hass,
        [
            ENERGY,
            "ev_sessions:garage_anna_energy",
            "ev_sessions:garage_anna_cost",
            "ev_sessions:garage_anna_revenue",
            "ev_sessions:garage_bo_energy",
            "ev_sessions:garage_cleo_energy",
        ],
    )
    assert result == {
        # Everyone, the unknown tag included: 3, 6 + 2, 3 + 2, 1.
        ENERGY: [
            (hour(18), 3.0, 3.0),
            (hour(19), 8.0, 11.0),
            (hour(20), 5.0, 16.0),
            (hour(21), 1.0, 17.0),
        ],
        "ev_sessions:garage_anna_energy": [
            (hour(18), 3.0, 3.0),
            (hour(19), 6.0, 9.0),
            (hour(20), 3.0, 12.0),
        ],
        "ev_sessions:garage_anna_cost": [
            (hour(18), 1.5, 1.5),
            (hour(19), 3.0, 4.5),
            (hour(20), 1.5, 6.0),
        ],
        "ev_sessions:garage_anna_revenue": [
            (hour(18), 3.0, 3.0),
            (hour(19), 6.0, 9.0),
            (hour(20), 3.0, 12.0),
        ],
        "ev_sessions:garage_bo_energy": [(hour(19), 2.0, 2.0), (hour(20), 2.0, 4.0)],
    }


async def test_metadata(hass: HomeAssistant) -> None:
    await rebuild(hass, [three_hours(cost="6", revenue="15")])
    await async_wait_recording_done(hass)
    metadata = await get_instance(hass).async_add_executor_job(
        lambda: get_metadata(hass, statistic_source="ev_sessions")
    )
    assert set(metadata) == {ENERGY, COST, REVENUE}
    energy = metadata[ENERGY][1]
    assert energy["source"] == "ev_sessions"
    assert energy["name"] == "Garage energy"
    assert energy["unit_of_measurement"] == "kWh"
    assert energy["has_sum"] is True
    assert energy["mean_type"] is StatisticMeanType.NONE
    assert "has_mean" not in energy or energy["has_mean"] is False
    assert metadata[COST][1]["unit_of_measurement"] == "SEK"
    assert metadata[REVENUE][1]["name"] == "Garage revenue"
    if HAS_UNIT_CLASS:
        assert energy.get("unit_class") == "energy"
        assert metadata[COST][1].get("unit_class") is None


async def test_without_costs_there_is_no_cost_series(hass: HomeAssistant) -> None:
    await rebuild(hass, [three_hours()])
    result = await stored(hass, [ENERGY, COST, REVENUE])
    assert set(result) == {ENERGY, REVENUE}
    assert [change for _, change, _ in result[REVENUE]] == [0.0, 0.0, 0.0]


# ------------------------------------------------ keeping them up to date


async def test_a_new_session_is_appended_without_a_rebuild(
    hass: HomeAssistant,
) -> None:
    statistics = SessionStatistics(hass, title="Garage", currency="SEK", users=["Anna"])
    first = three_hours(cost="6", user="Anna")
    # Start-up with nothing stored: imported.
    await statistics.async_update([first])
    assert (await stored(hass, [ENERGY]))[ENERGY][-1] == (hour(20), 3.0, 12.0)

    # Plugged in again at 20:45 (the hour the last one ended in): appended,
    # the 20:00 row updated, the sums continuing.
    second = session(hour(20) + timedelta(minutes=45), 0.5, 8.0, cost="2")
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        await statistics.async_update([first, second])
    assert not cleared.called
    assert imported.call_count == 3  # energy, cost, revenue of the charger
    assert await stored(hass, [ENERGY, COST, "ev_sessions:garage_anna_energy"]) == {
        ENERGY: [
            (hour(18), 3.0, 3.0),
            (hour(19), 6.0, 9.0),
            (hour(20), 5.0, 14.0),
            (hour(21), 2.0, 16.0),
        ],
        COST: [
            (hour(18), 1.5, 1.5),
            (hour(19), 3.0, 4.5),
            (hour(20), 2.5, 7.0),
            (hour(21), 1.0, 8.0),
        ],
        "ev_sessions:garage_anna_energy": [
            (hour(18), 3.0, 3.0),
            (hour(19), 6.0, 9.0),
            (hour(20), 3.0, 12.0),
        ],
    }

    # Nothing new: nothing is written.
    with clear as cleared, imports as imported:
        await statistics.async_update([first, second])
    assert not cleared.called
    assert not imported.called


def written_hours(imported: Any, statistic_id: str) -> list[datetime]:
    """Return the hours of the rows queued for `statistic_id`."""
    return [
        row["start"]
        for call in imported.call_args_list
        if call.args[0]["statistic_id"] == statistic_id
        for row in call.args[1]
    ]


async def test_a_session_reaching_back_corrects_the_hours_after(
    hass: HomeAssistant,
) -> None:
    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    evening = three_hours()
    await statistics.async_update([evening])
    # A session reconstructed from the recorder's history, 19:30-20:00.
    earlier = session(hour(19) + timedelta(minutes=30), 0.5, 4.0, session_id="late")
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        await statistics.async_update([evening, earlier])
    assert not cleared.called
    assert written_hours(imported, ENERGY) == [hour(19), hour(20)]
    assert (await stored(hass, [ENERGY]))[ENERGY] == [
        (hour(18), 3.0, 3.0),
        (hour(19), 8.0, 11.0),
        (hour(20), 3.0, 14.0),
    ]


async def test_correcting_the_last_session_writes_only_its_hours(
    hass: HomeAssistant,
) -> None:
    days = [session(hour(18, day=day), 1, 5.0, cost="1") for day in range(1, 11)]
    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    await statistics.async_update(days)
    corrected = session(hour(18, day=10), 1, 5.0, cost="1", energy_kwh=6.0)
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        await statistics.async_rebuild([*days[:-1], corrected], removed=[days[-1]])
    assert not cleared.called
    assert written_hours(imported, ENERGY) == [hour(18, day=10)]
    assert COST not in {
        call.args[0]["statistic_id"] for call in imported.call_args_list
    }
    assert (await stored(hass, [ENERGY]))[ENERGY][-2:] == [
        (hour(18, day=9), 5.0, 45.0),
        (hour(18, day=10), 6.0, 51.0),
    ]


async def test_the_first_cost_rebuilds_the_cost_series(hass: HomeAssistant) -> None:
    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    unpriced = three_hours()
    await statistics.async_update([unpriced])
    priced = session(hour(22), 1, 5.0, cost="2.5", session_id="priced")
    await statistics.async_update([unpriced, priced])
    assert (await stored(hass, [COST]))[COST] == [
        (hour(18), 0.0, 0.0),
        (hour(19), 0.0, 0.0),
        (hour(20), 0.0, 0.0),
        (hour(22), 2.5, 2.5),
    ]


async def test_start_up_keeps_statistics_that_match(hass: HomeAssistant) -> None:
    records = [three_hours(cost="6", user="Anna"), session(hour(22), 1, 5.0)]
    await SessionStatistics(
        hass, title="Garage", currency="SEK", users=["Anna"]
    ).async_update(records)
    before = await stored(hass, [ENERGY, COST, REVENUE])

    # Home Assistant restarts: the same history, nothing to do (Cleo is new
    # and has no sessions yet).
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        restarted = SessionStatistics(
            hass, title="Garage", currency="SEK", users=["Anna", "Cleo"]
        )
        await restarted.async_update(records)
    assert not cleared.called
    assert not imported.called
    # ... and the next session is appended.
    later = session(hour(23) + timedelta(minutes=10), 0.5, 6.0, session_id="later")
    with clear as cleared, imports:
        await restarted.async_update([*records, later])
    assert not cleared.called
    after = await stored(hass, [ENERGY, COST, REVENUE])
    assert after[ENERGY] == [*before[ENERGY], (hour(23), 3.0, 20.0)]


async def test_start_up_repairs_statistics_that_differ(hass: HomeAssistant) -> None:
    evening = three_hours()
    await rebuild(hass, [evening])
    # A session the statistics never got (Home Assistant stopped first).
    missed = session(hour(22), 1, 5.0, session_id="missed")
    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    await statistics.async_update([evening, missed])
    assert (await stored(hass, [ENERGY]))[ENERGY][-1] == (hour(22), 5.0, 17.0)

    # A new currency: the same sums, but the unit is wrong.
    statistics = SessionStatistics(hass, title="Garage", currency="EUR")
    await statistics.async_update([evening, missed])
    await async_wait_recording_done(hass)
    metadata = await get_instance(hass).async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={REVENUE})
    )
    assert metadata[REVENUE][1]["unit_of_measurement"] == "EUR"


async def test_forgotten_sessions_keep_their_statistics(hass: HomeAssistant) -> None:
    """The history forgets sessions after `keep_days`; statistics are forever."""
    old = session(hour(8, day=1), 1, 4.0, cost="2", session_id="old")
    recent = session(hour(18, day=20), 1, 6.0, cost="3", session_id="recent")
    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    await statistics.async_update([old, recent])

    # `old` is pruned from the history; then `recent` is corrected.
    corrected = session(
        hour(18, day=20), 1, 6.0, cost="3", energy_kwh=7.0, session_id="recent"
    )
    await statistics.async_update([recent])
    await statistics.async_rebuild([corrected], removed=[recent])
    assert await stored(hass, [ENERGY, COST]) == {
        ENERGY: [(hour(8), 4.0, 4.0), (hour(18, day=20), 7.0, 11.0)],
        COST: [(hour(8), 2.0, 2.0), (hour(18, day=20), 3.0, 5.0)],
    }

    # A restart finds the statistics matching the shorter history.
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        await SessionStatistics(hass, title="Garage", currency="SEK").async_update(
            [corrected]
        )
    assert not cleared.called
    assert not imported.called


async def test_stored_curves_are_read_only_when_needed(hass: HomeAssistant) -> None:
    """History keeps records without curves; the store has them."""
    full = three_hours()
    kept = SessionRecord.from_dict(full.to_dict())
    assert kept.curve == ()
    curves = {full.id: [list(point) for point in full.curve]}
    loads = 0

    async def load_curves() -> dict[str, list[list[Any]]]:
        nonlocal loads
        loads += 1
        return curves

    statistics = SessionStatistics(
        hass, title="Garage", currency="SEK", load_curves=load_curves
    )
    await statistics.async_update([kept])
    assert loads == 1
    assert [change for _, change, _ in (await stored(hass, [ENERGY]))[ENERGY]] == [
        3.0,
        6.0,
        3.0,
    ]
    # A restart with statistics that match reads no curves.
    restarted = SessionStatistics(
        hass, title="Garage", currency="SEK", load_curves=load_curves
    )
    await restarted.async_update([kept])
    assert loads == 1
    # The next session's curve is read to place it.
    later = session(hour(22), 1, 4.0, session_id="later")
    curves[later.id] = [list(point) for point in later.curve]
    await restarted.async_update([kept, SessionRecord.from_dict(later.to_dict())])
    assert loads == 2
    assert (await stored(hass, [ENERGY]))[ENERGY][-1] == (hour(22), 4.0, 16.0)


async def test_start_up_check_reads_no_stored_record(hass: HomeAssistant) -> None:
    """A history read lazily: the check uses each session's facts only."""
    records = [
        session(hour(18, day), 2, 6.0, session_id=f"day{day}", cost="3", user="Anna")
        for day in range(1, 6)
    ]
    await rebuild(hass, records, users=["Anna"])
    history = SessionHistory.from_dict(
        json.loads(json.dumps(SessionHistory(records).to_dict()))
    )
    statistics = SessionStatistics(hass, title="Garage", currency="SEK", users=["Anna"])
    later = session(hour(18, 7), 1, 4.0, session_id="later", user="Anna")
    clear, imports = track_recorder_jobs(hass)
    with (
        patch.object(
            SessionRecord, "from_dict", wraps=SessionRecord.from_dict
        ) as reads,
        clear as cleared,
        imports as imported,
    ):
        await statistics.async_update(history.records())
        assert not cleared.called
        assert not imported.called
        # The next session is appended; the stored ones are still not read.
        history.add(later)
        await statistics.async_update(
            history.records(), {later.id: [list(point) for point in later.curve]}
        )
        assert reads.call_count == 0
    energy = await stored(hass, [ENERGY, "ev_sessions:garage_anna_energy"])
    assert energy[ENERGY][-1] == (hour(18, 7), 4.0, 64.0)
    assert energy["ev_sessions:garage_anna_energy"][-1] == (hour(18, 7), 4.0, 64.0)


async def test_clear_removes_the_charger(hass: HomeAssistant) -> None:
    await rebuild(hass, [three_hours(cost="6")], users=["Anna"])
    other = SessionStatistics(hass, title="Carport", currency="SEK")
    await other.async_update([three_hours()])
    await async_clear_charger_statistics(hass, title="Garage", users=["Anna"])
    assert set(await stored(hass, [ENERGY, COST, REVENUE])) == set()
    assert set(await stored(hass, ["ev_sessions:carport_energy"])) == {
        "ev_sessions:carport_energy"
    }


async def test_a_busy_recorder_is_waited_for_then_left(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    async def never() -> None:
        await asyncio.Event().wait()

    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    with (
        patch.object(get_instance(hass), "async_block_till_done", never),
        patch("custom_components.ev_sessions.statistics.RECORDER_WAIT_S", 0.01),
    ):
        await statistics.async_update([three_hours()])
    assert "the recorder did not catch up" in caplog.text
    assert await stored(hass, [ENERGY]) == {}
    await statistics.async_update([three_hours()])
    assert len((await stored(hass, [ENERGY]))[ENERGY]) == 3


async def test_many_rows_are_written_in_batches(hass: HomeAssistant) -> None:
    days = [session(hour(18, day=day), 2, 5.0, cost="1") for day in range(1, 6)]
    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    instance = get_instance(hass)
    with (
        patch("custom_components.ev_sessions.statistics.WRITE_BATCH", 3),
        patch.object(
            instance, "async_block_till_done", wraps=instance.async_block_till_done
        ) as waits,
    ):
        await statistics.async_update(days)
    # Once before reading, once more before reading all rows; then between
    # batches of 3 (10 rows in each of 3 series).
    assert waits.call_count == 2 + 9
    assert (await stored(hass, [ENERGY]))[ENERGY][-1] == (hour(19, day=5), 5.0, 50.0)


async def test_start_up_with_sessions_gone_corrects_them(hass: HomeAssistant) -> None:
    anna = three_hours(user="Anna")
    bo = session(hour(22), 1, 4.0, user="Bo", session_id="bo")
    await rebuild(hass, [anna, bo], users=["Anna", "Bo"])
    # Bo's session was deleted while the statistics could not follow.
    restarted = SessionStatistics(
        hass, title="Garage", currency="SEK", users=["Anna", "Bo"]
    )
    await restarted.async_update([anna])
    result = await stored(hass, [ENERGY, "ev_sessions:garage_bo_energy"])
    assert result == {ENERGY: [*result[ENERGY][:3], (hour(22), 0.0, 12.0)]}


async def test_start_up_with_a_correction_not_applied(hass: HomeAssistant) -> None:
    anna = three_hours(user="Anna")
    bo = session(hour(22), 1, 4.0, user="Bo", session_id="bo")
    await rebuild(hass, [anna, bo], users=["Anna", "Bo"])
    # Bo's session was given to nobody; the totals of the charger are the same.
    nobody = session(hour(22), 1, 4.0, session_id="bo")
    restarted = SessionStatistics(
        hass, title="Garage", currency="SEK", users=["Anna", "Bo"]
    )
    await restarted.async_update([anna, nobody])
    assert set(
        await stored(
            hass, ["ev_sessions:garage_anna_energy", "ev_sessions:garage_bo_energy"]
        )
    ) == {"ev_sessions:garage_anna_energy"}


async def test_the_same_history_again_writes_nothing(hass: HomeAssistant) -> None:
    records = [three_hours(cost="6"), session(hour(22), 1, 4.0, cost="1")]
    await rebuild(hass, records)
    before = await stored(hass, [ENERGY, COST, REVENUE])
    clear, imports = track_recorder_jobs(hass)
    with clear as cleared, imports as imported:
        await rebuild(hass, records)
        # No sessions and none removed: everything stored stays.
        await rebuild(hass, [])
    assert not cleared.called
    assert not imported.called
    assert await stored(hass, [ENERGY, COST, REVENUE]) == before


def test_a_title_without_letters_still_gives_an_id() -> None:
    assert charger_series("", None)[0].statistic_id == "ev_sessions:charger_energy"
    # A user listed twice is one user.
    assert len(charger_series("Garage", "SEK", ["Anna", "Anna"])) == 6


async def test_a_user_without_sessions_left_loses_the_series(
    hass: HomeAssistant,
) -> None:
    anna = three_hours(user="Anna")
    bo = session(hour(22), 1, 4.0, user="Bo")
    await rebuild(hass, [anna, bo], users=["Anna", "Bo"])
    await rebuild(hass, [anna], users=["Anna", "Bo"], removed=[bo])
    result = await stored(
        hass, ["ev_sessions:garage_anna_energy", "ev_sessions:garage_bo_energy"]
    )
    assert set(result) == {"ev_sessions:garage_anna_energy"}


async def test_an_unreadable_database_leaves_the_statistics(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    statistics = SessionStatistics(hass, title="Garage", currency="SEK")
    with patch(
        "custom_components.ev_sessions.statistics.statistics_during_period",
        side_effect=OperationalError("select", {}, Exception("locked")),
    ):
        await statistics.async_update([three_hours()])
        await statistics.async_rebuild([three_hours()])
    assert "cannot read the long-term statistics" in caplog.text
    assert await stored(hass, [ENERGY]) == {}
    # The next update tries again.
    await statistics.async_update([three_hours()])
    assert len((await stored(hass, [ENERGY]))[ENERGY]) == 3
