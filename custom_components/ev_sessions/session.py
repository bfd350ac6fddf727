"""The finished charging-session record: what a session leaves behind.

A record is immutable and JSON-serialisable through `to_dict`/`from_dict`. Its
keys are a public contract (automations, exports and later features read
them): keys are added, never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from .curve import CurvePoint

ENERGY_SOURCE_METER = "meter"
ENERGY_SOURCE_POWER = "power"

# Flags a record may carry. Informative: the figures are still the best the
# data allows; a flag says what happened on the way.
FLAG_RESTARTED = "restarted"  # Home Assistant restarted or crashed during it
FLAG_CLOSED_WHILE_DOWN = "closed_while_down"  # the car left while HA was down
FLAG_DATA_GAP = "data_gap"  # a measurement was unavailable while charging
FLAG_METER_RESET = "meter_reset"  # the energy counter restarted from zero
FLAG_GLITCH_REJECTED = "glitch_rejected"  # an impossible reading was ignored
FLAG_UNIT_CHANGED = "unit_changed"  # a source changed its unit mid-session
FLAG_UNKNOWN_USER = "unknown_user"  # the user tag is not one of the configured users
FLAG_RECONSTRUCTED = "reconstructed"  # rebuilt from the recorder's history
FLAG_ENERGY_CORRECTED = "energy_corrected"  # the energy was corrected by hand


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_time(value: Any) -> datetime | None:
    """Read a stored time (ISO 8601) back; None stays None."""
    if value is None:
        return None
    return datetime.fromisoformat(str(value))


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


# Money is exact (Decimal) in the record and the store; JSON carries it as a
# number with six decimals, far below any currency's smallest coin.
MONEY_DIGITS = 6


def money_json(value: Decimal | None) -> float | None:
    """Return an amount as a JSON number (rounded to MONEY_DIGITS)."""
    return None if value is None else float(round(value, MONEY_DIGITS))


def money_from_json(value: Any) -> Decimal | None:
    """Read an amount back; `str` keeps a JSON number's decimals exact."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


REVENUE_PARTS = (
    "session_fee",
    "energy_fee",
    "time_fee",
    "idle_fee",
    "minimum_fee_adjustment",
)


