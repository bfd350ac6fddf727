"""This month's and last month's totals: where each session's energy was drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_sessions.hourly import hourly_shares
from custom_components.ev_sessions.period_totals import (
    NO_TOTALS,
    PeriodTotals,
    energy_between,
    energy_share_between,
    last_month_bounds,
    month_bounds,
    month_totals,
    period_totals,
    straddling,
)
from custom_components.ev_sessions.session import SessionRecord

from .records import finished_session

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KOLKATA = ZoneInfo("Asia/Kolkata")


def local(
    tz: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold)


def session(
    started_at: datetime,
    ended_at: datetime,
    *,
    energy_kwh: float = 14.0,
    session_id: str = "s1",
    **figures: Any,
) -> SessionRecord:
    """A finished session with the figures that matter here (times in UTC)."""
    return finished_session(
        started_at.astimezone(UTC),
        ended_at.astimezone(UTC),
        energy_kwh=energy_kwh,
        session_id=session_id,
        **figures,
    )


def halloween(**kwargs: Any) -> SessionRecord:
    """23:30 on 31 October to 01:30 on 1 November 2021, in Stockholm.

    11 kW for half an hour (5.5 kWh in October), then 7 kW for an hour and
    3 kW for half an hour (7 + 1.5 = 8.5 kWh in November). The clocks went
    back that same night, at 03:00 on the 31st: October 2021 lasted 745 hours.
    """
    return session(
        local(STOCKHOLM, 2021, 10, 31, 23, 30),
        local(STOCKHOLM, 2021, 11, 1, 1, 30),
        curve=((0, 11.0), (1800, 7.0), (5400, 3.0), (7200, 0.0)),
        energy_kwh=14.0,
        **kwargs,
    )


OCTOBER_2021 = month_bounds(local(STOCKHOLM, 2021, 10, 15), STOCKHOLM)
NOVEMBER_2021 = month_bounds(local(STOCKHOLM, 2021, 11, 15), STOCKHOLM)


# ------------------------------------------------------------------ months


def test_month_bounds_are_local_midnights() -> None:
    start, end = month_bounds(datetime(2025, 11, 15, 12, tzinfo=UTC), STOCKHOLM)
    assert start == local(STOCKHOLM, 2025, 11, 1)
    assert end == local(STOCKHOLM, 2025, 12, 1)
    assert start.tzinfo is STOCKHOLM and end.tzinfo is STOCKHOLM


def test_a_month_with_a_clock_change_is_an_hour_longer() -> None:
    start, end = OCTOBER_2021
    assert start.utcoffset() == timedelta(hours=2)
    assert end.utcoffset() == timedelta(hours=1)
    assert end - start == timedelta(days=31)  # wall clock
    assert end.timestamp() - start.timestamp() == 745 * 3600


def test_the_month_is_the_local_one() -> None:
    """23:30 UTC on 31 October is already November in Stockholm."""
    start, _ = month_bounds(datetime(2025, 10, 31, 23, 30, tzinfo=UTC), STOCKHOLM)
    assert start == local(STOCKHOLM, 2025, 11, 1)
    just_before = local(STOCKHOLM, 2025, 11, 1) - timedelta(microseconds=1)
    assert month_bounds(just_before, STOCKHOLM)[0] == local(STOCKHOLM, 2025, 10, 1)


def test_december_is_followed_by_january() -> None:
    assert month_bounds(local(STOCKHOLM, 2025, 12, 24), STOCKHOLM) == (
        local(STOCKHOLM, 2025, 12, 1),
        local(STOCKHOLM, 2026, 1, 1),
    )


def test_last_month_in_january_is_december() -> None:
    assert last_month_bounds(local(STOCKHOLM, 2026, 1, 10, 8), STOCKHOLM) == (
        local(STOCKHOLM, 2025, 12, 1),
        local(STOCKHOLM, 2026, 1, 1),
    )


def test_last_month_across_the_clock_change() -> None:
    assert last_month_bounds(local(STOCKHOLM, 2021, 11, 1, 0, 30), STOCKHOLM) == (
        OCTOBER_2021
    )


def test_a_month_whose_midnight_is_skipped_starts_when_the_day_does() -> None:
    """Paraguay moved its clocks from 00:00 to 01:00 on 1 October 2017."""
    asuncion = ZoneInfo("America/Asuncion")
    start, _ = month_bounds(local(asuncion, 2017, 10, 15), asuncion)
    assert start == datetime(2017, 10, 1, 4, tzinfo=UTC)
    assert (start.hour, start.minute) == (1, 0)
    _, end = month_bounds(local(asuncion, 2017, 9, 15), asuncion)
    assert end == start


def test_a_month_whose_midnight_repeats_starts_the_first_time() -> None:
    """Cuba moved its clocks from 01:00 back to 00:00 on 1 November 2020."""
    havana = ZoneInfo("America/Havana")
    start, _ = month_bounds(local(havana, 2020, 11, 15), havana)
    # An ambiguous time never equals another zone's (PEP 495): compare instants.
    assert start.timestamp() == datetime(2020, 11, 1, 4, tzinfo=UTC).timestamp()
    assert start.utcoffset() == timedelta(hours=-4)


def test_month_bounds_need_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        month_bounds(datetime(2025, 11, 15), STOCKHOLM)


# ------------------------------------------------------------------ splitting


def test_a_session_across_midnight_is_split_by_its_curve() -> None:
    record = halloween(cost="28.00", revenue="42.00")
    october = period_totals([record], *OCTOBER_2021)
    november = period_totals([record], *NOVEMBER_2021)
    assert october.energy_kwh == pytest.approx(5.5, abs=1e-9)
    assert november.energy_kwh == pytest.approx(8.5, abs=1e-9)
    assert october.cost == pytest.approx(Decimal("11.00"), abs=Decimal("1e-12"))
    assert november.revenue == pytest.approx(Decimal("25.50"), abs=Decimal("1e-12"))
    # The parts add up to the session exactly, money to the last digit.
    assert october.cost + november.cost == Decimal("28.00")
    assert october.revenue + november.revenue == Decimal("42.00")
    assert october.energy_kwh + november.energy_kwh == pytest.approx(14.0, abs=1e-12)


def test_energy_between_moments() -> None:
    record = halloween()
    midnight = local(STOCKHOLM, 2021, 11, 1)
    assert energy_between(record, *OCTOBER_2021) == pytest.approx(5.5, abs=1e-9)
    assert energy_between(record, midnight, midnight + timedelta(hours=1)) == (
        pytest.approx(7.0, abs=1e-9)
    )
    assert energy_share_between(record, *NOVEMBER_2021) == pytest.approx(8.5 / 14)
    assert energy_between(record, midnight, midnight) == 0.0
    assert energy_between(record, NOVEMBER_2021[1], NOVEMBER_2021[0]) == 0.0


def test_a_session_over_the_clock_change_is_counted_in_real_time() -> None:
    """01:30 to 04:30 on 31 October 2021 lasted four hours: 02:00-03:00 twice."""
    start = local(STOCKHOLM, 2021, 10, 31, 1, 30)
    end = local(STOCKHOLM, 2021, 10, 31, 4, 30)
    assert end.timestamp() - start.timestamp() == 4 * 3600
    record = session(start, end, curve=((0, 4.0), (4 * 3600, 0.0)), energy_kwh=16.0)
    assert period_totals([record], *OCTOBER_2021).energy_kwh == 16.0
    first_two = local(STOCKHOLM, 2021, 10, 31, 2)  # summer time
    second_two = local(STOCKHOLM, 2021, 10, 31, 2, fold=1)  # winter time
    assert energy_between(record, first_two, second_two) == pytest.approx(4.0)
    assert energy_between(record, second_two, end) == pytest.approx(10.0)


def test_a_month_that_begins_on_the_half_hour_is_split_exactly() -> None:
    """India's months begin at 18:30 UTC; steady power from 23:45 to 00:15."""
    record = session(
        local(KOLKATA, 2025, 12, 31, 23, 45),
        local(KOLKATA, 2026, 1, 1, 0, 15),
        curve=((0, 8.0), (1800, 0.0)),
        energy_kwh=4.0,
        cost="10",
    )
    january = period_totals(
        [record], *month_bounds(local(KOLKATA, 2026, 1, 9), KOLKATA)
    )
    december = period_totals(
        [record], *last_month_bounds(local(KOLKATA, 2026, 1, 9), KOLKATA)
    )
    assert january.energy_kwh == pytest.approx(2.0, abs=1e-12)
    assert december.energy_kwh == pytest.approx(2.0, abs=1e-12)
    assert january.cost + december.cost == Decimal(10)


