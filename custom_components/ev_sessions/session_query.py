"""Select finished sessions: filter by time, user and energy, newest first, totals.

Plain Python with no Home Assistant imports: the ``get_sessions`` service
builds a `SessionQuery` from its call data, hands it the charger's history and
returns `QueryResult.to_response`. The export uses the same selection.

**Time range.** A session is selected when it overlaps the half-open range
``[start, end)``: it ended after ``start`` and started before ``end``. A
session that ends exactly at ``start`` or starts exactly at ``end`` is
outside, so consecutive ranges (one day, then the next) never select the same
session twice. Either bound may be left out.

**Order and limit.** Sessions come newest first: by ``started_at``, then by
``id`` (ids are unique), both descending. ``limit`` keeps the first ``limit``
of them.

**Totals** (``count``, ``energy_kwh``, ``cost``, ``revenue``) are over the
sessions returned, that is *after* the limit: they always describe exactly the
list they come with. Amounts are summed exactly (`Decimal`) and rounded only
in `QueryResult.to_response`. A session without a cost (no cost price
configured) adds nothing to ``cost``; ``cost`` is ``None`` only when no
selected session has one. Amounts are added as they are, whatever their
``currency``: sessions are priced in Home Assistant's currency, so they share
one unless that setting was changed between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
import heapq
import math
from typing import Any, Final

from .session import SessionRecord, money_json

REASON_BAD_RANGE: Final = "bad_range"
"""``start`` is not before ``end``."""
REASON_BAD_LIMIT: Final = "bad_limit"
"""``limit`` is negative."""
REASON_BAD_MIN_ENERGY: Final = "bad_min_energy"
"""``min_energy_kwh`` is negative or not a finite number."""
REASON_NAIVE_TIME: Final = "naive_time"
"""``start`` or ``end`` has no time zone."""

ENERGY_DIGITS: Final = 4
"""Decimals of the total energy in a response (as in the session records)."""

# `heapq.nlargest` beats a full sort when it keeps a small part of the
# selection; for a large part, sorting everything (timsort, in C) is faster.
_PARTIAL_SORT_RATIO: Final = 8


class InvalidQueryError(ValueError):
    """A query that cannot be answered; `reason` names what is wrong.

    ``reason`` is one of the ``REASON_*`` codes, meant as a translation key for
    the error the user sees.
    """

    def __init__(self, reason: str, message: str) -> None:
        """Keep ``reason`` (a ``REASON_*`` code) and a developer ``message``."""
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Which sessions to select; every criterion left as ``None`` selects all."""

    start: datetime | None = None
    """Sessions that end after this (time-zone aware) moment ..."""
    end: datetime | None = None
    """... and start before this one: they overlap ``[start, end)``."""
    user: str | None = None
    """The session's user, compared stripped and case-insensitively.

    A blank user is no filter. Sessions without a user never match a user.
    """
    min_energy_kwh: float | None = None
    """Sessions that drew at least this much energy."""
    limit: int | None = None
    """At most this many sessions, the newest."""

    def validate(self) -> None:
        """Raise `InvalidQueryError` if the query cannot be answered."""
        for moment in (self.start, self.end):
            if moment is not None and moment.utcoffset() is None:
                raise InvalidQueryError(
                    REASON_NAIVE_TIME, f"time without a time zone: {moment}"
                )
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidQueryError(
                REASON_BAD_RANGE, f"start {self.start} is not before end {self.end}"
            )
        if self.limit is not None and self.limit < 0:
            raise InvalidQueryError(REASON_BAD_LIMIT, f"negative limit: {self.limit}")
        if self.min_energy_kwh is not None and not (
            math.isfinite(self.min_energy_kwh) and self.min_energy_kwh >= 0
        ):
            raise InvalidQueryError(
                REASON_BAD_MIN_ENERGY,
                f"minimum energy must be a number of kWh >= 0: {self.min_energy_kwh}",
            )


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The selected sessions, newest first, with their totals."""

    sessions: tuple[SessionRecord, ...]
    count: int
    energy_kwh: float
    cost: Decimal | None
    """``None`` when no selected session has a cost."""
    revenue: Decimal

    def totals(self) -> dict[str, Any]:
        """Return the totals as JSON data: energy rounded, amounts as numbers."""
        return {
            "count": self.count,
            "energy_kwh": round(self.energy_kwh, ENERGY_DIGITS),
            "cost": money_json(self.cost),
            "revenue": money_json(self.revenue),
        }

    def to_response(self, *, include_curve: bool) -> dict[str, Any]:
        """Return the service response: the sessions' records and the totals."""
        return {
            "sessions": [
                record.to_dict(include_curve=include_curve) for record in self.sessions
            ],
            **self.totals(),
        }


def select_sessions(
    records: Iterable[SessionRecord], query: SessionQuery
) -> QueryResult:
    """Return the sessions ``query`` selects, newest first, with their totals.

    The totals are over the returned sessions, after ``limit``. One pass over
    ``records`` filters them; only the selected ones are sorted. Raises
    `InvalidQueryError` if the query is invalid (see `SessionQuery.validate`).
    """
    query.validate()
    start, end, min_energy = query.start, query.end, query.min_energy_kwh
    user = _user_key(query.user)
    selected = [
        record
        for record in records
        if (start is None or record.ended_at > start)
        and (end is None or record.started_at < end)
        and (min_energy is None or record.energy_kwh >= min_energy)
        and (user is None or _user_key(record.user) == user)
    ]
    limit = query.limit
    sessions: list[SessionRecord]
    if limit is not None and limit * _PARTIAL_SORT_RATIO < len(selected):
        sessions = heapq.nlargest(limit, selected, key=_newest_first)
    else:
        sessions = sorted(selected, key=_newest_first, reverse=True)[:limit]
    costs = [record.cost for record in sessions if record.cost is not None]
    return QueryResult(
        sessions=tuple(sessions),
        count=len(sessions),
        energy_kwh=math.fsum(record.energy_kwh for record in sessions),
        cost=sum(costs, Decimal(0)) if costs else None,
        revenue=sum(
            (record.revenue for record in sessions if record.revenue is not None),
            Decimal(0),
        ),
    )


def _newest_first(record: SessionRecord) -> tuple[datetime, str]:
    """Return the sort key; the largest key is the newest session."""
    return (record.started_at, record.id)


def _user_key(user: str | None) -> str | None:
    """Return a user as compared: stripped and case-folded; blank is ``None``.

    The same rule picks a user's tariff (`pricing.tariff_for_user`).
    """
    if user is None:
        return None
    return user.strip().casefold() or None
