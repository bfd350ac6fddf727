"""What the sessions drew, cost and earned in a period: this month, last month.

Plain Python, no Home Assistant imports: the sensors pass Home Assistant's
time zone and the history's records.

A session is counted by where its energy was drawn: a session from 23:30 on
the last day of a month to 01:30 the next day puts each part of its energy in
the month it was drawn in. Which fraction falls in a period is what
`hourly.py` places in each hour, so these totals and the long-term statistics
always agree: the curve says where the energy was drawn (gaps draw nothing);
without a usable curve the energy is spread evenly over the charging time;
without that, it all counts where the session ended. The record's figures are
authoritative: its ``energy_kwh`` is what is split, the curve only says where.

Cost and revenue are split in the same proportion as the energy. For cost
that is (nearly) exact; for revenue it is the same choice `hourly.py` makes:
fees that are not per kWh (session, time and idle fees) follow the energy
too, so the parts of a session add up to its whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
import math
from typing import Any

from .hourly import HOUR_S, hourly_shares
from .session import SessionRecord

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    """What the sessions drew, cost and earned in one period."""

    energy_kwh: float
    cost: Decimal
    revenue: Decimal


def month_bounds(at: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Return the start of ``at``'s month in ``tz`` and the start of the next.

    Both are aware datetimes in ``tz``. A month starts at the first instant
    of its first day: local midnight, or when a clock change skips midnight,
    the moment the day begins (and an ambiguous midnight counts once, the
    first time).
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    local = at.astimezone(tz)
    this_month = _month_start(local.year, local.month, tz)
    # The next month, counted from 0: December's is January of the next year.
    year, month_index = divmod(local.year * 12 + local.month, 12)
    return this_month, _month_start(year, month_index + 1, tz)


def last_month_bounds(at: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Return the start of the month before ``at``'s (in ``tz``) and of ``at``'s."""
    this_month, _ = month_bounds(at, tz)
    last_month, _ = month_bounds(this_month - timedelta(days=1), tz)
    return last_month, this_month


def _month_start(year: int, month: int, tz: tzinfo) -> datetime:
    # fold=0 reads a midnight that does not exist with the offset before the
    # change (the instant the day begins) and an ambiguous one as the first.
    midnight = datetime(year, month, 1, tzinfo=tz)
    return midnight.astimezone(UTC).astimezone(tz)


def energy_share_between(
    record: SessionRecord,
    start: datetime,
    end: datetime,
    curve: Sequence[Any] | None = None,
) -> float:
    """Return the fraction of the session's energy drawn in ``[start, end)``.

    ``curve`` is the session's curve when the record is kept without it (the
    history stores curves apart); by default the record's own.
    """
    first = _share_before(record, curve, start)
    return max(_share_before(record, curve, end) - first, 0.0)


def energy_between(
    record: SessionRecord,
    start: datetime,
    end: datetime,
    curve: Sequence[Any] | None = None,
) -> float:
    """Return the energy (kWh) of the session drawn in ``[start, end)``."""
    return record.energy_kwh * energy_share_between(record, start, end, curve)


def period_totals(
    records: Iterable[SessionRecord],
    start: datetime,
    end: datetime,
    *,
    user: str | None = None,
    curves: Mapping[str, Sequence[Any]] | None = None,
) -> PeriodTotals:
    """Return the energy, cost and revenue drawn in ``[start, end)``.

    With ``user``, only that user's sessions count. A missing cost or revenue
    counts as none. ``curves`` holds curves by session id for records kept
    without theirs (a record's own curve comes first); only the sessions
    that straddle ``start`` or ``end`` read theirs.

    Money is split by the difference of what was spent before ``end`` and
    before ``start``, each computed the same way whichever period asks: so
    the parts of a session in consecutive periods add up to its amount
    exactly.
    """
    energy = 0.0
    cost = revenue = _ZERO
    for record in records:
        if user is not None and record.user != user:
            continue
        curve = record.curve or (curves or {}).get(record.id)
        first = _share_before(record, curve, start)
        last = _share_before(record, curve, end)
        if last <= first:
            continue
        energy += record.energy_kwh * (last - first)
        cost += _part(record.cost, first, last)
        revenue += _part(record.revenue, first, last)
    return PeriodTotals(energy_kwh=energy, cost=cost, revenue=revenue)


def _part(amount: Decimal | None, first: float, last: float) -> Decimal:
    """Return the part of ``amount`` between two cumulative shares."""
    if not amount:
        return _ZERO
    return amount * Decimal(last) - amount * Decimal(first)


