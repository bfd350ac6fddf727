"""The charger's finished sessions and their running totals.

Plain Python: the store persists `to_dict()`, entities read the totals, the
actions query and correct it. Records are kept without their curves (those
live in their own store file, read on demand), so years of sessions stay
small in memory.

A stored session is read in two steps. At start-up only its facts (id,
start, end, energy, cost, revenue, user) are read from the stored data:
that is all the totals, the latest session, pruning and the statistics'
start-up check need. The full `SessionRecord` is read the first time
someone asks for it (a query, an export, an edit, this month's totals) and
kept. Reading 5,000 records took most of a start-up; reading their facts
takes a fraction of it. A session never read is saved back exactly as it
was stored.

A stored session whose facts cannot be read is skipped at start-up; one
whose record cannot be read is skipped (and forgotten) when it is first
asked for. Both are logged the same way, and neither stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
import logging
from types import MappingProxyType
from typing import Any, overload

from .session import SessionFacts, SessionRecord, money_from_json, parse_time

_LOGGER = logging.getLogger(__name__)
_ZERO = Decimal(0)
# A session's stored data once its record has been read (the record saves it)
# or found unreadable.
_READ: Mapping[str, Any] = MappingProxyType({})


def without_curve(record: SessionRecord) -> SessionRecord:
    """Return the record as history keeps it: curve stored apart, count kept."""
    if not record.curve:
        return record
    return dataclasses.replace(record, curve=(), stored_curve_points=len(record.curve))


@dataclass(slots=True)
class _Stored:
    """One session as history holds it: its facts, and the record once read.

    Until the record is read, `data` is the session as stored (never
    modified: it is what a save writes back); afterwards `record` holds it
    and `data` is let go.
    """

    id: str
    started_at: datetime
    ended_at: datetime
    energy_kwh: float
    cost: Decimal | None
    revenue: Decimal | None
    user: str | None
    data: Mapping[str, Any] = _READ
    record: SessionRecord | None = None

    @classmethod
    def of(cls, record: SessionRecord) -> _Stored:
        """Hold a record already read."""
        return cls(
            id=record.id,
            started_at=record.started_at,
            ended_at=record.ended_at,
            energy_kwh=record.energy_kwh,
            cost=record.cost,
            revenue=record.revenue,
            user=record.user,
            record=without_curve(record),
        )

    @classmethod
    def from_data(cls, data: Any) -> _Stored:
        """Read a stored session's facts only, the same way `from_dict` does.

        Raises KeyError, TypeError or ValueError as `SessionRecord.from_dict`
        would for these fields.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"a stored session is a mapping, not {type(data)}")
        started_at = parse_time(data["started_at"])
        ended_at = parse_time(data["ended_at"])
        if started_at is None or ended_at is None:
            raise ValueError("a session record needs started_at and ended_at")
        user = data.get("user")
        return cls(
            id=str(data["id"]),
            started_at=started_at,
            ended_at=ended_at,
            energy_kwh=float(data["energy_kwh"]),
            cost=money_from_json(data.get("cost")),
            revenue=money_from_json(data.get("revenue")),
            user=None if user is None else str(user),
            data=data,
        )


