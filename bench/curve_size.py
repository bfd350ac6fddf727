"""Benchmark 4: the compressed curve's size and energy error on 1 Hz traces.

Each trace is fed to `CurveBuilder` exactly as the session tracker feeds it
(one interval a second, the power the sensor reported). The curve's size is
measured two ways: as compact JSON of what `SessionRecord.to_dict(
include_curve=True)` returns (what an action or an export sends), and as
bytes on disk: the session is written by ev_sessions' own `SessionStore`
(Home Assistant's `Store`: orjson with a 2-space indent) once with its curve
and once without, and the store files' sizes are compared. The error is the
curve's energy against the exact energy of the reported power.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

from custom_components.ev_sessions.curve import CurvePoint, curve_energy_kwh
from custom_components.ev_sessions.session import SessionRecord

from .archive import curve_of, store_archive
from .clock import SimClock
from .instance import home_assistant
from .traces import PowerTrace

ORIGIN = datetime.fromisoformat("2026-11-20T17:00:00+00:00")


@dataclass(frozen=True, slots=True)
class CurveResult:
    """One trace's curve."""

    trace: str
    description: str
    charging_hours: float
    points: int
    compact_bytes: int
    stored_bytes: int
    energy_error: float  # relative, signed

    @property
    def compact_per_hour(self) -> float:
        """Return compact JSON bytes per charging hour."""
        return self.compact_bytes / self.charging_hours

    @property
    def stored_per_hour(self) -> float:
        """Return bytes on disk per charging hour."""
        return self.stored_bytes / self.charging_hours


async def measure_curves(workdir: Path, traces: list[PowerTrace]) -> list[CurveResult]:
    """Compress each trace and measure its curve."""
    results = []
    clock = SimClock(ORIGIN + timedelta(days=1))
    async with home_assistant(workdir, clock, with_recorder=False) as hass:
        empty = await _stored_size(hass, "01JBENCHCURVE0000000000000", ())
        for index, trace in enumerate(traces, start=1):
            points = curve_of(trace, ORIGIN)
            record = _record(tuple(points))
            stored = await _stored_size(hass, f"01JBENCHCURVE{index:013d}", points)
            exact = trace.energy_kwh
            results.append(
                CurveResult(
                    trace=trace.name,
                    description=trace.description,
                    charging_hours=trace.charging_hours,
                    points=len(points),
                    compact_bytes=len(_compact(record)),
                    stored_bytes=stored - empty,
                    energy_error=(curve_energy_kwh(points) - exact) / exact,
                )
            )
    return results


def _compact(record: SessionRecord) -> bytes:
    curve: Any = record.to_dict(include_curve=True)["curve"]
    return json.dumps(curve, separators=(",", ":")).encode()


async def _stored_size(hass: Any, entry_id: str, points: Any) -> int:
    files = await store_archive(hass, entry_id, [_record(tuple(points))])
    return sum(path.stat().st_size for path in files)


def _record(points: tuple[CurvePoint, ...]) -> SessionRecord:
    """A finished session whose only variable part is its curve."""
    end = ORIGIN + timedelta(seconds=points[-1][0] if points else 0)
    return SessionRecord(
        id="20261120170000-session",
        entry_id="entry",
        charger="Garage",
        charger_type="ac_3_phase",
        started_at=ORIGIN,
        ended_at=end,
        charging_started_at=ORIGIN,
        charging_ended_at=end,
        duration_s=0,
        charging_duration_s=0,
        energy_kwh=0.0,
        peak_power_kw=None,
        avg_power_kw=None,
        meter_start_kwh=None,
        meter_end_kwh=None,
        energy_source="power",
        flags=(),
        curve=points,
    )
