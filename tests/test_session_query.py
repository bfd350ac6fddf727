"""Selecting sessions for `ev_sessions.get_sessions`: filters, order, totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_sessions.session import SessionRecord
from custom_components.ev_sessions.session_query import (
    InvalidQueryError,
    QueryResult,
    SessionQuery,
    select_sessions,
)

from .records import finished_session

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def session(
    session_id: str,
    start_h: float,
    end_h: float,
    *,
    energy_kwh: float = 10.0,
    user: str | None = None,
    cost: str | None = None,
    revenue: str | None = None,
) -> SessionRecord:
    """A session plugged in from `start_h` to `end_h` hours after T0."""
    return finished_session(
        at(start_h),
        at(end_h),
        energy_kwh=energy_kwh,
        curve=((0, 7.0), (3600, 0.0)),
        charging=(at(start_h), at(end_h)),
        charging_duration_s=round((end_h - start_h) * 3600),
        peak_power_kw=11.0,
        avg_power_kw=7.0,
        user=user,
        cost=cost,
        revenue=revenue,
        session_id=session_id,
    )


def ids(result: QueryResult) -> list[str]:
    return [record.id for record in result.sessions]


# ------------------------------------------------------------------ time range


# The range is 10:00-12:00 (T0 + 0 h to T0 + 2 h), half-open: [start, end).
EDGES = [
    session("ends_at_start", -2, 0),
    session("ends_just_after_start", -2, 1 / 3600),
    session("inside", 0.5, 1.5),
    session("covers_range", -1, 3),
    session("starts_just_before_end", 2 - 1 / 3600, 3),
    session("starts_at_end", 2, 3),
    session("long_before", -10, -5),
]


def test_range_selects_sessions_overlapping_the_half_open_range() -> None:
    result = select_sessions(EDGES, SessionQuery(start=at(0), end=at(2)))

    assert set(ids(result)) == {
        "ends_just_after_start",
        "inside",
        "covers_range",
        "starts_just_before_end",
    }


def test_consecutive_ranges_never_share_a_session_that_touches_their_border() -> None:
    before = select_sessions(EDGES, SessionQuery(end=at(0)))
    after = select_sessions(EDGES, SessionQuery(start=at(0)))

    assert "ends_at_start" in ids(before)
    assert "ends_at_start" not in ids(after)


def test_open_ended_ranges() -> None:
    assert set(ids(select_sessions(EDGES, SessionQuery(start=at(2))))) == {
        "covers_range",
        "starts_just_before_end",
        "starts_at_end",
    }
    assert set(ids(select_sessions(EDGES, SessionQuery(end=at(-2))))) == {"long_before"}
    assert select_sessions(EDGES, SessionQuery()).count == len(EDGES)


def test_range_bounds_in_another_time_zone_mean_the_same_moments() -> None:
    # 11:00 in Stockholm (CET, UTC+1) is T0 itself.
    stockholm = datetime(2025, 3, 1, 11, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    assert stockholm == at(0)

    result = select_sessions(EDGES, SessionQuery(start=stockholm, end=at(2)))

    assert "ends_at_start" not in ids(result)
    assert "ends_just_after_start" in ids(result)


# ------------------------------------------------------------- user and energy


def test_user_matches_stripped_and_case_insensitively() -> None:
    records = [
        session("asa", 0, 1, user="Åsa"),
        session("asa_spaced", 2, 3, user="  åsa "),
        session("bob", 4, 5, user="Bob"),
        session("nobody", 6, 7, user=None),
        session("blank", 8, 9, user="  "),
    ]

    assert ids(select_sessions(records, SessionQuery(user=" ÅSA "))) == [
        "asa_spaced",
        "asa",
    ]
    assert ids(select_sessions(records, SessionQuery(user="bob"))) == ["bob"]
    assert select_sessions(records, SessionQuery(user="Carl")).count == 0


def test_user_comparison_folds_case_fully() -> None:
    records = [session("strasse", 0, 1, user="Straße")]

    assert select_sessions(records, SessionQuery(user="STRASSE")).count == 1


def test_blank_user_is_no_filter() -> None:
    records = [session("asa", 0, 1, user="Åsa"), session("nobody", 2, 3)]

    assert select_sessions(records, SessionQuery(user="   ")).count == 2
    assert select_sessions(records, SessionQuery(user="")).count == 2


def test_minimum_energy_is_inclusive() -> None:
    records = [
        session("small", 0, 1, energy_kwh=0.999),
        session("exact", 2, 3, energy_kwh=1.0),
        session("big", 4, 5, energy_kwh=30.5),
    ]

    assert ids(select_sessions(records, SessionQuery(min_energy_kwh=1.0))) == [
        "big",
        "exact",
    ]
    assert select_sessions(records, SessionQuery(min_energy_kwh=0)).count == 3


def test_filters_combine() -> None:
    records = [
        session("asa_big_inside", 0, 1, user="Åsa", energy_kwh=20),
        session("asa_small_inside", 1, 2, user="Åsa", energy_kwh=2),
        session("asa_big_outside", 5, 6, user="Åsa", energy_kwh=20),
        session("bob_big_inside", 0, 1, user="Bob", energy_kwh=20),
    ]
    query = SessionQuery(start=at(0), end=at(3), user="åsa", min_energy_kwh=10)

    assert ids(select_sessions(records, query)) == ["asa_big_inside"]


# --------------------------------------------------------------- order, limit


def test_newest_first_by_start_then_id() -> None:
    records = [
        session("b", 0, 1),
        session("c", 5, 6),
        session("a", 5, 7),  # same start as "c": the larger id comes first
        session("d", 2, 3),
    ]

    assert ids(select_sessions(records, SessionQuery())) == ["c", "a", "d", "b"]


def test_limit_keeps_the_newest() -> None:
    records = [session(f"s{hour:02}", hour, hour + 0.5) for hour in range(10)]

    assert ids(select_sessions(records, SessionQuery(limit=3))) == ["s09", "s08", "s07"]
    assert ids(select_sessions(records, SessionQuery(limit=9))) == [
        f"s{hour:02}" for hour in range(9, 0, -1)
    ]
    assert select_sessions(records, SessionQuery(limit=50)).count == 10
    assert select_sessions(records, SessionQuery(limit=0)).count == 0


def test_small_and_large_limits_order_alike() -> None:
    """A small limit takes the partial sort (heapq), a large one the full sort."""
    # Starts shuffled, with ties broken by id.
    records = [
        session(f"s{index:03}", (index * 37) % 100 // 2, 60) for index in range(100)
    ]
    everything = ids(select_sessions(records, SessionQuery()))

    for limit in (1, 3, 12, 13, 50, 99, 100):
        assert (
            ids(select_sessions(records, SessionQuery(limit=limit)))
            == (everything[:limit])
        )


# ---------------------------------------------------------------------- totals


def test_totals_are_over_the_sessions_returned_after_the_limit() -> None:
    records = [
        session("old", 0, 1, energy_kwh=5.5, cost="2.5", revenue="10"),
        session("mid", 2, 3, energy_kwh=10.25, cost="4.125", revenue="20.5"),
        session("new", 4, 5, energy_kwh=1.0, cost=None, revenue="7.25"),
    ]

    everything = select_sessions(records, SessionQuery())
    newest_two = select_sessions(records, SessionQuery(limit=2))

    assert (everything.count, everything.energy_kwh) == (3, 16.75)
    assert everything.cost == Decimal("6.625")
    assert everything.revenue == Decimal("37.75")
    assert (newest_two.count, newest_two.energy_kwh) == (2, 11.25)
    # "new" has no cost: it adds nothing, the total is mid's alone.
    assert newest_two.cost == Decimal("4.125")
    assert newest_two.revenue == Decimal("27.75")


def test_cost_is_none_when_no_selected_session_has_one() -> None:
    records = [session("a", 0, 1, cost=None), session("b", 2, 3, cost="1.5")]

    result = select_sessions(records, SessionQuery(end=at(1)))

    assert result.cost is None
    assert result.revenue == Decimal(0)  # no revenue known: nothing earned


def test_empty_selection() -> None:
    result = select_sessions([], SessionQuery(user="Åsa"))

    assert result == QueryResult(
        sessions=(), count=0, energy_kwh=0.0, cost=None, revenue=Decimal(0)
    )
    assert result.to_response(include_curve=False) == {
        "sessions": [],
        "count": 0,
        "energy_kwh": 0.0,
        "cost": None,
        "revenue": 0.0,
    }


def test_energy_total_is_summed_exactly() -> None:
    records = [session(f"s{i}", i, i + 0.5, energy_kwh=0.1) for i in range(10)]

    assert select_sessions(records, SessionQuery()).energy_kwh == 1.0


# -------------------------------------------------------------------- response


def test_response_is_json_data_newest_first_with_rounded_totals() -> None:
    records = [
        session("old", 0, 1, energy_kwh=7.12345, cost="1.1234564", revenue="9.5"),
        session("new", 2, 3, energy_kwh=3.0, cost="2", revenue="0.0000004"),
    ]
    result = select_sessions(records, SessionQuery())

    response = result.to_response(include_curve=False)

    assert json.loads(json.dumps(response)) == response
    assert [entry["id"] for entry in response["sessions"]] == ["new", "old"]
    assert response["sessions"] == [
        records[1].to_dict(include_curve=False),
        records[0].to_dict(include_curve=False),
    ]
    assert "curve" not in response["sessions"][0]
    assert {
        key: response[key] for key in ("count", "energy_kwh", "cost", "revenue")
    } == {
        "count": 2,
        "energy_kwh": 10.1235,  # 10.12345 to 4 decimals
        "cost": 3.123456,  # to 6 decimals
        "revenue": 9.5,
    }
    assert result.totals() == {
        key: response[key] for key in ("count", "energy_kwh", "cost", "revenue")
    }


def test_response_includes_curves_when_asked() -> None:
    result = select_sessions([session("a", 0, 1)], SessionQuery())

    response = result.to_response(include_curve=True)

    assert response["sessions"][0]["curve"] == [[0, 7.0], [3600, 0.0]]
    assert json.loads(json.dumps(response)) == response


# ------------------------------------------------------------------ validation


NAIVE = datetime(2025, 3, 1, 10, 0)  # no time zone, on purpose


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (SessionQuery(start=NAIVE), "naive_time"),
        (SessionQuery(end=NAIVE), "naive_time"),
        (SessionQuery(start=NAIVE, end=at(5)), "naive_time"),
        (SessionQuery(start=at(0), end=at(0)), "bad_range"),
        (SessionQuery(start=at(1), end=at(0)), "bad_range"),
        (SessionQuery(limit=-1), "bad_limit"),
        (SessionQuery(min_energy_kwh=-0.1), "bad_min_energy"),
        (SessionQuery(min_energy_kwh=math.nan), "bad_min_energy"),
        (SessionQuery(min_energy_kwh=math.inf), "bad_min_energy"),
    ],
)
def test_invalid_queries_name_their_reason(query: SessionQuery, reason: str) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        query.validate()
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)

    with pytest.raises(InvalidQueryError) as caught:
        select_sessions(EDGES, query)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "query",
    [
        SessionQuery(),
        SessionQuery(start=at(0), end=at(0) + timedelta(microseconds=1)),
        SessionQuery(limit=0, min_energy_kwh=0.0),
        SessionQuery(start=at(0)),
        SessionQuery(end=at(0)),
    ],
)
def test_valid_queries(query: SessionQuery) -> None:
    query.validate()


# ----------------------------------------------------------------- 5,000 sessions


def test_five_thousand_sessions() -> None:
    """A busy charger's years of history: filters, order and totals hold."""
    users = ["Åsa", "Bob", None, "Carl"]
    records = [
        session(
            f"s{index:05}",
            index * 17,
            index * 17 + 3,
            energy_kwh=float(index % 40),
            user=users[index % 4],
            cost=f"{index % 7}.25",
            revenue=f"{index % 5}.5",
        )
        for index in range(5000)
    ]

    newest = select_sessions(records, SessionQuery(limit=10))
    asa_in_range = select_sessions(
        records,
        SessionQuery(start=at(17 * 1000), end=at(17 * 2000), user="åsa"),
    )
    big = select_sessions(records, SessionQuery(min_energy_kwh=39))

    assert ids(newest) == [f"s{index:05}" for index in range(4999, 4989, -1)]
    assert asa_in_range.count == 250
    assert all(record.user == "Åsa" for record in asa_in_range.sessions)
    assert ids(asa_in_range)[0] == "s01996" and ids(asa_in_range)[-1] == "s01000"
    assert big.count == 125
    assert big.energy_kwh == 125 * 39.0
    expected: dict[str, Any] = {
        "cost": sum(
            (Decimal(f"{index % 7}.25") for index in range(39, 5000, 40)), Decimal(0)
        ),
        "revenue": sum(
            (Decimal(f"{index % 5}.5") for index in range(39, 5000, 40)), Decimal(0)
        ),
    }
    assert {"cost": big.cost, "revenue": big.revenue} == expected
