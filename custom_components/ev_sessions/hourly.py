"""Place sessions' energy and money in the hours they were drawn.

Plain Python, no Home Assistant imports: `statistics.py` turns the result into
long-term statistics, and a test can check it by hand.

A session's *shares* say which fraction of its energy was drawn in each UTC
hour. They come from the session's curve (a step function of power from
``started_at``; a gap, ``None``, and negative or unreadable powers draw
nothing). A session without a usable curve (none stored, or no energy under
it) is spread evenly over its charging time when that is known, and otherwise
put in the hour it ended.

The record's own figures are authoritative: ``energy_kwh``, ``cost`` and
``revenue`` are what is placed, the curve only says *where*. So a session
whose energy was edited keeps its curve's shape with the edited total. Cost and
revenue follow the same energy shares. For cost that is exact at a fixed
price and close with a price that changes by the hour (the session's cost is
kept; its split follows the energy, not the hourly price). For revenue it is a
choice: the parts that are not per kWh (the session fee, time and idle fees, a
minimum-fee adjustment) are spread by energy too, so the hours' revenue adds
up to the session's and falls where the charging was.

Money stays `Decimal` until the running sums: each session's last hour takes
the remainder, so the hours of a session add up to its cost and revenue
exactly, and the running sums to the history's totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
import math
from typing import Any

from .session import SessionRecord

HOUR_S = 3600
_ZERO = Decimal(0)
_NUMBER_TYPES = (int, float)


@dataclass(frozen=True, slots=True)
class HourAmounts:
    """What sessions drew and earned in an hour.

    Also used as totals: what they drew and earned in all hours up to one.
    """

    energy_kwh: float
    cost: Decimal
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class HourRow:
    """One hour of long-term statistics: running sums up to the hour's end."""

    start: datetime
    sum_energy: float
    sum_cost: float
    sum_revenue: float


def hourly_shares(
    record: SessionRecord, curve: Sequence[Any] | None = None
) -> list[tuple[datetime, float]]:
    """Return the fraction of the session's energy drawn in each UTC hour.

    ``curve`` is the session's curve when the record is kept without it (the
    history stores curves apart); by default the record's own. Points may be
    tuples or the stored JSON pairs ``[offset_s, kw]``.

    Hours are aware UTC datetimes on the hour, ascending; only hours with a
    share are listed, and the shares add up to 1.
    """
    weights = _curve_weights(record, record.curve if curve is None else curve)
    if not weights:
        weights = _charging_time_weights(record)
    if not weights:
        hour = _hour_of(record.ended_at.timestamp())
        return [(_as_datetime(hour), 1.0)]
    total = math.fsum(weights.values())
    return [(_as_datetime(hour), weights[hour] / total) for hour in sorted(weights)]


def hourly_amounts(
    records: Iterable[SessionRecord],
    *,
    user: str | None = None,
    curves: Mapping[str, Sequence[Any]] | None = None,
) -> dict[datetime, HourAmounts]:
    """Return each hour's energy, cost and revenue over ``records``.

    With ``user``, only the sessions of that user (``record.user``) count. A
    missing cost or revenue counts as none. ``curves`` holds curves by session
    id for records kept without theirs (a record's own curve comes first).
    """
    energy: dict[datetime, float] = {}
    cost: dict[datetime, Decimal] = {}
    revenue: dict[datetime, Decimal] = {}
    for record in records:
        if user is not None and record.user != user:
            continue
        curve = record.curve or (curves or {}).get(record.id)
        shares = hourly_shares(record, curve)
        for hour, share in shares:
            energy[hour] = energy.get(hour, 0.0) + record.energy_kwh * share
        for placed, amount in (
            (cost, record.cost),
            (revenue, record.revenue),
        ):
            if amount:
                for hour, part in _split(amount, shares):
                    placed[hour] = placed.get(hour, _ZERO) + part
    return {
        hour: HourAmounts(
            energy_kwh=energy[hour],
            cost=cost.get(hour, _ZERO),
            revenue=revenue.get(hour, _ZERO),
        )
        for hour in sorted(energy)
    }


