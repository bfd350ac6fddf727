"""Corrections to a finished session: who charged, which car, a note, the energy.

Plain Python. The money figures follow the correction: a corrected energy
scales the cost (the average price paid stays what it was) and re-prices the
energy fee; a new user brings their tariff, and the whole revenue is computed
again under it, exactly as at the session's end.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from datetime import datetime
from decimal import Decimal

from .pricing import SessionBilling, Tariff, idle_seconds
from .session import (
    FLAG_ENERGY_CORRECTED,
    FLAG_UNKNOWN_USER,
    REVENUE_PARTS,
    SessionRecord,
)


class _Unset:
    """Marks a field the correction leaves alone (None clears a field)."""


UNSET = _Unset()

type Field[T] = T | _Unset


def edit_session(
    record: SessionRecord,
    *,
    edited_at: datetime,
    tariff_for_user: Callable[[str | None], tuple[Tariff, bool]],
    user: Field[str | None] = UNSET,
    vehicle: Field[str | None] = UNSET,
    note: Field[str | None] = UNSET,
    energy_kwh: Field[float] = UNSET,
) -> SessionRecord:
    """Return `record` corrected, with its money recomputed where it depends.

    `tariff_for_user(user)` returns that user's tariff and whether the user
    is a configured one. Raises ValueError for a negative or non-finite
    energy.
    """
    changes: dict[str, object] = {"edited_at": edited_at}
    flags = set(record.flags)
    tariff = Tariff.from_options(record.tariff or {})
    energy = record.energy_kwh
    cost = record.cost
    if not isinstance(user, _Unset) and user != record.user:
        changes["user"] = user
        tariff, known = tariff_for_user(user)
        if known or user is None:
            flags.discard(FLAG_UNKNOWN_USER)
        else:
            flags.add(FLAG_UNKNOWN_USER)
    if not isinstance(vehicle, _Unset):
        changes["vehicle"] = vehicle
    if not isinstance(note, _Unset):
        changes["note"] = note
    if not isinstance(energy_kwh, _Unset) and energy_kwh != record.energy_kwh:
        if not energy_kwh >= 0 or energy_kwh == float("inf"):
            raise ValueError(f"energy must be a finite number >= 0: {energy_kwh}")
        if cost is not None:
            # Keep the average price paid: the cost scales with the energy.
            cost = (
                cost * Decimal(repr(energy_kwh)) / Decimal(repr(energy))
                if energy > 0
                else Decimal(0)
            )
        energy = round(energy_kwh, 4)
        flags.add(FLAG_ENERGY_CORRECTED)
        charging_h = record.charging_duration_s / 3600
        changes["energy_kwh"] = energy
        changes["avg_power_kw"] = round(energy / charging_h, 3) if charging_h else None
        changes["cost"] = cost
    if "user" not in changes and "energy_kwh" not in changes:
        changes["flags"] = tuple(sorted(flags))
        return dataclasses.replace(record, **changes)  # type: ignore[arg-type]
    billing = SessionBilling(tariff)
    billing.energy_kwh = Decimal(repr(energy))
    if cost is not None:
        billing.priced_kwh = billing.energy_kwh
        billing.cost = cost
    revenue = billing.revenue(
        charging_s=record.charging_duration_s,
        idle_s=idle_seconds(record.charging_ended_at, record.ended_at),
    )
    changes["revenue"] = revenue.total
    changes["revenue_breakdown"] = {
        part: getattr(revenue, part) for part in REVENUE_PARTS
    }
    changes["tariff"] = tariff.to_dict()
    if cost is not None and energy > 0:
        changes["avg_cost_per_kwh"] = cost / Decimal(repr(energy))
    changes["flags"] = tuple(sorted(flags))
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]
