"""Finished sessions as the history keeps them, for the tests that add them up or query them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from custom_components.ev_sessions.session import SessionRecord


def finished_session(
    started_at: datetime,
    ended_at: datetime,
    *,
    energy_kwh: float,
    curve: tuple[Any, ...] = (),
    charging: tuple[datetime, datetime] | None = None,
    user: str | None = None,
    cost: str | None = None,
    revenue: str | None = None,
    session_id: str | None = None,
    charging_duration_s: int = 0,
    peak_power_kw: float | None = None,
    avg_power_kw: float | None = None,
) -> SessionRecord:
    """A finished session with the figures that totals and queries use.

    The times are kept as given; the id is the start time unless given.
    `charging` is the first and last moment of charging, if known.
    """
    return SessionRecord(
        id=session_id or started_at.strftime("%Y%m%d%H%M%S"),
        entry_id="entry",
        charger="Garage",
        charger_type="ac_3_phase",
        started_at=started_at,
        ended_at=ended_at,
        charging_started_at=None if charging is None else charging[0],
        charging_ended_at=None if charging is None else charging[1],
        duration_s=round((ended_at - started_at).total_seconds()),
        charging_duration_s=charging_duration_s,
        energy_kwh=energy_kwh,
        peak_power_kw=peak_power_kw,
        avg_power_kw=avg_power_kw,
        meter_start_kwh=None,
        meter_end_kwh=None,
        energy_source="power",
        flags=(),
        user=user,
        currency="SEK",
        cost=None if cost is None else Decimal(cost),
        revenue=None if revenue is None else Decimal(revenue),
        curve=curve,
    )
