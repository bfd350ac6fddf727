"""The history of finished sessions: totals, the latest session, and reading it lazily.

A stored history is read in two steps: each session's facts at start-up, its
full record only when asked for. Whatever is asked, a history read lazily
must answer as one read in full.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any
from unittest.mock import MagicMock, patch
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_sessions.history import (
    SessionHistory,
    records_where,
    session_facts,
)
from custom_components.ev_sessions.period_totals import (
    last_month_bounds,
    month_totals,
    straddling,
)
from custom_components.ev_sessions.session import SessionRecord

from .records import finished_session

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)
USERS = ("Anna", "Olle")


def evening(days_ago: int, number: int) -> SessionRecord:
    """Session `number`, on the evening `days_ago` days before NOW."""
    start = NOW.replace(hour=17) - timedelta(days=days_ago)
    energy = 4.0 + number % 7
    return finished_session(
        start,
        start + timedelta(hours=3),
        energy_kwh=energy,
        curve=((0, energy / 2), (7200, 0.0)),
        charging=(start, start + timedelta(hours=2)),
        charging_duration_s=7200,
        user=USERS[number % 2] if number % 3 else None,
        cost=None if number % 5 == 0 else f"{energy * 1.25:.2f}",
        revenue=f"{energy * 2.5 + 1:.2f}",
        session_id=f"s{number:03d}",
    )


# Three months of sessions, one every other evening; the last ends 2 days ago.
RECORDS = [evening(92 - 2 * number, number) for number in range(46)]


def stored(records: list[SessionRecord]) -> dict[str, Any]:
    """The history as the store gives it back: JSON data."""
    data: dict[str, Any] = json.loads(json.dumps(SessionHistory(records).to_dict()))
    return data


@pytest.fixture
def reads() -> Iterator[MagicMock]:
    """Count the records read (`SessionRecord.from_dict` calls)."""
    with patch.object(
        SessionRecord, "from_dict", wraps=SessionRecord.from_dict
    ) as from_dict:
        yield from_dict


def read_in_full(data: dict[str, Any]) -> SessionHistory:
    history = SessionHistory.from_dict(data)
    list(history)
    return history


def test_totals_and_last_session_read_no_record(reads: MagicMock) -> None:
    data = stored(RECORDS)
    full = read_in_full(data)
    reads.reset_mock()

    history = SessionHistory.from_dict(data)

    assert reads.call_count == 0
    assert len(history) == len(full) == 46
    assert history.total_energy_kwh == full.total_energy_kwh
    assert history.total_cost == full.total_cost
    assert history.total_revenue == full.total_revenue
    assert history.total_cost > 0
    assert history.last == full.last
    assert history.last is not None
    assert history.last.id == "s045"
    assert reads.call_count == 1  # the latest session, and only once
    assert history.last is history.last
    assert reads.call_count == 1


def test_month_totals_read_only_the_recent_sessions(reads: MagicMock) -> None:
    data = stored(RECORDS)
    expected = month_totals(
        read_in_full(data), NOW, STOCKHOLM, users=USERS, curves=None
    )
    cut = straddling(read_in_full(data), NOW, STOCKHOLM)
    reads.reset_mock()
    history = SessionHistory.from_dict(data)
    since = last_month_bounds(NOW, STOCKHOLM)[0].astimezone(UTC)

    recent = history.ended_since(since)

    # February 1 to today: 18 sessions of 46.
    assert [record.id for record in recent] == [
        record.id for record in RECORDS if record.ended_at >= since
    ]
    assert len(recent) == reads.call_count == 18
    assert month_totals(recent, NOW, STOCKHOLM, users=USERS) == expected
    assert straddling(recent, NOW, STOCKHOLM) == cut
    assert expected.this_month.energy_kwh > 0
    assert expected.last_month.energy_kwh > 0
    # Read once: asked again, nothing is read.
    history.ended_since(since)
    assert reads.call_count == 18


def test_pruning_and_overlaps_read_no_record(reads: MagicMock) -> None:
    data = stored(RECORDS)
    full = read_in_full(data)
    reads.reset_mock()
    history = SessionHistory.from_dict(data)
    before = NOW - timedelta(days=30)

    gone = history.prune(before)

    assert gone == full.prune(before)
    assert len(gone) == 31
    assert len(history) == len(full) == 15
    assert history.total_energy_kwh == pytest.approx(full.total_energy_kwh)
    assert history.total_cost == full.total_cost
    assert history.total_revenue == full.total_revenue
    first = RECORDS[-15]
    assert history.overlaps(first.started_at, first.started_at + timedelta(hours=1))
    assert not history.overlaps(before - timedelta(days=1), before)
    assert reads.call_count == 0
    assert history.last == full.last


def test_a_save_writes_what_was_stored(reads: MagicMock) -> None:
    """Sessions never read are written back as stored; read ones as they were."""
    data = stored(RECORDS)
    history = SessionHistory.from_dict(data)
    history.ended_since(NOW - timedelta(days=20))
    assert history.get("s010") is not None
    assert 0 < reads.call_count < len(RECORDS)

    saved = history.to_dict()

    assert json.dumps(saved) == json.dumps(data)
    assert saved["sessions"][0] is data["sessions"][0]  # never read
    assert json.dumps(read_in_full(data).to_dict()) == json.dumps(data)


def test_changes_to_a_history_read_lazily(reads: MagicMock) -> None:
    data = stored(RECORDS)
    full = read_in_full(data)
    history = SessionHistory.from_dict(data)
    reads.reset_mock()
    new = evening(0, 99)
    edited = finished_session(
        RECORDS[3].started_at,
        RECORDS[3].ended_at,
        energy_kwh=1.0,
        session_id="s003",
    )
    for each in (history, full):
        assert each.add(new)
        assert not each.add(new)
        assert each.replace(edited) is not None
        assert each.remove("s004") is not None
        assert each.remove("s004") is None
        assert each.replace(evening(1, 100)) is None
    assert reads.call_count == 2  # the corrected and the deleted session
    assert history.last == full.last
    assert history.last is not None
    assert history.last.id == new.id
    assert history.total_energy_kwh == pytest.approx(full.total_energy_kwh)
    assert history.total_cost == full.total_cost
    assert history.total_revenue == full.total_revenue
    assert list(history) == list(full)
    assert history.to_dict() == full.to_dict()
    assert "s003" in history
    assert "s004" not in history


def test_a_session_with_unreadable_facts_is_skipped_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = stored(RECORDS[:3])
    damaged = {**data["sessions"][1], "started_at": "yesterday"}
    unended = {**data["sessions"][1], "ended_at": None}
    data["sessions"][1:2] = [damaged, unended, "garbage", None, {"id": "no times"}]

    history = SessionHistory.from_dict(data)

    assert [record.id for record in history] == ["s000", "s002"]
    assert history.total_energy_kwh == RECORDS[0].energy_kwh + RECORDS[2].energy_kwh
    assert caplog.text.count("Skipping an unreadable stored session") == 5
    assert "yesterday" in caplog.text
    assert "needs started_at and ended_at" in caplog.text


def test_a_session_whose_record_is_unreadable_is_skipped_when_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its facts count until its record is read; then it is forgotten."""
    data = stored(RECORDS[:4])
    data["sessions"][1]["duration_s"] = "long"
    data["sessions"][3]["tariff"] = ["not", "a", "tariff"]
    history = SessionHistory.from_dict(data)
    assert len(history) == 4
    # Never read, it is saved back as stored.
    assert history.to_dict() == data
    assert "Skipping" not in caplog.text

    # The latest is unreadable: the one before is the latest.
    assert history.last is not None
    assert history.last.id == "s002"
    assert len(history) == 3
    assert history.get("s001") is None
    assert [record.id for record in history] == ["s000", "s002"]
    assert caplog.text.count("Skipping an unreadable stored session") == 2
    assert history.total_energy_kwh == RECORDS[0].energy_kwh + RECORDS[2].energy_kwh
    assert [raw["id"] for raw in history.to_dict()["sessions"]] == ["s000", "s002"]
    assert history.remove("s001") is None


