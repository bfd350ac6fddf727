"""Synthetic charging sessions of a car whose power tapers as its battery fills.

Seeded, so every run plays the same samples. The car draws its full power up
to the knee, then less and less; the power it reports is noisy by up to
``noise`` either way, and what it draws is what it reports. Its battery takes
``efficiency`` of that. It reports its SoC as whole percents, each a little
after it was reached (``soc_delay_s``), or only every ``soc_every_s`` (cars
polled through a cloud API). Charging ends when the SoC reaches the target.

`EndEstimator` and `TaperLearner` get exactly what the integration would hand
them: samples as the coordinator sees them, the session's compressed curve
(built by `CurveBuilder`) and the SoC readings.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
import random

from custom_components.ev_sessions.curve import CurveBuilder, CurvePoint
from custom_components.ev_sessions.end_estimate import EndEstimator

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
# Where in a session's charging time the estimate is judged.
FRACTIONS = (0.25, 0.50, 0.75)


@dataclass(frozen=True, slots=True)
class Car:
    """A car on a charger, as the truth the estimate is measured against."""

    capacity_kwh: float = 75.0
    power_kw: float = 11.0  # what it draws from the charger before the knee
    knee_soc: float = 80.0
    floor_ratio: float = 0.15  # power at 100 %, as a fraction of full power
    efficiency: float = 0.90
    # 1: power falls linearly from the knee (the model's own shape); above 1
    # it falls fast at first and slowly near full, below 1 the other way.
    taper_shape: float = 1.0
    soc_delay_s: float = 60.0
    soc_every_s: float | None = None  # None: each percent as it is reached

    def power_ratio(self, soc: float) -> float:
        """Return the power drawn at ``soc`` as a fraction of full power."""
        if soc <= self.knee_soc:
            return 1.0
        left = (100.0 - min(soc, 100.0)) / (100.0 - self.knee_soc)
        return self.floor_ratio + (1.0 - self.floor_ratio) * math.pow(
            left, self.taper_shape
        )


@dataclass(frozen=True, slots=True)
class Sample:
    """What the coordinator knows at one moment of a session."""

    at: datetime
    power_kw: float
    soc: float  # as the car reports it
    energy_kwh: float  # drawn from the charger so far


@dataclass(frozen=True, slots=True)
class ChargeTrace:
    """One session: its samples and the truth they came from."""

    car: Car
    start_soc: float
    target_soc: float
    samples: tuple[Sample, ...]
    ended_at: datetime  # when the battery reached the target
    curve: tuple[CurvePoint, ...]
    soc_samples: tuple[tuple[float, float], ...]  # (offset_s, soc), as reported

    @property
    def started_at(self) -> datetime:
        """Return when charging started (the curve's origin)."""
        return self.samples[0].at

    @property
    def charging_s(self) -> float:
        """Return how long charging took, in seconds."""
        return (self.ended_at - self.started_at).total_seconds()

    def moment(self, fraction: float) -> datetime:
        """Return the moment ``fraction`` of the charging time has passed."""
        return self.started_at + timedelta(seconds=fraction * self.charging_s)


def charge(
    car: Car,
    *,
    start_soc: float,
    target_soc: float,
    seed: int,
    noise: float = 0.05,
    sample_s: float = 10.0,
    ramp_s: float = 20.0,
    start: datetime = START,
) -> ChargeTrace:
    """Simulate charging ``car`` from ``start_soc`` until it reaches ``target_soc``.

    Power is sampled every ``sample_s``; during the first ``ramp_s`` the
    charger ramps up (the reading is a fraction of full power).
    """
    rng = random.Random(seed)
    builder = CurveBuilder(start)
    true_soc = start_soc
    energy = 0.0
    offset = 0.0
    reached: list[tuple[float, int]] = []  # when each whole percent was reached
    last_whole = math.floor(start_soc)
    samples: list[Sample] = []
    soc_samples: list[tuple[float, float]] = [(0.0, float(last_whole))]
    while True:
        ramp = min((offset + sample_s) / ramp_s, 1.0) if ramp_s > 0 else 1.0
        power = car.power_kw * car.power_ratio(true_soc) * ramp
        power *= 1.0 + rng.uniform(-noise, noise)
        reported = _reported(car, reached, float(math.floor(start_soc)), offset)
        if reported != soc_samples[-1][1]:
            soc_samples.append((offset, reported))
        samples.append(
            Sample(start + timedelta(seconds=offset), power, reported, energy)
        )
        gained = power * sample_s / 3600 * car.efficiency / car.capacity_kwh * 100
        if true_soc + gained >= target_soc:
            held_s = sample_s * (target_soc - true_soc) / gained
            builder.add(
                start + timedelta(seconds=offset),
                start + timedelta(seconds=offset + held_s),
                power,
            )
            ended_at = start + timedelta(seconds=offset + held_s)
            break
        builder.add(
            start + timedelta(seconds=offset),
            start + timedelta(seconds=offset + sample_s),
            power,
        )
        true_soc += gained
        energy += power * sample_s / 3600
        offset += sample_s
        while math.floor(true_soc) > last_whole:
            last_whole += 1
            reached.append((offset, last_whole))
    # The car reports reaching the target too, after its delay.
    final = float(math.floor(target_soc))
    if final != soc_samples[-1][1]:
        shown_s = (ended_at - start).total_seconds() + car.soc_delay_s
        if car.soc_every_s is not None:
            shown_s = math.ceil(shown_s / car.soc_every_s) * car.soc_every_s
        soc_samples.append((shown_s, final))
    return ChargeTrace(
        car=car,
        start_soc=start_soc,
        target_soc=target_soc,
        samples=tuple(samples),
        ended_at=ended_at,
        curve=tuple(builder.points(ended_at)),
        soc_samples=tuple(soc_samples),
    )


def _reported(
    car: Car, reached: list[tuple[float, int]], initial: float, offset: float
) -> float:
    """Return the SoC the car shows at ``offset``.

    Each percent shows ``soc_delay_s`` after it was reached; a polled car
    shows what was reached by its last poll (polls every ``soc_every_s``).
    """
    seen_at = offset - car.soc_delay_s
    if car.soc_every_s is not None:
        seen_at = math.floor(seen_at / car.soc_every_s) * car.soc_every_s
    index = bisect_right(reached, seen_at, key=lambda each: each[0])
    return initial if index == 0 else float(reached[index - 1][1])


def feeder(
    trace: ChargeTrace,
    estimator: EndEstimator,
    *,
    target_soc: float | None = None,
    energy_target_kwh: float | None = None,
    with_soc: bool = True,
    with_capacity: bool = True,
) -> Callable[[Sample], datetime | None]:
    """Return a function that feeds one sample to ``estimator`` as the coordinator would.

    The capacity is the car's (unless ``with_capacity`` is false: none is
    configured), the target the trace's unless given.
    """
    capacity = trace.car.capacity_kwh if with_capacity else None
    target = trace.target_soc if target_soc is None else target_soc

    def feed(sample: Sample) -> datetime | None:
        return estimator.update(
            sample.at,
            power_kw=sample.power_kw,
            soc=sample.soc if with_soc else None,
            energy_kwh=sample.energy_kwh,
            target_soc=target,
            capacity_kwh=capacity,
            energy_target_kwh=energy_target_kwh,
        )

    return feed


def at_fractions(
    trace: ChargeTrace,
    estimate: Callable[[Sample], datetime | None],
    fractions: Sequence[float] = FRACTIONS,
) -> list[datetime | None]:
    """Play ``trace`` through ``estimate``; return its values at ``fractions``.

    Each is the value after the last sample at or before that fraction of the
    charging time.
    """
    moments = [trace.moment(fraction) for fraction in fractions]
    values: list[datetime | None] = [None] * len(moments)
    for sample in trace.samples:
        value = estimate(sample)
        for index, moment in enumerate(moments):
            if sample.at <= moment:
                values[index] = value
    return values


def error_minutes(trace: ChargeTrace, estimate: datetime | None) -> float:
    """Return how far ``estimate`` is from the true end, in minutes."""
    if estimate is None:
        return math.inf
    return abs((estimate - trace.ended_at).total_seconds()) / 60
