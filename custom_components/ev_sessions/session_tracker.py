"""The session state machine: samples in, session events and records out.

Plain Python with no Home Assistant imports, so the same code runs in a unit
test from a list of samples, in Home Assistant from the coordinator, and over
a replay of recorded history. Time is always passed in; nothing here reads the
clock.

A session runs from plug-in to unplug. Without a status entity (a smart plug,
a charger that exposes only power or energy), a session starts when power
rises above the threshold and ends once power has stayed below it for the
session timeout; its end is then the moment charging stopped. Inside a
session, charging intervals come and go (smart-charging pauses).

Energy comes from the meter when there is one (see `meter.py`), otherwise from
integrating power over time (each power value holds until the next one, as a
charger reports it). With both, the meter wins and the integrated power is
kept as a cross-check (`power_energy_kwh`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
import logging
from typing import Any

from .charger_status import ChargerState
from .curve import DEFAULT_MIN_STEP_S, CurveBuilder
from .end_estimate import EndEstimator, TaperLearner
from .meter import MeterAccumulator
from .pricing import (
    PriceTimeline,
    SessionBilling,
    Tariff,
    idle_seconds,
    tariff_for_user,
)
from .session import (
    ENERGY_SOURCE_METER,
    ENERGY_SOURCE_POWER,
    FLAG_CLOSED_WHILE_DOWN,
    FLAG_DATA_GAP,
    FLAG_GLITCH_REJECTED,
    FLAG_RESTARTED,
    FLAG_UNKNOWN_USER,
    REVENUE_PARTS,
    SessionRecord,
    money_json,
)

_LOGGER = logging.getLogger(__name__)

# The most a charger of each type can deliver, in kW: 1-phase 50 A at 240 V,
# 3-phase 63 A at 400 V (43 kW AC), and today's fastest DC. Readings that
# would need more than this are physically impossible and rejected.
MAX_POWER_KW: Mapping[str, float] = {
    "ac_1_phase": 12.0,
    "ac_3_phase": 44.0,
    "dc": 400.0,
}
DEFAULT_MAX_POWER_KW = 44.0
# A power reading above max power times this margin is a spike, not charging.
POWER_SPIKE_MARGIN = 1.5

SNAPSHOT_VERSION = 1
FULL_SOC = 100.0
# A fixed cost price is in force since the beginning of time.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FLAG_NO_PRICE = "no_price"
# An energy target counts as reached this close to it (the charger stops a
# little short, or the meter's last step lands just before it).
ENERGY_TARGET_SLACK_KWH = 0.05
# At most this many SoC changes are kept per session (a car that reports
# tenths of a percent gives a thousand in a full charge).
MAX_SOC_SAMPLES = 2000


def max_power_kw(charger_type: str) -> float:
    """Return the most a charger of this type can physically deliver."""
    return MAX_POWER_KW.get(charger_type, DEFAULT_MAX_POWER_KW)


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """What the tracker needs to know about the charger and the user's choices."""

    entry_id: str
    charger: str
    charger_type: str
    has_status: bool
    has_power: bool
    has_meter: bool
    power_threshold_kw: float
    min_session_energy_kwh: float
    session_timeout: timedelta
    # Power below the threshold for this long ends a charging interval; a car
    # that pulses its draw at the end of charging stays one interval.
    charging_stop_delay: timedelta = timedelta(seconds=60)
    # Without a power entity, a meter that has not moved for this long means
    # charging stopped (at the time of its last increment).
    meter_idle_after: timedelta = timedelta(minutes=10)
    # Money: Home Assistant's currency, the default tariff, the users (as
    # stored in the options, with their own tariffs), and where the cost
    # price comes from (a fixed price, or a price entity fed by price_changed).
    currency: str | None = None
    tariff: Tariff = field(default_factory=Tariff)
    users: tuple[Mapping[str, Any], ...] = ()
    cost_price: Decimal | None = None
    has_price_entity: bool = False
    # The vehicle: whether a state-of-charge entity feeds soc_changed, and the
    # battery's usable capacity (for the estimated end and what it learns).
    has_soc: bool = False
    battery_capacity_kwh: float | None = None

    @property
    def priced(self) -> bool:
        """Return whether a cost price is configured at all."""
        return self.cost_price is not None or self.has_price_entity


class SessionEventType(StrEnum):
    """What happened to a session."""

    SESSION_STARTED = "session_started"
    CHARGING_STARTED = "charging_started"
    CHARGING_STOPPED = "charging_stopped"
    SESSION_ENDED = "session_ended"
    SESSION_DISCARDED = "session_discarded"
    # Charging stopped because the car is full (or the charger says it
    # finished): time to move the car before an idle fee.
    CHARGING_COMPLETED = "charging_completed"


