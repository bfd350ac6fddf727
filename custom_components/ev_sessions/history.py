"""The charger's finished sessions and their running totals.

Plain Python: the store persists `to_dict()`, entities read the totals, the
actions query and correct it. Records are kept without their curves (those
live in their own store file, read on demand), so years of sessions stay
small in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
import dataclasses
from datetime import datetime
from decimal import Decimal
import logging
from typing import Any

from .session import SessionRecord

_LOGGER = logging.getLogger(__name__)


def without_curve(record: SessionRecord) -> SessionRecord:
    """Return the record as history keeps it: curve stored apart, count kept."""
    if not record.curve:
        return record
    return dataclasses.replace(record, curve=(), stored_curve_points=len(record.curve))


class SessionHistory:
    """Finished sessions, oldest first, with totals kept in step."""

    def __init__(self, records: list[SessionRecord] | None = None) -> None:
        """Hold `records` (any order; kept oldest first)."""
        self._records: dict[str, SessionRecord] = {}
        # The latest session, kept so the 30 s view needs no scan of years.
        self._last: SessionRecord | None = None
        self.total_energy_kwh = 0.0
        self.total_cost = Decimal(0)
        self.total_revenue = Decimal(0)
        for record in sorted(records or (), key=_start):
            self.add(record)

    def __len__(self) -> int:
        """Return how many sessions are recorded."""
        return len(self._records)

    def __iter__(self) -> Iterator[SessionRecord]:
        """Iterate the sessions, oldest first."""
        return iter(self._records.values())

    def __contains__(self, session_id: object) -> bool:
        """Return whether a session with this id is recorded."""
        return session_id in self._records

    @property
    def last(self) -> SessionRecord | None:
        """Return the most recently ended session."""
        return self._last

    def get(self, session_id: str) -> SessionRecord | None:
        """Return the session with this id, if recorded."""
        return self._records.get(session_id)

    def add(self, record: SessionRecord) -> bool:
        """Record a finished session; False if its id is already recorded."""
        if record.id in self._records:
            return False
        stored = without_curve(record)
        self._records[record.id] = stored
        self._count(record, 1)
        if self._last is None or stored.ended_at >= self._last.ended_at:
            self._last = stored
        return True

    def replace(self, record: SessionRecord) -> SessionRecord | None:
        """Put a corrected record in place of the one with its id."""
        old = self._records.get(record.id)
        if old is None:
            return None
        self._count(old, -1)
        self._records[record.id] = without_curve(record)
        self._count(record, 1)
        self._find_last()
        return old

    def remove(self, session_id: str) -> SessionRecord | None:
        """Delete a session; return what was deleted."""
        old = self._records.pop(session_id, None)
        if old is not None:
            self._count(old, -1)
            self._find_last()
        return old

    def _find_last(self) -> None:
        self._last = max(
            self._records.values(), key=lambda record: record.ended_at, default=None
        )

    def prune(self, before: datetime) -> list[str]:
        """Forget sessions that ended before `before`; return their ids."""
        gone = [
            record.id for record in self._records.values() if record.ended_at < before
        ]
        for session_id in gone:
            self.remove(session_id)
        return gone

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Return whether a recorded session overlaps [start, end)."""
        return any(
            record.started_at < end and record.ended_at > start
            for record in self._records.values()
        )

    def _count(self, record: SessionRecord, sign: int) -> None:
        self.total_energy_kwh += sign * record.energy_kwh
        self.total_cost += sign * (record.cost or Decimal(0))
        self.total_revenue += sign * (record.revenue or Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        """Return JSON data for the store (curves are stored apart)."""
        return {
            "sessions": [
                record.to_dict()
                for record in sorted(self._records.values(), key=_start)
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionHistory:
        """Rebuild from `to_dict()`; a record that cannot be read is skipped."""
        records: list[SessionRecord] = []
        for raw in data.get("sessions", ()):
            try:
                records.append(SessionRecord.from_dict(raw))
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.error("Skipping an unreadable stored session %r: %s", raw, err)
        return cls(records)


def _start(record: SessionRecord) -> datetime:
    return record.started_at