def test_an_unreadable_record_among_a_snapshot(
    caplog: pytest.LogCaptureFixture, reads: MagicMock
) -> None:
    data = stored(RECORDS[:4])
    data["sessions"][2]["charging_started_at"] = "at some point"
    history = SessionHistory.from_dict(data)
    records = history.records()

    assert [facts.id for facts in session_facts(records)] == [
        "s000",
        "s001",
        "s002",
        "s003",
    ]
    assert reads.call_count == 0
    assert [
        record.id for record in records_where(records, lambda f: f.id != "s000")
    ] == ["s001", "s003"]
    assert reads.call_count == 3
    assert len(records) == 3
    assert [record.id for record in records] == ["s000", "s001", "s003"]
    assert records[-1].id == "s003"
    assert [record.id for record in records[:1]] == ["s000"]
    assert [record.id for record in records.where(lambda f: f.id != "s000")] == [
        "s001",
        "s003",
    ]
    assert "s002" not in history
    assert caplog.text.count("Skipping an unreadable stored session") == 1


def test_plain_record_lists_answer_as_a_history_snapshot() -> None:
    assert session_facts(RECORDS) is RECORDS
    assert records_where(RECORDS, lambda facts: facts.user == "Anna") == [
        record for record in RECORDS if record.user == "Anna"
    ]


def test_a_stored_curve_is_kept_apart() -> None:
    """A session stored with its curve inside (an old layout) keeps its count."""
    record = RECORDS[0]
    data = {"sessions": [json.loads(json.dumps(record.to_dict(include_curve=True)))]}

    history = SessionHistory.from_dict(data)

    kept = history.get(record.id)
    assert kept is not None
    assert kept.curve == ()
    assert kept.curve_points == 2
    assert "curve" not in history.to_dict()["sessions"][0]


def test_the_first_of_two_sessions_with_one_id_is_kept() -> None:
    data = stored(RECORDS[:2])
    data["sessions"].append({**data["sessions"][0], "energy_kwh": 99.0})

    history = SessionHistory.from_dict(data)

    assert len(history) == 2
    assert history.total_energy_kwh == RECORDS[0].energy_kwh + RECORDS[1].energy_kwh


def test_an_unreadable_record_met_while_walking_the_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = stored(RECORDS[:3])
    data["sessions"][0]["flags"] = 7
    del data["sessions"][1]["energy_source"]
    history = SessionHistory.from_dict(data)
    before = history.records()
    # Forgotten (by keep_days) before the snapshot's records are read.
    assert history.prune(RECORDS[1].ended_at) == ["s000"]

    assert [record.id for record in history] == ["s002"]
    assert [record.id for record in before] == ["s002"]
    assert caplog.text.count("Skipping an unreadable stored session") == 2
    assert len(history) == 1
    assert history.total_energy_kwh == RECORDS[2].energy_kwh
