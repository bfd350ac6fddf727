"""When will charging end: the taper model, what it learns, the live estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
import json
import math
import random
from typing import Any

import pytest

from bench.end_estimate_bench import main
from custom_components.ev_sessions.end_estimate import (
    DEFAULT_EFFICIENCY,
    DEFAULT_FLOOR_RATIO,
    DEFAULT_KNEE_SOC,
    HYSTERESIS_S,
    KEPT_SESSIONS,
    PUBLISH_INTERVAL_S,
    EndEstimator,
    SessionFit,
    TaperLearner,
    TaperModel,
    evcc_minutes_to_target,
    fit_session,
    minutes_to_target,
)

from .taper_traces import (
    FRACTIONS,
    START,
    Car,
    ChargeTrace,
    Sample,
    at_fractions,
    charge,
    error_minutes,
    feeder,
)

# The car the defaults describe, and one whose power falls from 60 %.
CAR = Car(capacity_kwh=75.0, power_kw=11.0, knee_soc=80.0)
EARLY_KNEE_CAR = Car(capacity_kwh=75.0, power_kw=11.0, knee_soc=60.0)
# On a car the model describes, the published end is this close to the truth
# at 25, 50 and 75 % of the charging time (SoC in whole percents a minute
# late, power noisy by +-5 %).
TOLERANCE_MIN = 5.0


def numeric_minutes(
    model: TaperModel, soc: float, target: float, capacity: float, power: float
) -> float:
    """Integrate the model in steps of a thousandth of a percent."""
    steps = round((target - soc) * 1000)
    width = (target - soc) / steps
    hours = math.fsum(
        capacity / 100 * width / (model.efficiency * power * model.power_ratio(s))
        for s in (soc + (i + 0.5) * width for i in range(steps))
    )
    return hours * 60


def learned_from(car: Car, sessions: int, *, first_seed: int = 100) -> TaperLearner:
    learner = TaperLearner()
    for n in range(sessions):
        trace = charge(car, start_soc=15 + 4 * n, target_soc=90, seed=first_seed + n)
        learner.add_session(
            trace.curve, trace.soc_samples, capacity_kwh=car.capacity_kwh
        )
    return learner


def errors_at_fractions(trace: ChargeTrace, model: TaperModel) -> list[float]:
    values = at_fractions(trace, feeder(trace, EndEstimator(model)))
    return [error_minutes(trace, value) for value in values]


def published_values(
    trace: ChargeTrace, estimator: EndEstimator, **kwargs: Any
) -> list[tuple[datetime, datetime | None]]:
    """Return each sample's time and the estimate published after it."""
    feed = feeder(trace, estimator, **kwargs)
    return [(sample.at, feed(sample)) for sample in trace.samples]


def changes(
    values: list[tuple[datetime, datetime | None]],
) -> list[tuple[datetime, datetime | None]]:
    """Return the moments the published value changed, and to what."""
    changed = []
    previous: datetime | None = None
    for at, value in values:
        if value != previous:
            changed.append((at, value))
            previous = value
    return changed


# ------------------------------------------------------------------ model


def test_the_default_model() -> None:
    model = TaperModel()
    assert (model.knee_soc, model.efficiency, model.floor_ratio) == (80.0, 0.90, 0.15)
    assert (DEFAULT_KNEE_SOC, DEFAULT_EFFICIENCY, DEFAULT_FLOOR_RATIO) == (
        80.0,
        0.90,
        0.15,
    )
    assert model.power_ratio(50) == 1.0
    assert model.power_ratio(80) == 1.0
    assert model.power_ratio(90) == pytest.approx(0.575)
    assert model.power_ratio(100) == pytest.approx(0.15)
    assert model.power_ratio(120) == pytest.approx(0.15)


