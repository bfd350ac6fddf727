"""A home EV charger and the car on its cable, in plain Python.

Development only: it feeds ev_sessions in the demo configuration and in the
end-to-end test, and is not part of the ev_sessions package.

One session runs: plug in -> awaiting start -> charging (power ramps up to
the charger's maximum) -> pause (smart charging waits for a cheaper price;
status back to "awaiting_start", no power) -> charging -> taper (above
`taper_from_soc` the car draws less and less) -> completed (the car keeps
its electronics awake below the charging threshold) -> unplug -> idle. With
`loop` on, the next car arrives after the idle time.

Two clocks, on purpose:
* The story runs on a *simulated* clock, `time_scale` times faster than
  real time: the car's state of charge, the phase lengths and the spot price
  (a new price every 15 simulated minutes). At 60, one simulated minute
  passes every real second and a whole session takes about five minutes.
* Electricity stays physical: power is in real kW and the lifetime meter
  counts power x *real* time, so the two always agree. ev_sessions measures
  in real time and rejects a meter that counts faster than a charger can
  deliver, so a meter that ran on the simulated clock would look broken to
  it. A five-minute demo session therefore records well under a kWh while
  the car's state of charge climbs tens of percent.

The charger reports in Easee's words: disconnected, awaiting_start,
charging, completed. Nothing here reads a clock: `advance` is given the real
time that passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
import math
import random

STATUS_DISCONNECTED = "disconnected"
STATUS_AWAITING_START = "awaiting_start"
STATUS_CHARGING = "charging"
STATUS_COMPLETED = "completed"
STATUSES = [
    STATUS_DISCONNECTED,
    STATUS_AWAITING_START,
    STATUS_CHARGING,
    STATUS_COMPLETED,
]

PRICE_PERIOD = timedelta(minutes=15)
RFID_TAGS = ("04A35B72C190", "E2004191F3A7")

# How fast the charger changes its current, in real seconds from 0 to full.
RAMP_SECONDS = 6.0
# Power noise: a standard deviation of this share of the power.
NOISE_SHARE = 0.008
# What a finished car draws to keep its electronics awake (below the 200 W
# charging threshold ev_sessions uses by default), in kW.
STANDBY_KW = 0.12
# At 100 % the taper has come down to this share of the maximum power.
TAPER_END_SHARE = 0.13


class Phase(StrEnum):
    """Where the session stands."""

    IDLE = "idle"
    AWAITING_START = "awaiting_start"
    CHARGING = "charging"
    PAUSED = "paused"
    COMPLETED = "completed"


PHASE_STATUS = {
    Phase.IDLE: STATUS_DISCONNECTED,
    Phase.AWAITING_START: STATUS_AWAITING_START,
    Phase.CHARGING: STATUS_CHARGING,
    Phase.PAUSED: STATUS_AWAITING_START,
    Phase.COMPLETED: STATUS_COMPLETED,
}


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """One car's visit: how full it arrives, where it pauses, when it is done."""

    start_soc: float = 45.0
    target_soc: float = 100.0
    # Smart charging pauses once at this state of charge (None: no pause).
    pause_at_soc: float | None = 60.0
    pause_minutes: float = 75.0
    # Simulated minutes between plug-in and the start of charging.
    awaiting_start_minutes: float = 5.0
    # Simulated minutes the finished car stays plugged in.
    completed_minutes: float = 30.0


@dataclass(frozen=True, slots=True)
class ChargerSettings:
    """The charger, the car and the clock."""

    time_scale: float = 60.0
    max_power_kw: float = 11.0
    battery_kwh: float = 64.0
    taper_from_soc: float = 80.0
    # Simulated minutes without a car between two looped sessions.
    idle_minutes: float = 30.0
    loop: bool = True
    plan: SessionPlan = SessionPlan()


@dataclass(frozen=True, slots=True)
class ChargerReading:
    """What the charger's and the car's sensors show now."""

    status: str
    power_w: float
    lifetime_energy_kwh: float
    soc: float
    rfid_tag: str | None
    spot_price: float
    price_period_start: datetime
    simulated_time: datetime
    phase: Phase