def cumulative_rows(
    amounts: Mapping[datetime, HourAmounts], *, totals: HourAmounts | None = None
) -> list[HourRow]:
    """Return the hours in order with running sums, as the recorder stores them.

    The sums start from ``totals`` (what earlier hours add up to), or from
    zero. Money is summed exactly and turned into a float per row, so the sums
    never drift however many hours there are.
    """
    rows: list[HourRow] = []
    energy = 0.0 if totals is None else totals.energy_kwh
    cost = _ZERO if totals is None else totals.cost
    revenue = _ZERO if totals is None else totals.revenue
    for hour in sorted(amounts):
        amount = amounts[hour]
        energy += amount.energy_kwh
        cost += amount.cost
        revenue += amount.revenue
        rows.append(
            HourRow(
                start=hour,
                sum_energy=energy,
                sum_cost=float(cost),
                sum_revenue=float(revenue),
            )
        )
    return rows


def add_amounts(totals: HourAmounts, amounts: Iterable[HourAmounts]) -> HourAmounts:
    """Return ``totals`` plus ``amounts``, money exactly."""
    energy, cost, revenue = totals.energy_kwh, totals.cost, totals.revenue
    for amount in amounts:
        energy += amount.energy_kwh
        cost += amount.cost
        revenue += amount.revenue
    return HourAmounts(energy_kwh=energy, cost=cost, revenue=revenue)


def _curve_weights(record: SessionRecord, curve: Sequence[Any]) -> dict[int, float]:
    """Return the energy (kWh) under ``curve`` per hour (epoch seconds).

    Gaps, negative and unreadable powers draw nothing; unreadable points and
    steps that go backwards are empty. Empty when the curve has no energy.
    """
    origin = record.started_at.timestamp()
    weights: dict[int, float] = {}
    offset: float | None = None
    kw: float | None = None
    for point in curve:
        after, after_kw = _point(point)
        if offset is not None and after is not None and kw is not None:
            if kw > 0 and after > offset:
                _add_span(weights, origin + offset, origin + after, kw / HOUR_S)
        offset, kw = after, after_kw
    return weights if math.fsum(weights.values()) > 0 else {}


def _point(point: Any) -> tuple[float | None, float | None]:
    """Return a curve point's offset and power; ``None`` for what is unusable."""
    try:
        offset, kw = point
    except (TypeError, ValueError):
        return None, None
    return _finite(offset), _finite(kw)


def _finite(value: Any) -> float | None:
    """Return ``value`` if it is a finite number (not a bool), else ``None``."""
    if type(value) in _NUMBER_TYPES and math.isfinite(value):
        return float(value)
    return None


def _charging_time_weights(record: SessionRecord) -> dict[int, float]:
    """Return seconds of charging per hour; empty when the time is unknown."""
    start, end = record.charging_started_at, record.charging_ended_at
    if start is None or end is None or end <= start:
        return {}
    weights: dict[int, float] = {}
    _add_span(weights, start.timestamp(), end.timestamp(), 1.0)
    return weights


def _add_span(weights: dict[int, float], start: float, end: float, rate: float) -> None:
    """Add ``rate`` per second over ``[start, end)`` to the hours it covers."""
    hour = _hour_of(start)
    while hour < end:
        next_hour = hour + HOUR_S
        seconds = min(end, next_hour) - max(start, hour)
        weights[hour] = weights.get(hour, 0.0) + rate * seconds
        hour = next_hour


def _split(
    amount: Decimal, shares: list[tuple[datetime, float]]
) -> list[tuple[datetime, Decimal]]:
    """Split ``amount`` by ``shares``; the last hour takes the remainder."""
    parts: list[tuple[datetime, Decimal]] = []
    placed = _ZERO
    for hour, share in shares[:-1]:
        part = amount * Decimal(share)
        parts.append((hour, part))
        placed += part
    parts.append((shares[-1][0], amount - placed))
    return parts


def _hour_of(timestamp: float) -> int:
    """Return the start of the UTC hour holding ``timestamp`` (epoch seconds)."""
    return math.floor(timestamp / HOUR_S) * HOUR_S


def _as_datetime(hour: int) -> datetime:
    return datetime.fromtimestamp(hour, UTC)