def test_without_a_curve_by_the_charging_time() -> None:
    """A quarter of the charging time was before midnight: a quarter of the energy."""
    midnight = local(STOCKHOLM, 2021, 11, 1)
    record = session(
        midnight - timedelta(minutes=30),
        midnight + timedelta(hours=1),
        charging=(midnight - timedelta(minutes=15), midnight + timedelta(minutes=45)),
    )
    assert period_totals([record], *OCTOBER_2021).energy_kwh == pytest.approx(3.5)
    assert period_totals([record], *NOVEMBER_2021).energy_kwh == pytest.approx(10.5)


def test_without_curve_or_charging_time_where_it_ended() -> None:
    midnight = local(STOCKHOLM, 2021, 11, 1)
    ended_at_midnight = session(midnight - timedelta(hours=2), midnight)
    ended_before = session(
        midnight - timedelta(hours=2), midnight - timedelta(seconds=1)
    )
    assert period_totals([ended_at_midnight], *NOVEMBER_2021).energy_kwh == 14.0
    assert period_totals([ended_at_midnight], *OCTOBER_2021).energy_kwh == 0.0
    assert period_totals([ended_before], *OCTOBER_2021).energy_kwh == 14.0


def test_a_curve_kept_apart_is_used() -> None:
    """The history keeps records without their curves."""
    record = halloween()
    kept = session(record.started_at, record.ended_at, session_id=record.id)
    totals = period_totals([kept], *OCTOBER_2021, curves={record.id: record.curve})
    assert totals.energy_kwh == pytest.approx(5.5, abs=1e-9)
    assert energy_between(kept, *OCTOBER_2021, record.curve) == pytest.approx(5.5)