def spot_price(at: datetime) -> float:
    """Return a Nordic-looking spot price in SEK/kWh for the quarter holding `at`.

    Cheap at night, a morning and a higher evening peak, and a little noise
    that is the same for the same quarter every time.
    """
    hour = at.hour + at.minute / 60
    base = (
        0.32
        + 1.05 * math.exp(-(((hour - 8.0) / 1.6) ** 2))
        + 1.55 * math.exp(-(((hour - 18.5) / 2.0) ** 2))
        + 0.25 * math.exp(-(((hour - 13.0) / 3.0) ** 2))
    )
    quarter = int(at.timestamp() // PRICE_PERIOD.total_seconds())
    noise = random.Random(quarter).uniform(-0.08, 0.08)  # noqa: S311 - a simulation
    return round(max(base + noise, 0.01), 4)


def price_period_start(at: datetime) -> datetime:
    """Return the start of the 15-minute price period holding `at`."""
    seconds = PRICE_PERIOD.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // seconds * seconds, tz=at.tzinfo)


class SimulatedCharger:
    """The charger's state; `advance` moves it on by some real seconds."""

    def __init__(
        self,
        settings: ChargerSettings,
        simulated_start: datetime,
        *,
        lifetime_energy_kwh: float = 1843.2,
        seed: int = 8123,
    ) -> None:
        """Start idle with no car, the simulated clock at `simulated_start`."""
        self.settings = settings
        self.simulated_time = simulated_start
        self.meter_kwh = lifetime_energy_kwh
        self.phase = Phase.IDLE
        self.power_kw = 0.0
        self.soc = settings.plan.start_soc
        self.rfid_tag: str | None = None
        self.sessions = 0
        self._plan = settings.plan
        self._paused_once = False
        # Simulated seconds spent in the current phase.
        self._phase_s = 0.0
        # Simulated seconds still to wait in IDLE before the next car comes;
        # None: no car is coming (loop off).
        self._next_car_in_s: float | None = (
            settings.idle_minutes * 60 / 3 if settings.loop else None
        )
        self._random = random.Random(seed)  # noqa: S311 - a simulation

    # ------------------------------------------------------------- commands

    def plug_in(self, plan: SessionPlan | None = None) -> None:
        """A car arrives and is plugged in; `plan` overrides the default visit."""
        if self.phase is not Phase.IDLE:
            raise ValueError("a car is already plugged in")
        self._plan = plan or self.settings.plan
        self.soc = self._plan.start_soc
        self.rfid_tag = RFID_TAGS[self.sessions % len(RFID_TAGS)]
        self.sessions += 1
        self._paused_once = False
        self._next_car_in_s = None
        self._enter(Phase.AWAITING_START)

    def unplug(self) -> None:
        """The car leaves, whatever it was doing."""
        self._enter(Phase.IDLE)
        self._next_car_in_s = (
            self.settings.idle_minutes * 60 if self.settings.loop else None
        )

    # --------------------------------------------------------------- time

    def advance(self, real_seconds: float) -> None:
        """Let `real_seconds` of real time pass."""
        if real_seconds <= 0:
            return
        settings = self.settings
        sim_seconds = real_seconds * settings.time_scale
        self.simulated_time += timedelta(seconds=sim_seconds)
        self._phase_s += sim_seconds

        target_kw = self._target_power_kw()
        step = settings.max_power_kw / RAMP_SECONDS * real_seconds
        if self.power_kw < target_kw:
            self.power_kw = min(self.power_kw + step, target_kw)
        else:
            self.power_kw = max(self.power_kw - 2 * step, target_kw)

        # Physics in real time: the meter counts what flows now.
        self.meter_kwh += self.power_kw * real_seconds / 3600
        if self.phase is Phase.CHARGING:
            # The story in simulated time: the battery fills time_scale faster.
            gained_kwh = self.power_kw * sim_seconds / 3600
            self.soc = min(self.soc + gained_kwh / settings.battery_kwh * 100, 100.0)

        self._next_phase()

    def _target_power_kw(self) -> float:
        settings = self.settings
        if self.phase is Phase.COMPLETED:
            return STANDBY_KW
        if self.phase is not Phase.CHARGING:
            return 0.0
        if self.soc <= settings.taper_from_soc:
            return settings.max_power_kw
        share = (self.soc - settings.taper_from_soc) / (100.0 - settings.taper_from_soc)
        return settings.max_power_kw * (1 - (1 - TAPER_END_SHARE) * min(share, 1.0))

    def _next_phase(self) -> None:
        plan = self._plan
        minutes = self._phase_s / 60
        match self.phase:
            case Phase.IDLE:
                if self._next_car_in_s is not None:
                    if self._phase_s >= self._next_car_in_s:
                        self.plug_in()
            case Phase.AWAITING_START:
                if minutes >= plan.awaiting_start_minutes:
                    self._enter(Phase.CHARGING)
            case Phase.CHARGING:
                if self.soc >= plan.target_soc:
                    self._enter(Phase.COMPLETED)
                elif (
                    plan.pause_at_soc is not None
                    and not self._paused_once
                    and self.soc >= plan.pause_at_soc
                ):
                    self._paused_once = True
                    self._enter(Phase.PAUSED)
            case Phase.PAUSED:
                if minutes >= plan.pause_minutes:
                    self._enter(Phase.CHARGING)
            case Phase.COMPLETED:
                if minutes >= plan.completed_minutes:
                    self.unplug()

    def _enter(self, phase: Phase) -> None:
        self.phase = phase
        self._phase_s = 0.0

    # ------------------------------------------------------------- reading

    def reading(self) -> ChargerReading:
        """Return what the sensors show now (power with a little noise)."""
        power_w = self.power_kw * 1000
        if power_w > 0:
            power_w *= 1 + self._random.gauss(0, NOISE_SHARE)
        return ChargerReading(
            status=PHASE_STATUS[self.phase],
            power_w=round(max(power_w, 0.0)),
            lifetime_energy_kwh=round(self.meter_kwh, 3),
            soc=round(self.soc, 1),
            rfid_tag=self.rfid_tag,
            spot_price=spot_price(self.simulated_time),
            price_period_start=price_period_start(self.simulated_time),
            simulated_time=self.simulated_time,
            phase=self.phase,
        )


def plan_with(base: SessionPlan, **changes: float | None) -> SessionPlan:
    """Return `base` with the given fields changed (None values are left out)."""
    return replace(
        base, **{key: value for key, value in changes.items() if value is not None}
    )
