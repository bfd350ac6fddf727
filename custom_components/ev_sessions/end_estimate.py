"""When will charging end: a taper model, what it learns, and the live estimate.

Plain Python with no Home Assistant imports; time is always passed in.

The model (`TaperModel`): the car draws full power up to the *knee*, then a
power that falls linearly in SoC down to ``floor_ratio`` of full power at
100 %. Of what the charger delivers, ``efficiency`` reaches the battery. The
time to a target SoC is the integral of ``capacity / (efficiency * power)``
over the SoC still to go (`minutes_to_target`, in closed form).

`TaperLearner` fits each finished session's curve against its SoC readings
and keeps the last sessions' fits; the model is their median, parameter by
parameter, once enough sessions show it (the defaults until then).

`EndEstimator` follows one session live and gives a steady estimated end:
power averaged over minutes (but following a real change within one or
two), SoC carried forward by the energy drawn since the car last reported
it, and a published value that moves at most once a minute and only by
more than a hysteresis.

`evcc_minutes_to_target` is evcc's own estimate, kept as the baseline the
benchmark compares against; nothing in the integration uses it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
import math
import statistics
from typing import Any, Final

from .curve import CurvePoint

FULL_SOC: Final = 100.0
DEFAULT_KNEE_SOC: Final = 80.0
DEFAULT_EFFICIENCY: Final = 0.90
DEFAULT_FLOOR_RATIO: Final = 0.15

# A learned parameter replaces its default once this many sessions show it;
# the learner keeps the fits of this many recent sessions.
MIN_SESSIONS: Final = 3
KEPT_SESSIONS: Final = 20
EFFICIENCY_RANGE: Final = (0.70, 1.00)
FLOOR_RANGE: Final = (0.02, 1.00)
# A session says something about efficiency once its SoC rose this much, and
# about the knee once it shows this much SoC on each side of it.
MIN_EFFICIENCY_SPAN_SOC: Final = 10.0
MIN_SIDE_SOC: Final = 3.0
# The taper must take this much off the plateau (as a fraction) within the
# session, and the knee must explain the curve clearly better than a straight
# line (the fit's squared error at most this fraction of the line's).
MIN_VISIBLE_DECLINE: Final = 0.10
MAX_ERROR_VS_LINE: Final = 0.5
_KNEE_STEP_SOC: Final = 0.5
_FLOOR_BISECTIONS: Final = 30

# Live estimate: power is averaged with this time constant, and follows a
# quicker mean when the two part by more than the step ratio; the ramp-up
# after charging starts is left out, and the average waits until it holds
# enough readings. The published end moves at most once per interval and
# only by more than the larger of the two hysteresis figures.
POWER_TIME_CONSTANT_S: Final = 600.0
STEP_TIME_CONSTANT_S: Final = 60.0
STEP_RATIO: Final = 0.05
RAMP_S: Final = 30.0
SETTLE_S: Final = 120.0
PUBLISH_INTERVAL_S: Final = 60.0
HYSTERESIS_S: Final = 120.0
HYSTERESIS_RATIO: Final = 0.02

_SERIAL_VERSION: Final = 1


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _finite(value: Any) -> float | None:
    """Return ``value`` as a float if it is a finite number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _positive(value: float | None) -> float | None:
    number = _finite(value)
    return number if number is not None and number > 0 else None