@pytest.mark.parametrize(
    "values",
    [
        {"knee_soc": 101.0},
        {"knee_soc": -1.0},
        {"efficiency": 0.0},
        {"efficiency": 1.2},
        {"floor_ratio": 0.0},
        {"floor_ratio": 1.5},
    ],
)
def test_a_model_no_car_has_is_refused(values: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be within"):
        TaperModel(**values)


def test_the_model_round_trips() -> None:
    model = TaperModel(knee_soc=62.5, efficiency=0.87, floor_ratio=0.22)
    assert TaperModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model
    assert TaperModel.from_dict({}) == TaperModel()
    assert TaperModel.from_dict({"knee_soc": 70}) == TaperModel(knee_soc=70.0)
    for bad in ({"efficiency": "high"}, {"knee_soc": None}, {"knee_soc": 150}):
        with pytest.raises(ValueError):
            TaperModel.from_dict(bad)


def test_minutes_at_full_power() -> None:
    """20 to 80 % of 75 kWh at 11 kW with 90 % efficiency: 272.7 minutes."""
    minutes = minutes_to_target(
        TaperModel(), soc=20, target_soc=80, capacity_kwh=75, full_power_kw=11
    )
    assert minutes == pytest.approx(0.60 * 75 / (0.9 * 11) * 60)


@pytest.mark.parametrize(
    ("model", "soc", "target"),
    [
        (TaperModel(), 20, 100),
        (TaperModel(), 85, 95),
        (TaperModel(knee_soc=60, floor_ratio=0.3, efficiency=0.85), 40, 90),
        (TaperModel(knee_soc=90, floor_ratio=1.0), 50, 100),
    ],
)
def test_minutes_through_the_taper_match_integrating_it(
    model: TaperModel, soc: float, target: float
) -> None:
    closed = minutes_to_target(
        model, soc=soc, target_soc=target, capacity_kwh=64, full_power_kw=7.4
    )
    assert closed == pytest.approx(
        numeric_minutes(model, soc, target, 64, 7.4), rel=1e-6
    )


def test_minutes_to_a_target_already_reached_or_out_of_range() -> None:
    model = TaperModel(knee_soc=100.0)
    kwargs: dict[str, Any] = {"capacity_kwh": 50, "full_power_kw": 5}
    assert minutes_to_target(model, soc=80, target_soc=80, **kwargs) == 0.0
    assert minutes_to_target(model, soc=90, target_soc=80, **kwargs) == 0.0
    assert minutes_to_target(model, soc=-5, target_soc=120, **kwargs) == (
        pytest.approx(minutes_to_target(model, soc=0, target_soc=100, **kwargs))
    )
    with pytest.raises(ValueError, match="positive"):
        minutes_to_target(
            model, soc=10, target_soc=80, capacity_kwh=50, full_power_kw=0
        )


def test_evcc_estimate_to_80_percent_is_plain_division() -> None:
    """At 11 kW evcc's line only bites from 89.8 %: to 80 % it is energy / power."""
    minutes = evcc_minutes_to_target(
        soc=20, target_soc=80, capacity_kwh=75, charge_power_kw=11
    )
    assert minutes == pytest.approx(0.60 * 75 / 0.9 / 11 * 60)


def test_evcc_estimate_to_100_percent_slows_down_from_its_line() -> None:
    reduction = 100 - (11 - 1) / 0.98  # 89.8 %: where 50 kW@50 % - 1 kW@100 % is 11
    expected = (reduction - 20) / 100 * 75 / 0.9 / 11
    expected += (100 - reduction) / 100 * 75 / 0.9 / 6  # average of 11 and 1 kW
    assert evcc_minutes_to_target(
        soc=20, target_soc=100, capacity_kwh=75, charge_power_kw=11
    ) == pytest.approx(expected * 60)
    # At 3 kW its line bites from 98 %: past that, the average of 3 and 1 kW.
    past = evcc_minutes_to_target(
        soc=99, target_soc=100, capacity_kwh=75, charge_power_kw=3
    )
    assert past == pytest.approx(1 / 100 * 75 / 0.9 / 2 * 60)


def test_evcc_estimate_edges() -> None:
    below_its_floor = evcc_minutes_to_target(
        soc=50, target_soc=100, capacity_kwh=10, charge_power_kw=0.9, efficiency=1.0
    )
    assert below_its_floor == pytest.approx(0.5 * 10 / 0.9 * 60)
    assert (
        evcc_minutes_to_target(
            soc=85, target_soc=80, capacity_kwh=75, charge_power_kw=11
        )
        == 0.0
    )
    with pytest.raises(ValueError, match="positive"):
        evcc_minutes_to_target(soc=1, target_soc=80, capacity_kwh=0, charge_power_kw=11)


# ------------------------------------------------------------------ learning


@pytest.mark.parametrize(("car", "knee"), [(CAR, 80.0), (EARLY_KNEE_CAR, 60.0)])
def test_a_session_shows_knee_efficiency_and_floor(car: Car, knee: float) -> None:
    trace = charge(car, start_soc=20, target_soc=100, seed=7)
    fit = fit_session(trace.curve, trace.soc_samples, capacity_kwh=75)
    assert fit.knee_soc == pytest.approx(knee, abs=1.0)
    assert fit.efficiency == pytest.approx(0.90, abs=0.01)
    assert fit.floor_ratio == pytest.approx(0.15, abs=0.03)


def test_a_session_that_stops_before_the_knee_shows_only_efficiency() -> None:
    trace = charge(CAR, start_soc=20, target_soc=79, seed=3)
    fit = fit_session(trace.curve, trace.soc_samples, capacity_kwh=75)
    assert fit == SessionFit(efficiency=pytest.approx(0.90, abs=0.01))  # type: ignore[arg-type]


def test_a_session_that_starts_past_the_knee_does_not_place_it() -> None:
    """All taper: a straight decline fits as well as any knee."""
    trace = charge(EARLY_KNEE_CAR, start_soc=66, target_soc=100, seed=3)
    fit = fit_session(trace.curve, trace.soc_samples, capacity_kwh=75)
    assert fit.knee_soc is None
    assert fit.efficiency == pytest.approx(0.90, abs=0.01)


def test_a_session_with_little_soc_shows_nothing() -> None:
    trace = charge(CAR, start_soc=40, target_soc=45, seed=3)
    assert fit_session(trace.curve, trace.soc_samples, capacity_kwh=75) == SessionFit()
    assert fit_session(trace.curve, (), capacity_kwh=75) == SessionFit()
    assert fit_session(trace.curve, ((0, 40),), capacity_kwh=75) == SessionFit()


def test_efficiency_is_kept_within_reason() -> None:
    """A capacity set far too large would make the battery take more than it got."""
    trace = charge(CAR, start_soc=20, target_soc=70, seed=3)
    fit = fit_session(trace.curve, trace.soc_samples, capacity_kwh=150)
    assert fit.efficiency == 1.0
    fit = fit_session(trace.curve, trace.soc_samples, capacity_kwh=30)
    assert fit.efficiency == 0.7


def test_a_taper_slower_than_any_line_gets_the_lowest_floor() -> None:
    """A taper that drops fast and crawls to the end gets the lowest floor.

    No floor the model allows spends as long past the knee as the car did.
    """
    crawling = Car(knee_soc=60, floor_ratio=0.05, taper_shape=1.6)
    trace = charge(crawling, start_soc=40, target_soc=95, seed=3)
    fit = fit_session(trace.curve, trace.soc_samples, capacity_kwh=75)
    assert fit.floor_ratio == pytest.approx(0.02, abs=1e-6)


def test_damaged_data_gives_a_smaller_fit_not_an_error() -> None:
    trace = charge(EARLY_KNEE_CAR, start_soc=20, target_soc=100, seed=7)
    damaged_curve: list[Any] = [
        *trace.curve[:5],
        "?",
        (None, 3.0),
        (10**9, float("nan")),
    ]
    damaged_curve[1:1] = [(trace.curve[1][0], None), (trace.curve[0][0], 11.0)]
    damaged_soc: list[Any] = [
        *trace.soc_samples,
        (float("nan"), 50),
        ("x", 1),
        (60, 250.0),
    ]
    fit = fit_session(damaged_curve, damaged_soc, capacity_kwh=75)
    assert fit.knee_soc is None


def test_a_pause_does_not_lower_the_power_a_percent_took() -> None:
    """7 kW with a 30-minute pause: each percent still shows 7 kW."""
    capacity = 40.0
    percent_s = capacity / 100 / 0.9 / 7 * 3600  # 228.6 s a percent at 7 kW
    curve = [(0, 7.0), (1800, None), (3600, 7.0), (7200, 0.0)]
    samples = [(0.0, 50.0)]
    for n in range(1, 24):
        charged = n * percent_s
        samples.append((charged if charged < 1800 else charged + 1800, 50.0 + n))
    samples.insert(9, (2000.0, 58.0))  # reported during the pause
    fit = fit_session(curve, samples, capacity_kwh=capacity)
    assert fit.efficiency == pytest.approx(0.9, abs=0.01)
    assert fit.knee_soc is None  # flat: no taper to place
    assert fit_session((), samples, capacity_kwh=capacity) == SessionFit()


def test_soc_that_goes_down_is_not_progress() -> None:
    samples = [(0, 50.0), (600, 51.0), (900, 49.0), (1200, 50.0), (1500, 52.0)]
    curve = [(0, 7.0), (1800, 0.0)]
    assert fit_session(curve, samples, capacity_kwh=40) == SessionFit()


def test_the_learner_keeps_defaults_until_three_sessions_agree() -> None:
    learner = learned_from(EARLY_KNEE_CAR, 2)
    assert learner.sessions == 2
    assert learner.model == TaperModel()
    learner = learned_from(EARLY_KNEE_CAR, 3)
    assert learner.model.knee_soc == pytest.approx(60.0, abs=1.0)
    assert learner.model.efficiency == pytest.approx(0.90, abs=0.01)
    assert learner.model.floor_ratio == pytest.approx(0.15, abs=0.03)


def test_a_session_that_teaches_nothing_is_not_kept() -> None:
    learner = TaperLearner()
    trace = charge(CAR, start_soc=40, target_soc=45, seed=3)
    assert not learner.add_session(trace.curve, trace.soc_samples, capacity_kwh=75)
    assert learner.sessions == 0


def test_the_learner_remembers_only_recent_sessions() -> None:
    learner = TaperLearner([SessionFit(knee_soc=70.0)] * 5)
    for _ in range(KEPT_SESSIONS):
        learner._fits.append(SessionFit(knee_soc=60.0))
    assert learner.sessions == KEPT_SESSIONS
    assert learner.model.knee_soc == 60.0
    assert len(learner.to_dict()["sessions"]) == KEPT_SESSIONS


def test_a_restart_keeps_the_learned_model() -> None:
    learner = learned_from(EARLY_KNEE_CAR, 5)
    stored = json.loads(json.dumps(learner.to_dict()))
    restored = TaperLearner.from_dict(stored)
    assert restored.model == learner.model
    assert restored.sessions == learner.sessions
    assert TaperLearner.from_dict({}).model == TaperModel()


@pytest.mark.parametrize(
    "data",
    [
        {"sessions": [{"knee_soc": "sixty"}]},
        {"sessions": [7]},
        {"sessions": 7},
        {"sessions": [{"efficiency": float("inf")}]},
    ],
)
def test_malformed_learner_data_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Malformed taper learner data"):
        TaperLearner.from_dict(data)


def test_learning_beats_the_defaults_on_a_car_whose_knee_is_at_60_percent() -> None:
    """After five sessions of the car, its estimate is within minutes, not an hour.

    The defaults put the knee at 80 %: between 60 and 80 % they expect full
    power where the car draws less and less, so they expect the end about an
    hour early until the taper shows in the power (by 75 % of the charging
    time the car is past 80 % and both agree).
    """
    learner = learned_from(EARLY_KNEE_CAR, 5)
    assert learner.model.knee_soc == pytest.approx(60.0, abs=1.0)
    trace = charge(EARLY_KNEE_CAR, start_soc=25, target_soc=90, seed=11)
    with_defaults = errors_at_fractions(trace, TaperModel())
    learned = errors_at_fractions(trace, learner.model)
    assert [round(e) for e in with_defaults] == [66, 55, 0]
    assert [round(e) for e in learned] == [1, 1, 2]
    assert max(learned) <= TOLERANCE_MIN
    assert sum(learned) < sum(with_defaults) / 10


# ------------------------------------------------------------------ live estimate


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("start_soc", "target_soc"), [(10, 80), (30, 90), (50, 100)])
def test_estimated_end_is_within_tolerance_on_a_taper_trace(
    seed: int, start_soc: float, target_soc: float
) -> None:
    trace = charge(CAR, start_soc=start_soc, target_soc=target_soc, seed=seed)
    errors = errors_at_fractions(trace, TaperModel())
    assert max(errors) <= TOLERANCE_MIN, errors


