"""Count a session's energy from a charger's energy meter.

A charger's energy sensor is either a lifetime counter (kWh, only grows) or a
per-session counter that drops back to 0 when a car is plugged in. Either way the
session's energy is the sum of the meter's *valid* increments. `MeterAccumulator`
takes the readings one at a time and decides, for each, what it means.

The baseline ``b`` is the last reading we believe, first seen at ``tb``. For a new
reading ``v`` at ``t``:

* ``allowed = max_power_kw * dt / 3600 * 1.1 + tolerance_kwh`` with
  ``dt = max(t - tb, 0)`` seconds: the most the charger could physically have
  delivered since the baseline, plus slack for the meter's resolution. A clock
  that went backwards gives ``dt = 0``.
* ``v`` is ``None`` (unknown, unavailable, not a number): **GAP**. Nothing is
  added and the baseline stays; the next valid reading's difference covers the
  gap, because a meter loses no energy while Home Assistant cannot read it.
* First valid reading: **BASELINE**. It becomes ``start_kwh`` and the baseline.
* ``|v - b| < 1e-9``: **ACCEPTED** with increment 0 (float noise is not energy,
  and a repeated value does not move ``last_at``).
* ``v > b`` and ``v - b <= allowed``: **ACCEPTED**; the increment is ``v - b``
  and ``v`` (seen at ``t``) becomes the baseline.
* ``v < b``, ``v <= allowed`` and ``v <= b / 2``: **RESET**. The counter restarted from 0 (a
  per-session counter at plug-in, a charger reboot) and has counted ``v`` since;
  the increment is ``v``, ``v`` becomes the baseline, flag ``meter_reset``.
* Anything else (a jump up by more than ``allowed``, or a drop to a value that is
  not small): **GLITCH_REJECTED**. Nothing is added, the baseline stays, flag
  ``glitch_rejected``, and the reading is kept as *pending* ``(p, tp)``.

While a reading is pending, the next valid reading is judged against the baseline
first: if it is a plausible ACCEPTED or RESET, the pending reading was a glitch
(a spike, or a drop and return) and is forgotten. Otherwise, if it continues from
the pending reading (``v >= p`` and ``v - p`` within ``allowed`` counted from
``tp``), the meter really moved (replaced, re-based): **REBASED**, the increment
is ``v - p`` (the energy since the jump, never the jump itself), and ``v`` becomes
the baseline. Otherwise it is rejected too and becomes the new pending reading.

A negative reading (below -1e-9) is never a counter value: it is
GLITCH_REJECTED and not kept as pending (a replaced meter does not stand there).
Readings between -1e-9 and 0 are read as 0.

Times are timezone-aware datetimes from the caller; nothing here reads a clock.
Energies are kWh and powers kW.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math
from typing import Any, Final

FLAG_METER_RESET: Final = "meter_reset"
# A reset drops the counter to at most this fraction of its last value.
RESET_FRACTION: Final = 0.5
FLAG_GLITCH_REJECTED: Final = "glitch_rejected"

# Headroom over the charger's rated power (meter and power tolerances).
POWER_HEADROOM: Final = 1.1
# Differences below this are float noise, not energy.
EQUAL_EPSILON_KWH: Final = 1e-9
DEFAULT_TOLERANCE_KWH: Final = 0.1

_SERIAL_VERSION: Final = 1


class MeterOutcome(StrEnum):
    """What one meter reading meant."""

    BASELINE = "baseline"
    ACCEPTED = "accepted"
    GAP = "gap"
    RESET = "reset"
    GLITCH_REJECTED = "glitch_rejected"
    REBASED = "rebased"


@dataclass(frozen=True, slots=True)
class MeterUpdate:
    """The verdict on one reading and the energy it added to the session."""

    outcome: MeterOutcome
    increment_kwh: float


class MeterAccumulator:
    """Sum a session's valid meter increments; see the module docstring."""

    def __init__(
        self, max_power_kw: float, *, tolerance_kwh: float = DEFAULT_TOLERANCE_KWH
    ) -> None:
        """Start an empty accumulator for a charger of at most ``max_power_kw``.

        Raises ``ValueError`` if either limit is negative or not finite: those
        are programming errors, not data.
        """
        if not math.isfinite(max_power_kw) or max_power_kw < 0:
            raise ValueError(f"max_power_kw must be finite and >= 0: {max_power_kw}")
        if not math.isfinite(tolerance_kwh) or tolerance_kwh < 0:
            raise ValueError(f"tolerance_kwh must be finite and >= 0: {tolerance_kwh}")
        self._max_power_kw = float(max_power_kw)
        self._tolerance_kwh = float(tolerance_kwh)
        self._energy_kwh = 0.0
        self._start_kwh: float | None = None
        self._last_kwh: float | None = None
        self._last_at: datetime | None = None
        self._pending_kwh: float | None = None
        self._pending_at: datetime | None = None
        self._flags: frozenset[str] = frozenset()

    @property
    def max_power_kw(self) -> float:
        """The charger's rated maximum power, in kW."""
        return self._max_power_kw

    @property
    def tolerance_kwh(self) -> float:
        """Slack added to every plausibility bound for the meter's resolution."""
        return self._tolerance_kwh

    @property
    def energy_kwh(self) -> float:
        """Energy of all accepted increments since this accumulator was created."""
        return self._energy_kwh

    @property
    def start_kwh(self) -> float | None:
        """The first valid reading (the meter at session start), if any."""
        return self._start_kwh

    @property
    def last_kwh(self) -> float | None:
        """The current baseline reading, if any."""
        return self._last_kwh

    @property
    def last_at(self) -> datetime | None:
        """When the baseline value was first seen (a repeat does not move it)."""
        return self._last_at

    @property
    def pending_kwh(self) -> float | None:
        """The last rejected reading still waiting to be confirmed, if any."""
        return self._pending_kwh

    @property
    def pending_at(self) -> datetime | None:
        """When the pending rejected reading arrived, if any."""
        return self._pending_at

    @property
    def flags(self) -> frozenset[str]:
        """Quality flags: a subset of {"meter_reset", "glitch_rejected"}."""
        return self._flags

    def allowed_kwh(self, since: datetime, at: datetime) -> float:
        """Return the most energy the meter may plausibly count from ``since``."""
        seconds = max((at - since).total_seconds(), 0.0)
        return (
            self._max_power_kw * seconds / 3600 * POWER_HEADROOM + self._tolerance_kwh
        )

    def add(self, reading_kwh: float | None, at: datetime) -> MeterUpdate:
        """Judge one reading taken at ``at`` and add its energy, if any."""
        if reading_kwh is None or not math.isfinite(reading_kwh):
            return MeterUpdate(MeterOutcome.GAP, 0.0)
        reading = float(reading_kwh)
        if reading < 0.0:
            if reading > -EQUAL_EPSILON_KWH:
                reading = 0.0
            else:
                # A counter never reads below zero: a broken value, which also
                # cannot be where a replaced meter now stands.
                self._flags |= {FLAG_GLITCH_REJECTED}
                return MeterUpdate(MeterOutcome.GLITCH_REJECTED, 0.0)
        if self._last_kwh is None or self._last_at is None:
            self._start_kwh = reading
            self._move_baseline(reading, at)
            return MeterUpdate(MeterOutcome.BASELINE, 0.0)

        update = self._judge_against_baseline(
            self._last_kwh, self._last_at, reading, at
        )
        if update is None:
            update = self._judge_against_pending(reading, at)
        if update is None:
            self._pending_kwh = reading
            self._pending_at = at
            self._flags |= {FLAG_GLITCH_REJECTED}
            return MeterUpdate(MeterOutcome.GLITCH_REJECTED, 0.0)

        self._pending_kwh = None
        self._pending_at = None
        self._energy_kwh += update.increment_kwh
        return update

    def _judge_against_baseline(
        self, baseline: float, baseline_at: datetime, reading: float, at: datetime
    ) -> MeterUpdate | None:
        """Return ACCEPTED or RESET if plausible from the baseline, else ``None``."""
        if abs(reading - baseline) < EQUAL_EPSILON_KWH:
            return MeterUpdate(MeterOutcome.ACCEPTED, 0.0)
        allowed = self.allowed_kwh(baseline_at, at)
        if reading > baseline:
            delta = reading - baseline
            if delta > allowed:
                return None
            self._move_baseline(reading, at)
            return MeterUpdate(MeterOutcome.ACCEPTED, delta)
        if reading > allowed or reading > baseline * RESET_FRACTION:
            return None
        # A drop to a small value: the counter restarted from 0 and counted
        # `reading` since. "Small" is both what the charger could have drawn
        # since the baseline and well below it: after hours of quiet, a lifetime
        # meter wobbling from 1520.00 to 1519.99 is a glitch, not a reset.
        self._move_baseline(reading, at)
        self._flags |= {FLAG_METER_RESET}
        return MeterUpdate(MeterOutcome.RESET, reading)

    def _judge_against_pending(
        self, reading: float, at: datetime
    ) -> MeterUpdate | None:
        """Return REBASED if ``reading`` continues the pending one, else ``None``."""
        if self._pending_kwh is None or self._pending_at is None:
            return None
        delta = reading - self._pending_kwh
        if delta <= -EQUAL_EPSILON_KWH or delta > self.allowed_kwh(
            self._pending_at, at
        ):
            return None
        self._move_baseline(reading, at)
        return MeterUpdate(MeterOutcome.REBASED, max(delta, 0.0))

    def _move_baseline(self, reading: float, at: datetime) -> None:
        """Make ``reading``, first seen at ``at``, the baseline."""
        self._last_kwh = reading
        self._last_at = at

    def to_dict(self) -> dict[str, Any]:
        """Return the full state as JSON-serialisable data (times in ISO 8601)."""
        return {
            "version": _SERIAL_VERSION,
            "max_power_kw": self._max_power_kw,
            "tolerance_kwh": self._tolerance_kwh,
            "energy_kwh": self._energy_kwh,
            "start_kwh": self._start_kwh,
            "last_kwh": self._last_kwh,
            "last_at": _iso_or_none(self._last_at),
            "pending_kwh": self._pending_kwh,
            "pending_at": _iso_or_none(self._pending_at),
            "flags": sorted(self._flags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeterAccumulator:
        """Rebuild an accumulator from `to_dict` output.

        Only ``max_power_kw`` is required; missing optional keys take their
        empty defaults. Raises ``ValueError`` when the data is malformed (wrong
        types, naive or unparsable times, a value without its time), so the
        caller can log it and start afresh instead of trusting garbage.
        """
        try:
            return cls._read(data)
        except (TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"Malformed meter data: {err}") from err

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> MeterAccumulator:
        """Do the work of `from_dict`; raise on the first malformed value."""
        tolerance = _optional_float(data, "tolerance_kwh")
        meter = cls(
            _required_float(data, "max_power_kw"),
            tolerance_kwh=DEFAULT_TOLERANCE_KWH if tolerance is None else tolerance,
        )
        meter._energy_kwh = _optional_float(data, "energy_kwh") or 0.0
        meter._last_kwh = _optional_float(data, "last_kwh")
        meter._last_at = _optional_datetime(data, "last_at")
        meter._pending_kwh = _optional_float(data, "pending_kwh")
        meter._pending_at = _optional_datetime(data, "pending_at")
        meter._flags = _flags(data.get("flags"))
        if (meter._last_kwh is None) != (meter._last_at is None):
            raise ValueError("last_kwh and last_at go together")
        if (meter._pending_kwh is None) != (meter._pending_at is None):
            raise ValueError("pending_kwh and pending_at go together")
        start_kwh = _optional_float(data, "start_kwh")
        meter._start_kwh = meter._last_kwh if start_kwh is None else start_kwh
        return meter


def _iso_or_none(moment: datetime | None) -> str | None:
    """Return ``moment`` in ISO 8601, or ``None``."""
    return None if moment is None else moment.isoformat()


def _required_float(data: Mapping[str, Any], key: str) -> float:
    """Return ``data[key]`` as a finite float; raise ``ValueError`` otherwise."""
    value = _optional_float(data, key)
    if value is None:
        raise ValueError(f"{key} is required")
    return value


def _optional_float(data: Mapping[str, Any], key: str) -> float | None:
    """Return ``data[key]`` as a finite float, ``None`` if absent or null."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} is not a number: {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{key} is not finite: {value!r}")
    return float(value)


def _optional_datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    """Return ``data[key]`` parsed as an aware ISO 8601 time, ``None`` if absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string: {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{key} has no time zone: {value!r}")
    return moment


def _flags(value: Any) -> frozenset[str]:
    """Return the known flags in ``value``; unknown flags are dropped."""
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"flags is not a list: {value!r}")
    known = {FLAG_METER_RESET, FLAG_GLITCH_REJECTED}
    return frozenset(flag for flag in value if flag in known)
