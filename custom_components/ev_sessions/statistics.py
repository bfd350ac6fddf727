"""Long-term statistics of a charger's sessions: energy, cost and revenue per hour.

Each charger has external statistics (source ``ev_sessions``) that statistics
graph cards and the Energy dashboard read:

* ``ev_sessions:<charger>_energy`` (kWh), ``ev_sessions:<charger>_revenue`` and,
  once a session has a cost, ``ev_sessions:<charger>_cost`` (the currency);
* the same per configured user: ``ev_sessions:<charger>_<user>_energy`` ...

``<charger>`` is the entry's title and ``<user>`` the user's name, slugified
(lowercase letters, digits and single underscores, as statistic ids must be):
"Garage" and "Anna-Lena" give ``ev_sessions:garage_anna_lena_energy``. Two
users whose names slugify alike get ``_2``, ``_3`` in configured order. Renaming
the charger or a user starts new statistics under the new id; the old ones
stay until removed (`async_clear_charger_statistics` or Developer tools).

A session's amounts are placed in the hours it drew its energy (`hourly.py`).
Every row carries the running sum (``sum``, and ``state`` equal to it), so the
hourly change is what the sessions drew and earned in that hour.

`SessionStatistics` keeps the statistics in step with the history:

* `async_update` after a session ended: a session whose hours all fall at or
  after the last hour written is appended, its sums continuing from there. No
  read, about a millisecond of the event loop and a few rows for the recorder.
* `async_update` the first time (at start-up): a cheap check of each series'
  last row against the history's totals; when they agree nothing is written.
* Otherwise (the check failed, an added session reaches back, or
  `async_rebuild` after sessions were corrected, deleted or reconstructed) the
  stored rows are read and compared with what the history gives, and only the
  rows that differ are written (the recorder replaces a row of the same
  hour). A correction therefore replaces what was there and is never added on
  top of it. The hours of a deleted session keep a row with a change of 0; a
  series left with nothing is removed. Reading and comparing run in executor
  threads; the writes go in batches, waiting for the recorder in between.

Clearing and importing every row each time would be simpler but is far too
slow: 5,000 sessions make about 89,000 rows for a charger and two users, which
kept the recorder thread busy for about a minute on the test machine.

The history may forget old sessions (``keep_days``); long-term statistics are
kept forever. So the stored rows before the hour the oldest remembered session
started (or the oldest deleted one, passed as ``removed``) are left as they
are, and the sums from there on continue from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import batched
import logging
import math
from typing import Any, Final, cast

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    async_add_external_statistics,
    get_last_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import slugify
from sqlalchemy.exc import SQLAlchemyError

from .const import DOMAIN
from .history import records_where, session_facts
from .hourly import HourAmounts, HourRow, add_amounts, cumulative_rows, hourly_amounts
from .session import SessionFacts, SessionRecord

_LOGGER = logging.getLogger(__name__)

KIND_ENERGY: Final = "energy"
KIND_COST: Final = "cost"
KIND_REVENUE: Final = "revenue"
KINDS: Final = (KIND_ENERGY, KIND_COST, KIND_REVENUE)

# Newer releases (2026.2 among them) declare `unit_class` in the metadata and
# warn that it is required from 2026.11; 2025.4 fails on it in the recorder
# thread. Pass it only where the recorder declares it.
_METADATA_KEYS: Final = (
    StatisticMetaData.__required_keys__ | StatisticMetaData.__optional_keys__
)
HAS_UNIT_CLASS: Final = "unit_class" in _METADATA_KEYS
ENERGY_UNIT_CLASS: Final = "energy"

_NONE = HourAmounts(energy_kwh=0.0, cost=Decimal(0), revenue=Decimal(0))
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# How long to wait for the recorder's queue before reading statistics (it may
# be busy, e.g. migrating its database at start-up); then try again later.
RECORDER_WAIT_S: Final = 60
# Rows queued at a time when many are written (a first import, a correction of
# an old session): about a second or two of the recorder's time each.
WRITE_BATCH: Final = 2000

type Curves = Mapping[str, Sequence[Any]]
type Group = str | None  # a user's name; None for the whole charger


@dataclass(frozen=True, slots=True)
class StatisticSeries:
    """One external statistic: energy, cost or revenue of a charger or user."""

    statistic_id: str
    name: str
    kind: str
    user: str | None
    unit: str | None

    def metadata(self) -> StatisticMetaData:
        """Return the recorder metadata, in the form this release accepts."""
        metadata: dict[str, Any] = {
            "has_sum": True,
            "mean_type": StatisticMeanType.NONE,
            "name": self.name,
            "source": DOMAIN,
            "statistic_id": self.statistic_id,
            "unit_of_measurement": self.unit,
        }
        if HAS_UNIT_CLASS:
            metadata["unit_class"] = (
                ENERGY_UNIT_CLASS if self.kind == KIND_ENERGY else None
            )
        return cast(StatisticMetaData, metadata)

    def value(self, row: HourRow) -> float:
        """Return this series' running sum in `row`."""
        if self.kind == KIND_ENERGY:
            return row.sum_energy
        if self.kind == KIND_COST:
            return row.sum_cost
        return row.sum_revenue


