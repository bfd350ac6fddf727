"""Record a session's charging curve compactly, without losing its energy.

A curve is a step function: a list of `CurvePoint` ``(offset_s, kw)`` where
``offset_s`` counts whole seconds from the session's origin. Each point's power
holds from its offset until the next point's offset. The last point is a
terminator at the curve's end with ``kw`` 0.0, and ``kw`` ``None`` marks a data
gap (unknown power, counted as no energy).

`CurveBuilder` takes power as intervals ``(start, end, kw)`` and compresses as
it goes, in constant time and memory per interval:

* It keeps one *open* segment: where it starts and the energy it has taken in.
  An interval whose power is within ``max(deadband_kw, deadband_ratio * avg)``
  of the open segment's average merges into it (energy-weighted), so steady
  charging with meter noise stays one point.
* A power outside that band closes the open segment and starts a new one, but
  only once the open segment spans ``min_step_s``. Before that, the first part
  of the interval tops the open segment up to ``min_step_s`` (merged) and any
  rest starts the next segment. Every closed segment therefore spans at least
  ``min_step_s``: at most ``3600 / min_step_s`` points an hour, plus gaps.
* An interval that starts a whole second or more after the previous one ended
  leaves a gap: the open segment closes, a ``(offset, None)`` point marks the
  gap, and a new segment starts. Shorter breaks are bridged (they are not
  visible at whole-second resolution).
* An interval that starts before the previous one ended (a clock that went
  backwards, an overlap) is clipped to start where the previous one ended, and
  dropped if nothing is left. Zero-length intervals are ignored. The first
  interval is clipped to start no earlier than the origin.

Offsets are rounded to whole seconds, and each segment's power is stored as its
energy divided by its *rounded* duration, rounded to 3 decimals (watts). So
rounding the offsets never biases the energy: the curve's energy differs from
the exact energy only by the watt rounding, at most 0.5 W times the duration.
`CurveBuilder.energy_kwh` keeps the exact energy regardless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
import math
from typing import Any, Final

CurvePoint = tuple[int, float | None]
"""``(offset_s, kw)``: power from ``offset_s`` until the next point; ``None`` = gap."""

DEFAULT_MIN_STEP_S: Final = 60
DEFAULT_DEADBAND_KW: Final = 0.1
DEFAULT_DEADBAND_RATIO: Final = 0.05
# Stored powers are rounded to watts.
KW_DECIMALS: Final = 3

_SERIAL_VERSION: Final = 1


class CurveBuilder:
    """Build a compressed charging curve from power intervals; see the module."""

    def __init__(
        self,
        origin: datetime,
        *,
        min_step_s: int = DEFAULT_MIN_STEP_S,
        deadband_kw: float = DEFAULT_DEADBAND_KW,
        deadband_ratio: float = DEFAULT_DEADBAND_RATIO,
    ) -> None:
        """Start an empty curve whose offsets count from ``origin``.

        Raises ``ValueError`` for a naive ``origin``, a ``min_step_s`` below 1
        or a negative or non-finite deadband: those are programming errors.
        """
        if origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        if isinstance(min_step_s, bool) or not isinstance(min_step_s, int):
            raise TypeError(f"min_step_s must be an int: {min_step_s!r}")
        if min_step_s < 1:
            raise ValueError(f"min_step_s must be at least 1: {min_step_s}")
        for name, value in (
            ("deadband_kw", deadband_kw),
            ("deadband_ratio", deadband_ratio),
        ):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0: {value}")
        self._origin = origin
        self._min_step_s = min_step_s
        self._deadband_kw = float(deadband_kw)
        self._deadband_ratio = float(deadband_ratio)
        self._closed: list[CurvePoint] = []
        # The open segment: where it starts (seconds from origin, unrounded)
        # and the energy in it. It runs until `_end_s`.
        self._open_start_s: float | None = None
        self._open_kwh = 0.0
        self._end_s: float | None = None
        self._energy_kwh = 0.0

    @property
    def origin(self) -> datetime:
        """The time offsets count from."""
        return self._origin

    @property
    def energy_kwh(self) -> float:
        """Exact energy of everything added (after clipping), uncompressed."""
        return self._energy_kwh

    def add(self, start: datetime, end: datetime, kw: float) -> bool:
        """Record power ``kw`` held over ``[start, end)``.

        Returns whether anything was recorded: ``False`` for an empty interval
        (zero length, reversed, or wholly before what is already recorded), a
        power that is not a finite number, or times without a time zone.
        """
        if isinstance(kw, bool) or not isinstance(kw, int | float):
            return False
        if not math.isfinite(kw):
            return False
        try:
            start_s = (start - self._origin).total_seconds()
            end_s = (end - self._origin).total_seconds()
        except TypeError:
            return False
        start_s = max(start_s, 0.0 if self._end_s is None else self._end_s)
        if end_s <= start_s:
            return False
        power = float(kw)
        self._energy_kwh += _kwh(power, end_s - start_s)

        open_start_s, open_end_s = self._open_start_s, self._end_s
        if open_start_s is None or open_end_s is None:
            self._start_segment(start_s, end_s, power)
        elif _whole_second(start_s) > _whole_second(open_end_s):
            closed_at = self._close(open_start_s, open_end_s)
            if closed_at < _whole_second(start_s):
                self._closed.append((closed_at, None))
            self._start_segment(start_s, end_s, power)
        else:
            # Contiguous, or a break too short to show: continue from the end.
            self._continue_segment(open_start_s, open_end_s, start_s, end_s, power)
        return True

    def points(self, end: datetime | None = None) -> list[CurvePoint]:
        """Return the curve so far: closed segments, the open one, a terminator.

        The terminator sits where the last interval ended. An ``end`` later than
        that (by a whole second or more) adds a gap up to ``end`` instead: the
        builder does not assume the last power held on. An earlier ``end`` is
        ignored. An empty builder gives an empty list.
        """
        if self._open_start_s is None or self._end_s is None:
            return []
        open_start = _whole_second(self._open_start_s)
        open_end = max(_whole_second(self._end_s), open_start + 1)
        points = [
            *self._closed,
            (open_start, _segment_kw(self._open_kwh, open_end - open_start)),
        ]
        terminator = open_end
        if end is not None:
            try:
                end_s = (end - self._origin).total_seconds()
            except TypeError:
                end_s = None
            if end_s is not None and _whole_second(end_s) > open_end:
                points.append((open_end, None))
                terminator = _whole_second(end_s)
        points.append((terminator, 0.0))
        return points

    def _start_segment(self, start_s: float, end_s: float, kw: float) -> None:
        """Open a new segment holding ``kw`` over ``[start_s, end_s)``."""
        self._open_start_s = start_s
        self._open_kwh = _kwh(kw, end_s - start_s)
        self._end_s = end_s

    def _continue_segment(
        self,
        open_start_s: float,
        joined_s: float,
        start_s: float,
        end_s: float,
        kw: float,
    ) -> None:
        """Add ``kw`` over ``[start_s, end_s)`` to the open segment.

        The open segment ends at ``joined_s``; a break up to ``start_s``
        (shorter than a second) becomes part of whichever segment spans it.
        """
        span_s = joined_s - open_start_s
        average_kw = self._open_kwh * 3600 / span_s
        band_kw = max(self._deadband_kw, self._deadband_ratio * abs(average_kw))
        if abs(kw - average_kw) <= band_kw:
            self._open_kwh += _kwh(kw, end_s - start_s)
            self._end_s = end_s
            return
        if span_s >= self._min_step_s:
            self._close(open_start_s, joined_s)
            self._open_start_s = joined_s
            self._open_kwh = _kwh(kw, end_s - start_s)
            self._end_s = end_s
            return
        # Too short to stand alone: top it up to min_step_s with this power.
        full_at_s = open_start_s + self._min_step_s
        if end_s <= full_at_s:
            self._open_kwh += _kwh(kw, end_s - start_s)
            self._end_s = end_s
            return
        split_s = max(full_at_s, start_s)
        self._open_kwh += _kwh(kw, split_s - start_s)
        self._close(open_start_s, full_at_s)
        self._open_start_s = full_at_s
        self._open_kwh = _kwh(kw, end_s - split_s)
        self._end_s = end_s

    def _close(self, open_start_s: float, end_s: float) -> int:
        """Close the open segment at ``end_s``; return its rounded end offset.

        A segment shorter than a second (only possible before a gap) is drawn
        over one second, taken from the gap, so its energy is kept.
        """
        start = _whole_second(open_start_s)
        end = max(_whole_second(end_s), start + 1)
        self._closed.append((start, _segment_kw(self._open_kwh, end - start)))
        return end

    def to_dict(self) -> dict[str, Any]:
        """Return the builder's state as JSON-serialisable data."""
        return {
            "version": _SERIAL_VERSION,
            "origin": self._origin.isoformat(),
            "min_step_s": self._min_step_s,
            "deadband_kw": self._deadband_kw,
            "deadband_ratio": self._deadband_ratio,
            "closed": [[offset, kw] for offset, kw in self._closed],
            "open_start_s": self._open_start_s,
            "open_kwh": self._open_kwh,
            "end_s": self._end_s,
            "energy_kwh": self._energy_kwh,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CurveBuilder:
        """Rebuild a builder from `to_dict` output, to continue an active session.

        Only ``origin`` is required; missing optional keys take their defaults.
        Raises ``ValueError`` when the data is malformed, so the caller can log
        it and start a fresh curve instead.
        """
        try:
            return cls._read(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"Malformed curve data: {err!r}") from err

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> CurveBuilder:
        """Do the work of `from_dict`; raise on the first malformed value."""
        origin = data["origin"]
        if not isinstance(origin, str):
            raise TypeError(f"origin is not a string: {origin!r}")
        builder = cls(
            datetime.fromisoformat(origin),
            min_step_s=data.get("min_step_s", DEFAULT_MIN_STEP_S),
            deadband_kw=_number(data.get("deadband_kw", DEFAULT_DEADBAND_KW)),
            deadband_ratio=_number(data.get("deadband_ratio", DEFAULT_DEADBAND_RATIO)),
        )
        builder._closed = [_stored_point(point) for point in data.get("closed", ())]
        builder._open_start_s = _optional_number(data.get("open_start_s"))
        builder._open_kwh = _number(data.get("open_kwh", 0.0))
        builder._end_s = _optional_number(data.get("end_s"))
        builder._energy_kwh = _number(data.get("energy_kwh", 0.0))
        if (builder._open_start_s is None) != (builder._end_s is None):
            raise ValueError("open_start_s and end_s go together")
        if builder._open_start_s is not None and builder._end_s is not None:
            if builder._end_s <= builder._open_start_s:
                raise ValueError("the open segment is empty")
        return builder


def curve_energy_kwh(points: Sequence[CurvePoint]) -> float:
    """Return the energy under a curve, in kWh; gaps (``None``) count as none.

    Malformed points (not an ``(int, number | None)`` pair, a non-finite power)
    are read as gaps and steps that go backwards as empty, so stored data that
    was damaged gives a smaller energy rather than an error.
    """
    total = 0.0
    for here, after in pairwise(points):
        here_offset, kw = _readable_point(here)
        after_offset, _ = _readable_point(after)
        if here_offset is None or after_offset is None or kw is None:
            continue
        if after_offset > here_offset:
            total += _kwh(kw, after_offset - here_offset)
    return total


def _kwh(kw: float, seconds: float) -> float:
    """Return the energy of ``kw`` held for ``seconds``."""
    return kw * seconds / 3600


def _whole_second(offset_s: float) -> int:
    """Round an offset to whole seconds, halves up, so steps of 1 s stay 1 s."""
    return math.floor(offset_s + 0.5)


def _segment_kw(kwh: float, seconds: int) -> float:
    """Return the power that delivers ``kwh`` over ``seconds``, in watts' steps."""
    # `+ 0.0` turns a rounded -0.0 into 0.0.
    return round(kwh * 3600 / seconds, KW_DECIMALS) + 0.0


def _readable_point(point: Any) -> tuple[float | None, float | None]:
    """Return a point's offset and power, ``None`` for any part that is unusable."""
    try:
        offset, kw = point
    except (TypeError, ValueError):
        return None, None
    return _finite_or_none(offset), _finite_or_none(kw)


def _finite_or_none(value: Any) -> float | None:
    """Return ``value`` as a finite float, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _number(value: Any) -> float:
    """Return stored ``value`` as a finite float; raise ``TypeError`` otherwise."""
    number = _finite_or_none(value)
    if number is None:
        raise TypeError(f"not a finite number: {value!r}")
    return number


def _optional_number(value: Any) -> float | None:
    """Return stored ``value`` as a finite float, or ``None`` when absent."""
    return None if value is None else _number(value)


def _stored_point(value: Any) -> CurvePoint:
    """Return a stored ``[offset, kw]`` pair as a `CurvePoint`."""
    offset, kw = value
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError(f"offset is not an int: {offset!r}")
    return offset, None if kw is None else _number(kw)