@dataclass(frozen=True, slots=True)
class LiveSession:
    """The current view of an active session."""

    id: str
    entry_id: str
    charger: str
    charger_type: str
    started_at: datetime
    charging_started_at: datetime | None
    charging_ended_at: datetime | None
    charging: bool
    duration_s: int
    charging_duration_s: int
    energy_kwh: float
    peak_power_kw: float | None
    meter_start_kwh: float | None
    energy_source: str
    flags: tuple[str, ...]
    user: str | None = None
    currency: str | None = None
    cost: Decimal | None = None
    # The revenue so far, counted when first read (see `revenue`).
    revenue_of: Callable[[], Decimal | None] = field(
        default=lambda: None, repr=False, compare=False
    )
    # When charging will end (None: unknown), and the session's own targets.
    estimated_end: datetime | None = None
    target_soc: float | None = None
    energy_target_kwh: float | None = None

    @property
    def revenue(self) -> Decimal | None:
        """What the session is charged so far, at the moment of this view.

        Counted when first read: its exact Decimal sums cost more than the
        rest of the view, and most publishes do not show it.
        """
        return self.revenue_of()

    def to_dict(self) -> dict[str, Any]:
        """Return the session so far, keyed like a finished record."""
        charging_h = self.charging_duration_s / 3600
        return {
            "id": self.id,
            "entry_id": self.entry_id,
            "charger": self.charger,
            "charger_type": self.charger_type,
            "started_at": _iso(self.started_at),
            "ended_at": None,
            "charging_started_at": _iso(self.charging_started_at),
            "charging_ended_at": _iso(self.charging_ended_at),
            "duration_s": self.duration_s,
            "charging_duration_s": self.charging_duration_s,
            "energy_kwh": round(self.energy_kwh, 4),
            "peak_power_kw": _round(self.peak_power_kw, 3),
            "avg_power_kw": round(self.energy_kwh / charging_h, 3)
            if charging_h > 0
            else None,
            "meter_start_kwh": self.meter_start_kwh,
            "meter_end_kwh": None,
            "energy_source": self.energy_source,
            "flags": list(self.flags),
            "charging": self.charging,
            "user": self.user,
            "currency": self.currency,
            "cost": money_json(self.cost),
            "revenue": money_json(self.revenue),
            "estimated_end": _iso(self.estimated_end),
            "target_soc": self.target_soc,
            "energy_target_kwh": self.energy_target_kwh,
        }


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A change in a session's life; `record` is set when it ended."""

    type: SessionEventType
    at: datetime
    session_id: str
    record: SessionRecord | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)


class _ActiveSession:
    """Mutable state of the session in progress."""

    def __init__(
        self,
        session_id: str,
        started_at: datetime,
        curve: CurveBuilder,
        billing: SessionBilling,
    ) -> None:
        self.id = session_id
        self.started_at = started_at
        self.charging_started_at: datetime | None = None
        self.charging_ended_at: datetime | None = None
        # Start of the open charging interval (None when not charging).
        self.charging_since: datetime | None = None
        # When power fell below the threshold inside the open interval.
        self.pending_stop_at: datetime | None = None
        self.charging_s = 0.0
        self.peak_kw: float | None = None
        self.meter: MeterAccumulator | None = None
        self.power_energy_kwh = 0.0
        self.curve = curve
        self.flags: set[str] = set()
        # Meter-only chargers: when the meter last moved, and at what power.
        self.meter_moved_at: datetime | None = None
        self.meter_run_start: datetime | None = None
        self.meter_kw: float | None = None
        # Money: the session's billing, how much of its energy is priced, and
        # until when; who charged.
        self.billing = billing
        self.billed_kwh = 0.0
        self.billed_at = started_at
        self.user: str | None = None
        # Where the meter's latest step began (its previous reading's time).
        self.meter_step_from: datetime | None = None
        # The vehicle's state of charge, and whether charging completed.
        self.soc_start: float | None = None
        self.soc_end: float | None = None
        self.finished_reported = False
        self.completed = False
        # The SoC whenever it changed, as (seconds since the start, %): what
        # the taper learner fits this session's curve against at its end.
        self.soc_samples: list[tuple[float, float]] = []
        # Targets set for this session alone (None: the charger's target SoC,
        # no energy target), and its live estimated end.
        self.target_soc: float | None = None
        self.energy_target_kwh: float | None = None
        self.estimator = EndEstimator()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": _iso(self.started_at),
            "charging_started_at": _iso(self.charging_started_at),
            "charging_ended_at": _iso(self.charging_ended_at),
            "charging_since": _iso(self.charging_since),
            "pending_stop_at": _iso(self.pending_stop_at),
            "charging_s": self.charging_s,
            "peak_kw": self.peak_kw,
            "meter": None if self.meter is None else self.meter.to_dict(),
            "power_energy_kwh": self.power_energy_kwh,
            "curve": self.curve.to_dict(),
            "flags": sorted(self.flags),
            "meter_moved_at": _iso(self.meter_moved_at),
            "meter_run_start": _iso(self.meter_run_start),
            "meter_kw": self.meter_kw,
            "billing": self.billing.to_dict(),
            "billed_kwh": self.billed_kwh,
            "billed_at": _iso(self.billed_at),
            "meter_step_from": _iso(self.meter_step_from),
            "soc_start": self.soc_start,
            "soc_end": self.soc_end,
            "finished_reported": self.finished_reported,
            "completed": self.completed,
            "user": self.user,
            "soc_samples": [list(sample) for sample in self.soc_samples],
            "target_soc": self.target_soc,
            "energy_target_kwh": self.energy_target_kwh,
            "estimator": self.estimator.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _ActiveSession:
        started_at = _time(data["started_at"])
        if started_at is None:
            raise ValueError("an active session needs started_at")
        session = cls(
            str(data["id"]),
            started_at,
            CurveBuilder.from_dict(data["curve"]),
            SessionBilling.from_dict(data["billing"]),
        )
        session.charging_started_at = _time(data.get("charging_started_at"))
        session.charging_ended_at = _time(data.get("charging_ended_at"))
        session.charging_since = _time(data.get("charging_since"))
        session.pending_stop_at = _time(data.get("pending_stop_at"))
        session.charging_s = float(data.get("charging_s", 0.0))
        peak = data.get("peak_kw")
        session.peak_kw = None if peak is None else float(peak)
        if (meter := data.get("meter")) is not None:
            session.meter = MeterAccumulator.from_dict(meter)
        session.power_energy_kwh = float(data.get("power_energy_kwh", 0.0))
        session.flags = {str(flag) for flag in data.get("flags", ())}
        session.meter_moved_at = _time(data.get("meter_moved_at"))
        session.meter_run_start = _time(data.get("meter_run_start"))
        meter_kw = data.get("meter_kw")
        session.meter_kw = None if meter_kw is None else float(meter_kw)
        session.billed_kwh = float(data.get("billed_kwh", 0.0))
        session.billed_at = _time(data.get("billed_at")) or started_at
        session.meter_step_from = _time(data.get("meter_step_from"))
        session.soc_start = _optional(data.get("soc_start"))
        session.soc_end = _optional(data.get("soc_end"))
        session.finished_reported = bool(data.get("finished_reported", False))
        session.completed = bool(data.get("completed", False))
        session.user = None if data.get("user") is None else str(data["user"])
        session.soc_samples = [
            (float(offset), float(soc)) for offset, soc in data.get("soc_samples", ())
        ]
        session.target_soc = _optional(data.get("target_soc"))
        session.energy_target_kwh = _optional(data.get("energy_target_kwh"))
        if (estimator := data.get("estimator")) is not None:
            try:
                session.estimator = EndEstimator.from_dict(estimator)
            except ValueError as err:
                _LOGGER.warning(
                    "Session %s: the stored end estimate is unreadable (%s);"
                    " estimating afresh",
                    session.id,
                    err,
                )
        return session