def statistics_object_id(title: str) -> str:
    """Return the charger's part of its statistic ids."""
    return slugify(title) or "charger"


def charger_series(
    title: str, currency: str | None, users: Sequence[str] = ()
) -> list[StatisticSeries]:
    """Return every series of a charger: energy, cost, revenue; then per user."""
    object_id = statistics_object_id(title)
    units = {
        KIND_ENERGY: UnitOfEnergy.KILO_WATT_HOUR,
        KIND_COST: currency,
        KIND_REVENUE: currency,
    }
    series = [
        StatisticSeries(
            statistic_id=f"{DOMAIN}:{object_id}_{kind}",
            name=f"{title} {kind}",
            kind=kind,
            user=None,
            unit=units[kind],
        )
        for kind in KINDS
    ]
    for user, user_slug in _user_slugs(users).items():
        series.extend(
            StatisticSeries(
                statistic_id=f"{DOMAIN}:{object_id}_{user_slug}_{kind}",
                name=f"{title} {user} {kind}",
                kind=kind,
                user=user,
                unit=units[kind],
            )
            for kind in KINDS
        )
    return series


def _user_slugs(users: Iterable[str]) -> dict[str, str]:
    """Return each user's part of the statistic ids, unique within the charger."""
    slugs: dict[str, str] = {}
    for user in users:
        if user in slugs:
            continue
        base = slugify(user) or "user"
        slug, number = base, 2
        while slug in slugs.values():
            slug, number = f"{base}_{number}", number + 1
        slugs[user] = slug
    return slugs


@dataclass(frozen=True, slots=True)
class _Row:
    """A stored or planned row: the hour and the running sum."""

    start: datetime
    sum: float


@dataclass(slots=True)
class _Written:
    """What the recorder holds: which sessions, and each group's last hour."""

    session_ids: set[str]
    # Per group: the hour of its last row and the totals through that hour.
    last: dict[Group, tuple[datetime, HourAmounts]] = field(default_factory=dict)
    with_cost: bool = False


@dataclass(frozen=True, slots=True)
class _SyncPlan:
    """What to write so that the stored statistics match the history."""

    writes: dict[str, list[_Row]]
    clear: list[str]
    last: dict[Group, tuple[datetime, HourAmounts]]
    with_cost: bool


class _Unreadable(Exception):
    """The stored statistics cannot be read now; try again later."""


