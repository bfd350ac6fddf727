"""Realistic 1 Hz charger traces, as power (kW each second) and meter readings.

Seeded, so every run plays the same samples. The shapes are those of real
chargers: a ramp-up while the contactor closes, steady power with a slowly
wandering noise of a percent or two, current limits changed by load
balancing, pauses from smart charging, a taper as the battery fills, pulses
of top-up charging once it is full, and solar-surplus charging that follows
the clouds. The power sensor reports every second, also while it reads 0 W
(Home Assistant then fires a `state_reported` event instead of a change);
the lifetime meter reports each time it has advanced by its resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import math
import random

POWER = "power"
ENERGY = "energy"
# Below this a charger is not charging (ev_sessions' default threshold).
CHARGING_KW = 0.2


@dataclass(frozen=True, slots=True)
class PowerTrace:
    """Power each second: `kw[i]` holds over second `i` (as the sensor reports it)."""

    name: str
    description: str
    kw: tuple[float, ...]

    @property
    def seconds(self) -> int:
        """Return how long the trace lasts, in seconds."""
        return len(self.kw)

    @property
    def charging_hours(self) -> float:
        """Return the hours with power at or above the charging threshold."""
        return sum(1 for kw in self.kw if kw >= CHARGING_KW) / 3600

    @property
    def energy_kwh(self) -> float:
        """Return the exact energy of the reported power."""
        return math.fsum(self.kw) / 3600


@dataclass(frozen=True, slots=True)
class SourceChange:
    """One state a source entity takes, `second` seconds into the trace."""

    second: int
    source: str
    state: str


class Shaper:
    """Builds a trace piece by piece, rounding power to whole watts."""

    def __init__(self, seed: int) -> None:
        """Start an empty trace; `seed` makes its noise repeatable."""
        self.rng = random.Random(seed)
        self.kw: list[float] = []
        self._wander = 0.0

    def idle(self, seconds: int) -> None:
        """Add `seconds` at 0 W (not plugged in, or a pause)."""
        self.kw.extend([0.0] * seconds)

    def charge(
        self,
        seconds: int,
        kw: float,
        *,
        noise: float = 0.015,
        taper_s: int = 0,
        taper_to_kw: float = 1.5,
        limit_changes: tuple[float, ...] = (),
    ) -> None:
        """Charge at `kw` (or a list of limits, in turn) with a ramp-up and taper."""
        limits = limit_changes or (kw,)
        per_limit = max(seconds // len(limits), 1)
        for i in range(seconds):
            target = limits[min(i // per_limit, len(limits) - 1)]
            if i < 20:
                value = target * (i + 1) / 21
            elif i >= seconds - taper_s:
                progress = (i - (seconds - taper_s)) / taper_s
                value = target - (target - taper_to_kw) * progress
            else:
                value = target
            self._wander = 0.98 * self._wander + self.rng.gauss(0.0, noise / 5)
            value *= 1 + max(-3 * noise, min(3 * noise, self._wander))
            self.kw.append(_watts(value))

    def solar(self, seconds: int, *, peak_kw: float) -> None:
        """Follow a PV surplus: a slow bell, clouds, 1- and 3-phase limits."""
        cloud = 1.0
        for i in range(seconds):
            sun = math.sin(math.pi * (i + 1) / (seconds + 1))
            if self.rng.random() < 0.01:
                cloud = self.rng.choice((0.35, 0.6, 0.85, 1.0, 1.0))
            surplus = peak_kw * sun * cloud + self.rng.gauss(0.0, 0.05)
            # 6-16 A on one phase below 4.1 kW, on three phases above.
            if surplus < 1.4:
                value = 0.0
            elif surplus < 4.1:
                value = round(surplus / 0.23) * 0.23
            else:
                value = min(round(surplus / 0.69) * 0.69, 11.0)
            self.kw.append(_watts(value))

    def pulses(self, count: int, *, every_s: int, length_s: int, kw: float) -> None:
        """Top-up pulses once the battery is full (cell balancing, heating)."""
        for _ in range(count):
            self.charge(length_s, kw, noise=0.01)
            self.idle(every_s - length_s)

    def trace(self, name: str, description: str) -> PowerTrace:
        """Return what was built."""
        return PowerTrace(name, description, tuple(self.kw))


def _watts(kw: float) -> float:
    """Round to whole watts, as charger integrations report power."""
    return round(max(kw, 0.0) * 1000) / 1000


def evening_session(hours: float = 8.0, seed: int = 7) -> PowerTrace:
    """The hot-path stream: 8 hours of a plugged-in evening with pauses.

    5 min idle, 2 h at 11 kW, a 40 min smart-charging pause, 1.5 h at 7.4 kW
    with load balancing moving the limit, a 30 min pause, 1 h at 11 kW
    tapering to 1.5 kW, top-up pulses, then idle until `hours` have passed.
    Shorter `hours` cut the same stream (for quick runs).
    """
    shaper = Shaper(seed)
    shaper.idle(5 * 60)
    shaper.charge(2 * 3600, 11.0)
    shaper.idle(40 * 60)
    shaper.charge(90 * 60, 7.4, limit_changes=(7.4, 5.5, 7.4, 6.2, 7.4, 4.1, 7.4))
    shaper.idle(30 * 60)
    shaper.charge(3600, 11.0, taper_s=25 * 60)
    shaper.pulses(3, every_s=15 * 60, length_s=90, kw=1.5)
    total = round(hours * 3600)
    shaper.idle(max(total - len(shaper.kw), 0))
    shaper.kw = shaper.kw[:total]
    return shaper.trace(
        "evening_8h",
        "8 h plugged in: 2 h at 11 kW, pause, 1.5 h at 7.4 kW with load"
        " balancing, pause, 1 h with taper, top-up pulses",
    )


def curve_traces() -> list[PowerTrace]:
    """Traces for the curve benchmark, from easy to adversarial."""
    traces: list[PowerTrace] = []

    shaper = Shaper(11)
    shaper.charge(2 * 3600 + 25 * 60, 11.0, taper_s=25 * 60)
    traces.append(
        shaper.trace("steady_11kw_taper", "2 h 25 min at 11 kW, 25 min taper")
    )

    shaper = Shaper(12)
    shaper.charge(
        3 * 3600,
        7.4,
        noise=0.03,
        limit_changes=(7.4, 4.6, 6.9, 3.7, 7.4, 5.1, 7.4, 2.3, 6.0, 7.4, 4.1, 7.4),
    )
    traces.append(
        shaper.trace(
            "load_balanced_7kw",
            "3 h at 7.4 kW, 3 % noise, the limit moved 11 times",
        )
    )

    shaper = Shaper(13)
    for block_h, pause_min in ((2, 60), (1, 45), (1.5, 0)):
        shaper.charge(round(block_h * 3600), 11.0)
        shaper.idle(pause_min * 60)
    shaper.pulses(4, every_s=20 * 60, length_s=120, kw=1.5)
    traces.append(
        shaper.trace(
            "smart_night_pauses",
            "4.5 h at 11 kW in 3 blocks with 1 h and 45 min pauses, top-ups",
        )
    )

    shaper = Shaper(14)
    shaper.solar(6 * 3600, peak_kw=9.0)
    traces.append(
        shaper.trace(
            "solar_surplus",
            "6 h following PV surplus: clouds, 1/3-phase switching, 230 W steps",
        )
    )

    shaper = Shaper(15)
    shaper.charge(45 * 60, 50.0, noise=0.01, taper_s=30 * 60, taper_to_kw=12.0)
    traces.append(shaper.trace("dc_50kw_taper", "45 min DC at 50 kW, 30 min taper"))

    traces.append(evening_session())
    return traces


def charger_day(seed: int, *, hours: float = 24.0) -> PowerTrace:
    """One charger's day for the scale benchmark: idle, one evening session.

    The car arrives between 16:00 and 21:00 (offsets from midnight) and
    charges 1-5 h at 3.7-11 kW, sometimes with a pause.
    """
    rng = random.Random(seed)
    shaper = Shaper(seed)
    arrive = rng.randrange(16 * 3600, 21 * 3600)
    shaper.idle(arrive)
    kw = rng.choice((3.7, 7.4, 11.0, 11.0))
    first = rng.randrange(3600, 3 * 3600)
    shaper.charge(first, kw)
    if rng.random() < 0.5:
        shaper.idle(rng.randrange(20 * 60, 50 * 60))
        shaper.charge(rng.randrange(1800, 2 * 3600), kw, taper_s=15 * 60)
    total = round(hours * 3600)
    shaper.idle(max(total - len(shaper.kw), 0))
    return shaper.trace(f"day_{seed}", "one charger's day")


def source_changes(
    trace: PowerTrace,
    *,
    meter_start_kwh: float = 1520.0,
    meter_step_kwh: float = 0.01,
    start_second: int = 0,
    end_second: int | None = None,
) -> Iterator[SourceChange]:
    """Yield the power sensor's reading each second and the meter's steps.

    The meter reports at the end of the second in which it crossed a step
    of its resolution (it also reports once at the start).
    """
    meter = meter_start_kwh
    reported = math.floor(meter / meter_step_kwh)
    end = trace.seconds if end_second is None else min(end_second, trace.seconds)
    for second, kw in enumerate(trace.kw[:end]):
        if second == start_second:
            yield SourceChange(second, ENERGY, _meter_state(reported, meter_step_kwh))
        if second >= start_second:
            yield SourceChange(second, POWER, f"{kw * 1000:.0f}")
        meter += kw / 3600
        steps = math.floor(meter / meter_step_kwh)
        if steps > reported:
            reported = steps
            if second + 1 >= start_second and second + 1 < end:
                yield SourceChange(
                    second + 1, ENERGY, _meter_state(reported, meter_step_kwh)
                )


def _meter_state(steps: int, step_kwh: float) -> str:
    decimals = max(0, -math.floor(math.log10(step_kwh)))
    return f"{steps * step_kwh:.{decimals}f}"
