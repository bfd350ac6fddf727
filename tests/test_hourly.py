"""Placing a session's energy and money in the hours it was drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_sessions.hourly import (
    HourAmounts,
    HourRow,
    add_amounts,
    cumulative_rows,
    hourly_amounts,
    hourly_shares,
)
from custom_components.ev_sessions.session import SessionRecord

from .records import finished_session

EVENING = datetime(2026, 11, 20, 18, 40, tzinfo=UTC)


def hour(h: int, day: int = 20) -> datetime:
    return datetime(2026, 11, day, h, tzinfo=UTC)


def session(
    started_at: datetime,
    ended_at: datetime,
    *,
    energy_kwh: float = 16.0,
    **figures: Any,
) -> SessionRecord:
    """A finished session with the figures that matter here."""
    return finished_session(started_at, ended_at, energy_kwh=energy_kwh, **figures)


def evening_at_6kw(**kwargs: Any) -> SessionRecord:
    """18:40 to 21:20 at a steady 6 kW: 2 + 6 + 6 + 2 = 16 kWh."""
    return session(
        EVENING,
        EVENING + timedelta(hours=2, minutes=40),
        curve=((0, 6.0), (9600, 0.0)),
        **kwargs,
    )


# ------------------------------------------------------------------ shares


def test_steady_session_over_four_hours() -> None:
    assert hourly_shares(evening_at_6kw()) == [
        (hour(18), 0.125),  # 20 minutes
        (hour(19), 0.375),  # 60 minutes
        (hour(20), 0.375),
        (hour(21), 0.125),  # 20 minutes
    ]


def test_hours_are_aware_utc_on_the_hour() -> None:
    for start, _ in hourly_shares(evening_at_6kw()):
        assert start.tzinfo is UTC
        assert (start.minute, start.second, start.microsecond) == (0, 0, 0)


def test_a_pause_draws_nothing() -> None:
    """11 kW 10:30-11:00, a gap to 11:30, 0 kW to 12:00, 5.5 kW 12:00-13:00."""
    start = hour(10) + timedelta(minutes=30)
    record = session(
        start,
        hour(13),
        curve=((0, 11.0), (1800, None), (3600, 0.0), (5400, 5.5), (9000, 0.0)),
        energy_kwh=11.0,
    )
    assert hourly_shares(record) == [(hour(10), 0.5), (hour(12), 0.5)]
    assert hourly_amounts([record]) == {
        hour(10): HourAmounts(5.5, Decimal(0), Decimal(0)),
        hour(12): HourAmounts(5.5, Decimal(0), Decimal(0)),
    }


def test_shares_add_up_to_one() -> None:
    record = session(
        hour(7) + timedelta(seconds=17),
        hour(12),
        curve=((0, 3.7), (1234, 11.04), (5000, 7.333), (9999, 1.1), (14000, 0.0)),
    )
    shares = hourly_shares(record)
    assert [start for start, _ in shares] == [hour(7), hour(8), hour(9), hour(10)]
    assert math.fsum(share for _, share in shares) == pytest.approx(1.0, abs=1e-12)


def test_hours_are_utc_hours_whatever_the_time_zone() -> None:
    """00:10 in India (UTC+05:30) is 18:40 UTC the day before."""
    kolkata = EVENING.astimezone(ZoneInfo("Asia/Kolkata"))
    assert (kolkata.hour, kolkata.minute) == (0, 10)
    record = session(
        kolkata, kolkata + timedelta(hours=2, minutes=40), curve=((0, 6.0), (9600, 0.0))
    )
    assert hourly_shares(record) == hourly_shares(evening_at_6kw())


def test_no_curve_spreads_over_the_charging_time() -> None:
    record = session(
        hour(18),
        hour(22),
        charging=(hour(18) + timedelta(minutes=30), hour(19) + timedelta(minutes=30)),
    )
    assert hourly_shares(record) == [(hour(18), 0.5), (hour(19), 0.5)]


def test_a_curve_without_energy_falls_back_to_the_charging_time() -> None:
    record = session(
        hour(18),
        hour(22),
        curve=((0, None), (600, 0.0), (1200, 0.0)),
        charging=(hour(19), hour(21)),
    )
    assert hourly_shares(record) == [(hour(19), 0.5), (hour(20), 0.5)]


def test_without_curve_or_charging_time_all_goes_in_the_hour_it_ended() -> None:
    record = session(hour(18), hour(21) + timedelta(minutes=5))
    assert hourly_shares(record) == [(hour(21), 1.0)]
    # A charging time that is empty tells nothing either.
    record = session(hour(18), hour(21), charging=(hour(19), hour(19)))
    assert hourly_shares(record) == [(hour(21), 1.0)]


def test_unreadable_curve_points_draw_nothing() -> None:
    record = session(
        hour(18),
        hour(21),
        curve=(
            (0, 6.0),
            (3600, "lots"),
            ("later", 3.0),
            (5400, float("nan")),
            (6000, True),
            (6600, -3.0),
            (7200, 0.0),
            None,
        ),
    )
    assert hourly_shares(record) == [(hour(18), 1.0)]


def test_a_stored_curve_stands_in_for_a_missing_one() -> None:
    """History keeps records without curves; the store's JSON pairs are read."""
    kept = session(EVENING, EVENING + timedelta(hours=3), session_id="s1")
    curves = {"s1": [[0, 6], [9600, 0]]}
    assert hourly_shares(kept, curves["s1"]) == hourly_shares(evening_at_6kw())
    assert hourly_amounts([kept], curves=curves) == hourly_amounts([evening_at_6kw()])