@dataclass(frozen=True, slots=True)
class TaperModel:
    """How a car on this charger takes power as its battery fills.

    ``knee_soc``: the SoC (%) up to which the car draws full power.
    ``efficiency``: energy into the battery / energy from the charger.
    ``floor_ratio``: power at 100 % as a fraction of full power; between the
    knee and 100 % the power falls linearly in SoC down to it.
    """

    knee_soc: float = DEFAULT_KNEE_SOC
    efficiency: float = DEFAULT_EFFICIENCY
    floor_ratio: float = DEFAULT_FLOOR_RATIO

    def __post_init__(self) -> None:
        """Reject parameters no car has: they are programming errors."""
        if not 0.0 <= self.knee_soc <= FULL_SOC:
            raise ValueError(f"knee_soc must be within 0-100: {self.knee_soc}")
        if not 0.0 < self.efficiency <= 1.0:
            raise ValueError(f"efficiency must be within (0, 1]: {self.efficiency}")
        if not 0.0 < self.floor_ratio <= 1.0:
            raise ValueError(f"floor_ratio must be within (0, 1]: {self.floor_ratio}")

    def power_ratio(self, soc: float) -> float:
        """Return the power the car draws at ``soc``, as a fraction of full power."""
        if soc <= self.knee_soc:
            return 1.0
        taper = (min(soc, 100.0) - self.knee_soc) / (100.0 - self.knee_soc)
        return 1.0 - (1.0 - self.floor_ratio) * taper

    def to_dict(self) -> dict[str, float]:
        """Return the model as JSON data."""
        return {
            "knee_soc": self.knee_soc,
            "efficiency": self.efficiency,
            "floor_ratio": self.floor_ratio,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaperModel:
        """Read a model back; missing keys take the defaults.

        Raises ``ValueError`` for a value that is not a number or out of range.
        """
        values = {}
        for key, default in (
            ("knee_soc", DEFAULT_KNEE_SOC),
            ("efficiency", DEFAULT_EFFICIENCY),
            ("floor_ratio", DEFAULT_FLOOR_RATIO),
        ):
            value = _finite(data.get(key, default))
            if value is None:
                raise ValueError(f"{key} is not a finite number: {data.get(key)!r}")
            values[key] = value
        return cls(**values)


def minutes_to_target(
    model: TaperModel,
    *,
    soc: float,
    target_soc: float,
    capacity_kwh: float,
    full_power_kw: float,
) -> float:
    """Return the minutes from ``soc`` to ``target_soc`` along ``model``.

    ``full_power_kw`` is what the car draws from the charger before the knee.
    SoCs are clamped to 0-100 %; a target at or below ``soc`` takes no time.
    Raises ``ValueError`` for a capacity or power that is not positive.
    """
    if not capacity_kwh > 0 or not full_power_kw > 0:
        raise ValueError("capacity_kwh and full_power_kw must be positive")
    soc = _clamp(soc, 0.0, 100.0)
    target_soc = _clamp(target_soc, 0.0, 100.0)
    if target_soc <= soc:
        return 0.0
    # Minutes per percent of SoC at full power.
    per_percent = capacity_kwh / (100.0 * model.efficiency * full_power_kw) * 60.0
    knee = model.knee_soc
    minutes = max(min(target_soc, knee) - soc, 0.0) * per_percent
    if target_soc > knee:
        # Power ratio r(s) = 1 - slope * (s - knee); the integral of 1/r is
        # -ln(r) / slope, or just the SoC span when the power does not fall.
        start = max(soc, knee)
        slope = (1.0 - model.floor_ratio) / (100.0 - knee)
        if slope == 0:
            minutes += (target_soc - start) * per_percent
        else:
            ratio_start = 1.0 - slope * (start - knee)
            ratio_end = 1.0 - slope * (target_soc - knee)
            minutes += math.log(ratio_start / ratio_end) / slope * per_percent
    return minutes


# evcc's charge curve (core/soc/estimator.go, defaults as listed in
# evcc-io/evcc#7602): a straight line in (SoC, power) through 50 kW at 50 %
# and 1 kW at 100 %, with 90 % efficiency.
EVCC_MIN_POWER_KW: Final = 1.0
EVCC_MAX_POWER_KW: Final = 50.0
EVCC_MAX_POWER_SOC: Final = 50.0
EVCC_EFFICIENCY: Final = 0.9


def evcc_minutes_to_target(
    *,
    soc: float,
    target_soc: float,
    capacity_kwh: float,
    charge_power_kw: float,
    efficiency: float = EVCC_EFFICIENCY,
) -> float:
    """Return evcc's estimate of the minutes to ``target_soc``: a baseline.

    Our reading of evcc's ``remainingChargeDuration``: the car keeps today's
    ``charge_power_kw`` until the SoC where evcc's line (50 kW at 50 %, 1 kW
    at 100 %) falls below it (about 90 % at 11 kW, 97 % at 3.7 kW), and from
    there charges at the average of today's power and 1 kW. The energy is
    ``capacity_kwh / efficiency`` per 100 %; evcc starts from 0.9 and, once
    the SoC has risen more than 10 % in a session, uses what it measured.
    """
    if not capacity_kwh > 0 or not charge_power_kw > 0:
        raise ValueError("capacity_kwh and charge_power_kw must be positive")
    gradient = (EVCC_MIN_POWER_KW - EVCC_MAX_POWER_KW) / (100.0 - EVCC_MAX_POWER_SOC)
    reduction_soc = (charge_power_kw - EVCC_MIN_POWER_KW) / gradient + 100.0
    virtual_capacity = capacity_kwh / efficiency
    hours = 0.0
    if soc < reduction_soc:
        span = min(target_soc, reduction_soc) - soc
        hours += span / 100 * virtual_capacity / charge_power_kw
    if target_soc > reduction_soc:
        average_kw = (charge_power_kw - EVCC_MIN_POWER_KW) / 2 + EVCC_MIN_POWER_KW
        span = target_soc - max(soc, reduction_soc)
        hours += span / 100 * virtual_capacity / average_kw
    return max(hours, 0.0) * 60.0


@dataclass(frozen=True, slots=True)
class SessionFit:
    """What one finished session says about the model; ``None``: nothing."""

    knee_soc: float | None = None
    efficiency: float | None = None
    floor_ratio: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """Return the fit as JSON data."""
        return {
            "knee_soc": self.knee_soc,
            "efficiency": self.efficiency,
            "floor_ratio": self.floor_ratio,
        }


class _CurveTotals:
    """A curve's running energy and charging time, read at any offset."""

    def __init__(self, curve: Sequence[Any]) -> None:
        # Steps (start, end, kw) with gaps and unusable powers as 0 kW, and
        # what was drawn and charged before each one starts.
        self._steps: list[tuple[float, float, float]] = []
        self._before: list[tuple[float, float]] = []
        kwh = charging_s = 0.0
        for here, after in pairwise(curve):
            start, kw = _curve_point(here)
            end, _ = _curve_point(after)
            if start is None or end is None or end <= start:
                continue
            kw = kw if kw is not None and kw > 0 else 0.0
            self._steps.append((start, end, kw))
            self._before.append((kwh, charging_s))
            kwh += kw * (end - start) / 3600
            charging_s += (end - start) if kw > 0 else 0.0
        self._starts = [start for start, _, _ in self._steps]

    def at(self, offset: float) -> tuple[float, float]:
        """Return the energy (kWh) drawn and the seconds charged before ``offset``."""
        index = bisect_right(self._starts, offset) - 1
        if index < 0:
            return 0.0, 0.0
        start, end, kw = self._steps[index]
        kwh, charging_s = self._before[index]
        if kw > 0:
            seconds = min(offset, end) - start
            kwh += kw * seconds / 3600
            charging_s += seconds
        return kwh, charging_s


def _curve_point(point: Any) -> tuple[float | None, float | None]:
    """Return a curve point's offset and power; ``None`` for what is unusable."""
    try:
        offset, kw = point
    except (TypeError, ValueError):
        return None, None
    return _finite(offset), _finite(kw)


def fit_session(
    curve: Sequence[CurvePoint],
    soc_samples: Sequence[tuple[float, float]],
    *,
    capacity_kwh: float,
) -> SessionFit:
    """Return what a finished session says about knee, efficiency and floor.

    ``soc_samples`` are ``(offset_s, soc)`` readings, offsets counted like the
    curve's. Only the moments the SoC *changed* are used: a car reports a new
    value as it crosses it, so those moments pin the SoC, while the first
    reading may be anywhere within its percent.

    Efficiency: SoC gained times capacity, over the energy drawn between the
    first and last change (needs 10 % of SoC). Knee: each percent's average
    power (energy over charging time between two changes) against its SoC,
    fitted by least squares with "flat, then a straight decline" for every
    knee on a half-percent grid; the best fit counts when it shows a decline
    and explains the curve clearly better than one straight line (a session
    that starts past the knee, or stops before it, says nothing about where
    the knee is). Floor: see `_fit_floor`.
    """
    changes = _soc_changes(soc_samples)
    if not changes:
        return SessionFit()
    totals = _CurveTotals(curve)
    drawn = [totals.at(offset) for offset, _ in changes]
    efficiency = None
    soc_gained = changes[-1][1] - changes[0][1]
    energy_drawn = drawn[-1][0] - drawn[0][0]
    if soc_gained >= MIN_EFFICIENCY_SPAN_SOC and energy_drawn > 0 and capacity_kwh > 0:
        efficiency = _clamp(
            soc_gained / 100 * capacity_kwh / energy_drawn, *EFFICIENCY_RANGE
        )
    points: list[tuple[float, float, float]] = []  # (soc, kw, weight)
    for index in range(len(changes) - 1):
        soc_from, soc_to = changes[index][1], changes[index + 1][1]
        kwh = drawn[index + 1][0] - drawn[index][0]
        seconds = drawn[index + 1][1] - drawn[index][1]
        if kwh > 0 and seconds > 0:
            points.append(
                ((soc_from + soc_to) / 2, kwh * 3600 / seconds, soc_to - soc_from)
            )
    knee = _fit_knee(points)
    if knee is None:
        return SessionFit(efficiency=efficiency)
    knee_soc, floor_ratio = knee
    return SessionFit(knee_soc=knee_soc, efficiency=efficiency, floor_ratio=floor_ratio)


def _soc_changes(samples: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return the readings where the SoC rose, in time order (0-100 % only)."""
    readings: list[tuple[float, float]] = []
    for sample in samples:
        offset, soc = _curve_point(sample)
        if offset is not None and soc is not None and 0 <= soc <= FULL_SOC:
            readings.append((offset, soc))
    readings.sort()
    changes: list[tuple[float, float]] = []
    for (_, before), (offset, soc) in pairwise(readings):
        if soc > before and (not changes or soc > changes[-1][1]):
            changes.append((offset, soc))
    return changes


def _fit_knee(
    points: Sequence[tuple[float, float, float]],
) -> tuple[float, float] | None:
    """Return ``(knee_soc, floor_ratio)`` fitted to ``(soc, kw, weight)``."""
    if not points:
        return None
    low = min(soc for soc, _, _ in points)
    high = max(soc for soc, _, _ in points)
    line = _least_squares(points, lambda soc: soc)
    best: tuple[float, float, float, float] | None = None  # error, knee, a, slope
    knee = math.ceil((low + MIN_SIDE_SOC) / _KNEE_STEP_SOC) * _KNEE_STEP_SOC
    while knee <= high - MIN_SIDE_SOC:
        fit = _least_squares(points, _past(knee))
        if fit is not None and (best is None or fit[0] < best[0]):
            best = (fit[0], knee, fit[1], fit[2])
        knee += _KNEE_STEP_SOC
    if best is None or line is None:
        return None
    error, knee, plateau, slope = best
    if plateau <= 0 or -slope * (high - knee) < MIN_VISIBLE_DECLINE * plateau:
        return None
    if error > MAX_ERROR_VS_LINE * line[0]:
        return None
    return knee, _fit_floor(points, knee, plateau)


def _fit_floor(
    points: Sequence[tuple[float, float, float]], knee: float, plateau_kw: float
) -> float:
    """Return the floor whose taper takes as long as the session's did.

    The fitted line's own floor would match the power, but what matters is
    the time, which goes with 1/power: where the real taper bends, a straight
    line that fits the power well still misses the slow last percents badly.
    So the floor is the one that makes the model spend the observed time
    past the knee (in units of a percent at plateau power), by bisection: a
    higher floor takes less time. A taper slower or faster than any floor
    allows ends at the nearer end of `FLOOR_RANGE`.
    """
    taper = [(soc, kw, weight) for soc, kw, weight in points if soc > knee]
    observed = math.fsum(weight * plateau_kw / kw for _, kw, weight in taper)

    def modelled(floor_ratio: float) -> float:
        model = TaperModel(knee_soc=knee, floor_ratio=floor_ratio)
        return math.fsum(weight / model.power_ratio(soc) for soc, _, weight in taper)

    low, high = FLOOR_RANGE
    for _ in range(_FLOOR_BISECTIONS):
        middle = (low + high) / 2
        if modelled(middle) > observed:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _past(knee: float) -> Callable[[float], float]:
    """Return the feature of a taper from ``knee``: how far past it a SoC is."""
    return lambda soc: max(soc - knee, 0.0)


def _least_squares(
    points: Sequence[tuple[float, float, float]], feature: Callable[[float], float]
) -> tuple[float, float, float] | None:
    """Fit ``kw = a + slope * feature(soc)``; return (squared error, a, slope)."""
    sw = sx = sxx = sy = sxy = 0.0
    for soc, kw, weight in points:
        x = feature(soc)
        sw += weight
        sx += weight * x
        sxx += weight * x * x
        sy += weight * kw
        sxy += weight * x * kw
    det = sw * sxx - sx * sx
    if det <= 1e-9 * sw * sw:
        return None
    slope = (sw * sxy - sx * sy) / det
    intercept = (sy - slope * sx) / sw
    error = math.fsum(
        weight * (kw - intercept - slope * feature(soc)) ** 2
        for soc, kw, weight in points
    )
    return error, intercept, slope


class TaperLearner:
    """Learn this charger's taper model from its finished sessions.

    Each parameter is the median over the recent sessions that show it (up to
    `KEPT_SESSIONS`), and its default until `MIN_SESSIONS` do. The median, not
    a blend with the defaults: one odd session (a cold battery, a load
    balancer cutting current) cannot move it, and three that agree are
    evidence enough to leave a default that is wrong for this car.
    """

    def __init__(self, fits: Iterable[SessionFit] = ()) -> None:
        """Start from earlier sessions' fits (oldest first), or from nothing."""
        self._fits: deque[SessionFit] = deque(fits, maxlen=KEPT_SESSIONS)

    @property
    def sessions(self) -> int:
        """Return how many sessions' fits are kept."""
        return len(self._fits)

    def add_session(
        self,
        curve: Sequence[CurvePoint],
        soc_samples: Sequence[tuple[float, float]],
        *,
        capacity_kwh: float,
    ) -> bool:
        """Learn from a finished session; return whether it taught anything."""
        fit = fit_session(curve, soc_samples, capacity_kwh=capacity_kwh)
        if fit == SessionFit():
            return False
        self._fits.append(fit)
        return True

    @property
    def model(self) -> TaperModel:
        """Return the model learned so far."""
        return TaperModel(
            knee_soc=self._median("knee_soc", DEFAULT_KNEE_SOC),
            efficiency=self._median("efficiency", DEFAULT_EFFICIENCY),
            floor_ratio=self._median("floor_ratio", DEFAULT_FLOOR_RATIO),
        )

    def _median(self, name: str, default: float) -> float:
        values = [
            value for fit in self._fits if (value := getattr(fit, name)) is not None
        ]
        if len(values) < MIN_SESSIONS:
            return default
        return float(statistics.median(values))

    def to_dict(self) -> dict[str, Any]:
        """Return the learner's state as JSON data."""
        return {
            "version": _SERIAL_VERSION,
            "sessions": [fit.to_dict() for fit in self._fits],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaperLearner:
        """Rebuild a learner from `to_dict` output.

        Raises ``ValueError`` when the data is malformed, so the caller can
        log it and start learning afresh.
        """
        try:
            return cls(_stored_fit(fit) for fit in data.get("sessions", ()))
        except (AttributeError, TypeError, ValueError) as err:
            raise ValueError(f"Malformed taper learner data: {err!r}") from err


def _stored_fit(data: Mapping[str, Any]) -> SessionFit:
    values: dict[str, float | None] = {}
    for key in ("knee_soc", "efficiency", "floor_ratio"):
        value = data.get(key)
        number = _finite(value)
        if value is not None and number is None:
            raise ValueError(f"{key} is not a finite number: {value!r}")
        values[key] = number
    return SessionFit(**values)


@dataclass(slots=True)
class _Mean:
    """A time-weighted mean whose weights decay with ``time_constant_s``.

    The weights are normalised, so a young mean is the plain time-weighted
    mean of what it has seen rather than leaning on its first reading.
    """

    time_constant_s: float
    weighted_kw: float = 0.0
    weight: float = 0.0

    @property
    def kw(self) -> float | None:
        """Return the mean, or ``None`` before any reading."""
        return self.weighted_kw / self.weight if self.weight > 0 else None

    def add(self, kw: float, held_s: float) -> None:
        """Take ``kw``, held for ``held_s``."""
        keep = math.exp(-held_s / self.time_constant_s)
        self.weighted_kw = self.weighted_kw * keep + kw * (1 - keep)
        self.weight = self.weight * keep + (1 - keep)


class _PowerAverage:
    """Power averaged over the last minutes of charging, past ramps and pauses.

    Each reading holds until the next one, as on the curve. The average has
    a `POWER_TIME_CONSTANT_S` time constant, so noise does not move it. A
    quick mean (`STEP_TIME_CONSTANT_S`) runs beside it: when the two part by
    more than `STEP_RATIO`, the power really changed (a current limit, a
    phase switch) and the average takes the quick mean's value, so it
    follows within a minute or two. No reading (a pause) adds nothing: the
    average holds. The first `RAMP_S` after charging starts or resumes are
    left out (the charger is ramping up), and the average has a value once
    it holds `SETTLE_S` of readings.
    """

    def __init__(self) -> None:
        self.slow = _Mean(POWER_TIME_CONSTANT_S)
        self.quick = _Mean(STEP_TIME_CONSTANT_S)
        self.averaged_s = 0.0
        self.reading_kw: float | None = None  # the reading that holds now
        self.reading_at: datetime | None = None
        self.charging_since: datetime | None = None

    @property
    def kw(self) -> float | None:
        """Return the average, or ``None`` until it has settled."""
        return None if self.averaged_s < SETTLE_S else self.slow.kw

    def add(self, at: datetime, kw: float | None) -> None:
        """Take the reading at ``at``: ``kw``, or ``None`` for no power."""
        if self.reading_kw is not None and self.reading_at is not None:
            held_s = (at - self.reading_at).total_seconds()
            if held_s > 0:
                self.slow.add(self.reading_kw, held_s)
                self.quick.add(self.reading_kw, held_s)
                self.averaged_s += held_s
                slow, quick = self.slow.kw, self.quick.kw
                if slow and quick and abs(quick - slow) > STEP_RATIO * slow:
                    self.slow.weighted_kw = quick * self.slow.weight
        if kw is None:
            self.charging_since = None
        elif self.charging_since is None:
            self.charging_since = at
        ramping = (
            self.charging_since is None
            or (at - self.charging_since).total_seconds() < RAMP_S
        )
        self.reading_kw = None if ramping else kw
        self.reading_at = at

    def to_dict(self) -> dict[str, Any]:
        """Return the average's state as JSON data."""
        return {
            "slow": [self.slow.weighted_kw, self.slow.weight],
            "quick": [self.quick.weighted_kw, self.quick.weight],
            "averaged_s": self.averaged_s,
            "reading_kw": self.reading_kw,
            "reading_at": _iso(self.reading_at),
            "charging_since": _iso(self.charging_since),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _PowerAverage:
        """Read the state back; raise on a malformed value."""
        average = cls()
        for mean, key in ((average.slow, "slow"), (average.quick, "quick")):
            weighted_kw, weight = data.get(key, (0.0, 0.0))
            mean.weighted_kw, mean.weight = _required(weighted_kw), _required(weight)
        average.averaged_s = _required(data.get("averaged_s", 0.0))
        average.reading_kw = _optional(data.get("reading_kw"))
        average.reading_at = _time(data.get("reading_at"))
        average.charging_since = _time(data.get("charging_since"))
        return average


class EndEstimator:
    """The live estimated end of one session's charging.

    Call `update` with every sample while the session charges; it returns the
    published estimate (an aware datetime) or ``None`` when it is unknown.

    * With SoC and capacity: the minutes along the model from the SoC now to
      the target. The SoC now runs on with the energy drawn, and is brought
      within the percent the car shows whenever that changes (cars show
      whole percents, some only every few minutes); see `_carry_soc`.
    * Full power is each power reading divided by the model's power ratio at
      the SoC now (past the knee the car draws less, and a reading there
      still says what the car draws before it), averaged over the last
      minutes of charging (`_PowerAverage`): noise, ramps and pauses do not
      move it, a real change of power does.
    * An energy target (kWh from the charger) with SoC known becomes the SoC
      it will bring, when that comes before the SoC target. Without SoC (or
      capacity) the estimate is the remaining energy at the average power,
      with no taper, and without an energy target it is unknown.
    * Done: once the reported SoC reaches the target (or the energy drawn the
      energy target), the estimate is the time that was first seen, and
      stays so.
    * Published: the first estimate once the average has settled; after that
      a new value only when at least `PUBLISH_INTERVAL_S` have passed since
      the last one and it moved by more than the larger of `HYSTERESIS_S` and
      `HYSTERESIS_RATIO` of the time remaining. Reaching the target, an
      unknown estimate and a changed target publish at once.
    """

    def __init__(self, model: TaperModel | None = None) -> None:
        """Start a session's estimate with ``model`` (the defaults if none)."""
        self._model = model or TaperModel()
        self._soc: float | None = None  # last reported SoC
        self._soc_now: float | None = None  # the SoC as last estimated
        self._soc_energy_kwh = 0.0  # energy drawn when it was estimated
        self._power = _PowerAverage()  # of full power
        self._targets: tuple[float, float | None] | None = None
        self._published: datetime | None = None
        self._published_at: datetime | None = None
        self._done_at: datetime | None = None

    @property
    def model(self) -> TaperModel:
        """The model this session's estimate follows."""
        return self._model

    @property
    def estimate(self) -> datetime | None:
        """The published estimated end, as `update` last returned it."""
        return self._published

    def update(
        self,
        at: datetime,
        *,
        power_kw: float | None,
        soc: float | None,
        energy_kwh: float,
        target_soc: float,
        capacity_kwh: float | None,
        energy_target_kwh: float | None,
    ) -> datetime | None:
        """Take the session's state at ``at``; return the published estimate."""
        capacity = _positive(capacity_kwh)
        energy_target = _positive(energy_target_kwh)
        target = _finite(target_soc)
        target = FULL_SOC if target is None else _clamp(target, 0.0, FULL_SOC)
        energy = _finite(energy_kwh) or 0.0
        soc_now = self._carry_soc(_finite(soc), energy, capacity)

        if (self._soc is not None and self._soc >= target) or (
            energy_target is not None and energy >= energy_target
        ):
            if self._done_at is None:
                self._done_at = at
            return self._publish(self._done_at, at)
        self._done_at = None

        power = _positive(power_kw)
        if power is not None and soc_now is not None:
            power /= self._model.power_ratio(soc_now)
        self._power.add(at, power)
        minutes = self._minutes(soc_now, energy, target, capacity, energy_target)
        targets = (target, energy_target)
        retargeted = self._targets is not None and targets != self._targets
        self._targets = targets
        if minutes is None:
            return self._publish(None, at)
        candidate = at + timedelta(minutes=minutes)
        if retargeted or self._should_move(at, candidate):
            return self._publish(candidate.replace(microsecond=0), at)
        return self._published

    def _carry_soc(
        self, reported: float | None, energy: float, capacity: float | None
    ) -> float | None:
        """Return the SoC now: the last estimate plus what was drawn since.

        A car shows whole percents: when what it shows changes, the SoC is at
        least that value and short of the next, so the estimate is brought
        within that percent (the first value the car shows is taken as it
        is). In between it runs on with the energy, however long the car
        takes to report again.
        """
        if reported is not None and reported != self._soc:
            self._soc = reported
            estimate = reported
            if self._soc_now is not None and capacity is not None:
                estimate = self._soc_now + self._gained(energy, capacity)
            self._soc_now = _clamp(estimate, reported, reported + 1)
            self._soc_energy_kwh = energy
        if self._soc_now is None or capacity is None:
            return None
        return min(self._soc_now + self._gained(energy, capacity), FULL_SOC)

    def _gained(self, energy: float, capacity: float) -> float:
        """Return the SoC (%) the energy drawn since the last estimate added."""
        drawn = max(energy - self._soc_energy_kwh, 0.0)
        return drawn * self._model.efficiency / capacity * 100

    def _minutes(
        self,
        soc_now: float | None,
        energy: float,
        target: float,
        capacity: float | None,
        energy_target: float | None,
    ) -> float | None:
        """Return the minutes still to charge, or ``None`` when unknown."""
        full_kw = self._power.kw
        if full_kw is None:
            return None
        if soc_now is not None and capacity is not None:
            if energy_target is not None:
                gained = (energy_target - energy) * self._model.efficiency / capacity
                target = min(target, soc_now + gained * 100)
            return minutes_to_target(
                self._model,
                soc=soc_now,
                target_soc=target,
                capacity_kwh=capacity,
                full_power_kw=full_kw,
            )
        if energy_target is not None:
            return (energy_target - energy) / full_kw * 60
        return None

    def _should_move(self, at: datetime, candidate: datetime) -> bool:
        """Return whether ``candidate`` replaces the published estimate now."""
        published, published_at = self._published, self._published_at
        if published is None or published_at is None:
            return True
        if (at - published_at).total_seconds() < PUBLISH_INTERVAL_S:
            return False
        remaining_s = max((candidate - at).total_seconds(), 0.0)
        moved_s = abs((candidate - published).total_seconds())
        return moved_s > max(HYSTERESIS_S, HYSTERESIS_RATIO * remaining_s)

    def _publish(self, value: datetime | None, at: datetime) -> datetime | None:
        if value != self._published:
            self._published, self._published_at = value, at
        return value

    def to_dict(self) -> dict[str, Any]:
        """Return the estimator's state as JSON data, to continue after a restart."""
        return {
            "version": _SERIAL_VERSION,
            "model": self._model.to_dict(),
            "soc": self._soc,
            "soc_now": self._soc_now,
            "soc_energy_kwh": self._soc_energy_kwh,
            "power": self._power.to_dict(),
            "targets": None if self._targets is None else list(self._targets),
            "published": _iso(self._published),
            "published_at": _iso(self._published_at),
            "done_at": _iso(self._done_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndEstimator:
        """Rebuild an estimator from `to_dict` output.

        Raises ``ValueError`` when the data is malformed, so the caller can
        log it and start a fresh estimate instead.
        """
        try:
            estimator = cls(TaperModel.from_dict(data.get("model") or {}))
            estimator._soc = _optional(data.get("soc"))
            estimator._soc_now = _optional(data.get("soc_now"))
            estimator._soc_energy_kwh = _required(data.get("soc_energy_kwh", 0.0))
            estimator._power = _PowerAverage.from_dict(data.get("power") or {})
            targets = data.get("targets")
            if targets is not None:
                target, energy_target = targets
                estimator._targets = (_required(target), _optional(energy_target))
            estimator._published = _time(data.get("published"))
            estimator._published_at = _time(data.get("published_at"))
            estimator._done_at = _time(data.get("done_at"))
        except (AttributeError, TypeError, ValueError) as err:
            raise ValueError(f"Malformed end estimate data: {err!r}") from err
        if (estimator._published is None) != (estimator._published_at is None):
            raise ValueError("published and published_at go together")
        return estimator


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"time without a time zone: {value!r}")
    return moment


def _optional(value: Any) -> float | None:
    return None if value is None else _required(value)


def _required(value: Any) -> float:
    number = _finite(value)
    if number is None:
        raise TypeError(f"not a finite number: {value!r}")
    return number