class SessionFacts(Protocol):
    """What totals, pruning and overlaps read of a session.

    A `SessionRecord` has these, and so has the history's summary of a
    stored session whose record has not been read yet.
    """

    @property
    def id(self) -> str:
        """The session's id."""

    @property
    def started_at(self) -> datetime:
        """When the car was plugged in."""

    @property
    def ended_at(self) -> datetime:
        """When the car was unplugged."""

    @property
    def energy_kwh(self) -> float:
        """The energy the session drew."""

    @property
    def cost(self) -> Decimal | None:
        """What the energy cost; None without a cost price."""

    @property
    def revenue(self) -> Decimal | None:
        """What the session earned."""

    @property
    def user(self) -> str | None:
        """Who charged, if known."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One charging session, from plug-in to unplug."""

    id: str
    entry_id: str
    charger: str
    charger_type: str
    started_at: datetime
    ended_at: datetime
    charging_started_at: datetime | None
    charging_ended_at: datetime | None
    duration_s: int
    charging_duration_s: int
    energy_kwh: float
    peak_power_kw: float | None
    avg_power_kw: float | None
    meter_start_kwh: float | None
    meter_end_kwh: float | None
    energy_source: str
    flags: tuple[str, ...]
    power_energy_kwh: float | None = None
    user: str | None = None
    currency: str | None = None
    cost: Decimal | None = None  # None: no cost price configured
    revenue: Decimal | None = None
    revenue_breakdown: Mapping[str, Decimal] | None = None
    avg_cost_per_kwh: Decimal | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    tariff: Mapping[str, float] | None = None
    vehicle: str | None = None
    note: str | None = None
    edited_at: datetime | None = None
    soc_start: float | None = None
    soc_end: float | None = None
    completed: bool = False
    curve: tuple[CurvePoint, ...] = field(default=(), repr=False)
    # How many points the curve has, also when the curve itself is stored
    # apart and not loaded (history keeps curves out of memory).
    stored_curve_points: int | None = field(default=None, repr=False, compare=False)

    @property
    def soc_added(self) -> float | None:
        """Return how many percent of battery the session added."""
        if self.soc_start is None or self.soc_end is None:
            return None
        return round(self.soc_end - self.soc_start, 1)

    @property
    def margin(self) -> Decimal | None:
        """Return revenue minus cost, when both are known."""
        if self.cost is None or self.revenue is None:
            return None
        return self.revenue - self.cost

    @property
    def curve_points(self) -> int:
        """Return how many points the stored curve has."""
        if self.curve or self.stored_curve_points is None:
            return len(self.curve)
        return self.stored_curve_points

    def to_dict(self, *, include_curve: bool = False) -> dict[str, Any]:
        """Return the record as plain JSON data; the curve only when asked."""
        data: dict[str, Any] = {
            "id": self.id,
            "entry_id": self.entry_id,
            "charger": self.charger,
            "charger_type": self.charger_type,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "charging_started_at": _iso(self.charging_started_at),
            "charging_ended_at": _iso(self.charging_ended_at),
            "duration_s": self.duration_s,
            "charging_duration_s": self.charging_duration_s,
            "energy_kwh": self.energy_kwh,
            "peak_power_kw": self.peak_power_kw,
            "avg_power_kw": self.avg_power_kw,
            "meter_start_kwh": self.meter_start_kwh,
            "meter_end_kwh": self.meter_end_kwh,
            "energy_source": self.energy_source,
            "flags": list(self.flags),
            "power_energy_kwh": self.power_energy_kwh,
            "curve_points": self.curve_points,
            "user": self.user,
            "currency": self.currency,
            "cost": money_json(self.cost),
            "revenue": money_json(self.revenue),
            "margin": money_json(self.margin),
            "revenue_breakdown": None
            if self.revenue_breakdown is None
            else {
                part: money_json(self.revenue_breakdown.get(part, Decimal(0)))
                for part in REVENUE_PARTS
            },
            "avg_cost_per_kwh": money_json(self.avg_cost_per_kwh),
            "price_min": money_json(self.price_min),
            "price_max": money_json(self.price_max),
            "tariff": None if self.tariff is None else dict(self.tariff),
            "vehicle": self.vehicle,
            "note": self.note,
            "edited_at": _iso(self.edited_at),
            "soc_start": self.soc_start,
            "soc_end": self.soc_end,
            "soc_added": self.soc_added,
            "completed": self.completed,
        }
        if include_curve:
            data["curve"] = [list(point) for point in self.curve]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """Rebuild a record from `to_dict(include_curve=True)` output."""
        started_at = parse_time(data["started_at"])
        ended_at = parse_time(data["ended_at"])
        if started_at is None or ended_at is None:
            raise ValueError("a session record needs started_at and ended_at")
        curve = tuple(
            (int(offset), None if kw is None else float(kw))
            for offset, kw in data.get("curve", ())
        )
        return cls(
            id=str(data["id"]),
            entry_id=str(data["entry_id"]),
            charger=str(data["charger"]),
            charger_type=str(data["charger_type"]),
            started_at=started_at,
            ended_at=ended_at,
            charging_started_at=parse_time(data.get("charging_started_at")),
            charging_ended_at=parse_time(data.get("charging_ended_at")),
            duration_s=int(data["duration_s"]),
            charging_duration_s=int(data["charging_duration_s"]),
            energy_kwh=float(data["energy_kwh"]),
            peak_power_kw=_optional_float(data.get("peak_power_kw")),
            avg_power_kw=_optional_float(data.get("avg_power_kw")),
            meter_start_kwh=_optional_float(data.get("meter_start_kwh")),
            meter_end_kwh=_optional_float(data.get("meter_end_kwh")),
            energy_source=str(data["energy_source"]),
            flags=tuple(str(flag) for flag in data.get("flags", ())),
            power_energy_kwh=_optional_float(data.get("power_energy_kwh")),
            user=None if data.get("user") is None else str(data["user"]),
            currency=None if data.get("currency") is None else str(data["currency"]),
            cost=money_from_json(data.get("cost")),
            revenue=money_from_json(data.get("revenue")),
            revenue_breakdown=_breakdown(data.get("revenue_breakdown")),
            avg_cost_per_kwh=money_from_json(data.get("avg_cost_per_kwh")),
            price_min=money_from_json(data.get("price_min")),
            price_max=money_from_json(data.get("price_max")),
            tariff=_tariff(data.get("tariff")),
            vehicle=_optional_str(data.get("vehicle")),
            note=_optional_str(data.get("note")),
            edited_at=parse_time(data.get("edited_at")),
            soc_start=_optional_float(data.get("soc_start")),
            soc_end=_optional_float(data.get("soc_end")),
            completed=bool(data.get("completed", False)),
            curve=curve,
            stored_curve_points=None
            if "curve" in data
            else int(data.get("curve_points", 0)),
        )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _tariff(data: Any) -> dict[str, float] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise TypeError(f"a stored tariff is a mapping, not {type(data)}")
    return {str(key): float(value) for key, value in data.items()}


def _breakdown(data: Any) -> dict[str, Decimal] | None:
    if not isinstance(data, Mapping):
        return None
    return {
        part: money_from_json(data.get(part)) or Decimal(0) for part in REVENUE_PARTS
    }