class SessionHistory:
    """Finished sessions, oldest first, with totals kept in step."""

    def __init__(self, records: list[SessionRecord] | None = None) -> None:
        """Hold `records` (any order; kept oldest first)."""
        self._sessions: dict[str, _Stored] = {}
        # The latest session, kept so the 30 s view needs no scan of years.
        self._last: _Stored | None = None
        self.total_energy_kwh = 0.0
        self.total_cost = _ZERO
        self.total_revenue = _ZERO
        self._hold([_Stored.of(record) for record in records or ()])

    def _hold(self, sessions: list[_Stored]) -> None:
        for stored in sorted(sessions, key=_start):
            self._add(stored)

    def __len__(self) -> int:
        """Return how many sessions are recorded."""
        return len(self._sessions)

    def __iter__(self) -> Iterator[SessionRecord]:
        """Iterate the sessions, oldest first (reading those not yet read)."""
        for stored in list(self._sessions.values()):
            if (record := self._read(stored)) is not None:
                yield record

    def __contains__(self, session_id: object) -> bool:
        """Return whether a session with this id is recorded."""
        return session_id in self._sessions

    @property
    def last(self) -> SessionRecord | None:
        """Return the most recently ended session."""
        while (stored := self._last) is not None:
            if (record := self._read(stored)) is not None:
                return record
        return None

    def get(self, session_id: str) -> SessionRecord | None:
        """Return the session with this id, if recorded."""
        stored = self._sessions.get(session_id)
        return None if stored is None else self._read(stored)

    def records(self) -> RecordedSessions:
        """Return the sessions as they are now, each read when first asked for."""
        return RecordedSessions(list(self._sessions.values()), self._read_all)

    def ended_since(self, moment: datetime) -> list[SessionRecord]:
        """Return the sessions that ended at or after `moment`, oldest first.

        Only these are read: this month's totals need a few dozen sessions,
        not years of them.
        """
        return self._read_all(
            [stored for stored in self._sessions.values() if stored.ended_at >= moment]
        )

    def add(self, record: SessionRecord) -> bool:
        """Record a finished session; False if its id is already recorded."""
        return self._add(_Stored.of(record))

    def _add(self, stored: _Stored) -> bool:
        if stored.id in self._sessions:
            return False
        self._sessions[stored.id] = stored
        self._count(stored, 1)
        if self._last is None or stored.ended_at >= self._last.ended_at:
            self._last = stored
        return True

    def replace(self, record: SessionRecord) -> SessionRecord | None:
        """Put a corrected record in place of the one with its id."""
        old = self.get(record.id)
        if old is None:
            return None
        self._count(self._sessions[record.id], -1)
        stored = _Stored.of(record)
        self._sessions[record.id] = stored
        self._count(stored, 1)
        self._find_last()
        return old

    def remove(self, session_id: str) -> SessionRecord | None:
        """Delete a session; return what was deleted."""
        stored = self._sessions.get(session_id)
        if stored is None or (record := self._read(stored)) is None:
            return None
        self._forget(stored)
        return record

    def _forget(self, stored: _Stored) -> None:
        """Drop a session (if still held) and take it out of the totals."""
        if self._sessions.get(stored.id) is not stored:
            return
        del self._sessions[stored.id]
        self._count(stored, -1)
        if stored is self._last:
            self._find_last()

    def _find_last(self) -> None:
        self._last = max(
            self._sessions.values(), key=lambda stored: stored.ended_at, default=None
        )

    def prune(self, before: datetime) -> list[str]:
        """Forget sessions that ended before `before`; return their ids."""
        gone = [
            stored for stored in self._sessions.values() if stored.ended_at < before
        ]
        for stored in gone:
            self._forget(stored)
        return [stored.id for stored in gone]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Return whether a recorded session overlaps [start, end)."""
        return any(
            stored.started_at < end and stored.ended_at > start
            for stored in self._sessions.values()
        )

    def _count(self, stored: _Stored, sign: int) -> None:
        self.total_energy_kwh += sign * stored.energy_kwh
        self.total_cost += sign * (stored.cost or _ZERO)
        self.total_revenue += sign * (stored.revenue or _ZERO)

    def _read(self, stored: _Stored) -> SessionRecord | None:
        """Return the session's record, reading it the first time.

        One that cannot be read is logged and forgotten: None.
        """
        if stored.record is not None or stored.data is _READ:
            return stored.record
        try:
            record = SessionRecord.from_dict(stored.data)
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.error(
                "Skipping an unreadable stored session %r: %s", stored.data, err
            )
            stored.data = _READ
            self._forget(stored)
            return None
        stored.record = without_curve(record)
        stored.data = _READ
        return stored.record

    def _read_all(self, sessions: Sequence[_Stored]) -> list[SessionRecord]:
        return [record for stored in sessions if (record := self._read(stored))]

    def to_dict(self) -> dict[str, Any]:
        """Return JSON data for the store (curves are stored apart).

        A session never read is written as it was stored.
        """
        return {
            "sessions": [
                stored.data if stored.record is None else stored.record.to_dict()
                for stored in sorted(self._sessions.values(), key=_start)
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionHistory:
        """Rebuild from `to_dict()`; a record that cannot be read is skipped.

        Only each session's facts are read now; the records when asked for.
        """
        sessions: list[_Stored] = []
        for raw in data.get("sessions", ()):
            try:
                stored = _Stored.from_data(raw)
                if "curve" in raw:
                    # The curve inside (an old layout): read the record now,
                    # so history keeps and saves the session without it.
                    stored = _Stored.of(SessionRecord.from_dict(raw))
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.error("Skipping an unreadable stored session %r: %s", raw, err)
                continue
            sessions.append(stored)
        history = cls()
        history._hold(sessions)
        return history


class RecordedSessions(Sequence[SessionRecord]):
    """A history's sessions at one moment, oldest first.

    The records are read when first asked for (all of them, once); `facts`
    and `where` answer without reading the rest. A session that cannot be
    read is left out (and forgotten by the history).
    """

    def __init__(
        self,
        sessions: list[_Stored],
        read: Callable[[Sequence[_Stored]], list[SessionRecord]],
    ) -> None:
        """Hold `sessions`; `read` reads their records (the history's reader)."""
        self._sessions = sessions
        self._read = read
        self._records: list[SessionRecord] | None = None

    @property
    def facts(self) -> Sequence[SessionFacts]:
        """Return each session's facts, without reading any record."""
        return self._sessions

    def where(self, keep: Callable[[SessionFacts], bool]) -> list[SessionRecord]:
        """Return the records of the sessions whose facts `keep` accepts."""
        if self._records is not None:
            return [record for record in self._records if keep(record)]
        return self._read([stored for stored in self._sessions if keep(stored)])

    def _all(self) -> list[SessionRecord]:
        if self._records is None:
            self._records = self._read(self._sessions)
        return self._records

    @overload
    def __getitem__(self, index: int) -> SessionRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SessionRecord]: ...
    def __getitem__(
        self, index: int | slice
    ) -> SessionRecord | Sequence[SessionRecord]:
        """Return the record (or records) at `index`."""
        return self._all()[index]

    def __len__(self) -> int:
        """Return how many sessions can be read."""
        return len(self._all())

    def __iter__(self) -> Iterator[SessionRecord]:
        """Iterate the records, oldest first."""
        return iter(self._all())


def session_facts(records: Sequence[SessionRecord]) -> Sequence[SessionFacts]:
    """Return the facts of `records`, without reading a history's records."""
    if isinstance(records, RecordedSessions):
        return records.facts
    return records


def records_where(
    records: Sequence[SessionRecord], keep: Callable[[SessionFacts], bool]
) -> list[SessionRecord]:
    """Return the records whose facts `keep` accepts, reading only those."""
    if isinstance(records, RecordedSessions):
        return records.where(keep)
    return [record for record in records if keep(record)]


def _start(stored: _Stored) -> datetime:
    return stored.started_at