def _share_before(
    record: SessionRecord, curve: Sequence[Any] | None, moment: datetime
) -> float:
    """Return the fraction of the session's energy drawn before ``moment``.

    A session lies within ``[started_at, ended_at]``, its curve and charging
    time included (the tracker records them so): one that ``moment`` does
    not cut is answered without reading its curve.

    Otherwise `hourly_shares` splits it, at UTC hours. A month does not
    always begin on one (India, Newfoundland, Adelaide), so the session is
    moved back by how far ``moment`` lies past its hour: its hours then
    split it exactly at ``moment``.
    """
    timestamp = moment.timestamp()
    if timestamp <= record.started_at.timestamp():
        return 0.0
    if timestamp > record.ended_at.timestamp():
        return 1.0
    past_hour = timestamp % HOUR_S
    if past_hour:
        record = _moved(record, -timedelta(seconds=past_hour))
    split = timestamp - past_hour
    shares = hourly_shares(record, curve)
    before = math.fsum(share for hour, share in shares if hour.timestamp() < split)
    return min(before, 1.0)


def _moved(record: SessionRecord, by: timedelta) -> SessionRecord:
    """Return the session as if it had happened ``by`` later."""
    return dataclasses.replace(
        record,
        started_at=record.started_at + by,
        ended_at=record.ended_at + by,
        charging_started_at=None
        if record.charging_started_at is None
        else record.charging_started_at + by,
        charging_ended_at=None
        if record.charging_ended_at is None
        else record.charging_ended_at + by,
    )


NO_TOTALS = PeriodTotals(energy_kwh=0.0, cost=_ZERO, revenue=_ZERO)


@dataclass(frozen=True, slots=True)
class MonthTotals:
    """This month's and last month's totals, for the charger and each user."""

    start: datetime  # this month's first instant, in the time zone asked for
    end: datetime  # the next month's first instant
    last_start: datetime  # last month's first instant
    this_month: PeriodTotals
    last_month: PeriodTotals
    users: Mapping[str, PeriodTotals]  # this month, by user name

    def plus(self, other: MonthTotals) -> MonthTotals:
        """Return these totals with ``other``'s (of the same months) added."""
        return MonthTotals(
            start=self.start,
            end=self.end,
            last_start=self.last_start,
            this_month=_sum(self.this_month, other.this_month),
            last_month=_sum(self.last_month, other.last_month),
            users={
                user: _sum(self.users.get(user, NO_TOTALS), other.users.get(user))
                for user in {*self.users, *other.users}
            },
        )


def month_totals(
    records: Iterable[SessionRecord],
    at: datetime,
    tz: tzinfo,
    *,
    users: Iterable[str] = (),
    curves: Mapping[str, Sequence[Any]] | None = None,
) -> MonthTotals:
    """Return the totals of ``at``'s month and the month before, in ``tz``.

    ``users`` are the names whose own this-month totals are wanted (a user
    with no session has zero). ``curves`` as for `period_totals`: only the
    sessions `straddling` a month's start need theirs.
    """
    start, end = month_bounds(at, tz)
    last_start, _ = last_month_bounds(at, tz)
    # Records keep UTC times: comparing with a UTC moment skips the time
    # zone's offset lookups, thousands of records at every start.
    since = last_start.astimezone(UTC)
    recent = [record for record in records if record.ended_at >= since]
    names = set(users)
    return MonthTotals(
        start=start,
        end=end,
        last_start=last_start,
        this_month=period_totals(recent, start, end, curves=curves),
        last_month=period_totals(recent, last_start, start, curves=curves),
        users={
            name: period_totals(recent, start, end, user=name, curves=curves)
            for name in names
        },
    )


def straddling(
    records: Iterable[SessionRecord], at: datetime, tz: tzinfo
) -> list[SessionRecord]:
    """Return the sessions cut by the start of ``at``'s month or the one before.

    These are the only ones `month_totals` reads curves for.
    """
    start, end = month_bounds(at, tz)
    last_start, _ = last_month_bounds(at, tz)
    moments = [moment.astimezone(UTC) for moment in (last_start, start, end)]
    first, last = moments[0], moments[-1]
    return [
        record
        for record in records
        if record.ended_at >= first
        and record.started_at < last
        and any(record.started_at < moment <= record.ended_at for moment in moments)
    ]


def _sum(first: PeriodTotals, second: PeriodTotals | None) -> PeriodTotals:
    if second is None:
        return first
    return PeriodTotals(
        energy_kwh=first.energy_kwh + second.energy_kwh,
        cost=first.cost + second.cost,
        revenue=first.revenue + second.revenue,
    )