class SessionTracker:
    """Turns status, power and meter samples into sessions."""

    def __init__(self, settings: TrackerSettings) -> None:
        """Start with no session and nothing known about the charger."""
        self.settings = settings
        self._max_kw = max_power_kw(settings.charger_type)
        self.status: ChargerState | None = None
        self.power_kw: float | None = None
        self._power_at: datetime | None = None
        self._meter_kwh: float | None = None
        self._meter_at: datetime | None = None
        # The reading before the current one (meter-only session starts).
        self._meter_before: tuple[float, datetime] | None = None
        self.last_seen_at: datetime | None = None
        self._active: _ActiveSession | None = None
        self._last_session_id: str | None = None
        # After a restart: the first known status decides whether the car left
        # while Home Assistant was down.
        self._awaiting_first_status = False
        self.last_seen_before_restart: datetime | None = None
        self.prices = PriceTimeline()
        if settings.cost_price is not None:
            self.prices.set_price(settings.cost_price, _EPOCH)
        # Who the user entity says is charging: (name or raw tag, known user?)
        self._user: tuple[str, bool] | None = None
        # The vehicle's last state of charge and the charge target (%).
        self.soc: float | None = None
        self.target_soc = FULL_SOC
        # This charger's taper model, learned from its finished sessions; the
        # owner persists it (`to_dict`) and hands it back on restore.
        self.learner = TaperLearner()

    # ----------------------------------------------------------------- inputs

    def status_changed(
        self, state: ChargerState | None, at: datetime, *, finished: bool = False
    ) -> list[SessionEvent]:
        """Take a new charger status; None means unknown (a gap: no change).

        `finished` says the charger reports charging finished (car full).
        """
        self._seen(at)
        events: list[SessionEvent] = []
        if state is None:
            return events
        if finished and self._active is not None:
            self._active.finished_reported = True
        first_after_restart = self._awaiting_first_status
        self._awaiting_first_status = False
        self.status = state
        if state is ChargerState.DISCONNECTED:
            if self._active is not None:
                if first_after_restart and self.last_seen_before_restart is not None:
                    # The car left while Home Assistant was down: close the
                    # session at the last moment we knew it was there.
                    self._active.flags.add(FLAG_CLOSED_WHILE_DOWN)
                    events += self._end(at, self.last_seen_before_restart)
                else:
                    events += self._end(at, at)
            return events
        if self._active is None:
            events += self._start(at)
        events += self._evaluate_charging(at)
        return events

    def power_changed(self, kw: float | None, at: datetime) -> list[SessionEvent]:
        """Take a new power reading in kW; None means unknown (a gap)."""
        self._seen(at)
        if kw is not None and kw > self._max_kw * POWER_SPIKE_MARGIN:
            _LOGGER.warning(
                "%s: power reading %.1f kW is more than a %s charger can deliver;"
                " ignored",
                self.settings.charger,
                kw,
                self.settings.charger_type,
            )
            if self._active is not None:
                self._active.flags.add(FLAG_GLITCH_REJECTED)
            return []
        if kw is not None and kw < 0:
            # Charger meters read slightly negative at idle; we track charging
            # only, so below zero is no power.
            kw = 0.0
        self._integrate_power(at)
        self.power_kw = kw
        # A tick may have integrated a moment past this sample's time.
        self._power_at = at if self._power_at is None else max(at, self._power_at)
        active = self._active
        if active is not None:
            if kw is None:
                if self.settings.has_meter:
                    pass  # the meter covers the gap
                else:
                    active.flags.add(FLAG_DATA_GAP)
            elif active.peak_kw is None or kw > active.peak_kw:
                active.peak_kw = kw
        events = self._evaluate_charging(at)
        self._bill(at)
        if self.settings.has_power:
            self._estimate(at)
        return events

    def meter_changed(self, kwh: float | None, at: datetime) -> list[SessionEvent]:
        """Take a new energy meter reading in kWh; None means unknown (a gap)."""
        self._seen(at)
        events: list[SessionEvent] = []
        if self._active is None and self._meter_starts_session(kwh, at):
            events += self._start_from_meter(at)
        if kwh is not None and kwh != self._meter_kwh:
            if self._meter_kwh is not None and self._meter_at is not None:
                self._meter_before = (self._meter_kwh, self._meter_at)
            self._meter_kwh = kwh
            self._meter_at = at
        if (active := self._active) is not None:
            self._meter_add(active, kwh, at)
        events += self._evaluate_charging(at)
        self._bill(at)
        if not self.settings.has_power:
            self._estimate(at)
        return events

    def _meter_add(
        self, active: _ActiveSession, kwh: float | None, at: datetime
    ) -> None:
        if active.meter is None:
            active.meter = MeterAccumulator(self._max_kw)
        since = active.meter.last_at
        update = active.meter.add(kwh, at)
        if update.increment_kwh > 0:
            active.meter_step_from = since
        if update.increment_kwh > 0 and since is not None:
            self._meter_moved(active, since, at, update.increment_kwh)

    def _meter_starts_session(self, kwh: float | None, at: datetime) -> bool:
        """Meter-only chargers: does this reading show charging has begun?"""
        if (
            self.settings.has_power
            or (self.settings.has_status and self.status is not None)
            or kwh is None
            or self._meter_kwh is None
            or self._meter_at is None
            or kwh <= self._meter_kwh
        ):
            return False
        hours = _seconds(self._meter_at, at) / 3600
        if hours <= 0:
            return False
        kw = (kwh - self._meter_kwh) / hours
        return self.settings.power_threshold_kw <= kw <= self._max_kw

    def _start_from_meter(self, at: datetime) -> list[SessionEvent]:
        """Start a session from meter movement, crediting where it began.

        A meter moves in steps: over an idle hour its first step looks like a
        trickle; only the second step shows charging power. When the step
        before this one was recent, charging began then: the session starts at
        the estimated start of that step, from the reading before it.
        """
        if self._meter_kwh is None or self._meter_at is None:  # pragma: no cover
            return []
        last_kwh, last_at = self._meter_kwh, self._meter_at
        start, baseline = last_at, (last_kwh, last_at)
        before = self._meter_before
        if before is not None and at - last_at < self.settings.meter_idle_after:
            before_kwh, before_at = before
            kw = (self._meter_kwh - before_kwh) / max(_seconds(last_at, at), 1) * 3600
            step_h = (last_kwh - before_kwh) / kw if kw > 0 else 0.0
            start = max(before_at, last_at - timedelta(hours=step_h))
            baseline = before
        events = self._start(start, baseline)
        active = self._active
        if active is not None and baseline != (last_kwh, last_at):
            self._meter_add(active, last_kwh, last_at)
        return events

    def price_changed(self, price: Decimal | None, at: datetime) -> list[SessionEvent]:
        """Take a new cost price (currency per kWh); None means unavailable."""
        self._seen(at)
        if self.settings.has_price_entity:
            self._bill(at)  # what was drawn so far, at the prices until now
            self.prices.set_price(price, at)
        return []

    def user_changed(
        self, user: str | None, *, known: bool, at: datetime
    ) -> list[SessionEvent]:
        """Take who is charging: a configured user's name, or a raw tag.

        The session belongs to the first user seen during it; their tariff
        then applies to the whole session (a tag is often shown only after
        the car was plugged in). Another tag during the session splits it at
        that moment: what follows is the new user's session.
        """
        self._seen(at)
        self._user = None if not user else (user, known)
        active = self._active
        if active is None or user is None:
            return []
        if active.user is None:
            self._assign_user(active)
            return []
        if active.user == user:
            return []
        _LOGGER.info(
            "%s: user changed from %s to %s mid-session; splitting the session",
            self.settings.charger,
            active.user,
            user,
        )
        events = self._end(at, at)
        events += self._start(at)
        events += self._evaluate_charging(at)
        return events

    def soc_changed(self, soc: float | None, at: datetime) -> list[SessionEvent]:
        """Take the vehicle's state of charge in %; None means unknown."""
        self._seen(at)
        if soc is None or not 0 <= soc <= FULL_SOC:
            return []
        self.soc = soc
        if (active := self._active) is not None:
            # Plugged in, the SoC only rises: a lower reading means the one
            # at the start was the car's stale value from before its drive.
            if active.soc_start is None or soc < active.soc_start:
                active.soc_start = soc
            active.soc_end = soc
            self._add_soc_sample(active, soc, at)
            self._estimate(at)
        return []

    def set_target_soc(self, target: float) -> None:
        """Set the state of charge at which the car counts as full."""
        self.target_soc = min(max(target, 0.0), FULL_SOC)

    def set_session_target(
        self,
        at: datetime,
        *,
        soc: float | None = None,
        energy_kwh: float | None = None,
    ) -> bool:
        """Set the active session's own targets; False without a session.

        ``soc`` replaces the charger's target SoC for this session alone;
        ``energy_kwh`` is the energy the session should have drawn in all
        (as the session energy shows it). A target left out is cleared. The
        session ends with both, so the next one starts from the charger's
        target SoC again.
        """
        active = self._active
        if active is None:
            return False
        active.target_soc = None if soc is None else min(max(soc, 0.0), FULL_SOC)
        active.energy_target_kwh = (
            None if energy_kwh is None or energy_kwh <= 0 else energy_kwh
        )
        self._estimate(at)
        return True

    def flag(self, flag: str) -> None:
        """Mark the active session with something seen outside the engine."""
        if self._active is not None:
            self._active.flags.add(flag)

    def tick(self, at: datetime) -> list[SessionEvent]:
        """Let time pass: confirm stops, time out idle sessions."""
        self._seen(at)
        # Commit the held power's energy (a crash then loses at most a tick),
        # but price it only when a sample or a new price arrives, over the
        # interval since the last one: a held power value is constant, so the
        # time-weighted price over that interval is exact.
        self._integrate_power(at)
        events = self._evaluate_charging(at)
        self._estimate(at)
        return events

    def checkpoint(self, at: datetime) -> None:
        """Commit and price everything up to `at` (before a shutdown)."""
        self._seen(at)
        self._integrate_power(at)
        self._bill(at)

    # ------------------------------------------------------------------ views

    @property
    def active(self) -> bool:
        """Return True while a session is in progress."""
        return self._active is not None

    def live(self, at: datetime) -> LiveSession | None:
        """Return the active session as it stands at `at`, without changing it."""
        active = self._active
        if active is None:
            return None
        energy, source = self._energy(active, self._open_power_kwh(active, at))
        charging_s = active.charging_s
        if active.charging_since is not None:
            charging_s += _seconds(active.charging_since, at)
        meter = active.meter
        return LiveSession(
            id=active.id,
            entry_id=self.settings.entry_id,
            charger=self.settings.charger,
            charger_type=self.settings.charger_type,
            started_at=active.started_at,
            charging_started_at=active.charging_started_at,
            charging_ended_at=active.charging_ended_at,
            charging=active.charging_since is not None
            and active.pending_stop_at is None,
            duration_s=round(_seconds(active.started_at, at)),
            charging_duration_s=round(charging_s),
            energy_kwh=energy,
            peak_power_kw=self._peak(active),
            meter_start_kwh=None if meter is None else meter.start_kwh,
            energy_source=source,
            flags=tuple(sorted(active.flags | self._meter_flags(active))),
            user=active.user,
            currency=self.settings.currency,
            cost=active.billing.cost if self.settings.priced else None,
            revenue_of=active.billing.revenue_total_later(
                charging_s=charging_s,
                idle_s=_seconds(active.charging_ended_at, at)
                if active.charging_since is None and active.charging_ended_at
                else 0.0,
            ),
            estimated_end=active.estimator.estimate
            if active.charging_since is not None and self._estimating(active)
            else None,
            target_soc=active.target_soc,
            energy_target_kwh=active.energy_target_kwh,
        )

    def live_record(self, at: datetime) -> SessionRecord | None:
        """Return the active session as a record that ended at `at`.

        Without changing anything: for what needs a record's shape, such as
        splitting a session in progress by month.
        """
        live = self.live(at)
        active = self._active
        if live is None or active is None:
            return None
        return SessionRecord(
            id=live.id,
            entry_id=live.entry_id,
            charger=live.charger,
            charger_type=live.charger_type,
            started_at=live.started_at,
            ended_at=max(at, live.started_at),
            charging_started_at=live.charging_started_at,
            charging_ended_at=at
            if active.charging_since is not None
            else live.charging_ended_at,
            duration_s=live.duration_s,
            charging_duration_s=live.charging_duration_s,
            energy_kwh=live.energy_kwh,
            peak_power_kw=live.peak_power_kw,
            avg_power_kw=None,
            meter_start_kwh=live.meter_start_kwh,
            meter_end_kwh=None if active.meter is None else active.meter.last_kwh,
            energy_source=live.energy_source,
            flags=live.flags,
            user=live.user,
            currency=live.currency,
            cost=live.cost,
            revenue=live.revenue,
            curve=tuple(active.curve.points(at)),
        )

    # -------------------------------------------------------------- snapshots

    def snapshot(self) -> dict[str, Any]:
        """Return everything needed to resume after a restart (JSON data)."""
        return {
            "version": SNAPSHOT_VERSION,
            "status": None if self.status is None else str(self.status),
            "meter_kwh": self._meter_kwh,
            "meter_at": _iso(self._meter_at),
            "last_seen_at": _iso(self.last_seen_at),
            "last_session_id": self._last_session_id,
            "active": None if self._active is None else self._active.to_dict(),
            "prices": self.prices.to_dict() if self.settings.has_price_entity else None,
            "soc": self.soc,
        }

    @classmethod
    def restore(
        cls, settings: TrackerSettings, data: Mapping[str, Any]
    ) -> SessionTracker:
        """Resume from a snapshot taken before Home Assistant stopped or crashed.

        Power continuity is broken (what power did while we were down is not
        known; the meter, if any, recovers the energy), and an open charging
        interval is provisionally stopped at the last moment we were running:
        the first sample after the restart either continues it or confirms it.
        """
        tracker = cls(settings)
        status = data.get("status")
        tracker.status = None if status is None else ChargerState(status)
        meter_kwh = data.get("meter_kwh")
        tracker._meter_kwh = None if meter_kwh is None else float(meter_kwh)
        tracker._meter_at = _time(data.get("meter_at"))
        tracker.last_seen_at = _time(data.get("last_seen_at"))
        tracker.last_seen_before_restart = tracker.last_seen_at
        tracker._last_session_id = data.get("last_session_id")
        tracker.soc = _optional(data.get("soc"))
        if settings.has_price_entity and data.get("prices") is not None:
            tracker.prices = PriceTimeline.from_dict(data["prices"])
        if (active := data.get("active")) is not None:
            session = _ActiveSession.from_dict(active)
            session.flags.add(FLAG_RESTARTED)
            if session.charging_since is not None and session.pending_stop_at is None:
                session.pending_stop_at = tracker.last_seen_at
            tracker._active = session
            tracker._awaiting_first_status = settings.has_status
        return tracker

    # ---------------------------------------------------------------- private

    def _seen(self, at: datetime) -> None:
        if self.last_seen_at is None or at > self.last_seen_at:
            self.last_seen_at = at

    def _new_id(self, started_at: datetime) -> str:
        """Return a stable id: start time (UTC) and the charger's entry.

        Stable ids let a rebuild from history recognise sessions it already has.
        """
        stamp = started_at.astimezone(UTC).strftime("%Y%m%d%H%M%S")
        base = f"{stamp}-{self.settings.entry_id[-8:].lower()}"
        last = self._last_session_id
        if last == base:
            return f"{base}-2"
        if last is not None and last.startswith(f"{base}-"):
            return f"{base}-{int(last.rsplit('-', 1)[1]) + 1}"
        return base

    def _start(
        self, at: datetime, meter_baseline: tuple[float, datetime] | None = None
    ) -> list[SessionEvent]:
        session = _ActiveSession(
            self._new_id(at),
            at,
            CurveBuilder(at),
            SessionBilling(self.settings.tariff),
        )
        self._last_session_id = session.id
        self._assign_user(session)
        session.soc_start = session.soc_end = self.soc
        session.estimator = EndEstimator(self.learner.model)
        if self.soc is not None:
            session.soc_samples.append((0.0, self.soc))
        if self.settings.has_meter:
            session.meter = MeterAccumulator(self._max_kw)
            if meter_baseline is not None:
                session.meter.add(*meter_baseline)
            elif self._meter_kwh is not None:
                session.meter.add(self._meter_kwh, self._meter_at or at)
        self._active = session
        _LOGGER.debug("%s: session %s started", self.settings.charger, session.id)
        return [SessionEvent(SessionEventType.SESSION_STARTED, at, session.id)]

    def _charging_signal(self, at: datetime) -> bool | None:
        """Return whether energy flows now; None when nothing tells."""
        settings = self.settings
        if settings.has_power:
            if self.power_kw is None:
                return None
            return self.power_kw >= settings.power_threshold_kw
        if self.status is ChargerState.CHARGING:
            return True
        active = self._active
        if active is None or active.meter_moved_at is None:
            return False
        return (
            at - active.meter_moved_at < settings.meter_idle_after
            and (active.meter_kw or 0.0) >= settings.power_threshold_kw
        )

    def _evaluate_charging(self, at: datetime) -> list[SessionEvent]:
        events: list[SessionEvent] = []
        signal = self._charging_signal(at)
        if self._active is None:
            if signal and (not self.settings.has_status or self.status is None):
                # No status entity (or it has told us nothing): power starts it.
                events += self._start(at)
            else:
                return events
        active = self._active
        if active is None:
            return events
        if signal:
            active.pending_stop_at = None
            if active.charging_since is None:
                begin = self._charging_begin(active, at)
                active.charging_since = begin
                if active.charging_started_at is None:
                    active.charging_started_at = begin
                events.append(
                    SessionEvent(SessionEventType.CHARGING_STARTED, begin, active.id)
                )
        elif active.charging_since is not None:
            # Below the threshold, or unknown (a gap): provisionally stopped at
            # the first such moment. Below the threshold for the stop delay
            # confirms it; an unknown lasting the session timeout does too.
            if active.pending_stop_at is None:
                active.pending_stop_at = self._stop_time(active, at)
            waited = at - active.pending_stop_at
            if (signal is False and waited >= self.settings.charging_stop_delay) or (
                waited >= self.settings.session_timeout
            ):
                events += self._stop_charging(active, active.pending_stop_at)
        if (
            active.charging_since is None
            and (not self.settings.has_status or self.status is None)
            and self._timed_out(active, at)
        ):
            end = active.charging_ended_at or active.started_at
            events += self._end(at, end)
        return events

    def _charging_begin(self, active: _ActiveSession, at: datetime) -> datetime:
        """When charging began: now, or where the meter began to move."""
        if (
            not self.settings.has_power
            and self.status is not ChargerState.CHARGING
            and active.meter_run_start is not None
        ):
            return max(active.meter_run_start, active.started_at)
        return at

    def _stop_time(self, active: _ActiveSession, at: datetime) -> datetime:
        if not self.settings.has_power and active.meter_moved_at is not None:
            # A meter-only charger stopped when its meter last moved.
            return max(active.meter_moved_at, active.charging_since or at)
        return at

    def _timed_out(self, active: _ActiveSession, at: datetime) -> bool:
        last_activity = active.charging_ended_at or active.started_at
        return at - last_activity >= self.settings.session_timeout

    def _stop_charging(
        self, active: _ActiveSession, stop_at: datetime
    ) -> list[SessionEvent]:
        if active.charging_since is None:
            return []
        stop_at = max(stop_at, active.charging_since)
        active.charging_s += _seconds(active.charging_since, stop_at)
        active.charging_since = None
        active.pending_stop_at = None
        active.charging_ended_at = stop_at
        events = [SessionEvent(SessionEventType.CHARGING_STOPPED, stop_at, active.id)]
        if not active.completed and self._reached_target(active):
            active.completed = True
            events.append(
                SessionEvent(SessionEventType.CHARGING_COMPLETED, stop_at, active.id)
            )
        return events

    def _reached_target(self, active: _ActiveSession) -> bool:
        """Full: the car reached its target, or the charger said it finished."""
        if active.finished_reported:
            return True
        if (
            active.energy_target_kwh is not None
            and self._energy(active)[0]
            >= active.energy_target_kwh - ENERGY_TARGET_SLACK_KWH
        ):
            return True
        target = self._target_soc(active)
        return active.soc_end is not None and active.soc_end >= target - 0.5

    def _target_soc(self, active: _ActiveSession) -> float:
        """The SoC this session charges to: its own target, else the charger's."""
        return self.target_soc if active.target_soc is None else active.target_soc

    def _add_soc_sample(self, active: _ActiveSession, soc: float, at: datetime) -> None:
        """Keep the SoC when it changed, for the learner at the session's end."""
        samples = active.soc_samples
        if samples and soc < samples[-1][1]:
            samples.clear()  # a stale reading, or not this car: start over
        if (samples and samples[-1][1] == soc) or len(samples) >= MAX_SOC_SAMPLES:
            return
        samples.append((_seconds(active.started_at, at), soc))

    def _estimate(self, at: datetime) -> None:
        """Bring the active session's estimated end up to date.

        Only where there is something to estimate: a car that reports its
        SoC, or an energy target set for the session. Charging power is the
        reading while it is above the threshold (None in a pause): from the
        power entity, or for a meter-only charger the meter's last step.
        """
        active = self._active
        if active is None or not self._estimating(active):
            return
        if self.settings.has_power:
            kw = self.power_kw
        else:
            kw = active.meter_kw if self._charging_signal(at) else None
        if kw is not None and kw < self.settings.power_threshold_kw:
            kw = None
        energy, _ = self._energy(active, self._open_power_kwh(active, at))
        active.estimator.update(
            at,
            power_kw=kw,
            soc=self.soc,
            energy_kwh=energy,
            target_soc=self._target_soc(active),
            capacity_kwh=self.settings.battery_capacity_kwh,
            energy_target_kwh=active.energy_target_kwh,
        )

    def _estimating(self, active: _ActiveSession) -> bool:
        """Whether there is an end to estimate: the car's SoC, or an energy target."""
        return self.settings.has_soc or active.energy_target_kwh is not None

    def _learn(self, active: _ActiveSession, record: SessionRecord) -> None:
        """Let the taper learner fit the session's curve against its SoC."""
        capacity = self.settings.battery_capacity_kwh
        if capacity is None or capacity <= 0 or not active.soc_samples:
            return
        if self.learner.add_session(
            record.curve, active.soc_samples, capacity_kwh=capacity
        ):
            _LOGGER.debug(
                "%s: learned from session %s; taper model now %s",
                self.settings.charger,
                record.id,
                self.learner.model,
            )

    def _integrate_power(self, at: datetime) -> None:
        """Add the power held since the last reading to the active session."""
        active = self._active
        if (
            active is None
            or self.power_kw is None
            or self._power_at is None
            or at <= self._power_at
        ):
            return
        start = max(self._power_at, active.started_at)
        if at <= start:
            return
        active.power_energy_kwh += self.power_kw * _seconds(start, at) / 3600
        if self.settings.has_power:
            active.curve.add(start, at, self.power_kw)
        self._power_at = at  # integrated up to here

    def _open_power_kwh(self, active: _ActiveSession, at: datetime) -> float:
        """Energy of the power value held from its reading until `at`."""
        if self.power_kw is None or self._power_at is None:
            return 0.0
        start = max(self._power_at, active.started_at)
        return self.power_kw * _seconds(start, at) / 3600

    def _meter_moved(
        self, active: _ActiveSession, since: datetime, at: datetime, kwh: float
    ) -> None:
        start = max(since, active.started_at)
        hours = _seconds(start, at) / 3600
        if hours <= 0:
            return
        kw = kwh / hours
        previous = active.meter_moved_at
        if previous is None or start - previous >= self.settings.meter_idle_after:
            active.meter_run_start = start  # the meter starts moving again
        active.meter_moved_at = at
        active.meter_kw = kw
        if not self.settings.has_power:
            active.curve.add(start, at, min(kw, self._max_kw))

    @staticmethod
    def _meter_flags(active: _ActiveSession) -> set[str]:
        return set() if active.meter is None else set(active.meter.flags)

    def _energy(
        self, active: _ActiveSession, open_power_kwh: float = 0.0
    ) -> tuple[float, str]:
        meter = active.meter
        if meter is not None and meter.start_kwh is not None:
            return meter.energy_kwh, ENERGY_SOURCE_METER
        return active.power_energy_kwh + open_power_kwh, ENERGY_SOURCE_POWER

    def _peak(self, active: _ActiveSession) -> float | None:
        """Peak power: measured, or from the meter-derived curve.

        A meter's steps make short curve segments noisy (a 0.1 kWh step read
        at 40 or 50 s reads as 9 or 7.2 kW), so only segments of a full
        compression step count, unless there are none.
        """
        if self.settings.has_power:
            return active.peak_kw
        points = active.curve.points()
        segments = [
            (end - start, kw) for (start, kw), (end, _) in pairwise(points) if kw
        ]
        full = [kw for length, kw in segments if length >= DEFAULT_MIN_STEP_S]
        powers = full or [kw for _, kw in segments]
        return max(powers) if powers else None

    def _bill(self, at: datetime) -> None:
        """Price the energy the active session drew since it was last billed.

        Each increment is priced over the interval it was drawn in, at the
        prices in force then (split across price changes by time).
        """
        active = self._active
        if active is None:
            self.prices.forget_before(at)
            return
        if at <= active.billed_at:
            return
        energy, source = self._energy(active, self._open_power_kwh(active, at))
        # Bill whole milliwatt-hours: float sums of integrated power must not
        # turn 20 kWh at 3 SEK into 59.99999999999996 SEK.
        energy = round(energy, 6)
        increment = energy - active.billed_kwh
        if source == ENERGY_SOURCE_METER:
            # A meter step holds what was drawn since its previous step: price
            # it over that interval; time without steps is not billed yet.
            if increment <= 0:
                return
            start = max(active.billed_at, active.meter_step_from or active.billed_at)
        else:
            # Integrated power is known up to `at`.
            start = active.billed_at
        if increment > 0:
            active.billing.add_energy(
                increment, start, at, self.prices if self.settings.priced else None
            )
            active.billed_kwh = energy
        active.billed_at = at
        self.prices.forget_before(at)

    def _assign_user(self, active: _ActiveSession) -> None:
        """Give the session the current user and that user's tariff."""
        if self._user is None:
            return
        user, known = self._user
        active.user = user
        if not known:
            active.flags.add(FLAG_UNKNOWN_USER)
        tariff = tariff_for_user(self.settings.tariff, self.settings.users, user)
        if tariff != active.billing.tariff:
            active.billing = active.billing.with_tariff(tariff)

    def _end(self, at: datetime, ended_at: datetime) -> list[SessionEvent]:
        """Close the active session at `ended_at` (observed at `at`)."""
        active = self._active
        if active is None:
            return []
        events: list[SessionEvent] = []
        ended_at = max(ended_at, active.started_at)
        self._integrate_power(ended_at)
        if active.charging_since is not None:
            events += self._stop_charging(
                active, min(active.pending_stop_at or ended_at, ended_at)
            )
        self._bill(max(ended_at, active.billed_at))
        energy, source = self._energy(active)
        if source == ENERGY_SOURCE_POWER and self.settings.has_meter:
            # The meter never gave a valid reading during the session.
            active.flags.add(FLAG_DATA_GAP)
        meter = active.meter
        charging_s = round(active.charging_s)
        curve = tuple(active.curve.points(ended_at))
        billing = active.billing
        priced = self.settings.priced
        revenue = billing.revenue(
            charging_s=active.charging_s,
            idle_s=idle_seconds(active.charging_ended_at, ended_at),
        )
        money_flags = set(billing.flags) if priced else set()
        record = SessionRecord(
            id=active.id,
            entry_id=self.settings.entry_id,
            charger=self.settings.charger,
            charger_type=self.settings.charger_type,
            started_at=active.started_at,
            ended_at=ended_at,
            charging_started_at=active.charging_started_at,
            charging_ended_at=active.charging_ended_at,
            duration_s=round(_seconds(active.started_at, ended_at)),
            charging_duration_s=charging_s,
            energy_kwh=round(energy, 4),
            peak_power_kw=_round(self._peak(active), 3),
            avg_power_kw=round(energy / (charging_s / 3600), 3)
            if charging_s > 0
            else None,
            meter_start_kwh=None if meter is None else meter.start_kwh,
            meter_end_kwh=None if meter is None else meter.last_kwh,
            energy_source=source,
            flags=tuple(sorted(active.flags | self._meter_flags(active) | money_flags)),
            power_energy_kwh=round(active.power_energy_kwh, 4)
            if self.settings.has_power
            else None,
            user=active.user,
            currency=self.settings.currency,
            cost=billing.cost if priced else None,
            revenue=revenue.total,
            revenue_breakdown={part: getattr(revenue, part) for part in REVENUE_PARTS},
            avg_cost_per_kwh=billing.avg_cost_per_kwh if priced else None,
            price_min=billing.price_min if priced else None,
            price_max=billing.price_max if priced else None,
            tariff=billing.tariff.to_dict(),
            soc_start=active.soc_start,
            soc_end=active.soc_end,
            completed=active.completed
            or (
                active.charging_started_at is not None and self._reached_target(active)
            ),
            curve=curve,
        )
        self._active = None
        if record.energy_kwh < self.settings.min_session_energy_kwh:
            _LOGGER.info(
                "%s: session %s drew %.3f kWh, below the %.3f kWh minimum; discarded",
                self.settings.charger,
                record.id,
                record.energy_kwh,
                self.settings.min_session_energy_kwh,
            )
            events.append(
                SessionEvent(SessionEventType.SESSION_DISCARDED, at, record.id, record)
            )
            return events
        self._learn(active, record)
        events.append(
            SessionEvent(SessionEventType.SESSION_ENDED, at, record.id, record)
        )
        return events


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