# ------------------------------------------------------------------ totals


def test_per_user_totals() -> None:
    start, _ = NOVEMBER_2021
    alice = session(
        start + timedelta(days=2),
        start + timedelta(days=2, hours=3),
        energy_kwh=20.0,
        user="alice",
        cost="40",
        revenue="60",
        session_id="a",
    )
    bob = session(
        start + timedelta(days=3),
        start + timedelta(days=3, hours=1),
        energy_kwh=5.0,
        user="bob",
        cost="10",
        session_id="b",
    )
    records = [alice, bob, halloween(user="alice", session_id="h")]
    assert period_totals(records, *NOVEMBER_2021, user="alice").energy_kwh == (
        pytest.approx(28.5)
    )
    assert period_totals(records, *NOVEMBER_2021, user="bob") == PeriodTotals(
        5.0, Decimal(10), Decimal(0)
    )
    everyone = period_totals(records, *NOVEMBER_2021)
    assert everyone.energy_kwh == pytest.approx(33.5)
    assert everyone.revenue == Decimal(60)
    assert period_totals(records, *NOVEMBER_2021, user="carol") == PeriodTotals(
        0.0, Decimal(0), Decimal(0)
    )


def test_sessions_outside_the_period_do_not_count() -> None:
    start, end = NOVEMBER_2021
    before = session(start - timedelta(days=3), start - timedelta(days=3, hours=-2))
    after = session(end, end + timedelta(hours=2), curve=((0, 7.0), (7200, 0.0)))
    assert period_totals([before, after], start, end) == PeriodTotals(
        0.0, Decimal(0), Decimal(0)
    )


def test_a_curve_that_ends_at_the_period_start_counts_before_it() -> None:
    midnight = local(STOCKHOLM, 2021, 11, 1)
    record = session(
        midnight - timedelta(hours=1), midnight, curve=((0, 3.0), (3600, 0.0))
    )
    assert energy_share_between(record, *NOVEMBER_2021) == 0.0
    assert energy_share_between(record, *OCTOBER_2021) == 1.0


