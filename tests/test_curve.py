"""Tests for the compressed charging curve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import math
import random
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ev_sessions.curve import (
    CurveBuilder,
    CurvePoint,
    curve_energy_kwh,
)

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add_steady(
    builder: CurveBuilder, start_s: int, end_s: int, kw: float, step_s: int = 1
) -> None:
    """Add `kw` over [start_s, end_s) as 1 Hz (or `step_s`) readings."""
    for second in range(start_s, end_s, step_s):
        assert builder.add(at(second), at(min(second + step_s, end_s)), kw)


def test_empty_builder_has_no_points() -> None:
    builder = CurveBuilder(T0)
    assert builder.points() == []
    assert builder.points(at(3600)) == []
    assert builder.energy_kwh == 0.0
    assert builder.origin == T0


def test_constant_power_is_one_point_and_a_terminator() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 7200, 11.0)
    assert builder.points() == [(0, 11.0), (7200, 0.0)]
    assert builder.energy_kwh == pytest.approx(22.0)
    assert curve_energy_kwh(builder.points()) == pytest.approx(22.0)


def test_a_single_interval() -> None:
    builder = CurveBuilder(T0)
    assert builder.add(at(30), at(90), 7.4)
    # The first point sits where the data starts, not at the origin.
    assert builder.points() == [(30, 7.4), (90, 0.0)]


def test_power_step_after_min_step_closes_the_segment() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 60, 11.0)
    add_steady(builder, 60, 120, 3.0)
    assert builder.points() == [(0, 11.0), (60, 3.0), (120, 0.0)]


def test_short_burst_is_merged_until_min_step() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 10, 11.0)
    add_steady(builder, 10, 120, 0.0)
    # 10 s at 11 kW spread over the first minute: 11 * 10 / 60 = 1.833 kW.
    assert builder.points() == [(0, 1.833), (60, 0.0), (120, 0.0)]
    assert builder.energy_kwh == pytest.approx(11 * 10 / 3600)


def test_long_interval_tops_up_a_short_segment_and_keeps_the_rest() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 10, 11.0)
    assert builder.add(at(10), at(7210), 0.0)
    assert builder.points() == [(0, 1.833), (60, 0.0), (7210, 0.0)]


def test_break_across_the_top_up_point_is_not_counted_as_energy() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(0), at(59.8), 0.0)
    builder.add(at(60.3), at(120), 11.0)  # 0.5 s break, bridged
    # The first minute holds no energy; 11 kW for 59.7 s over 60..120 s.
    assert builder.points() == [(0, 0.0), (60, 10.945), (120, 0.0)]
    assert builder.energy_kwh == pytest.approx(11 * 59.7 / 3600)


def test_power_is_stored_in_watts() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(0), at(60), 1.23456)
    assert builder.points() == [(0, 1.235), (60, 0.0)]
    # The resolution limit: 0.4 W for 10 h is below half a watt and reads 0,
    # losing 0.004 kWh of the exact energy.
    standby = CurveBuilder(T0)
    standby.add(at(0), at(36_000), 0.0004)
    assert standby.points() == [(0, 0.0), (36_000, 0.0)]
    assert standby.energy_kwh == pytest.approx(0.004)


def test_deadband_ratio_merges_small_changes() -> None:
    within = CurveBuilder(T0)
    add_steady(within, 0, 60, 11.0)
    add_steady(within, 60, 120, 11.5)  # 0.5 kW off: within 5 % of 11 kW
    assert within.points() == [(0, 11.25), (120, 0.0)]

    beyond = CurveBuilder(T0)
    add_steady(beyond, 0, 60, 11.0)
    add_steady(beyond, 60, 120, 11.6)  # 0.6 kW off: beyond 0.55 kW
    assert beyond.points() == [(0, 11.0), (60, 11.6), (120, 0.0)]


def test_deadband_kw_is_the_floor_at_low_power() -> None:
    within = CurveBuilder(T0)
    add_steady(within, 0, 60, 1.0)
    add_steady(within, 60, 120, 1.09)  # 5 % would be 0.05 kW; the floor is 0.1
    assert within.points() == [(0, 1.045), (120, 0.0)]

    beyond = CurveBuilder(T0)
    add_steady(beyond, 0, 60, 1.0)
    add_steady(beyond, 60, 120, 1.11)
    assert beyond.points() == [(0, 1.0), (60, 1.11), (120, 0.0)]


def test_custom_compression_settings() -> None:
    builder = CurveBuilder(T0, min_step_s=10, deadband_kw=0.0, deadband_ratio=0.0)
    add_steady(builder, 0, 10, 2.0)
    add_steady(builder, 10, 20, 2.001)
    assert builder.points() == [(0, 2.0), (10, 2.001), (20, 0.0)]


def test_square_wave_is_bounded_by_min_step() -> None:
    builder = CurveBuilder(T0)
    for second in range(3600):
        builder.add(at(second), at(second + 1), 11.0 if second % 2 == 0 else 0.0)
    points = builder.points()
    assert points == [(minute * 60, 5.5) for minute in range(60)] + [(3600, 0.0)]
    assert len(points) - 1 == 3600 // 60


def test_paused_charging_compresses_like_any_power() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 600, 11.0)
    add_steady(builder, 600, 4200, 0.0)
    add_steady(builder, 4200, 4800, 11.0)
    assert builder.points() == [(0, 11.0), (600, 0.0), (4200, 11.0), (4800, 0.0)]


def test_gap_closes_the_segment_and_is_marked() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 60, 11.0)
    add_steady(builder, 100, 160, 7.0)
    points = builder.points()
    assert points == [(0, 11.0), (60, None), (100, 7.0), (160, 0.0)]
    assert curve_energy_kwh(points) == pytest.approx((11 * 60 + 7 * 60) / 3600)


def test_gap_closes_even_a_short_segment() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 20, 11.0)
    add_steady(builder, 50, 70, 11.0)
    assert builder.points() == [(0, 11.0), (20, None), (50, 11.0), (70, 0.0)]


def test_sub_second_break_is_bridged() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(0), at(60), 11.0)
    builder.add(at(60.4), at(120), 11.0)
    # One segment over 0..120 s holding 11 kW for 119.6 s: 10.963 kW.
    assert builder.points() == [(0, 10.963), (120, 0.0)]
    assert builder.energy_kwh == pytest.approx(11 * 119.6 / 3600)


def test_sub_second_segment_before_a_gap_keeps_its_energy() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(10.2), at(10.4), 36.0)  # 0.002 kWh in 0.2 s
    builder.add(at(20), at(80), 6.0)
    points = builder.points()
    # Drawn over one second taken from the gap: 0.002 kWh in 1 s = 7.2 kW.
    assert points == [(10, 7.2), (11, None), (20, 6.0), (80, 0.0)]
    assert curve_energy_kwh(points) == pytest.approx(0.002 + 0.1)


def test_gap_used_up_by_a_sub_second_segment_leaves_no_marker() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(10.2), at(10.4), 36.0)
    builder.add(at(11.4), at(20), 6.0)
    # 6 kW for 8.6 s drawn over 11..20 s: 5.733 kW.
    assert builder.points() == [(10, 7.2), (11, 5.733), (20, 0.0)]


def test_offsets_round_to_whole_seconds_without_biasing_energy() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(0.4), at(60.4), 11.0)
    builder.add(at(60.4), at(120.7), 3.0)
    points = builder.points()
    # 3 kW for 60.3 s drawn over the rounded 60..121 s: 3 * 60.3 / 61.
    assert points == [(0, 11.0), (60, 2.966), (121, 0.0)]
    assert curve_energy_kwh(points) == pytest.approx(
        builder.energy_kwh, abs=0.0005 * 61 / 3600
    )


def test_halves_round_up() -> None:
    builder = CurveBuilder(T0)
    builder.add(at(0.5), at(60.5), 6.0)
    assert builder.points() == [(1, 6.0), (61, 0.0)]


def test_overlap_is_clipped_and_a_past_interval_dropped() -> None:
    builder = CurveBuilder(T0)
    assert builder.add(at(0), at(60), 11.0)
    assert builder.add(at(30), at(90), 11.0)  # only 60..90 s is new
    assert not builder.add(at(10), at(50), 11.0)  # clock went backwards
    assert not builder.add(at(80), at(90), 11.0)  # nothing after 90 s
    assert builder.points() == [(0, 11.0), (90, 0.0)]
    assert builder.energy_kwh == pytest.approx(11 * 90 / 3600)


def test_interval_before_the_origin_is_clipped_to_it() -> None:
    builder = CurveBuilder(T0)
    assert builder.add(at(-30), at(30), 6.0)
    assert not builder.add(at(-90), at(-30), 6.0)
    assert builder.points() == [(0, 6.0), (30, 0.0)]
    assert builder.energy_kwh == pytest.approx(6 * 30 / 3600)


@pytest.mark.parametrize(
    ("start", "end", "kw"),
    [
        (at(0), at(0), 11.0),  # zero length
        (at(10), at(0), 11.0),  # reversed
        (at(0), at(60), math.nan),
        (at(0), at(60), math.inf),
        (at(0), at(60), True),
        (at(0), at(60), "11"),
        (datetime(2025, 3, 1, 18, 0), at(60), 11.0),  # naive on purpose
    ],
)
def test_unusable_intervals_are_ignored(
    start: datetime, end: datetime, kw: Any
) -> None:
    builder = CurveBuilder(T0)
    assert not builder.add(start, end, kw)
    assert builder.points() == []
    assert builder.energy_kwh == 0.0


def test_points_end_later_adds_a_gap_and_earlier_is_ignored() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 60, 11.0)
    assert builder.points(at(120)) == [(0, 11.0), (60, None), (120, 0.0)]
    assert builder.points(at(60.3)) == [(0, 11.0), (60, 0.0)]
    assert builder.points(at(30)) == [(0, 11.0), (60, 0.0)]
    naive = datetime(2025, 3, 1, 19, 0)  # naive on purpose
    assert builder.points(naive) == [(0, 11.0), (60, 0.0)]
    # Asking for points does not change the builder.
    assert builder.points() == [(0, 11.0), (60, 0.0)]


def test_open_segment_is_included_and_keeps_growing() -> None:
    builder = CurveBuilder(T0)
    add_steady(builder, 0, 60, 11.0)
    add_steady(builder, 60, 90, 3.0)
    assert builder.points() == [(0, 11.0), (60, 3.0), (90, 0.0)]
    add_steady(builder, 90, 150, 3.0)
    assert builder.points() == [(0, 11.0), (60, 3.0), (150, 0.0)]


def test_curve_energy_by_hand() -> None:
    points: list[CurvePoint] = [(0, 11.0), (1800, None), (3600, 7.0), (5400, 0.0)]
    assert curve_energy_kwh(points) == pytest.approx(5.5 + 3.5)


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([], 0.0),
        ([(0, 11.0)], 0.0),
        ([[0, 11.0], [3600, 0.0]], 11.0),  # as read back from JSON
        ([(0, 11.0), (3600, 5.0), (1800, 0.0)], 11.0),  # backwards step: empty
        ([(0, math.nan), (3600, 0.0)], 0.0),
        ([(0, True), (3600, 0.0)], 0.0),
        ([(0, "11"), (3600, 0.0)], 0.0),
        ([(0, 11.0), "junk", (7200, 0.0)], 0.0),
        ([(0, 11.0, 1), (3600, 0.0)], 0.0),
        ([(None, 11.0), (3600, 0.0)], 0.0),
    ],
)
def test_curve_energy_of_damaged_curves(points: Any, expected: float) -> None:
    assert curve_energy_kwh(points) == pytest.approx(expected)


# ------------------------------------------------------------ a realistic trace


def realistic_trace(seed: int) -> list[tuple[float, float, float]]:
    """An 8 h session at 1 Hz: (start_s, end_s, kw) intervals.

    Ramp-up over 2 min, 11 kW with +-3 % noise, a 1 h pause at 0 kW, a taper
    from 11 to 1.5 kW over the last 40 min, and 6 gaps of 5-120 s.
    """
    rng = random.Random(seed)
    total_s = 8 * 3600
    pause = range(3 * 3600, 4 * 3600)
    taper_from = total_s - 40 * 60
    gaps: set[int] = set()
    for _ in range(6):
        start = rng.randrange(600, total_s - 600)
        gaps.update(range(start, start + rng.randrange(5, 121)))
    intervals = []
    for second in range(total_s):
        if second in gaps:
            continue
        if second < 120:
            kw = 11.0 * second / 120
        elif second in pause:
            kw = 0.0
        elif second >= taper_from:
            kw = 11.0 - 9.5 * (second - taper_from) / (total_s - taper_from)
        else:
            kw = 11.0 * (1 + rng.uniform(-0.03, 0.03))
        intervals.append((float(second), float(second + 1), kw))
    return intervals


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_realistic_trace_keeps_energy_and_compresses(seed: int) -> None:
    intervals = realistic_trace(seed)
    raw_kwh = sum(kw * (end - start) / 3600 for start, end, kw in intervals)
    builder = CurveBuilder(T0)
    for start, end, kw in intervals:
        builder.add(at(start), at(end), kw)
    points = builder.points()

    assert builder.energy_kwh == pytest.approx(raw_kwh, rel=1e-12)
    assert abs(curve_energy_kwh(points) - raw_kwh) <= 0.005 * raw_kwh
    gaps = sum(1 for _, kw in points if kw is None)
    assert 1 <= gaps <= 6
    # At most one point a minute for each hour, plus the gaps (which may also
    # cut a segment short) and the terminator.
    for hour in range(8):
        in_hour = [p for p in points if hour * 3600 <= p[0] < (hour + 1) * 3600]
        gaps_in_hour = sum(1 for _, kw in in_hour if kw is None)
        assert len(in_hour) <= 3600 // 60 + 2 * gaps_in_hour
    # Steady charging and the pause compress far below that bound.
    assert len(points) <= 60
    assert points[-1] == (8 * 3600, 0.0)
    offsets = [offset for offset, _ in points]
    assert offsets == sorted(set(offsets))


def test_round_trip_mid_session_continues_identically() -> None:
    intervals = realistic_trace(7)
    half = len(intervals) // 2
    original = CurveBuilder(T0)
    for start, end, kw in intervals[:half]:
        original.add(at(start), at(end), kw)

    data = original.to_dict()
    restored = CurveBuilder.from_dict(json.loads(json.dumps(data)))
    assert restored.to_dict() == data
    assert restored.points() == original.points()

    for start, end, kw in intervals[half:]:
        assert original.add(at(start), at(end), kw) == restored.add(
            at(start), at(end), kw
        )
    assert restored.points() == original.points()
    assert restored.energy_kwh == original.energy_kwh
    assert restored.to_dict() == original.to_dict()


def test_to_dict_by_hand() -> None:
    builder = CurveBuilder(T0, min_step_s=30)
    add_steady(builder, 0, 30, 11.0, step_s=30)
    add_steady(builder, 30, 60, 3.0, step_s=30)
    assert builder.to_dict() == {
        "version": 1,
        "origin": "2025-03-01T18:00:00+00:00",
        "min_step_s": 30,
        "deadband_kw": 0.1,
        "deadband_ratio": 0.05,
        "closed": [[0, 11.0]],
        "open_start_s": 30.0,
        "open_kwh": pytest.approx(0.025),
        "end_s": 60.0,
        "energy_kwh": pytest.approx(0.1166666),
    }


def test_from_dict_tolerates_missing_optional_keys() -> None:
    builder = CurveBuilder.from_dict({"origin": "2025-03-01T19:00:00+01:00"})
    assert builder.origin == T0
    assert builder.points() == []
    assert builder.energy_kwh == 0.0
    assert builder.to_dict()["min_step_s"] == 60
    add_steady(builder, 0, 60, 11.0)
    assert builder.points() == [(0, 11.0), (60, 0.0)]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"origin": "2025-03-01T18:00:00"},
        {"origin": "not a time"},
        {"origin": 1740852000},
        {"origin": "2025-03-01T18:00:00+00:00", "min_step_s": 0},
        {"origin": "2025-03-01T18:00:00+00:00", "min_step_s": 60.0},
        {"origin": "2025-03-01T18:00:00+00:00", "deadband_kw": "0.1"},
        {"origin": "2025-03-01T18:00:00+00:00", "closed": [[0.5, 11.0]]},
        {"origin": "2025-03-01T18:00:00+00:00", "closed": [[0, "11"]]},
        {"origin": "2025-03-01T18:00:00+00:00", "closed": [[0]]},
        {"origin": "2025-03-01T18:00:00+00:00", "closed": 5},
        {"origin": "2025-03-01T18:00:00+00:00", "open_start_s": 0.0},
        {"origin": "2025-03-01T18:00:00+00:00", "open_start_s": 9.0, "end_s": 9.0},
        {"origin": "2025-03-01T18:00:00+00:00", "energy_kwh": math.inf},
    ],
)
def test_from_dict_rejects_malformed_data(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^Malformed curve data: "):
        CurveBuilder.from_dict(data)


def test_from_dict_rejects_something_that_is_not_a_mapping() -> None:
    with pytest.raises(ValueError, match=r"^Malformed curve data: "):
        CurveBuilder.from_dict("origin")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"min_step_s": 0}, ValueError),
        ({"min_step_s": 1.5}, TypeError),
        ({"min_step_s": True}, TypeError),
        ({"deadband_kw": -0.1}, ValueError),
        ({"deadband_ratio": math.nan}, ValueError),
    ],
)
def test_invalid_settings_raise(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        CurveBuilder(T0, **kwargs)


def test_naive_origin_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CurveBuilder(datetime(2025, 3, 1))  # naive on purpose


# --------------------------------------------------------------------- property

# Before an interval: contiguous, a sub-second break, a real gap, or an overlap.
_breaks = st.one_of(
    st.just(0.0),
    st.floats(0.0, 0.999),
    st.floats(1.0, 900.0),
    st.floats(-120.0, 0.0),
)
_intervals = st.lists(
    st.tuples(_breaks, st.floats(0.001, 3600.0), st.floats(0.0, 50.0)),
    min_size=1,
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(_intervals, st.sampled_from([1, 10, 60, 300]))
def test_curve_energy_matches_exact_energy(
    intervals: list[tuple[float, float, float]], min_step_s: int
) -> None:
    builder = CurveBuilder(T0, min_step_s=min_step_s)
    raw_kwh = 0.0
    cursor = T0
    for index, (gap_s, duration_s, kw) in enumerate(intervals):
        # Datetimes hold microseconds: the exact energy is over what they say.
        start = cursor + timedelta(seconds=gap_s)
        end = start + timedelta(seconds=duration_s)
        builder.add(start, end, kw)
        clipped_start = max(start, cursor) if index else max(start, T0)
        if end > clipped_start:
            raw_kwh += kw * (end - clipped_start).total_seconds() / 3600
        cursor = max(cursor, end)
    points = builder.points()

    assert builder.energy_kwh == pytest.approx(raw_kwh, rel=1e-9, abs=1e-12)
    if not points:  # everything lay before the origin
        assert raw_kwh == 0.0
        return
    # Powers are stored in watts: each point may be off by half a watt.
    resolution_kwh = 0.0005 * (points[-1][0] - points[0][0]) / 3600
    tolerance = max(0.005 * raw_kwh, 0.001) + resolution_kwh
    assert abs(curve_energy_kwh(points) - raw_kwh) <= tolerance
    assert points[-1][1] == 0.0
    offsets = [offset for offset, _ in points]
    assert offsets == sorted(set(offsets))
    assert all(kw is None or (math.isfinite(kw) and kw >= 0) for _, kw in points)
