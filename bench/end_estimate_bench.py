"""How far off is the estimated end of charging? Ours against evcc's, on traces.

Run from the repository: `python -m bench.end_estimate_bench [--cars N]`.
Not a timed benchmark: it prints the absolute error of each model's estimate,
in minutes, at 25 %, 50 % and 75 % of every session's charging time.

The traces (`tests/taper_traces.py`, seeded) are generated cars: 40-100 kWh,
on 3.7, 7.4 or 11 kW, with a knee at 60-85 % SoC, a taper that is not quite
the model's straight line (its curvature varies per car), 85-94 %
efficiency, power noise of +-5 %, and SoC reported in whole percents 20-120 s
late (a quarter of the cars only every 5-10 minutes, as cloud APIs poll).

Each car charges 10 times, from 10-60 % to 80, 90 or 100 %. The first five
sessions only teach; the table is over sessions 6-10, where "ours, learned"
has learned from that car's earlier sessions only (5 to 9 of them), never
from the session it estimates.

- ours, defaults: `EndEstimator` with the default `TaperModel` (knee 80 %,
  90 % efficiency, 15 % of full power at 100 %).
- ours, learned: `EndEstimator` with `TaperLearner.model` from the earlier
  sessions.
- evcc: `evcc_minutes_to_target` fed as evcc feeds it: the power reading at
  that moment, the SoC carried forward by energy, and the kWh per percent it
  measures once the SoC has risen 10 % (evcc's `Estimator`).
- evcc, smoothed: the same, with the power averaged over ours' time constant
  (10 minutes), to show how much of evcc's error is its model and how much
  the noise.

Ours is the value it publishes (steadied: at most once a minute, with
hysteresis); evcc's is its estimate at that moment.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
import random
import statistics

from custom_components.ev_sessions.end_estimate import (
    EVCC_EFFICIENCY,
    POWER_TIME_CONSTANT_S,
    EndEstimator,
    TaperLearner,
    TaperModel,
    evcc_minutes_to_target,
)
from tests.taper_traces import (
    FRACTIONS,
    Car,
    ChargeTrace,
    Sample,
    at_fractions,
    charge,
    error_minutes,
    feeder,
)

SESSIONS_PER_CAR = 10
TRAINING_ONLY = 5
DEFAULT_CARS = 40
SEED = 20260302

OURS_DEFAULTS = "ours, defaults"
OURS_LEARNED = "ours, learned"
EVCC = "evcc"
EVCC_SMOOTHED = "evcc, smoothed"
MODELS = (OURS_DEFAULTS, OURS_LEARNED, EVCC, EVCC_SMOOTHED)


def make_car(rng: random.Random) -> Car:
    """Return a car drawn from the ranges the module describes."""
    return Car(
        capacity_kwh=round(rng.uniform(40, 100)),
        power_kw=rng.choice((3.7, 7.4, 11.0)),
        knee_soc=rng.uniform(60, 85),
        floor_ratio=rng.uniform(0.08, 0.35),
        efficiency=rng.uniform(0.85, 0.94),
        taper_shape=rng.uniform(0.7, 1.5),
        soc_delay_s=rng.uniform(20, 120),
        soc_every_s=rng.choice((300.0, 600.0)) if rng.random() < 0.25 else None,
    )


def make_sessions(car: Car, rng: random.Random) -> list[ChargeTrace]:
    """Return the car's sessions, in the order it charged them."""
    return [
        charge(
            car,
            start_soc=rng.uniform(10, 60),
            target_soc=rng.choice((80, 80, 90, 100)),
            seed=rng.randrange(2**32),
        )
        for _ in range(SESSIONS_PER_CAR)
    ]


@dataclass(slots=True)
class _Evcc:
    """evcc's `Estimator` state: the SoC carried forward, kWh per percent."""

    capacity_kwh: float
    kwh_per_percent: float = field(init=False)
    initial: tuple[float, float] | None = None  # (soc, energy) at first reading
    changed: tuple[float, float] | None = None  # at the last change

    def __post_init__(self) -> None:
        self.kwh_per_percent = self.capacity_kwh / EVCC_EFFICIENCY / 100

    def soc(self, reported: float, energy: float) -> float:
        """Return evcc's SoC: the reading, plus the energy since it changed."""
        if self.initial is None:
            self.initial = (reported, energy)
        if self.changed is None or reported != self.changed[0]:
            gained, drawn = reported - self.initial[0], energy - self.initial[1]
            if gained > 10 and drawn > 0:
                self.kwh_per_percent = drawn / gained
            self.changed = (reported, energy)
            return reported
        extra = (energy - self.changed[1]) / self.kwh_per_percent
        return min(reported + extra, 100.0)


