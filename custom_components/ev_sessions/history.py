"""The charger's finished sessions and their running totals.

Plain Python: the store persists `to_dict()`, entities read the totals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
import logging
from typing import Any

from .session import SessionRecord

_LOGGER = logging.getLogger(__name__)


class SessionHistory:
    """Finished sessions, oldest first, with totals kept in step."""

    def __init__(self, records: list[SessionRecord] | None = None) -> None:
        """Hold `records` (oldest first)."""
        self._records: list[SessionRecord] = []
        self._ids: set[str] = set()
        self.total_energy_kwh = 0.0
        self.total_cost = Decimal(0)
        self.total_revenue = Decimal(0)
        for record in records or ():
            self.add(record)

    def __len__(self) -> int:
        """Return how many sessions are recorded."""
        return len(self._records)

    def __iter__(self) -> Iterator[SessionRecord]:
        """Iterate the sessions, oldest first."""
        return iter(self._records)

    @property
    def last(self) -> SessionRecord | None:
        """Return the most recently ended session."""
        return self._records[-1] if self._records else None

    def add(self, record: SessionRecord) -> bool:
        """Record a finished session; False if its id is already recorded."""
        if record.id in self._ids:
            return False
        self._records.append(record)
        self._ids.add(record.id)
        self.total_energy_kwh += record.energy_kwh
        self.total_cost += record.cost or Decimal(0)
        self.total_revenue += record.revenue or Decimal(0)
        return True

    def to_dict(self) -> dict[str, Any]:
        """Return JSON data for the store, curves included."""
        return {
            "sessions": [record.to_dict(include_curve=True) for record in self._records]
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
