"""Years of finished sessions with their curves, as a charger's history holds them.

The curves are real `CurveBuilder` output of about 2-hour 1 Hz traces (a few
dozen shapes: power level, load balancing, pauses, taper), reused across the
sessions; each record's figures are consistent with its curve. They are
written by the integration's own `SessionStore`, so the files on disk have
whatever layout this version of ev_sessions uses.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
import random
from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.ev_sessions.curve import (
    CurveBuilder,
    CurvePoint,
    curve_energy_kwh,
)
from custom_components.ev_sessions.history import SessionHistory
from custom_components.ev_sessions.session import SessionRecord
from custom_components.ev_sessions.store import SessionStore

from .traces import CHARGING_KW, PowerTrace, Shaper

FIRST_SESSION = datetime(2016, 1, 4, 17, 30, tzinfo=UTC)
TEMPLATES = 24


def curve_of(trace: PowerTrace, origin: datetime) -> list[CurvePoint]:
    """Compress `trace` the way the session tracker does (one interval a second)."""
    builder = CurveBuilder(origin)
    second = timedelta(seconds=1)
    at = origin
    for kw in trace.kw:
        builder.add(at, at + second, kw)
        at += second
    return builder.points(at)


@cache
def _templates() -> tuple[tuple[tuple[CurvePoint, ...], int], ...]:
    """Curve shapes of about 2 h, with their charging seconds."""
    rng = random.Random(2016)
    origin = FIRST_SESSION
    shapes = []
    for index in range(TEMPLATES):
        shaper = Shaper(100 + index)
        kw = rng.choice((3.7, 7.4, 11.0, 11.0, 11.0))
        minutes = rng.randrange(80, 150)
        if index % 4 == 1:
            limits = tuple(rng.choice((kw, kw * 0.5, kw * 0.75)) for _ in range(6))
            shaper.charge(minutes * 60, kw, limit_changes=limits)
        elif index % 4 == 2:
            shaper.charge(minutes * 30, kw)
            shaper.idle(rng.randrange(15, 45) * 60)
            shaper.charge(minutes * 30, kw, taper_s=15 * 60)
        else:
            shaper.charge(minutes * 60, kw, taper_s=rng.randrange(0, 25) * 60)
        trace = shaper.trace(f"template_{index}", "")
        charging_s = sum(1 for value in trace.kw if value >= CHARGING_KW)
        shapes.append((tuple(curve_of(trace, origin)), charging_s))
    return tuple(shapes)


_FIELDS = frozenset(field.name for field in fields(SessionRecord))


def _money(rng: random.Random, energy_kwh: float) -> dict[str, Any]:
    """What a priced session holds (when the records have money at all)."""
    price = Decimal(rng.randrange(40, 260)) / 1000  # a spot price, EUR/kWh
    cost = (Decimal(str(energy_kwh)) * price).quantize(Decimal("0.000001"))
    energy_fee = (Decimal(str(energy_kwh)) * Decimal("0.35")).quantize(
        Decimal("0.000001")
    )
    return {
        "user": rng.choice(("Anna", "Erik", None)),
        "currency": "EUR",
        "cost": cost,
        "revenue": energy_fee + Decimal(1),
        "revenue_breakdown": {
            "session_fee": Decimal(1),
            "energy_fee": energy_fee,
            "time_fee": Decimal(0),
            "idle_fee": Decimal(0),
            "minimum_fee_adjustment": Decimal(0),
        },
        "avg_cost_per_kwh": price,
        "price_min": price - Decimal("0.01"),
        "price_max": price + Decimal("0.02"),
        "tariff": {"fee_per_session": 1.0, "fee_per_kwh": 0.35},
    }


def build_archive(
    count: int, *, entry_id: str, charger: str = "Garage", seed: int = 1
) -> list[SessionRecord]:
    """Return `count` finished sessions, oldest first, about 1.4 a day."""
    rng = random.Random(seed)
    templates = _templates()
    suffix = entry_id[-8:].lower()
    started_at = FIRST_SESSION
    meter = 1520.0
    records: list[SessionRecord] = []
    for _ in range(count):
        curve, charging_s = templates[rng.randrange(len(templates))]
        energy = round(curve_energy_kwh(curve), 4)
        curve_end_s = curve[-1][0]
        plugged_s = curve_end_s + rng.randrange(5 * 60, 10 * 3600)
        ended_at = started_at + timedelta(seconds=plugged_s)
        peak = max(kw for _, kw in curve if kw is not None)
        flags: tuple[str, ...] = ()
        if rng.random() < 0.02:
            flags = ("restarted",)
        values: dict[str, Any] = {
            "id": f"{started_at.strftime('%Y%m%d%H%M%S')}-{suffix}",
            "entry_id": entry_id,
            "charger": charger,
            "charger_type": "ac_3_phase",
            "started_at": started_at,
            "ended_at": ended_at,
            "charging_started_at": started_at + timedelta(seconds=5),
            "charging_ended_at": started_at + timedelta(seconds=curve_end_s),
            "duration_s": plugged_s,
            "charging_duration_s": charging_s,
            "energy_kwh": energy,
            "peak_power_kw": round(peak, 3),
            "avg_power_kw": round(energy / (charging_s / 3600), 3),
            "meter_start_kwh": round(meter, 2),
            "meter_end_kwh": round(meter + energy, 2),
            "energy_source": "meter",
            "flags": flags,
            "power_energy_kwh": round(energy * rng.uniform(0.995, 1.005), 4),
            "curve": curve,
            **_money(rng, energy),
        }
        records.append(
            SessionRecord(**{k: v for k, v in values.items() if k in _FIELDS})
        )
        meter += energy
        # 1.4 sessions a day on average, mostly in the evening.
        gap_h = max(rng.expovariate(1 / 17.0), plugged_s / 3600 + 0.5)
        started_at += timedelta(seconds=round(gap_h * 3600))
    return records


async def store_archive(
    hass: HomeAssistant, entry_id: str, records: list[SessionRecord]
) -> list[Path]:
    """Write `records` as entry `entry_id`'s finished sessions; return the files.

    Through ev_sessions' own `SessionStore` (curves inside the history file,
    or in a curves file of their own where this version has one). No session
    is in progress: the active snapshot written alongside is removed.
    """
    store = SessionStore(hass, entry_id)
    update_curves = getattr(store, "async_update_curves", None)
    if update_curves is not None:
        await update_curves(
            {
                record.id: record.to_dict(include_curve=True)["curve"]
                for record in records
            }
        )
    history = SessionHistory(records)
    await store.async_flush(dict, history.to_dict)
    storage = Path(hass.config.path(".storage"))

    def _files() -> list[Path]:
        (storage / f"ev_sessions.{entry_id}.active").unlink(missing_ok=True)
        return sorted(storage.glob(f"ev_sessions.{entry_id}.*"))

    return await hass.async_add_executor_job(_files)