def test_five_thousand_sessions_only_split_the_ones_across_a_boundary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A year and more of sessions: only the two across a month's edge are split."""
    split: list[str] = []

    def counting(record: SessionRecord, curve: Any = None) -> Any:
        split.append(record.id)
        return hourly_shares(record, curve)

    monkeypatch.setattr(
        "custom_components.ev_sessions.period_totals.hourly_shares", counting
    )
    start, end = NOVEMBER_2021
    first = start - timedelta(days=200)
    records = [
        session(
            first + timedelta(hours=2 * n),
            first + timedelta(hours=2 * n + 1),
            curve=((0, 7.0), (3600, 0.0)),
            energy_kwh=7.0,
            cost="1.5",
            session_id=f"s{n}",
        )
        for n in range(5000)
    ]
    records.append(halloween(cost="28", session_id="halloween"))
    totals = period_totals(records, start, end)
    assert split == ["halloween"]  # the only session the month's start cuts
    inside = [r for r in records[:-1] if start <= r.started_at and r.ended_at < end]
    assert len(inside) == 360
    assert totals.energy_kwh == pytest.approx(360 * 7.0 + 8.5)
    assert totals.cost == pytest.approx(Decimal(540 + 17), abs=Decimal("1e-9"))


def test_month_totals_for_the_charger_and_each_user() -> None:
    """On 1 November: Halloween's night splits, October's sessions are last month."""
    october = session(
        local(STOCKHOLM, 2021, 10, 5, 18),
        local(STOCKHOLM, 2021, 10, 5, 20),
        energy_kwh=10.0,
        cost="20",
        user="Anna",
        session_id="oct",
    )
    night = halloween(user="Bo", cost="28", revenue="56", session_id="night")
    september = session(
        local(STOCKHOLM, 2021, 9, 5, 18),
        local(STOCKHOLM, 2021, 9, 5, 20),
        energy_kwh=99.0,
        session_id="sep",
    )
    at = local(STOCKHOLM, 2021, 11, 1, 8)
    totals = month_totals(
        [september, october, night], at, STOCKHOLM, users=["Anna", "Bo", "Cleo"]
    )
    assert totals.start == local(STOCKHOLM, 2021, 11, 1)
    assert totals.end == local(STOCKHOLM, 2021, 12, 1)
    assert totals.last_start == local(STOCKHOLM, 2021, 10, 1)
    share = energy_share_between(night, totals.start, totals.end)
    assert 0 < share < 1
    assert totals.this_month.energy_kwh == pytest.approx(14.0 * share)
    assert totals.last_month.energy_kwh == pytest.approx(10.0 + 14.0 * (1 - share))
    assert totals.this_month.cost + totals.last_month.cost == Decimal(48)
    assert totals.users["Bo"].energy_kwh == pytest.approx(14.0 * share)
    assert totals.users["Anna"] == NO_TOTALS  # charged last month only
    assert totals.users["Cleo"] == NO_TOTALS
    assert [
        record.id for record in straddling([september, october, night], at, STOCKHOLM)
    ] == ["night"]


def test_month_totals_add_up() -> None:
    at = local(STOCKHOLM, 2021, 11, 10)
    first = month_totals([halloween(user="Bo", cost="28")], at, STOCKHOLM, users=["Bo"])
    live = month_totals(
        [
            session(
                local(STOCKHOLM, 2021, 11, 9, 18),
                local(STOCKHOLM, 2021, 11, 9, 19),
                energy_kwh=5.0,
                user="Cleo",
                cost="10",
            )
        ],
        at,
        STOCKHOLM,
        users=["Cleo"],
    )
    both = first.plus(live)
    assert both.this_month.energy_kwh == pytest.approx(
        first.this_month.energy_kwh + 5.0
    )
    assert both.last_month == first.last_month
    assert both.users["Cleo"].energy_kwh == 5.0
    assert both.users["Bo"] == first.users["Bo"]