@pytest.mark.parametrize("seed", range(5, 15))
def test_the_estimate_does_not_jitter_on_noisy_power(seed: int) -> None:
    """Power noisy by +-5 % every 10 s over four and a half hours at full power.

    Estimated from each reading alone, the end wanders by a quarter of an
    hour and changes with every reading. Published, it is set once and
    corrected at most once, towards the truth: never back and forth.
    """
    trace = charge(CAR, start_soc=20, target_soc=80, seed=seed)
    moved = [value for _, value in changes(published_values(trace, EndEstimator()))]
    assert 1 <= len(moved) <= 2
    for before, after in pairwise(moved):
        assert before is not None and after is not None
        assert abs(after - trace.ended_at) < abs(before - trace.ended_at)
    assert error_minutes(trace, moved[-1]) <= TOLERANCE_MIN
    raw = [
        sample.at
        + timedelta(
            minutes=minutes_to_target(
                TaperModel(),
                soc=sample.soc,
                target_soc=80,
                capacity_kwh=75,
                full_power_kw=sample.power_kw,
            )
        )
        for sample in trace.samples[10:]
    ]
    assert (max(raw) - min(raw)).total_seconds() > 15 * 60
    assert len(set(raw)) > 1000


def test_a_moving_estimate_moves_at_most_once_a_minute_and_by_more_than_the_hysteresis() -> (
    None
):
    """The defaults on the early-knee car: the truth keeps moving, the estimate steps."""
    trace = charge(EARLY_KNEE_CAR, start_soc=20, target_soc=90, seed=5, noise=0.08)
    moved = changes(published_values(trace, EndEstimator()))[1:]
    assert 5 <= len(moved) <= 60
    for (at, value), (later, later_value) in pairwise(moved):
        assert (later - at).total_seconds() >= PUBLISH_INTERVAL_S
        assert value is not None and later_value is not None
        assert abs((later_value - value).total_seconds()) > HYSTERESIS_S