class SessionStatistics:
    """Keep one charger's long-term statistics in step with its history."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        title: str,
        currency: str | None,
        users: Sequence[str] = (),
        load_curves: Callable[[], Awaitable[Curves]] | None = None,
    ) -> None:
        """Prepare the charger's series (nothing is read or written yet).

        ``load_curves`` returns the stored curves by session id (the store's
        ``async_curves``), for records kept without theirs. It is called only
        when rows are to be computed, not for the start-up check.
        """
        self._hass = hass
        self._load_curves = load_curves
        self._users = tuple(dict.fromkeys(users))
        self.series = charger_series(title, currency, self._users)
        self._lock = asyncio.Lock()
        self._written: _Written | None = None

    @property
    def statistic_ids(self) -> list[str]:
        """Return the ids of every series of the charger."""
        return [series.statistic_id for series in self.series]

    async def async_update(
        self, records: Sequence[SessionRecord], curves: Curves | None = None
    ) -> None:
        """Bring the statistics up to date after sessions were added.

        The first call (at start-up) checks the stored statistics against
        ``records`` (each series' last sum, name and unit) and corrects them if
        they differ. Later calls append the sessions not yet written, or
        compare and correct when one reaches back before the last hour
        written. Sessions gone from ``records`` were forgotten by the history
        (``keep_days``): their statistics stay. For deleted or corrected
        sessions call `async_rebuild`.

        ``records`` may be a history's `records()`: the start-up check and
        finding the sessions not yet written read only each session's facts,
        so a history read lazily is not read in full.
        """
        async with self._lock:
            try:
                written = self._written
                if written is None:
                    if not await self._async_adopt(records):
                        curves = await self._async_curves(curves)
                        await self._async_sync(records, curves, ())
                    return
                known = written.session_ids
                if all(session.id in known for session in session_facts(records)):
                    return
                new = records_where(records, lambda session: session.id not in known)
                curves = await self._async_curves(curves)
                if not self._append(written, new, curves):
                    await self._async_sync(records, curves, ())
            except _Unreadable as err:
                self._read_failed(err)

    async def async_rebuild(
        self,
        records: Sequence[SessionRecord],
        curves: Curves | None = None,
        *,
        removed: Iterable[SessionRecord] = (),
    ) -> None:
        """Make the statistics match ``records`` after corrections or deletions.

        ``removed`` are the sessions deleted (and the versions replaced by a
        correction) since the last update: the hours from the earliest of them
        on are compared too, so rows that belong to no session any more are
        set to the sums around them.
        """
        async with self._lock:
            try:
                curves = await self._async_curves(curves)
                await self._async_sync(records, curves, tuple(removed))
            except _Unreadable as err:
                self._read_failed(err)

    async def async_clear(self) -> None:
        """Remove every series of the charger from the recorder."""
        async with self._lock:
            get_instance(self._hass).async_clear_statistics(self.statistic_ids)
            self._written = None

    # ------------------------------------------------------------ internals

    async def _async_curves(self, curves: Curves | None) -> Curves | None:
        """Return the curves given, else the stored ones (if a loader was given)."""
        if curves is None and self._load_curves is not None:
            return await self._load_curves()
        return curves

    def _append(
        self,
        written: _Written,
        new: Sequence[SessionRecord],
        curves: Curves | None,
    ) -> bool:
        """Write the hours of sessions newer than what was written.

        Returns False (nothing written) when one reaches back before its
        group's last hour written, or brings the first cost: then only a
        comparison with the stored rows gives the right ones.
        """
        if not written.with_cost and any(record.cost is not None for record in new):
            return False
        planned: dict[Group, tuple[dict[datetime, HourAmounts], HourAmounts]] = {}
        for group in (None, *self._users):
            amounts = hourly_amounts(new, user=group, curves=curves)
            if not amounts:
                continue
            last = written.last.get(group)
            if last is not None and min(amounts) < last[0]:
                return False
            planned[group] = (amounts, _NONE if last is None else last[1])
        for series in self.series:
            if series.user not in planned or (
                series.kind == KIND_COST and not written.with_cost
            ):
                continue
            amounts, totals = planned[series.user]
            self._write(
                series,
                [
                    _Row(row.start, series.value(row))
                    for row in cumulative_rows(amounts, totals=totals)
                ],
            )
        for group, (amounts, totals) in planned.items():
            written.last[group] = (max(amounts), add_amounts(totals, amounts.values()))
        written.session_ids.update(record.id for record in new)
        return True

    async def _async_adopt(self, records: Sequence[SessionRecord]) -> bool:
        """Take the stored statistics as current if they agree with ``records``.

        A cheap check for start-up: each series' last sum must be what the
        rows kept from before the oldest session plus the sessions' totals
        give, its last hour no earlier than the latest session's start, and
        its name and unit ours. That catches statistics that are missing, a
        session that ended while its rows were not yet written, a correction
        not yet applied and a new currency; not rows of an older placement.
        """
        await self._async_wait_for_recorder()
        # Only what each session's facts say: a history's records are not read.
        sessions = session_facts(records)
        cutoff = _cutoff(sessions, ())
        try:
            last_rows, kept, metadata = await get_instance(
                self._hass
            ).async_add_executor_job(
                _read_summary, self._hass, self.statistic_ids, cutoff
            )
        except (HomeAssistantError, SQLAlchemyError) as err:
            raise _Unreadable(str(err)) from err
        with_cost = any(session.cost is not None for session in sessions) or any(
            series.statistic_id in kept
            for series in self.series
            if series.kind == KIND_COST
        )
        last: dict[Group, tuple[datetime, HourAmounts]] = {}
        for group in (None, *self._users):
            mine = [
                session
                for session in sessions
                if group is None or session.user == group
            ]
            drawn = add_amounts(
                _NONE,
                (
                    HourAmounts(
                        session.energy_kwh,
                        session.cost or Decimal(0),
                        session.revenue or Decimal(0),
                    )
                    for session in mine
                ),
            )
            latest_start = (
                _hour(max(session.started_at for session in mine)) if mine else None
            )
            totals = _NONE
            last_hour: datetime | None = None
            for series in self.series:
                if series.user != group:
                    continue
                earlier = kept.get(series.statistic_id, [])
                stored = last_rows.get(series.statistic_id)
                if (series.kind == KIND_COST and not with_cost) or (
                    not earlier and not mine
                ):
                    if stored is not None:
                        return False
                    continue
                # The exact totals: what the kept rows end on, plus the sessions.
                expected = add_amounts(
                    _with_sum(_NONE, series.kind, earlier[-1].sum if earlier else 0.0),
                    [drawn],
                )
                if (
                    stored is None
                    or not math.isclose(
                        stored.sum,
                        float(_part(expected, series.kind)),
                        rel_tol=1e-9,
                        abs_tol=1e-6,
                    )
                    or (latest_start is not None and stored.start < latest_start)
                    or _stale(series, metadata)
                ):
                    return False
                # Appends continue from the stored energy sum exactly, and from
                # the exact money totals.
                totals = _with_sum(
                    totals,
                    series.kind,
                    stored.sum
                    if series.kind == KIND_ENERGY
                    else _part(expected, series.kind),
                )
                last_hour = (
                    stored.start if last_hour is None else max(last_hour, stored.start)
                )
            if last_hour is not None:
                last[group] = (last_hour, totals)
        self._written = _Written(
            session_ids={session.id for session in sessions},
            last=last,
            with_cost=with_cost,
        )
        return True

    async def _async_sync(
        self,
        records: Sequence[SessionRecord],
        curves: Curves | None,
        removed: Sequence[SessionRecord],
    ) -> None:
        """Read the stored rows, and write those that differ from the history.

        The rows are written in batches, waiting for the recorder in between,
        so a first import of years of sessions does not hold up the recording
        of everything else.
        """
        self._written = None
        await self._async_wait_for_recorder()
        instance = get_instance(self._hass)
        try:
            stored, metadata = await instance.async_add_executor_job(
                _read_stored, self._hass, self.statistic_ids
            )
        except (HomeAssistantError, SQLAlchemyError) as err:
            raise _Unreadable(str(err)) from err
        plan = await self._hass.async_add_executor_job(
            _plan_sync,
            self.series,
            (None, *self._users),
            tuple(records),
            dict(curves or {}),
            _cutoff(records, removed),
            stored,
            {series.statistic_id for series in self.series if _stale(series, metadata)},
        )
        if plan.clear:
            instance.async_clear_statistics(plan.clear)
        queued = 0
        for series in self.series:
            for batch in batched(
                plan.writes.get(series.statistic_id, ()), WRITE_BATCH, strict=False
            ):
                if queued >= WRITE_BATCH:
                    await self._async_wait_for_recorder()
                    queued = 0
                self._write(series, batch)
                queued += len(batch)
        if plan.writes or plan.clear:
            _LOGGER.debug(
                "%s: wrote %d statistics rows, removed %s",
                self.series[0].statistic_id,
                sum(len(rows) for rows in plan.writes.values()),
                plan.clear,
            )
        self._written = _Written(
            session_ids={record.id for record in records},
            last=plan.last,
            with_cost=plan.with_cost,
        )

    async def _async_wait_for_recorder(self) -> None:
        """Let the recorder finish the jobs queued so far (ours among them).

        So what is read next is what those jobs left, and writes go in
        batches. Raises `_Unreadable` if it takes too long (the recorder may
        be migrating its database at start-up).
        """
        try:
            async with asyncio.timeout(RECORDER_WAIT_S):
                await get_instance(self._hass).async_block_till_done()
        except TimeoutError as err:
            raise _Unreadable(
                f"the recorder did not catch up in {RECORDER_WAIT_S} s"
            ) from err

    def _write(self, series: StatisticSeries, rows: Iterable[_Row]) -> None:
        """Queue rows of one series (the recorder replaces rows of the same hour)."""
        async_add_external_statistics(
            self._hass,
            series.metadata(),
            [
                StatisticData(start=row.start, state=row.sum, sum=row.sum)
                for row in rows
            ],
        )

    def _read_failed(self, err: Exception | str) -> None:
        _LOGGER.warning(
            "%s: cannot read the long-term statistics (%s); they are left as"
            " they are and compared again with the next session",
            self.series[0].statistic_id,
            err,
        )


def _stale(series: StatisticSeries, metadata: Mapping[str, StatisticMetaData]) -> bool:
    """Return whether the stored name or unit of ``series`` is not ours."""
    stored = metadata.get(series.statistic_id)
    return stored is not None and (
        stored.get("name"),
        stored.get("unit_of_measurement"),
    ) != (series.name, series.unit)


def _read_summary(
    hass: HomeAssistant, statistic_ids: Sequence[str], cutoff: datetime | None
) -> tuple[dict[str, _Row], dict[str, list[_Row]], dict[str, StatisticMetaData]]:
    """Return each series' last row, rows before ``cutoff`` and metadata."""
    last: dict[str, _Row] = {}
    for statistic_id in statistic_ids:
        result = get_last_statistics(hass, 1, statistic_id, False, {"sum"})
        for row in result.get(statistic_id, ()):
            last[statistic_id] = _Row(
                datetime.fromtimestamp(row["start"], UTC), row.get("sum") or 0.0
            )
    kept = (
        _rows(
            statistics_during_period(
                hass, _EPOCH, cutoff, set(statistic_ids), "hour", None, {"sum"}
            )
        )
        if cutoff is not None
        else {}
    )
    return last, kept, _metadata(hass, statistic_ids)


def _read_stored(
    hass: HomeAssistant, statistic_ids: Sequence[str]
) -> tuple[dict[str, list[_Row]], dict[str, StatisticMetaData]]:
    """Return the stored rows and metadata of the series (recorder executor)."""
    result = statistics_during_period(
        hass, _EPOCH, None, set(statistic_ids), "hour", None, {"sum"}
    )
    return _rows(result), _metadata(hass, statistic_ids)


def _rows(result: Mapping[str, Sequence[StatisticsRow]]) -> dict[str, list[_Row]]:
    return {
        statistic_id: [
            _Row(datetime.fromtimestamp(row["start"], UTC), row.get("sum") or 0.0)
            for row in rows
        ]
        for statistic_id, rows in result.items()
        if rows
    }


def _metadata(
    hass: HomeAssistant, statistic_ids: Sequence[str]
) -> dict[str, StatisticMetaData]:
    metadata = get_metadata(hass, statistic_ids=set(statistic_ids))
    return {statistic_id: meta for statistic_id, (_, meta) in metadata.items()}


def _plan_sync(
    series: Sequence[StatisticSeries],
    groups: Sequence[Group],
    records: Sequence[SessionRecord],
    curves: Curves,
    cutoff: datetime | None,
    stored: Mapping[str, list[_Row]],
    stale: set[str],
) -> _SyncPlan:
    """Plan the writes that make ``stored`` match ``records`` (an executor job).

    Rows before ``cutoff`` stay as stored; the sums after continue from them.
    From ``cutoff`` on, every hour that has a stored or a computed row must
    hold the running sum the history gives: rows that differ are written, and
    stored rows of hours without a session get the sum before them (a change
    of 0). A series with nothing left is cleared; a series whose name or unit
    is ``stale`` gets its last row written again, which updates them.
    """

    def kept(statistic_id: str) -> list[_Row]:
        rows = stored.get(statistic_id, [])
        return [row for row in rows if cutoff is None or row.start < cutoff]

    with_cost = any(record.cost is not None for record in records) or any(
        kept(item.statistic_id) for item in series if item.kind == KIND_COST
    )
    writes: dict[str, list[_Row]] = {}
    clear: list[str] = []
    last: dict[Group, tuple[datetime, HourAmounts]] = {}
    for group in groups:
        members = [item for item in series if item.user == group]
        base = _NONE
        for item in members:
            if earlier := kept(item.statistic_id):
                base = _with_sum(base, item.kind, earlier[-1].sum)
        amounts = hourly_amounts(records, user=group, curves=curves)
        hour_rows = cumulative_rows(amounts, totals=base)
        hours: list[datetime] = []
        for item in members:
            old = stored.get(item.statistic_id, [])
            kept_rows = kept(item.statistic_id)
            if (item.kind == KIND_COST and not with_cost) or (
                not kept_rows and not hour_rows
            ):
                if old:
                    clear.append(item.statistic_id)
                continue
            new = [_Row(row.start, item.value(row)) for row in hour_rows]
            changed = _differences(
                old[len(kept_rows) :], new, kept_rows[-1].sum if kept_rows else 0.0
            )
            if not changed and item.statistic_id in stale:
                changed = [(new or kept_rows)[-1]]
            if changed:
                writes[item.statistic_id] = changed
            hours.extend(row.start for row in (*old[-1:], *new[-1:]))
        if hours:
            last[group] = (max(hours), add_amounts(base, amounts.values()))
    return _SyncPlan(writes=writes, clear=clear, last=last, with_cost=with_cost)


def _differences(old: Sequence[_Row], new: Sequence[_Row], base: float) -> list[_Row]:
    """Return the rows to write so that the hours of ``old`` and ``new`` agree.

    Every hour of ``new`` holds its sum; an hour only ``old`` has holds the sum
    of the last ``new`` row before it (``base`` before the first).
    """
    changed: list[_Row] = []
    old_by_hour = {row.start: row.sum for row in old}
    new_by_hour = {row.start: row.sum for row in new}
    running = base
    for hour in sorted(old_by_hour.keys() | new_by_hour.keys()):
        running = new_by_hour.get(hour, running)
        stored = old_by_hour.get(hour)
        if stored is None or not math.isclose(
            stored, running, rel_tol=1e-12, abs_tol=1e-9
        ):
            changed.append(_Row(hour, running))
    return changed


def _with_sum(totals: HourAmounts, kind: str, value: float | Decimal) -> HourAmounts:
    """Return ``totals`` with the running sum of ``kind`` set to ``value``."""
    if kind == KIND_ENERGY:
        return HourAmounts(float(value), totals.cost, totals.revenue)
    money = value if isinstance(value, Decimal) else Decimal(repr(value))
    if kind == KIND_COST:
        return HourAmounts(totals.energy_kwh, money, totals.revenue)
    return HourAmounts(totals.energy_kwh, totals.cost, money)


def _part(amounts: HourAmounts, kind: str) -> float | Decimal:
    """Return the ``kind`` part of ``amounts``."""
    if kind == KIND_ENERGY:
        return amounts.energy_kwh
    return amounts.cost if kind == KIND_COST else amounts.revenue


def _hour(moment: datetime) -> datetime:
    """Return the start of the UTC hour holding ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _cutoff(
    records: Iterable[SessionFacts], removed: Iterable[SessionFacts]
) -> datetime | None:
    """Return the hour from which the statistics are compared with the history.

    The hour the earliest session (kept or removed) started: the stored rows
    before it belong to sessions the history no longer holds, and stay.
    """
    starts = [record.started_at for record in (*records, *removed)]
    if not starts:
        return None
    return _hour(min(starts))


async def async_rebuild_statistics(
    hass: HomeAssistant,
    *,
    title: str,
    currency: str | None,
    records: Sequence[SessionRecord],
    users: Sequence[str] = (),
    curves: Curves | None = None,
    removed: Iterable[SessionRecord] = (),
) -> None:
    """Make a charger's statistics match ``records`` once.

    See `SessionStatistics.async_rebuild`. For one-off use: a running charger
    keeps one `SessionStatistics`, whose lock keeps its updates in order.
    """
    await SessionStatistics(
        hass, title=title, currency=currency, users=users
    ).async_rebuild(records, curves, removed=removed)


async def async_clear_charger_statistics(
    hass: HomeAssistant, *, title: str, users: Sequence[str] = ()
) -> None:
    """Remove a charger's statistics (e.g. when the charger is removed)."""
    await SessionStatistics(hass, title=title, currency=None, users=users).async_clear()