@dataclass(slots=True)
class _Smoothed:
    """Power averaged with the time constant ours uses (each reading holds)."""

    kw: float | None = None
    reading: tuple[datetime, float] | None = None

    def add(self, at: datetime, kw: float) -> float:
        """Take the reading at ``at``; return the average."""
        if self.reading is None or self.kw is None:
            self.kw = kw
        else:
            then, held_kw = self.reading
            keep = math.exp(-(at - then).total_seconds() / POWER_TIME_CONSTANT_S)
            self.kw = held_kw + (self.kw - held_kw) * keep
        self.reading = (at, kw)
        return self.kw


def evcc_feeder(
    trace: ChargeTrace, *, smoothed: bool = False
) -> Callable[[Sample], datetime | None]:
    """Return a function that gives evcc's estimated end at each sample.

    evcc uses the power reading of the moment; ``smoothed`` gives it the
    power averaged as ours averages it instead, to tell the model's share of
    the error from the noise's.
    """
    evcc = _Evcc(trace.car.capacity_kwh)
    average = _Smoothed()

    def estimate(sample: Sample) -> datetime | None:
        soc = evcc.soc(sample.soc, sample.energy_kwh)
        power = average.add(sample.at, sample.power_kw)
        minutes = evcc_minutes_to_target(
            soc=soc,
            target_soc=trace.target_soc,
            capacity_kwh=trace.car.capacity_kwh,
            charge_power_kw=power if smoothed else sample.power_kw,
            efficiency=trace.car.capacity_kwh / (evcc.kwh_per_percent * 100),
        )
        return sample.at + timedelta(minutes=minutes)

    return estimate


def measure(cars: int) -> dict[str, list[list[float]]]:
    """Return each model's errors (minutes), per fraction, over all cars."""
    rng = random.Random(SEED)
    errors: dict[str, list[list[float]]] = {
        name: [[] for _ in FRACTIONS] for name in MODELS
    }
    for _ in range(cars):
        car = make_car(rng)
        learner = TaperLearner()
        for number, trace in enumerate(make_sessions(car, rng), start=1):
            if number > TRAINING_ONLY:
                for name, estimate in (
                    (OURS_DEFAULTS, feeder(trace, EndEstimator(TaperModel()))),
                    (OURS_LEARNED, feeder(trace, EndEstimator(learner.model))),
                    (EVCC, evcc_feeder(trace)),
                    (EVCC_SMOOTHED, evcc_feeder(trace, smoothed=True)),
                ):
                    for index, value in enumerate(at_fractions(trace, estimate)):
                        errors[name][index].append(error_minutes(trace, value))
            learner.add_session(
                trace.curve, trace.soc_samples, capacity_kwh=car.capacity_kwh
            )
    return errors


def _median_p90(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), statistics.quantiles(
        ordered, n=10, method="inclusive"
    )[8]


def table(errors: dict[str, list[list[float]]]) -> str:
    """Return the errors as a text table: median and p90 per fraction."""
    header = "model".ljust(16) + "".join(
        f"{f'{fraction:.0%} of charging':>22}" for fraction in FRACTIONS
    )
    lines = [header, " " * 16 + "       median / p90 min" * len(FRACTIONS)]
    for name in MODELS:
        cells = []
        for values in errors[name]:
            median, p90 = _median_p90(values)
            cells.append(f"{median:>12.1f} / {p90:>5.1f}")
        lines.append(name.ljust(16) + "".join(f"{cell:>22}" for cell in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate the traces, measure the three models, print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.end_estimate_bench",
        description="Error of the estimated end of charging: ours against evcc's.",
    )
    parser.add_argument(
        "--cars",
        type=int,
        default=DEFAULT_CARS,
        help=f"generated cars, {SESSIONS_PER_CAR} sessions each (default {DEFAULT_CARS})",
    )
    args = parser.parse_args(argv)
    errors = measure(args.cars)
    sessions = len(errors[OURS_DEFAULTS][0])
    print(__doc__)
    print(
        f"{args.cars} cars, {sessions} sessions measured (seed {SEED});"
        " absolute error of the estimated end, in minutes.\n"
    )
    print(table(errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