def test_a_real_change_of_power_is_followed_within_minutes() -> None:
    """A load balancer halves the current an hour in: 11 kW, then 5.5 kW.

    The noise does not move the estimate; the halving does, at once by most
    of the way and within half an hour to within a few minutes of the truth.
    """
    rng = random.Random(3)
    estimator = EndEstimator()
    soc, energy, second = 20.0, 0.0, 0
    # 60 % of 75 kWh at 90 %: 50 kWh, 11 of them in the first hour.
    true_end = START + timedelta(hours=1 + 39 / 5.5)
    errors: dict[int, float] = {}
    while soc < 80:
        power = (11.0 if second < 3600 else 5.5) * (1 + rng.uniform(-0.05, 0.05))
        estimate = estimator.update(
            START + timedelta(seconds=second),
            power_kw=power,
            soc=float(math.floor(soc)),
            energy_kwh=energy,
            target_soc=80,
            capacity_kwh=75,
            energy_target_kwh=None,
        )
        if second % 300 == 0 and estimate is not None:
            errors[second // 60] = (estimate - true_end).total_seconds() / 60
        energy += power * 10 / 3600
        soc += power * 10 / 3600 * 0.9 / 75 * 100
        second += 10
    assert errors[60] < -200  # the hour at 11 kW said it would end 3.5 h sooner
    assert -25 < errors[65] < 0
    assert all(abs(errors[minute]) <= TOLERANCE_MIN for minute in range(90, 480, 5))


def test_unknown_until_charging_has_settled() -> None:
    """The ramp-up (30 s) is left out and two minutes of readings averaged first."""
    trace = charge(CAR, start_soc=20, target_soc=80, seed=5)
    values = published_values(trace, EndEstimator())
    first_known = next(at for at, value in values if value is not None)
    assert (first_known - trace.started_at).total_seconds() == 150


def test_unknown_without_soc_or_energy_target() -> None:
    trace = charge(CAR, start_soc=20, target_soc=80, seed=5)
    without_soc = published_values(trace, EndEstimator(), with_soc=False)
    assert {value for _, value in without_soc} == {None}
    without_capacity = published_values(trace, EndEstimator(), with_capacity=False)
    assert {value for _, value in without_capacity} == {None}


def test_an_energy_target_without_soc() -> None:
    """20 kWh at 11 kW, without the car's SoC: 109 minutes at the average power."""
    trace = charge(CAR, start_soc=20, target_soc=80, seed=5)
    values = published_values(
        trace, EndEstimator(), with_soc=False, energy_target_kwh=20.0
    )
    reached = next(sample.at for sample in trace.samples if sample.energy_kwh >= 20.0)
    assert (reached - trace.started_at).total_seconds() // 60 == 109
    after_27_minutes = next(
        value for at, value in values if at >= trace.moment(0.0) + timedelta(minutes=27)
    )
    assert after_27_minutes is not None
    assert abs((after_27_minutes - reached).total_seconds()) <= 2 * 60
    assert dict(values)[reached] == reached  # done


def test_an_energy_target_before_the_soc_target_ends_sooner() -> None:
    """From 20 %, 30 kWh gives 36 % of 75 kWh at 90 %: it ends at about 56 %."""
    trace = charge(CAR, start_soc=20, target_soc=80, seed=5)
    by_energy = at_fractions(
        trace, feeder(trace, EndEstimator(), energy_target_kwh=30.0)
    )
    reached = next(s.at for s in trace.samples if s.energy_kwh >= 30.0)
    assert by_energy[0] is not None
    assert abs((by_energy[0] - reached).total_seconds()) <= TOLERANCE_MIN * 60
    beyond = at_fractions(trace, feeder(trace, EndEstimator(), energy_target_kwh=500.0))
    assert beyond == at_fractions(trace, feeder(trace, EndEstimator()))


def test_done_when_the_car_reports_its_target() -> None:
    """The end is when the car reported its target, and stays so."""
    estimator = EndEstimator()

    def update(at: datetime, power_kw: float, soc: float, target_soc: float) -> Any:
        return estimator.update(
            at,
            power_kw=power_kw,
            soc=soc,
            energy_kwh=30.0,
            target_soc=target_soc,
            capacity_kwh=75.0,
            energy_target_kwh=None,
        )

    for minute in range(5):
        update(START + timedelta(minutes=minute), 11.0, 79, 80)
    reached = START + timedelta(minutes=5)
    assert update(reached, 11.0, 80, 80) == reached
    later = reached + timedelta(minutes=3)
    assert update(later, 0.4, 80, 80) == reached
    # A higher target: charging goes on, and the estimate says so at once.
    raised = update(later + timedelta(seconds=10), 11.0, 80, 90)
    assert raised is not None and raised > later + timedelta(minutes=30)


def test_a_new_target_publishes_at_once() -> None:
    trace = charge(CAR, start_soc=20, target_soc=90, seed=5)
    estimator = EndEstimator()
    feed = feeder(trace, estimator)
    for sample in trace.samples[:100]:
        feed(sample)
    before = estimator.estimate
    sample = trace.samples[100]
    lower = estimator.update(
        sample.at,
        power_kw=sample.power_kw,
        soc=sample.soc,
        energy_kwh=sample.energy_kwh,
        target_soc=70,
        capacity_kwh=75,
        energy_target_kwh=None,
    )
    assert before is not None and lower is not None
    assert before - lower > timedelta(minutes=60)


def test_a_pause_holds_the_average_and_moves_the_end() -> None:
    """Half an hour without power: the end moves half an hour later."""
    trace = charge(CAR, start_soc=20, target_soc=80, seed=5)
    estimator = EndEstimator()
    feed = feeder(trace, estimator)
    for sample in trace.samples[:360]:
        feed(sample)
    before = estimator.estimate
    last = trace.samples[359]
    for step in range(1, 181):
        paused = Sample(
            last.at + timedelta(seconds=10 * step), 0.0, last.soc, last.energy_kwh
        )
        feed(paused)
    shift = timedelta(minutes=30)
    for sample in trace.samples[360:400]:
        resumed = feed(
            Sample(sample.at + shift, sample.power_kw, sample.soc, sample.energy_kwh)
        )
    assert before is not None and resumed is not None
    assert abs((resumed - before) - shift) <= timedelta(minutes=2)


def test_a_stale_soc_is_carried_forward_by_energy() -> None:
    """A car polled every 10 minutes: the estimate still holds within tolerance."""
    polled = Car(soc_every_s=600.0)
    trace = charge(polled, start_soc=30, target_soc=90, seed=4)
    assert max(errors_at_fractions(trace, TaperModel())) <= TOLERANCE_MIN


def test_unusable_readings_are_skipped() -> None:
    estimator = EndEstimator()
    for second in range(0, 200, 10):
        estimator.update(
            START + timedelta(seconds=second),
            power_kw=float("nan") if second == 100 else 11.0,
            soc=float("nan") if second == 150 else 40,
            energy_kwh=second * 11 / 3600,
            target_soc=float("nan"),
            capacity_kwh=75,
            energy_target_kwh=float("inf"),
        )
    assert estimator.estimate is not None
    assert estimator.model == TaperModel()


def test_two_updates_at_the_same_moment() -> None:
    estimator = EndEstimator()
    kwargs: dict[str, Any] = {"soc": 40, "target_soc": 80, "capacity_kwh": 75}
    kwargs["energy_target_kwh"] = None
    for second in range(0, 300, 10):
        at = START + timedelta(seconds=second)
        for _ in range(2):
            estimator.update(at, power_kw=11.0, energy_kwh=second * 11 / 3600, **kwargs)
    assert estimator.estimate is not None


def test_a_restart_continues_the_estimate() -> None:
    trace = charge(EARLY_KNEE_CAR, start_soc=20, target_soc=90, seed=5)
    learner = learned_from(EARLY_KNEE_CAR, 3)
    uninterrupted = EndEstimator(learner.model)
    restarted = EndEstimator(learner.model)
    feed = feeder(trace, restarted)
    half = len(trace.samples) // 2
    for sample in trace.samples[:half]:
        feed(sample)
    stored = json.loads(json.dumps(restarted.to_dict()))
    restored = EndEstimator.from_dict(stored)
    assert restored.model == learner.model
    assert restored.estimate == restarted.estimate
    ours = [feeder(trace, uninterrupted)(sample) for sample in trace.samples]
    feed_restored = feeder(trace, restored)
    theirs = ours[:half] + [feed_restored(sample) for sample in trace.samples[half:]]
    assert theirs == ours


def test_a_fresh_estimator_round_trips() -> None:
    restored = EndEstimator.from_dict(EndEstimator().to_dict())
    assert restored.estimate is None
    assert restored.to_dict() == EndEstimator().to_dict()
    assert EndEstimator.from_dict({}).to_dict() == EndEstimator().to_dict()


@pytest.mark.parametrize(
    "data",
    [
        {"soc": "high"},
        {"power": {"slow": [None, 1.0]}},
        {"power": {"quick": 3}},
        {"targets": [80]},
        {"published": "soon", "published_at": "2026-03-02T18:00:00+00:00"},
        {"published": "2026-03-02T18:00:00", "published_at": "2026-03-02T18:00:00"},
        {"model": {"efficiency": 2}},
    ],
)
def test_malformed_estimator_data_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Malformed end estimate data"):
        EndEstimator.from_dict(data)


def test_a_published_estimate_needs_its_time() -> None:
    with pytest.raises(ValueError, match="go together"):
        EndEstimator.from_dict(
            {"published": datetime(2026, 3, 2, tzinfo=UTC).isoformat()}
        )


def test_the_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bench.end_estimate_bench`, on one car instead of forty."""
    assert FRACTIONS == (0.25, 0.50, 0.75)
    assert main(["--cars", "1"]) == 0
    table = capsys.readouterr().out.splitlines()[-4:]
    assert [row.split("  ")[0] for row in table] == [
        "ours, defaults",
        "ours, learned",
        "evcc",
        "evcc, smoothed",
    ]
