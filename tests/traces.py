"""Realistic charger traces, as the charger integrations report them.

Each trace is a list of `Sample`s: a time, which source entity, and the raw
state string with its unit, exactly what Home Assistant would hold. They are
generated (seeded, so every run is the same) from the shapes seen on real
chargers: a ramp-up over a few seconds, steady power with a few percent of
noise, a taper near full, pauses from smart charging, and meters that report
in steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
import random

STATUS = "status"
POWER = "power"
ENERGY = "energy"


@dataclass(frozen=True, slots=True)
class Sample:
    """One state a source entity takes."""

    at: datetime
    source: str
    state: str
    unit: str | None = None


@dataclass(slots=True)
class Trace:
    """Samples in time order, with the ground truth they were made from."""

    samples: list[Sample] = field(default_factory=list)
    true_energy_kwh: float = 0.0
    charging_s: float = 0.0

    def add(
        self, at: datetime, source: str, state: str, unit: str | None = None
    ) -> None:
        """Append a sample."""
        self.samples.append(Sample(at, source, state, unit))

    def sorted(self) -> list[Sample]:
        """Return the samples by time (stable for equal times)."""
        return sorted(self.samples, key=lambda sample: sample.at)


def charge(
    trace: Trace,
    start: datetime,
    minutes: float,
    *,
    kw: float = 11.0,
    taper_minutes: float = 0.0,
    taper_to_kw: float = 1.5,
    power_every_s: int = 10,
    meter_start_kwh: float | None = None,
    meter_step_kwh: float = 0.01,
    power_unit: str = "W",
    energy_unit: str = "kWh",
    noise: float = 0.03,
    seed: int = 1,
) -> tuple[datetime, float | None]:
    """Charge for `minutes` from `start`; return (end time, meter at the end).

    Power is reported every `power_every_s` seconds; it holds until the next
    report, so the true energy is the sum of value times interval. The meter
    (if any) reports each time it has advanced by `meter_step_kwh`.
    """
    rng = random.Random(seed)
    seconds = round(minutes * 60)
    taper_start = seconds - round(taper_minutes * 60)
    meter = meter_start_kwh
    reported_meter = meter
    for offset in range(0, seconds, power_every_s):
        at = start + timedelta(seconds=offset)
        if offset < 20:  # ramp-up while the car's contactor closes
            value = kw * (offset + power_every_s) / (20 + power_every_s)
        elif offset >= taper_start and taper_minutes > 0:
            progress = (offset - taper_start) / (seconds - taper_start)
            value = kw - (kw - taper_to_kw) * progress
        else:
            value = kw * (1 + rng.uniform(-noise, noise))
        step = min(power_every_s, seconds - offset)
        trace.true_energy_kwh += value * step / 3600
        trace.charging_s += step
        trace.add(at, POWER, _power(value, power_unit), power_unit)
        if meter is not None and reported_meter is not None:
            meter += value * step / 3600
            # A meter reports in steps of its resolution.
            quantised = math.floor(meter / meter_step_kwh) * meter_step_kwh
            if quantised > reported_meter + 1e-9:
                reported_meter = quantised
                trace.add(
                    at + timedelta(seconds=step),
                    ENERGY,
                    _energy(reported_meter, energy_unit),
                    energy_unit,
                )
    end = start + timedelta(seconds=seconds)
    trace.add(end, POWER, _power(0.0, power_unit), power_unit)
    if meter is not None:
        trace.add(end, ENERGY, _energy(meter, energy_unit), energy_unit)
    return end, meter


def _power(kw: float, unit: str) -> str:
    return f"{kw * 1000:.0f}" if unit == "W" else f"{kw:.3f}"


def _energy(kwh: float, unit: str) -> str:
    if unit == "Wh":
        return f"{kwh * 1000:.1f}"
    if unit == "MWh":
        return f"{kwh / 1000:.7f}"
    return f"{kwh:.4f}"


def easee_evening(start: datetime, *, meter_start_kwh: float = 1520.0) -> Trace:
    """An Easee charger: plug in, charge 2 h at 11 kW with a taper, unplug.

    Status, power (W) and a lifetime meter (kWh) as the Easee integration
    reports them.
    """
    trace = Trace()
    trace.add(start - timedelta(minutes=1), ENERGY, f"{meter_start_kwh:.4f}", "kWh")
    trace.add(start, STATUS, "awaiting_start")
    charging_at = start + timedelta(minutes=2)
    trace.add(charging_at, STATUS, "charging")
    end, _ = charge(
        trace,
        charging_at,
        120,
        taper_minutes=25,
        meter_start_kwh=meter_start_kwh,
    )
    trace.add(end + timedelta(seconds=5), STATUS, "completed")
    trace.add(end + timedelta(minutes=40), STATUS, "disconnected")
    return trace


def smart_charging_night(start: datetime, *, meter_start_kwh: float = 830.0) -> Trace:
    """Plugged in at 18:00, charged 01-03 and 04-05 (cheap hours), unplugged 07:00.

    `start` is the 18:00 plug-in. One session with 3 h of charging.
    """
    trace = Trace()
    trace.add(start - timedelta(minutes=1), ENERGY, f"{meter_start_kwh:.4f}", "kWh")
    trace.add(start, STATUS, "Connected: waiting for next schedule")
    meter: float | None = meter_start_kwh
    for begin_h, hours, seed in ((7, 2, 2), (10, 1, 3)):
        begin = start + timedelta(hours=begin_h)
        trace.add(begin, STATUS, "Charging")
        end, meter = charge(
            trace, begin, hours * 60, kw=7.2, meter_start_kwh=meter, seed=seed
        )
        trace.add(
            end + timedelta(seconds=30), STATUS, "Connected: waiting for next schedule"
        )
    trace.add(start + timedelta(hours=13), STATUS, "Disconnected")
    return trace
