"""Benchmark 5: reading the history back, versus `json.dumps` of the same records.

Over a `SessionHistory` of N sessions: the `get_sessions` action's work for
one month and for all sessions (select, build the response, serialise it)
and a full CSV export, each as a ratio to `json.dumps` of the very same
records' dicts built beforehand; plus the history store's own serialisation
(`to_dict` with curves). Where the history actions do not exist yet, the
same work is done by hand (filter, `to_dict`, `json.dumps`) and the actions
are reported as not available. Timed like `timeit`: the garbage collector is
off during each call, median of 5 calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import gc
import importlib
import json
import statistics
import time
from types import ModuleType
from typing import Any

from custom_components.ev_sessions.history import SessionHistory
from custom_components.ev_sessions.session import SessionRecord

INNER_RUNS = 5


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One query: our time, the reference time, how many records."""

    name: str
    how: str
    ours_s: float
    json_dumps_s: float
    records: int


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A query whose feature does not exist yet."""

    name: str
    feature: str


def history_actions() -> tuple[ModuleType, ModuleType] | None:
    """Return the session query and export modules, when they exist."""
    try:
        query = importlib.import_module("custom_components.ev_sessions.session_query")
        export = importlib.import_module("custom_components.ev_sessions.export")
    except ImportError:
        return None
    needed = (
        (query, "select_sessions"),
        (query, "SessionQuery"),
        (export, "sessions_csv"),
        (export, "CsvDialect"),
    )
    if not all(hasattr(module, name) for module, name in needed):
        return None
    return query, export


def measure_queries(
    records: list[SessionRecord],
) -> tuple[list[QueryResult], list[Unavailable]]:
    """Time the history's reads over `records`."""
    history = SessionHistory(records)
    middle = records[len(records) // 2].started_at
    month_start = middle.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_end = (
        month_start.replace(year=month_start.year + 1, month=1)
        if month_start.month == 12
        else month_start.replace(month=month_start.month + 1)
    )
    in_month = [
        record
        for record in records
        if record.ended_at > month_start and record.started_at < month_end
    ]
    month_dicts = [record.to_dict() for record in in_month]
    all_dicts = [record.to_dict() for record in records]
    stored = history.to_dict()
    month_name = f"get_sessions, one month ({month_start:%Y-%m})"
    results: list[QueryResult] = []
    unavailable: list[Unavailable] = []

    actions = history_actions()
    if actions is not None:
        query, export = actions

        def get_sessions(start: datetime | None, end: datetime | None) -> str:
            result = query.select_sessions(
                history, query.SessionQuery(start=start, end=end)
            )
            return json.dumps(result.to_response(include_curve=False))

        def csv_export() -> str:
            text: str = export.sessions_csv(
                list(history), dialect=export.CsvDialect.INTERNATIONAL, time_zone=UTC
            )
            return text

        how = (
            "`select_sessions` + `QueryResult.to_response` (what the get_sessions"
            " action returns), `json.dumps` of the response"
        )
        results.append(
            _compare(
                month_name,
                how,
                lambda: get_sessions(month_start, month_end),
                lambda: json.dumps(month_dicts),
                len(in_month),
            )
        )
        results.append(
            _compare(
                "get_sessions, all",
                how,
                lambda: get_sessions(None, None),
                lambda: json.dumps(all_dicts),
                len(records),
            )
        )
        results.append(
            _compare(
                "CSV export, all",
                "`sessions_csv` of every session (what export_sessions writes)",
                csv_export,
                lambda: json.dumps(all_dicts),
                len(records),
            )
        )
    else:

        def by_hand(start: datetime | None, end: datetime | None) -> str:
            return json.dumps(
                [
                    record.to_dict()
                    for record in history
                    if (start is None or record.ended_at > start)
                    and (end is None or record.started_at < end)
                ]
            )

        how = (
            "by hand, as get_sessions will: keep the sessions overlapping the range"
            " (a scan of all), `to_dict()` each, `json.dumps` the list"
        )
        results.append(
            _compare(
                f"{month_name}, done by hand",
                how,
                lambda: by_hand(month_start, month_end),
                lambda: json.dumps(month_dicts),
                len(in_month),
            )
        )
        results.append(
            _compare(
                "get_sessions, all, done by hand",
                how,
                lambda: by_hand(None, None),
                lambda: json.dumps(all_dicts),
                len(records),
            )
        )
        unavailable += [
            Unavailable("get_sessions action", "the history actions (get_sessions)"),
            Unavailable("CSV export", "the history actions (export_sessions)"),
        ]
    results.append(
        _compare(
            "history save (SessionHistory.to_dict)",
            "`SessionHistory.to_dict()` (what each history save hands the Store;"
            " with the curves where this version keeps them in the history),"
            " `json.dumps` it",
            lambda: json.dumps(history.to_dict()),
            lambda: json.dumps(stored),
            len(stored["sessions"]),
        )
    )
    if records[0].to_dict().get("cost", "absent") == "absent":
        unavailable.append(Unavailable("cost and revenue in the records", "money"))
    return results, unavailable


def _compare(
    name: str,
    how: str,
    ours: Callable[[], object],
    reference: Callable[[], object],
    count: int,
) -> QueryResult:
    return QueryResult(name, how, _median_time(ours), _median_time(reference), count)


def _median_time(function: Callable[[], Any]) -> float:
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(INNER_RUNS):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times)
