"""Tests for counting session energy from a charger's energy meter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ev_sessions.meter import (
    RESET_FRACTION,
    MeterAccumulator,
    MeterOutcome,
    MeterUpdate,
)

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
MAX_KW = 11.0
# What an 11 kW charger may add in 60 s: 11 * 60 / 3600 * 1.1 + 0.1.
ALLOWED_60S = 0.3016666666666667


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(
    meter: MeterAccumulator, readings: list[tuple[float | None, float]]
) -> list[MeterUpdate]:
    return [meter.add(value, at(seconds)) for value, seconds in readings]


def test_allowed_energy_is_rated_power_with_headroom_plus_tolerance() -> None:
    meter = MeterAccumulator(MAX_KW)
    assert meter.allowed_kwh(at(0), at(60)) == pytest.approx(ALLOWED_60S, abs=1e-12)
    assert meter.allowed_kwh(at(0), at(3600)) == pytest.approx(12.2, abs=1e-12)
    # A clock that went backwards allows only the tolerance.
    assert meter.allowed_kwh(at(60), at(0)) == pytest.approx(0.1, abs=1e-12)
    tight = MeterAccumulator(7.4, tolerance_kwh=0.0)
    assert tight.allowed_kwh(at(0), at(3600)) == pytest.approx(8.14, abs=1e-12)
    assert tight.max_power_kw == 7.4
    assert tight.tolerance_kwh == 0.0


def test_new_accumulator_is_empty() -> None:
    meter = MeterAccumulator(MAX_KW)
    assert meter.energy_kwh == 0.0
    assert meter.start_kwh is None
    assert meter.last_kwh is None
    assert meter.last_at is None
    assert meter.pending_kwh is None
    assert meter.pending_at is None
    assert meter.flags == frozenset()


def test_lifetime_counter_steady_increments() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (1000.18, 60), (1000.36, 120), (1000.54, 180)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.ACCEPTED,
        MeterOutcome.ACCEPTED,
        MeterOutcome.ACCEPTED,
    ]
    assert updates[0].increment_kwh == 0.0
    assert [u.increment_kwh for u in updates[1:]] == pytest.approx([0.18] * 3)
    assert meter.energy_kwh == pytest.approx(0.54)
    assert meter.start_kwh == 1000.0
    assert meter.last_kwh == 1000.54
    assert meter.last_at == at(180)
    assert meter.flags == frozenset()


def test_increment_at_the_limit_is_accepted_and_just_over_is_rejected() -> None:
    meter = MeterAccumulator(MAX_KW)
    meter.add(100.0, at(0))
    assert meter.add(100.0 + ALLOWED_60S - 1e-6, at(60)).outcome == (
        MeterOutcome.ACCEPTED
    )
    other = MeterAccumulator(MAX_KW)
    other.add(100.0, at(0))
    assert other.add(100.0 + ALLOWED_60S + 1e-6, at(60)).outcome == (
        MeterOutcome.GLITCH_REJECTED
    )


def test_session_counter_reset_to_zero_mid_stream() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(0.0, 0), (0.15, 60), (0.3, 120), (0.05, 180), (0.2, 240)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.ACCEPTED,
        MeterOutcome.ACCEPTED,
        MeterOutcome.RESET,
        MeterOutcome.ACCEPTED,
    ]
    # The reset reading is the energy counted since the counter restarted.
    assert updates[3].increment_kwh == 0.05
    assert meter.energy_kwh == pytest.approx(0.15 + 0.15 + 0.05 + 0.15)
    assert meter.start_kwh == 0.0
    assert meter.last_kwh == 0.2
    assert meter.last_at == at(240)
    assert meter.flags == {"meter_reset"}


def test_reset_to_exactly_zero_adds_nothing() -> None:
    meter = MeterAccumulator(MAX_KW)
    feed(meter, [(12.5, 0)])
    update = meter.add(0.0, at(30))
    assert update == MeterUpdate(MeterOutcome.RESET, 0.0)
    assert meter.last_kwh == 0.0
    assert meter.last_at == at(30)
    assert meter.energy_kwh == 0.0


def test_drop_and_return_is_a_glitch() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (1000.18, 60), (500.0, 90), (1000.36, 120)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.ACCEPTED,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.ACCEPTED,
    ]
    assert updates[2].increment_kwh == 0.0
    assert updates[3].increment_kwh == pytest.approx(0.18)
    assert meter.energy_kwh == pytest.approx(0.36)
    assert meter.last_kwh == 1000.36
    assert meter.pending_kwh is None
    assert meter.pending_at is None
    assert meter.flags == {"glitch_rejected"}


def test_pending_glitch_is_kept_until_resolved() -> None:
    meter = MeterAccumulator(MAX_KW)
    feed(meter, [(1000.0, 0), (500.0, 30)])
    assert meter.pending_kwh == 500.0
    assert meter.pending_at == at(30)
    assert meter.last_kwh == 1000.0
    assert meter.last_at == at(0)


def test_spike_is_rejected() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (1500.0, 60), (1000.18, 90)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.ACCEPTED,
    ]
    assert updates[1].increment_kwh == 0.0
    assert meter.energy_kwh == pytest.approx(0.18)
    assert meter.flags == {"glitch_rejected"}


def test_meter_replaced_after_a_spike_is_rebased() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(
        meter,
        [(1000.0, 0), (1000.18, 60), (5000.0, 120), (5000.15, 180), (5000.3, 240)],
    )
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.ACCEPTED,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.REBASED,
        MeterOutcome.ACCEPTED,
    ]
    # Only the energy since the jump counts, never the jump itself.
    assert updates[3].increment_kwh == pytest.approx(0.15)
    assert meter.energy_kwh == pytest.approx(0.18 + 0.15 + 0.15)
    assert meter.start_kwh == 1000.0
    assert meter.last_kwh == 5000.3
    assert meter.pending_kwh is None
    assert meter.flags == {"glitch_rejected"}


def test_meter_replaced_by_a_lower_reading_is_rebased() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (200.0, 60), (200.1, 120)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.REBASED,
    ]
    assert meter.energy_kwh == pytest.approx(0.1)
    assert meter.last_kwh == 200.1
    assert meter.last_at == at(120)


def test_rebase_on_the_same_value_adds_nothing() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (3000.0, 60), (3000.0, 120)])
    assert updates[2] == MeterUpdate(MeterOutcome.REBASED, 0.0)
    assert meter.last_kwh == 3000.0
    assert meter.last_at == at(120)


def test_rebase_limit_counts_from_the_pending_reading() -> None:
    # 0.25 kWh in the 60 s after the jump is plausible, 0.35 is not.
    meter = MeterAccumulator(MAX_KW)
    feed(meter, [(1000.0, 0), (3000.0, 60)])
    assert meter.add(3000.35, at(120)).outcome == MeterOutcome.GLITCH_REJECTED
    other = MeterAccumulator(MAX_KW)
    feed(other, [(1000.0, 0), (3000.0, 60)])
    assert other.add(3000.25, at(120)).outcome == MeterOutcome.REBASED


def test_a_second_unrelated_jump_becomes_the_new_pending_reading() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (5000.0, 60), (3000.0, 120), (3000.1, 180)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.REBASED,
    ]
    assert updates[3].increment_kwh == pytest.approx(0.1)
    assert meter.energy_kwh == pytest.approx(0.1)


def test_reading_below_the_pending_one_is_rejected() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (5000.0, 60), (4999.9, 120)])
    assert updates[2].outcome == MeterOutcome.GLITCH_REJECTED
    assert meter.pending_kwh == 4999.9
    assert meter.energy_kwh == 0.0


def test_a_reset_from_the_baseline_wins_over_the_pending_reading() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(8.0, 0), (5000.0, 60), (0.1, 120)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.GLITCH_REJECTED,
        MeterOutcome.RESET,
    ]
    assert meter.energy_kwh == pytest.approx(0.1)
    assert meter.pending_kwh is None
    assert meter.flags == {"glitch_rejected", "meter_reset"}


def test_gaps_in_the_middle_are_covered_by_the_next_reading() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (None, 60), (None, 120), (1000.5, 180)])
    assert [u.outcome for u in updates] == [
        MeterOutcome.BASELINE,
        MeterOutcome.GAP,
        MeterOutcome.GAP,
        MeterOutcome.ACCEPTED,
    ]
    assert updates[1].increment_kwh == 0.0
    # 0.5 kWh in 180 s is within 11 * 180 / 3600 * 1.1 + 0.1 = 0.705 kWh: the
    # limit counts from the last valid reading, across the gap.
    assert updates[3].increment_kwh == pytest.approx(0.5)
    assert meter.energy_kwh == pytest.approx(0.5)
    assert meter.last_at == at(180)


def test_gap_keeps_the_baseline_and_the_pending_reading() -> None:
    meter = MeterAccumulator(MAX_KW)
    feed(meter, [(1000.0, 0), (3000.0, 60)])
    assert meter.add(None, at(120)) == MeterUpdate(MeterOutcome.GAP, 0.0)
    assert meter.last_kwh == 1000.0
    assert meter.last_at == at(0)
    assert meter.pending_kwh == 3000.0
    assert meter.add(3000.1, at(180)).outcome == MeterOutcome.REBASED


def test_gap_before_any_reading_sets_no_baseline() -> None:
    meter = MeterAccumulator(MAX_KW)
    assert meter.add(None, at(0)).outcome == MeterOutcome.GAP
    assert meter.add(math.nan, at(10)).outcome == MeterOutcome.GAP
    assert meter.add(math.inf, at(20)).outcome == MeterOutcome.GAP
    assert meter.to_dict()["start_kwh"] is None
    assert meter.add(42.0, at(30)) == MeterUpdate(MeterOutcome.BASELINE, 0.0)
    assert meter.start_kwh == 42.0
    assert meter.last_at == at(30)


def test_clock_going_backwards_allows_only_the_tolerance() -> None:
    meter = MeterAccumulator(MAX_KW)
    meter.add(1000.0, at(600))
    update = meter.add(1000.05, at(300))
    assert update.outcome == MeterOutcome.ACCEPTED
    assert update.increment_kwh == pytest.approx(0.05)
    assert meter.last_at == at(300)
    # 0.25 kWh "10 s before" the baseline: dt is 0, only 0.1 kWh is plausible.
    assert meter.add(1000.3, at(290)).outcome == MeterOutcome.GLITCH_REJECTED
    assert meter.energy_kwh == pytest.approx(0.05)


def test_repeated_value_does_not_move_last_at() -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = feed(meter, [(1000.0, 0), (1000.0, 240), (1000.7, 300)])
    assert updates[1] == MeterUpdate(MeterOutcome.ACCEPTED, 0.0)
    # 0.7 kWh is plausible over the 300 s since 1000.0 was first seen
    # (limit 1.108 kWh), not over the 60 s since it was repeated (0.302 kWh).
    assert updates[2].outcome == MeterOutcome.ACCEPTED
    assert updates[2].increment_kwh == pytest.approx(0.7)
    assert meter.last_at == at(300)


def test_float_noise_is_not_energy() -> None:
    meter = MeterAccumulator(MAX_KW)
    feed(meter, [(1000.18, 0)])
    assert meter.add(1000.18 + 5e-10, at(60)) == MeterUpdate(MeterOutcome.ACCEPTED, 0.0)
    assert meter.add(1000.18 - 5e-10, at(120)) == MeterUpdate(
        MeterOutcome.ACCEPTED, 0.0
    )
    assert meter.last_kwh == 1000.18
    assert meter.last_at == at(0)


def test_negative_readings_are_rejected_and_not_kept() -> None:
    meter = MeterAccumulator(MAX_KW)
    assert meter.add(-5.0, at(0)) == MeterUpdate(MeterOutcome.GLITCH_REJECTED, 0.0)
    assert meter.start_kwh is None
    assert meter.pending_kwh is None
    assert meter.flags == {"glitch_rejected"}
    # Float noise just below zero reads as zero.
    assert meter.add(-1e-12, at(10)) == MeterUpdate(MeterOutcome.BASELINE, 0.0)
    assert meter.last_kwh == 0.0


@pytest.mark.parametrize(
    ("max_power_kw", "tolerance_kwh"),
    [(-1.0, 0.1), (math.nan, 0.1), (math.inf, 0.1), (11.0, -0.1), (11.0, math.nan)],
)
def test_invalid_limits_raise(max_power_kw: float, tolerance_kwh: float) -> None:
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        MeterAccumulator(max_power_kw, tolerance_kwh=tolerance_kwh)


def test_round_trip_with_a_pending_glitch_continues_identically() -> None:
    meter = MeterAccumulator(MAX_KW, tolerance_kwh=0.05)
    feed(meter, [(0.5, 0), (0.6, 60), (0.0, 90), (0.12, 120), (4000.0, 180)])
    data = meter.to_dict()
    assert data == {
        "version": 1,
        "max_power_kw": 11.0,
        "tolerance_kwh": 0.05,
        "energy_kwh": pytest.approx(0.1 + 0.0 + 0.12),
        "start_kwh": 0.5,
        "last_kwh": 0.12,
        "last_at": "2025-03-01T18:02:00+00:00",
        "pending_kwh": 4000.0,
        "pending_at": "2025-03-01T18:03:00+00:00",
        "flags": ["glitch_rejected", "meter_reset"],
    }
    restored = MeterAccumulator.from_dict(json.loads(json.dumps(data)))
    assert restored.to_dict() == data
    assert restored.flags == meter.flags
    assert restored.last_at == meter.last_at
    assert restored.pending_at == meter.pending_at

    rest: list[tuple[float | None, float]] = [(None, 200), (4000.1, 240), (4000.2, 300)]
    assert feed(restored, rest) == feed(meter, rest)
    assert restored.to_dict() == meter.to_dict()
    assert restored.energy_kwh == pytest.approx(0.22 + 0.1 + 0.1)


def test_from_dict_tolerates_missing_optional_keys() -> None:
    meter = MeterAccumulator.from_dict({"max_power_kw": 7.4})
    assert meter.max_power_kw == 7.4
    assert meter.tolerance_kwh == 0.1
    assert meter.energy_kwh == 0.0
    assert meter.start_kwh is None
    assert meter.last_kwh is None
    assert meter.flags == frozenset()
    assert meter.add(10.0, at(0)).outcome == MeterOutcome.BASELINE


def test_from_dict_fills_start_from_last_and_drops_unknown_flags() -> None:
    meter = MeterAccumulator.from_dict(
        {
            "max_power_kw": 11,
            "last_kwh": 12,
            "last_at": "2025-03-01T19:00:00+01:00",
            "flags": ["meter_reset", "from_the_future"],
        }
    )
    assert meter.start_kwh == 12.0
    assert meter.last_kwh == 12.0
    assert meter.last_at == at(0)
    assert meter.flags == {"meter_reset"}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"max_power_kw": None},
        {"max_power_kw": "11"},
        {"max_power_kw": True},
        {"max_power_kw": -1.0},
        {"max_power_kw": math.nan},
        {"max_power_kw": 11, "energy_kwh": "0.5"},
        {"max_power_kw": 11, "last_kwh": 1.0},
        {"max_power_kw": 11, "last_at": "2025-03-01T18:00:00+00:00"},
        {"max_power_kw": 11, "last_kwh": 1.0, "last_at": "2025-03-01T18:00:00"},
        {"max_power_kw": 11, "last_kwh": 1.0, "last_at": "yesterday"},
        {"max_power_kw": 11, "last_kwh": 1.0, "last_at": 1740852000},
        {"max_power_kw": 11, "pending_kwh": 1.0},
        {"max_power_kw": 11, "flags": "meter_reset"},
        {"max_power_kw": 11, "flags": 3},
    ],
)
def test_from_dict_rejects_malformed_data(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^Malformed meter data: "):
        MeterAccumulator.from_dict(data)


def test_from_dict_rejects_something_that_is_not_a_mapping() -> None:
    with pytest.raises(
        ValueError, match=r"^Malformed meter data: .* has no attribute 'get'"
    ):
        MeterAccumulator.from_dict([("max_power_kw", 11.0)])  # type: ignore[arg-type]


# --------------------------------------------------------------------- property


@dataclass
class _MeterStory:
    """Readings a simulated charger meter emits, and the energy truly counted."""

    readings: list[tuple[float | None, datetime]] = field(default_factory=list)
    true_kwh: float = 0.0
    steps: list[str] = field(default_factory=list)


@st.composite
def meter_stories(draw: st.DrawFn) -> _MeterStory:
    """Build a meter's life: charging, resets, glitches, gaps, a replaced meter.

    Every step's energy is plausible for its duration (at most rated power plus
    10 %). The ground truth is the
    energy a meter-only observer can know: all charged energy, except what was
    charged in the step where the meter was replaced (the jump hides it).
    """
    story = _MeterStory()
    lifetime_counter = draw(st.booleans())
    counter = draw(st.floats(5_000, 100_000)) if lifetime_counter else 0.0
    now = T0
    story.readings.append((counter, now))
    last_was_a_true_reading = True
    awaiting_rebase = False  # a replaced meter's jump waits for its confirmation

    n_steps = draw(st.integers(1, 60))
    for index in range(n_steps + 1):
        seconds = draw(st.integers(1, 600))
        # Up to the rated power plus its 10 % headroom: the most that is plausible.
        energy = draw(st.floats(0.0, MAX_KW * 1.1 * seconds / 3600))
        then = now + timedelta(seconds=seconds)
        if index == n_steps:
            action = "read"  # end on a true reading: gaps are then covered
        else:
            action = draw(
                st.sampled_from(["read", "read", "gap", "glitch", "reset", "replace"])
            )
        if awaiting_rebase and action not in ("read", "gap"):
            action = "read"
        if action in ("reset", "replace") and not last_was_a_true_reading:
            action = "read"
        if action == "reset" and energy > counter * RESET_FRACTION:
            # A "reset" to a value not well below the last one is
            # indistinguishable from a wobble of a lifetime meter.
            action = "read"

        if action == "read":
            counter += energy
            story.true_kwh += energy
            story.readings.append((counter, then))
            last_was_a_true_reading = True
            awaiting_rebase = False
        elif action == "gap":
            counter += energy
            story.true_kwh += energy
            story.readings.append((None, then))
            last_was_a_true_reading = False
        elif action == "glitch":
            # One out-of-line value half-way, then the meter is back.
            if counter >= 5_000 and draw(st.booleans()):
                glitch = counter / 2
            else:
                glitch = counter + 100_000
            story.readings.append((glitch, now + timedelta(seconds=seconds / 2)))
            counter += energy
            story.true_kwh += energy
            story.readings.append((counter, then))
            last_was_a_true_reading = True
        elif action == "reset":
            counter = energy  # the counter restarted and counted `energy` since
            story.true_kwh += energy
            story.readings.append((counter, then))
        else:  # replace: a new meter, far from the old reading
            if counter >= 8_000 and draw(st.booleans()):
                counter *= draw(st.floats(0.25, 0.5))
            else:
                counter += draw(st.floats(10_000, 90_000))
            story.readings.append((counter, then))
            last_was_a_true_reading = False
            awaiting_rebase = True
        story.steps.append(action)
        now = then
    return story


@settings(max_examples=300, deadline=None)
@given(meter_stories())
def test_energy_is_the_sum_of_true_increments(story: _MeterStory) -> None:
    meter = MeterAccumulator(MAX_KW)
    updates = [meter.add(value, moment) for value, moment in story.readings]
    assert all(update.increment_kwh >= 0 for update in updates)
    assert math.isclose(meter.energy_kwh, story.true_kwh, abs_tol=1e-6), story.steps
    assert sum(update.increment_kwh for update in updates) == pytest.approx(
        meter.energy_kwh, abs=1e-9
    )


def test_small_drop_after_long_quiet_is_a_glitch_not_a_reset() -> None:
    """A lifetime meter wobbling down after hours idle is not a counter reset."""
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    meter = MeterAccumulator(44.0)
    meter.add(1520.0, start)
    # 40 h later the charger could have drawn more than 1520 kWh, yet a drop to
    # 1519.99 is a wobble: rejected, and the next reading counts from 1520.
    update = meter.add(1519.99, start + timedelta(hours=40))
    assert update.outcome is MeterOutcome.GLITCH_REJECTED
    assert meter.add(1521.0, start + timedelta(hours=40, minutes=10)).increment_kwh == (
        pytest.approx(1.0)
    )
    assert meter.energy_kwh == pytest.approx(1.0)
    assert "meter_reset" not in meter.flags