# ----------------------------------------------------------------- amounts


def test_energy_cost_and_revenue_follow_the_energy() -> None:
    record = evening_at_6kw(cost="8", revenue="10")
    assert hourly_amounts([record]) == {
        hour(18): HourAmounts(2.0, Decimal(1), Decimal("1.25")),
        hour(19): HourAmounts(6.0, Decimal(3), Decimal("3.75")),
        hour(20): HourAmounts(6.0, Decimal(3), Decimal("3.75")),
        hour(21): HourAmounts(2.0, Decimal(1), Decimal("1.25")),
    }


def test_a_corrected_energy_keeps_the_curves_shape() -> None:
    record = evening_at_6kw(energy_kwh=20.0)
    assert [amount.energy_kwh for amount in hourly_amounts([record]).values()] == [
        2.5,
        7.5,
        7.5,
        2.5,
    ]


def test_money_adds_up_exactly_per_session() -> None:
    """Thirds do not divide 10.00 exactly; the last hour takes the remainder."""
    record = session(
        hour(9),
        hour(12),
        curve=((0, 7.0), (10800, 0.0)),
        energy_kwh=21.0,
        cost="10.00",
        revenue="0.01",
    )
    amounts = hourly_amounts([record])
    assert list(amounts) == [hour(9), hour(10), hour(11)]
    assert sum(amount.cost for amount in amounts.values()) == Decimal("10.00")
    assert sum(amount.revenue for amount in amounts.values()) == Decimal("0.01")
    for amount in amounts.values():
        assert amount.cost == pytest.approx(Decimal("3.333333333"))


def test_missing_money_counts_as_none() -> None:
    amounts = hourly_amounts([evening_at_6kw()])
    assert all(amount.cost == 0 and amount.revenue == 0 for amount in amounts.values())


def test_sessions_in_the_same_hour_add_up() -> None:
    first = evening_at_6kw(cost="8", revenue="10")
    second = session(
        hour(21) + timedelta(minutes=30),
        hour(22) + timedelta(minutes=30),
        curve=((0, 4.0), (3600, 0.0)),
        energy_kwh=4.0,
        cost="2",
        session_id="second",
    )
    amounts = hourly_amounts([first, second])
    assert amounts[hour(21)] == HourAmounts(4.0, Decimal(2), Decimal("1.25"))
    assert amounts[hour(22)] == HourAmounts(2.0, Decimal(1), Decimal(0))
    assert list(amounts) == sorted(amounts)


def test_user_filter() -> None:
    anna = evening_at_6kw(user="Anna", cost="8")
    bo = session(
        hour(8),
        hour(9),
        curve=((0, 3.0), (3600, 0.0)),
        energy_kwh=3.0,
        user="Bo",
        session_id="bo",
    )
    unknown = session(hour(10), hour(11), energy_kwh=1.0, session_id="tag")
    records = [anna, bo, unknown]
    assert list(hourly_amounts(records, user="Anna")) == [
        hour(18),
        hour(19),
        hour(20),
        hour(21),
    ]
    assert hourly_amounts(records, user="Bo") == {
        hour(8): HourAmounts(3.0, Decimal(0), Decimal(0))
    }
    assert hourly_amounts(records, user="Cleo") == {}
    everyone = hourly_amounts(records)
    assert math.fsum(amount.energy_kwh for amount in everyone.values()) == 20.0


# -------------------------------------------------------------- cumulative


def test_cumulative_rows_run_the_sums_in_hour_order() -> None:
    amounts = {
        hour(20): HourAmounts(6.0, Decimal(3), Decimal("3.75")),
        hour(18): HourAmounts(2.0, Decimal(1), Decimal("1.25")),
        hour(21): HourAmounts(2.0, Decimal(0), Decimal("0.10")),
    }
    assert cumulative_rows(amounts) == [
        HourRow(hour(18), 2.0, 1.0, 1.25),
        HourRow(hour(20), 8.0, 4.0, 5.0),
        HourRow(hour(21), 10.0, 4.0, 5.1),
    ]
    assert cumulative_rows({}) == []


def test_cumulative_rows_continue_from_earlier_totals() -> None:
    earlier = HourAmounts(100.0, Decimal("50.5"), Decimal(70))
    amounts = {hour(18): HourAmounts(2.0, Decimal(1), Decimal("1.25"))}
    assert cumulative_rows(amounts, totals=earlier) == [
        HourRow(hour(18), 102.0, 51.5, 71.25)
    ]
    assert add_amounts(earlier, amounts.values()) == HourAmounts(
        102.0, Decimal("51.5"), Decimal("71.25")
    )


def test_money_sums_do_not_drift() -> None:
    """A cent an hour for ten years is exactly 876.00 (floats would drift)."""
    start = datetime(2016, 1, 1, tzinfo=UTC)
    amounts = {
        start + timedelta(hours=index): HourAmounts(0.1, Decimal("0.01"), Decimal(0))
        for index in range(87600)
    }
    rows = cumulative_rows(amounts)
    assert rows[-1].sum_cost == 876.0
    assert rows[-1].sum_energy == pytest.approx(8760.0)
