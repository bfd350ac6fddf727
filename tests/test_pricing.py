"""Tests for session pricing: price units, tariffs, the price timeline, billing.

Figures are worked by hand in the comments; amounts are compared as Decimals,
exactly, unless a division by 3600 or an uneven average makes them recurring.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
import json
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ev_sessions.pricing import (
    FLAG_NO_PRICE,
    FLAG_PRICE_GAP,
    MAJOR_UNIT_SYMBOLS,
    MINOR_UNITS,
    TARIFF_KEYS,
    PriceChange,
    PriceTimeline,
    RevenueBreakdown,
    SessionBilling,
    Tariff,
    UnsupportedPriceUnitError,
    idle_seconds,
    money,
    price_factor,
    price_per_kwh,
    tariff_for_user,
)

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
D = Decimal


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def timeline(*changes: tuple[float, str | None]) -> PriceTimeline:
    """A timeline with prices (text, or None = unavailable) at minutes from T0."""
    prices = PriceTimeline()
    for minute, price in changes:
        prices.set_price(None if price is None else D(price), at(minute))
    return prices


def fixed_price(price: str) -> PriceTimeline:
    """A fixed cost price: in force since long before any session."""
    prices = PriceTimeline()
    prices.set_price(D(price), datetime(2000, 1, 1, tzinfo=UTC))
    return prices


def bill(
    tariff: Tariff,
    kwh: float,
    prices: PriceTimeline | None = None,
    *,
    charging_s: float = 0,
    idle_s: float = 0,
) -> RevenueBreakdown:
    """Revenue of a session drawing ``kwh`` in one go over its first hour."""
    billing = SessionBilling(tariff)
    billing.add_energy(kwh, at(0), at(60), prices)
    return billing.revenue(charging_s=charging_s, idle_s=idle_s)


# ------------------------------------------------------------------ price units


@pytest.mark.parametrize(
    ("unit", "currency", "factor"),
    [
        ("SEK/kWh", "SEK", "1"),
        ("öre/kWh", "SEK", "0.01"),
        ("Öre/kWh", "SEK", "0.01"),  # as the Nord Pool integration writes it
        ("ore/kWh", "SEK", "0.01"),
        ("SEK/MWh", "SEK", "0.001"),
        ("kr/kWh", "SEK", "1"),
        ("öre/MWh", "SEK", "0.00001"),
        ("SEK / kWh", "SEK", "1"),
        (" SEK/ kWh ", "SEK", "1"),
        ("SEK/Wh", "SEK", "1000"),
        ("sek/kwh", "SEK", "1"),
        ("SEK/KWH", "SEK", "1"),
        ("SEK/kWh", "sek", "1"),
        ("EUR/kWh", "EUR", "1"),
        ("€/kWh", "EUR", "1"),
        ("EUR/MWh", "EUR", "0.001"),
        ("€/MWh", "EUR", "0.001"),
        ("c/kWh", "EUR", "0.01"),
        ("ct/kWh", "EUR", "0.01"),
        ("cent/kWh", "EUR", "0.01"),
        ("cents/kWh", "EUR", "0.01"),
        ("¢/kWh", "EUR", "0.01"),
        ("snt/kWh", "EUR", "0.01"),
        ("NOK/kWh", "NOK", "1"),
        ("kr/kWh", "NOK", "1"),
        ("øre/kWh", "NOK", "0.01"),
        ("Øre/kWh", "DKK", "0.01"),
        ("öre/kWh", "DKK", "0.01"),
        ("kr./kWh", "DKK", "1"),
        ("GBP/kWh", "GBP", "1"),
        ("£/kWh", "GBP", "1"),
        ("p/kWh", "GBP", "0.01"),
        ("pence/kWh", "GBP", "0.01"),
        ("$/kWh", "USD", "1"),
        ("USD/kWh", "USD", "1"),
        ("¢/kWh", "USD", "0.01"),
        ("c/kWh", "USD", "0.01"),
        ("$/kWh", "AUD", "1"),  # Amber Electric
        ("CHF/kWh", "CHF", "1"),  # any currency by its code
        ("PLN/MWh", "PLN", "0.001"),
    ],
)
def test_price_factor(unit: str, currency: str, factor: str) -> None:
    assert price_factor(unit, currency) == D(factor)


@pytest.mark.parametrize(
    ("unit", "currency"),
    [
        (None, "SEK"),
        ("", "SEK"),
        ("%", "SEK"),
        ("kWh", "SEK"),
        ("SEK", "SEK"),  # no energy part
        ("SEK/", "SEK"),
        ("SEK/h", "SEK"),  # per hour is not per energy
        ("/kWh", "SEK"),
        ("SEK/mWh", "SEK"),  # milliwatt-hours: not a price unit
        ("SEK/mwh", "SEK"),  # milli or mega? Ambiguous, as in units.py
        ("SEK/kWh/h", "SEK"),
        ("EUR/MWh", "SEK"),  # another currency: we never convert
        ("€/kWh", "SEK"),
        ("kr/kWh", "EUR"),
        ("$/kWh", "EUR"),
        ("c/kWh", "SEK"),
        ("öre/kWh", "EUR"),
        ("p/kWh", "USD"),
        ("£/kWh", "EUR"),
        ("SEK/kWh", ""),
    ],
)
def test_price_factor_rejects(unit: str | None, currency: str) -> None:
    with pytest.raises(UnsupportedPriceUnitError) as caught:
        price_factor(unit, currency)
    assert caught.value.unit == unit
    assert caught.value.currency == currency.strip().upper()
    assert isinstance(caught.value, ValueError)
    assert repr(unit) in str(caught.value)


def test_price_factor_with_a_currency_that_is_not_text() -> None:
    with pytest.raises(UnsupportedPriceUnitError) as caught:
        price_factor("SEK/kWh", None)  # type: ignore[arg-type]
    assert caught.value.currency == "None"


def test_unit_tables_are_case_folded() -> None:
    # Lookups case-fold the unit, so every key must be in case-folded form.
    for table in (MAJOR_UNIT_SYMBOLS, MINOR_UNITS):
        assert all(name == name.casefold() for name in table)


def test_price_per_kwh_in_ore_per_kwh() -> None:
    # 123.4 öre/kWh = 1.234 SEK/kWh, exactly.
    assert price_per_kwh("123.4", "öre/kWh", "SEK") == D("1.234")


def test_price_per_kwh_in_eur_per_mwh() -> None:
    # 85.30 EUR/MWh = 0.0853 EUR/kWh, exactly.
    assert price_per_kwh("85.30", "EUR/MWh", "EUR") == D("0.0853")
    assert price_per_kwh(" 85.30 ", "€/MWh", "EUR") == D("0.0853")


def test_price_per_kwh_negative_and_exponent() -> None:
    assert price_per_kwh("-5.5", "c/kWh", "EUR") == D("-0.055")
    assert price_per_kwh("1.5e2", "öre/kWh", "SEK") == D("1.5")
    assert price_per_kwh("0", "SEK/kWh", "SEK") == 0


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "  ",
        "unknown",
        "unavailable",
        "abc",
        "nan",
        "NaN",
        "sNaN",
        "inf",
        "-Infinity",
        "1_000",
        "1,5",
        "1e999",
    ],
)
def test_price_per_kwh_is_none_without_a_number(raw: str | None) -> None:
    assert price_per_kwh(raw, "SEK/kWh", "SEK") is None
    # No number: a bad unit does not matter (yet).
    assert price_per_kwh(raw, "%", "SEK") is None


def test_price_per_kwh_raises_for_a_number_in_a_bad_unit() -> None:
    with pytest.raises(UnsupportedPriceUnitError):
        price_per_kwh("85.30", "EUR/MWh", "SEK")


# ---------------------------------------------------------------------- tariffs


def test_default_tariff_is_free() -> None:
    tariff = Tariff()
    assert tariff.is_free
    assert all(getattr(tariff, key) == 0 for key in TARIFF_KEYS)
    assert Tariff(idle_grace_minutes=D(30)).is_free  # a grace alone charges nothing
    for key in TARIFF_KEYS:
        if key != "idle_grace_minutes":
            assert not Tariff(**{key: D(1)}).is_free


def test_tariff_constructor_rejects_programming_errors() -> None:
    with pytest.raises(TypeError):
        Tariff(fee_per_kwh=3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Tariff(fee_per_kwh=D("NaN"))
    with pytest.raises(ValueError, match="finite"):
        Tariff(fee_per_session=D("1e13"))
    with pytest.raises(ValueError, match="negative"):
        Tariff(fee_per_session=D(-1))
    # Per-kWh discounts may be negative.
    assert Tariff(fee_per_kwh=D(-1), markup_per_kwh=D("-0.5")).fee_per_kwh == -1


def test_tariff_from_options() -> None:
    tariff = Tariff.from_options(
        {
            "fee_per_session": 10,
            "fee_per_kwh": "3.5",
            "fee_per_hour": 0.1,
            "idle_fee_per_hour": D("20"),
            "idle_grace_minutes": " 30 ",
            "minimum_fee": None,
            "markup_factor": "",
            # markup_per_kwh missing
            "cost_per_kwh": 1.5,  # not a tariff key: ignored
        }
    )
    assert tariff == Tariff(
        fee_per_session=D(10),
        fee_per_kwh=D("3.5"),
        fee_per_hour=D("0.1"),  # the float's shortest repr, exactly
        idle_fee_per_hour=D(20),
        idle_grace_minutes=D(30),
    )
    assert tariff.fee_per_hour.as_tuple().exponent == -1


@pytest.mark.parametrize(
    "value", ["abc", "nan", float("nan"), float("inf"), "1e13", True, [1], {"a": 1}]
)
def test_tariff_from_options_reads_bad_values_as_zero(value: Any) -> None:
    assert Tariff.from_options(dict.fromkeys(TARIFF_KEYS, value)) == Tariff()


def test_tariff_from_options_clamps_negative_fees_but_keeps_discounts() -> None:
    tariff = Tariff.from_options(dict.fromkeys(TARIFF_KEYS, -2))
    assert tariff == Tariff(fee_per_kwh=D(-2), markup_per_kwh=D(-2))
    # -0 reads as 0, so the snapshot never shows -0.0.
    zero = Tariff.from_options(dict.fromkeys(TARIFF_KEYS, "-0"))
    assert all(
        value == 0.0 and str(value) == "0.0" for value in zero.to_dict().values()
    )


def test_tariff_snapshot_round_trips() -> None:
    tariff = Tariff(
        fee_per_session=D(10),
        fee_per_kwh=D("3.25"),
        fee_per_hour=D("0.1"),
        idle_fee_per_hour=D(20),
        idle_grace_minutes=D(30),
        minimum_fee=D(50),
        markup_factor=D("1.2"),
        markup_per_kwh=D("-0.05"),
    )
    snapshot = tariff.to_dict()
    assert list(snapshot) == list(TARIFF_KEYS)
    assert snapshot["fee_per_kwh"] == 3.25
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert Tariff.from_options(snapshot) == tariff


def test_energy_price() -> None:
    spot = Tariff(fee_per_kwh=D("0.1"), markup_factor=D("1.2"), markup_per_kwh=D("0.5"))
    # 0.1 + 1.2 * 2.00 + 0.5 = 3.00
    assert spot.energy_price(D("2.00")) == D("3.00")
    # No cost price known: the factor term drops out.
    assert spot.energy_price(None) == D("0.6")
    # Negative spot price: 0.1 + 1.2 * -1 + 0.5 = -0.6
    assert spot.energy_price(D(-1)) == D("-0.6")


# ---------------------------------------------------------------- user tariffs

DEFAULT = Tariff(fee_per_kwh=D(3))
ANNA = Tariff(fee_per_kwh=D(2), fee_per_session=D(5))
USERS: list[dict[str, Any]] = [
    {
        "name": "Anna",
        "tag": "04A1B2C3",
        "tariff": {"fee_per_kwh": 2, "fee_per_session": "5"},
    },
    {"name": "Björn", "tag": "77", "tariff": None},
    {"name": "Cecilia", "tag": "88"},
    {"name": "David", "tag": "99", "tariff": {}},
    {"name": "Eva", "tag": "66", "tariff": {"fee_per_kwh": None, "minimum_fee": ""}},
    {"name": "Anna", "tag": "ignored: first match wins", "tariff": {"fee_per_kwh": 9}},
]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("Anna", ANNA),  # by name
        ("  anna ", ANNA),  # stripped, case-insensitive
        ("04A1B2C3", ANNA),  # by tag
        ("04a1b2c3", ANNA),
        ("Björn", DEFAULT),  # tariff None
        ("BJÖRN", DEFAULT),
        ("Cecilia", DEFAULT),  # no tariff key
        ("88", DEFAULT),
        ("David", DEFAULT),  # empty tariff
        ("Eva", DEFAULT),  # a tariff with no values
        ("Zoe", DEFAULT),  # unknown
        ("", DEFAULT),
        ("   ", DEFAULT),
        (None, DEFAULT),
    ],
)
def test_tariff_for_user(user: str | None, expected: Tariff) -> None:
    assert tariff_for_user(DEFAULT, USERS, user) == expected


def test_tariff_for_user_matches_names_before_tags() -> None:
    users = [
        {"name": "Tag owner", "tag": "Frida", "tariff": {"fee_per_kwh": 1}},
        {"name": "Frida", "tag": "1", "tariff": {"fee_per_kwh": 4}},
    ]
    assert tariff_for_user(DEFAULT, users, "Frida") == Tariff(fee_per_kwh=D(4))


def test_tariff_for_user_replaces_the_default_as_a_whole() -> None:
    default = Tariff(fee_per_kwh=D(3), fee_per_session=D(10))
    users = [{"name": "Anna", "tag": "1", "tariff": {"fee_per_kwh": 2}}]
    assert tariff_for_user(default, users, "Anna") == Tariff(fee_per_kwh=D(2))


def test_tariff_for_user_skips_malformed_users() -> None:
    users: list[Any] = [
        "Anna",
        None,
        {"name": 5, "tag": None, "tariff": {"fee_per_kwh": 9}},
        {"tariff": {"fee_per_kwh": 9}},
        {"name": "Anna", "tag": "1", "tariff": "cheap"},
        {"name": "Gustav", "tag": "2", "tariff": {"fee_per_kwh": 1}},
    ]
    assert tariff_for_user(DEFAULT, users, "Anna") == DEFAULT
    assert tariff_for_user(DEFAULT, users, "5") == DEFAULT
    assert tariff_for_user(DEFAULT, users, "2") == Tariff(fee_per_kwh=D(1))
    assert tariff_for_user(DEFAULT, [], "Anna") == DEFAULT


# -------------------------------------------------- each tariff component alone


def test_session_fee_alone() -> None:
    revenue = bill(Tariff(fee_per_session=D(10)), 12.5, charging_s=3600)
    assert revenue == RevenueBreakdown(D(10), D(0), D(0), D(0), D(0))
    assert revenue.total == 10


def test_session_fee_is_paid_without_energy() -> None:
    billing = SessionBilling(Tariff(fee_per_session=D(10)))
    assert billing.revenue(charging_s=0, idle_s=0).total == 10


def test_fee_per_kwh_alone() -> None:
    # 3 SEK/kWh * 12.5 kWh = 37.5 SEK
    revenue = bill(Tariff(fee_per_kwh=D(3)), 12.5, charging_s=3600, idle_s=600)
    assert revenue == RevenueBreakdown(D(0), D("37.5"), D(0), D(0), D(0))
    assert revenue.total == D("37.5")


def test_fee_per_hour_alone() -> None:
    # 2 SEK/h * 2.5 h of charging (9000 s) = 5 SEK; idle time is not charged.
    revenue = bill(Tariff(fee_per_hour=D(2)), 12.5, charging_s=9000, idle_s=7200)
    assert revenue == RevenueBreakdown(D(0), D(0), D(5), D(0), D(0))


def test_idle_fee_alone() -> None:
    # 20 SEK/h after a 30 min grace, 75 min idle: 45 min billed = 15 SEK.
    tariff = Tariff(idle_fee_per_hour=D(20), idle_grace_minutes=D(30))
    revenue = bill(tariff, 12.5, charging_s=3600, idle_s=75 * 60)
    assert revenue == RevenueBreakdown(D(0), D(0), D(0), D(15), D(0))
    # Within the grace period: nothing.
    assert bill(tariff, 12.5, idle_s=30 * 60).idle_fee == 0
    # Without a grace period, from the first second: 20 SEK/h * 0.25 h = 5.
    assert bill(Tariff(idle_fee_per_hour=D(20)), 1, idle_s=900).idle_fee == 5


def test_minimum_fee_alone_and_with_others() -> None:
    assert bill(Tariff(minimum_fee=D(50)), 12.5).total == 50
    # Others sum to 3 * 12.5 = 37.5: the adjustment tops up 12.5, total 50.
    revenue = bill(Tariff(fee_per_kwh=D(3), minimum_fee=D(50)), 12.5)
    assert revenue == RevenueBreakdown(D(0), D("37.5"), D(0), D(0), D("12.5"))
    assert revenue.total == 50
    # Others above the minimum: no adjustment.
    above = bill(Tariff(fee_per_kwh=D(3), minimum_fee=D(30)), 12.5)
    assert above.minimum_fee_adjustment == 0
    assert above.total == D("37.5")


def test_spot_following_markup_alone() -> None:
    # 1.2 * cost price + 0.5 per kWh; cost price 1.50 SEK/kWh, 10 kWh:
    # (1.2 * 1.50 + 0.5) * 10 = 2.30 * 10 = 23.00 SEK, cost 15.00 SEK.
    tariff = Tariff(markup_factor=D("1.2"), markup_per_kwh=D("0.5"))
    billing = SessionBilling(tariff)
    billing.add_energy(10.0, at(0), at(60), fixed_price("1.50"))
    revenue = billing.revenue(charging_s=3600, idle_s=0)
    assert revenue == RevenueBreakdown(D(0), D("23.00"), D(0), D(0), D(0))
    assert billing.cost == D("15.00")


def test_spot_following_at_changing_prices() -> None:
    # 5.5 kWh in each half hour at 1.00 then 2.00 SEK/kWh (11 kW):
    # cost 5.5 + 11 = 16.5; revenue 1.2 * 16.5 + 0.5 * 11 = 19.8 + 5.5 = 25.3.
    tariff = Tariff(markup_factor=D("1.2"), markup_per_kwh=D("0.5"))
    billing = SessionBilling(tariff)
    prices = timeline((0, "1.00"), (30, "2.00"))
    billing.add_energy(5.5, at(0), at(30), prices)
    billing.add_energy(5.5, at(30), at(60), prices)
    assert billing.cost == D("16.5")
    assert billing.energy_fee == D("25.3")


def test_revenue_later_counts_the_moment_it_was_taken() -> None:
    # A live view's revenue is summed when first read, yet as of its moment:
    # energy drawn after the view was taken is not in it.
    tariff = Tariff(
        fee_per_session=D(10),
        fee_per_kwh=D(3),
        fee_per_hour=D(2),
        markup_factor=D("0.1"),
        minimum_fee=D(50),
    )
    billing = SessionBilling(tariff)
    billing.add_energy(4.0, at(0), at(30), fixed_price("1.50"))
    later = billing.revenue_total_later(charging_s=1800, idle_s=0)
    now = billing.revenue(charging_s=1800, idle_s=0).total
    billing.add_energy(20.0, at(30), at(90), fixed_price("1.50"))
    # 10 + 3 * 4 + 0.1 * 6 + 2 * 0.5 = 23.6, raised to the minimum of 50.
    assert now == D(50)
    assert later() == now
    # 10 + 3 * 24 + 0.1 * 36 + 2 * 1.5 = 88.6 now.
    assert billing.revenue(charging_s=5400, idle_s=0).total == D("88.6")
    # Summed once.
    assert later() is later()


# -------------------------------------------------------------------- combined


def test_housing_association_example() -> None:
    # 3 SEK/kWh + 10 SEK a session + 20 SEK/h idle after 30 minutes.
    # 20 kWh, unplugged 90 min after charging ended:
    # 3 * 20 = 60, 10, 20 * (90 - 30) / 60 = 20: 90 SEK.
    tariff = Tariff(
        fee_per_session=D(10),
        fee_per_kwh=D(3),
        idle_fee_per_hour=D(20),
        idle_grace_minutes=D(30),
    )
    charging_ended = at(120)
    idle_s = idle_seconds(charging_ended, charging_ended + timedelta(minutes=90))
    revenue = bill(tariff, 20.0, charging_s=7200, idle_s=idle_s)
    assert revenue == RevenueBreakdown(D(10), D(60), D(0), D(20), D(0))
    assert revenue.total == 90
    assert revenue.to_dict() == {
        "session_fee": 10.0,
        "energy_fee": 60.0,
        "time_fee": 0.0,
        "idle_fee": 20.0,
        "minimum_fee_adjustment": 0.0,
    }


def test_every_component_together() -> None:
    # 12.5 kWh at 1.00 SEK/kWh cost, 2 h charging, 75 min idle.
    # session 10; energy (0.5 + 1.2 * 1.00 + 0.3) * 12.5 = 2.0 * 12.5 = 25;
    # time 2 * 2 = 4; idle 20 * 45 / 60 = 15; sum 54, minimum 60: +6 = 60.
    tariff = Tariff(
        fee_per_session=D(10),
        fee_per_kwh=D("0.5"),
        fee_per_hour=D(2),
        idle_fee_per_hour=D(20),
        idle_grace_minutes=D(30),
        minimum_fee=D(60),
        markup_factor=D("1.2"),
        markup_per_kwh=D("0.3"),
    )
    revenue = bill(tariff, 12.5, fixed_price("1.00"), charging_s=7200, idle_s=4500)
    assert revenue == RevenueBreakdown(D(10), D(25), D(4), D(15), D(6))
    assert revenue.total == 60


def test_revenue_ignores_unusable_durations() -> None:
    tariff = Tariff(fee_per_hour=D(2), idle_fee_per_hour=D(20))
    billing = SessionBilling(tariff)
    for seconds in (-60.0, float("nan"), float("inf")):
        revenue = billing.revenue(charging_s=seconds, idle_s=seconds)
        assert revenue.time_fee == 0
        assert revenue.idle_fee == 0


def test_time_fee_keeps_exact_fractions() -> None:
    # 1 SEK/h for 1 s: 1/3600 SEK, Decimal to 28 digits; money() rounds at the edge.
    revenue = bill(Tariff(fee_per_hour=D(1)), 1, charging_s=1)
    assert revenue.time_fee == D(1) / D(3600)
    assert money(revenue.time_fee) == 0.0003
    assert money(revenue.time_fee, 6) == 0.000278


# ------------------------------------------------------------ the price timeline


def test_empty_timeline_knows_no_price() -> None:
    prices = PriceTimeline()
    assert prices.price_at(at(0)) is None
    assert prices.average(at(0), at(10)) == (None, True, None, None)
    assert prices.average(at(0), at(0)) == (None, True, None, None)
    assert prices.changes == ()


def test_price_at_is_a_step_function() -> None:
    prices = timeline((0, "1.20"), (15, "0.80"), (30, "2.00"))
    assert prices.price_at(at(-1)) is None  # before the first price
    assert prices.price_at(at(0)) == D("1.20")
    assert prices.price_at(at(14.99)) == D("1.20")
    assert prices.price_at(at(15)) == D("0.80")
    assert prices.price_at(at(1000)) == D("2.00")


def test_average_over_a_price_change() -> None:
    prices = timeline((0, "1.20"), (15, "0.80"))
    # 5 min at 1.20 and 10 min at 0.80: (6 + 8) / 15 = 0.9333...
    average, gap, low, high = prices.average(at(10), at(25))
    assert average == D(14) / D(15)
    assert (gap, low, high) == (False, D("0.80"), D("1.20"))
    # Within one price: that price, exactly.
    assert prices.average(at(1), at(2)) == (D("1.20"), False, D("1.20"), D("1.20"))


def test_average_of_an_instant_is_the_price_then() -> None:
    prices = timeline((0, "1.20"), (15, "0.80"), (30, None))
    assert prices.average(at(15), at(15)) == (D("0.80"), False, D("0.80"), D("0.80"))
    # A reversed interval (a clock that went back) counts as an instant.
    assert prices.average(at(20), at(10)) == (D("0.80"), False, D("0.80"), D("0.80"))
    assert prices.average(at(40), at(40)) == (D("0.80"), True, D("0.80"), D("0.80"))
    # Before the first price: the first price, as a gap.
    assert prices.average(at(-5), at(-5)) == (D("1.20"), True, D("1.20"), D("1.20"))


def test_unavailable_price_keeps_the_last_known_price_as_a_gap() -> None:
    prices = timeline((0, "1.00"), (30, None), (45, "2.00"))
    assert prices.price_at(at(40)) == D("1.00")
    assert prices.average(at(0), at(30)) == (D("1.00"), False, D("1.00"), D("1.00"))
    assert prices.average(at(30), at(45)) == (D("1.00"), True, D("1.00"), D("1.00"))
    # 15 min in the gap at 1.00, 15 min at 2.00: 1.50, with a gap.
    assert prices.average(at(30), at(60)) == (D("1.5"), True, D("1.00"), D("2.00"))
    assert prices.average(at(45), at(60)) == (D("2.00"), False, D("2.00"), D("2.00"))


def test_average_before_the_first_price_uses_the_first_price() -> None:
    prices = timeline((30, "2.00"), (45, "1.00"))
    assert prices.average(at(0), at(30)) == (D("2.00"), True, D("2.00"), D("2.00"))
    # 45 min at 2.00 (30 of them before any price), 15 min at 1.00:
    # (90 + 15) / 60 = 1.75.
    assert prices.average(at(0), at(60)) == (D("1.75"), True, D("1.00"), D("2.00"))


def test_set_price_ignores_repeats_and_unavailable_before_any_price() -> None:
    prices = PriceTimeline()
    prices.set_price(None, at(0))  # nothing known yet: nothing to keep
    assert prices.changes == ()
    prices.set_price(D("1.0"), at(10))
    prices.set_price(D("1.00"), at(20))  # the same price
    prices.set_price(None, at(30))
    prices.set_price(None, at(40))  # still unavailable
    prices.set_price(D("1.00"), at(50))  # back: no longer a gap
    assert prices.changes == (
        PriceChange(at(10), D("1.0"), False),
        PriceChange(at(30), D("1.0"), True),
        PriceChange(at(50), D("1.00"), False),
    )


def test_set_price_at_the_same_time_replaces() -> None:
    prices = timeline((0, "1.00"), (15, "2.00"))
    prices.set_price(D("3.00"), at(15))
    assert prices.changes == (
        PriceChange(at(0), D("1.00"), False),
        PriceChange(at(15), D("3.00"), False),
    )
    prices.set_price(D("1.00"), at(15))  # back to the price before: merged
    assert prices.changes == (PriceChange(at(0), D("1.00"), False),)
    prices.set_price(None, at(0))  # unavailable at once: a gap from then
    assert prices.changes == (PriceChange(at(0), D("1.00"), True),)


def test_set_price_clamps_a_clock_that_went_back() -> None:
    prices = timeline((0, "1.00"), (15, "2.00"))
    prices.set_price(D("3.00"), at(5))  # taken as at(15)
    assert prices.price_at(at(10)) == D("1.00")
    assert prices.price_at(at(15)) == D("3.00")
    assert len(prices.changes) == 2


def test_set_price_reads_non_finite_as_unavailable() -> None:
    prices = timeline((0, "1.00"))
    prices.set_price(D("NaN"), at(10))
    assert prices.changes[-1] == PriceChange(at(10), D("1.00"), True)


def test_forget_before_keeps_the_price_in_force() -> None:
    prices = timeline((0, "1.20"), (15, "0.80"), (30, None), (45, "2.00"))
    prices.forget_before(at(-10))  # before everything: nothing to drop
    prices.forget_before(at(0))
    assert len(prices.changes) == 4
    prices.forget_before(at(35))
    assert prices.changes == (
        PriceChange(at(30), D("0.80"), True),
        PriceChange(at(45), D("2.00"), False),
    )
    assert prices.price_at(at(35)) == D("0.80")
    assert prices.average(at(35), at(50)) == (
        D("0.80") * 10 / 15 + D("2.00") * 5 / 15,
        True,
        D("0.80"),
        D("2.00"),
    )
    prices.forget_before(at(1000))
    assert prices.changes == (PriceChange(at(45), D("2.00"), False),)
    assert prices.price_at(at(1000)) == D("2.00")


def test_timeline_ignores_times_without_a_time_zone() -> None:
    prices = timeline((0, "1.00"), (15, "2.00"))
    naive = datetime(2025, 3, 1, 18, 30)  # naive: the point of the test
    prices.set_price(D("9"), naive)
    prices.forget_before(naive)
    assert len(prices.changes) == 2
    assert prices.price_at(naive) is None
    assert prices.average(naive, at(60)) == (None, True, None, None)
    assert prices.average(at(0), naive) == (None, True, None, None)


def test_timeline_handles_other_time_zones() -> None:
    prices = timeline((0, "1.00"), (15, "2.00"))
    stockholm_winter = timezone(timedelta(hours=1))
    assert prices.price_at(at(20).astimezone(stockholm_winter)) == D("2.00")


def test_timeline_round_trips_exactly() -> None:
    prices = timeline((0, "1.20"), (15, "0.080"), (30, None), (45, "-2.5E-3"))
    data = json.loads(json.dumps(prices.to_dict()))
    restored = PriceTimeline.from_dict(data)
    assert restored.changes == prices.changes
    assert [str(change.price) for change in restored.changes] == [
        "1.20",
        "0.080",
        "0.080",
        "-0.0025",
    ]
    assert PriceTimeline.from_dict({}).changes == ()


@pytest.mark.parametrize(
    "data",
    [
        {"changes": [["2025-03-01T18:00:00+00:00", "1.0"]]},
        {"changes": [["2025-03-01T18:00:00+00:00", 1.0, False]]},
        {"changes": [["2025-03-01T18:00:00+00:00", "abc", False]]},
        {"changes": [["2025-03-01T18:00:00+00:00", "NaN", False]]},
        {"changes": [["2025-03-01T18:00:00+00:00", "1.0", "no"]]},
        {"changes": [[0, "1.0", False]]},
        {"changes": [["yesterday", "1.0", False]]},
        {"changes": [["2025-03-01T18:00:00", "1.0", False]]},
        {
            "changes": [
                ["2025-03-01T18:15:00+00:00", "1.0", False],
                ["2025-03-01T18:00:00+00:00", "2.0", False],
            ]
        },
        {
            "changes": [
                ["2025-03-01T18:00:00+00:00", "1.0", False],
                ["2025-03-01T18:00:00+00:00", "2.0", False],
            ]
        },
        {"changes": 5},
    ],
)
def test_timeline_from_dict_rejects_malformed_data(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Malformed price timeline"):
        PriceTimeline.from_dict(data)


# ----------------------------------------------------------------- session cost


def test_prices_every_15_minutes_with_unaligned_increments() -> None:
    # 11 kW from 18:00 to 18:45 in 9-minute meter increments of 1.65 kWh, with
    # prices 1.20, 0.80, 2.00 SEK/kWh from 18:00, 18:15, 18:30. Increments
    # 18:09-18:18 and 18:27-18:36 straddle a price change. Per increment:
    #   18:00-18:09  1.65 * 1.20                               = 1.98
    #   18:09-18:18  11 kW * (6 min * 1.20 + 3 min * 0.80) / 60 = 1.76
    #   18:18-18:27  1.65 * 0.80                               = 1.32
    #   18:27-18:36  11 kW * (3 min * 0.80 + 6 min * 2.00) / 60 = 2.64
    #   18:36-18:45  1.65 * 2.00                               = 3.30
    #                                                            11.00 SEK
    # which is, by price period, 2.75 kWh at each price: 3.30 + 2.20 + 5.50.
    prices = timeline((0, "1.20"), (15, "0.80"), (30, "2.00"))
    billing = SessionBilling(Tariff(fee_per_kwh=D(3)))
    costs = []
    for start in range(0, 45, 9):
        before = billing.cost
        billing.add_energy(1.65, at(start), at(start + 9), prices)
        costs.append(billing.cost - before)
    assert costs == [D("1.98"), D("1.76"), D("1.32"), D("2.64"), D("3.30")]
    assert billing.cost == D("11.00")
    assert billing.priced_kwh == billing.energy_kwh == D("8.25")
    assert billing.avg_cost_per_kwh == D("11.00") / D("8.25")
    assert (billing.price_min, billing.price_max) == (D("0.80"), D("2.00"))
    assert billing.flags == frozenset()
    assert billing.energy_fee == D("24.75")  # 3 * 8.25


def test_priced_interval() -> None:
    prices = timeline((0, "1.20"), (15, "0.80"))
    priced = prices.prices_over(at(9), at(18))
    assert priced is not None
    # 6 min at 1.20 and 3 min at 0.80, in microseconds.
    minute = 60_000_000
    assert priced.weighted == D("1.20") * 6 * minute + D("0.80") * 3 * minute
    assert priced.micros == 9 * minute
    assert priced.average == D("9.6") / 9
    assert priced.cost(D("1.65")) == D("1.76")  # one division: exact
    assert prices.prices_over(at(20), at(30)) == (
        D("0.80") * 10 * minute,
        10 * minute,
        False,
        D("0.80"),
        D("0.80"),
    )
    assert PriceTimeline().prices_over(at(0), at(1)) is None


def test_increment_split_unevenly_across_price_changes() -> None:
    # 11 kW from 18:10 to 18:34 as one 4.4 kWh meter increment, over prices
    # 1.20 (5 min), 0.80 (15 min) and 2.00 (4 min):
    # 11 kW * (5 * 1.20 + 15 * 0.80 + 4 * 2.00) / 60 = 11 * 26 / 60 = 4.7666...
    prices = timeline((0, "1.20"), (15, "0.80"), (30, "2.00"))
    billing = SessionBilling(Tariff())
    billing.add_energy(4.4, at(10), at(34), prices)
    assert Fraction(billing.cost) == pytest.approx(Fraction(11 * 26, 60), abs=1e-20)
    assert (billing.price_min, billing.price_max) == (D("0.80"), D("2.00"))


def test_price_unavailable_mid_session() -> None:
    # 1.00 SEK/kWh, unavailable from 18:30 to 19:00, then 2.00 SEK/kWh.
    # 5 kWh an half hour: 5 * 1.00 + 5 * 1.00 (last known) + 5 * 2.00 = 20.
    prices = timeline((0, "1.00"), (30, None), (60, "2.00"))
    billing = SessionBilling(Tariff())
    billing.add_energy(5, at(0), at(30), prices)
    assert billing.flags == frozenset()
    billing.add_energy(5, at(30), at(60), prices)
    assert billing.flags == {FLAG_PRICE_GAP}
    billing.add_energy(5, at(60), at(90), prices)
    assert billing.cost == 20
    assert billing.flags == {FLAG_PRICE_GAP}
    assert (billing.price_min, billing.price_max) == (D("1.00"), D("2.00"))


def test_live_price_entity_going_unavailable() -> None:
    # As the tracker feeds it: bill up to each price change, then set it.
    prices = PriceTimeline()
    billing = SessionBilling(Tariff())
    prices.set_price(price_per_kwh("150", "öre/kWh", "SEK"), at(0))
    billing.add_energy(2.75, at(0), at(15), prices)
    prices.set_price(price_per_kwh("unavailable", "öre/kWh", "SEK"), at(15))
    billing.add_energy(2.75, at(15), at(30), prices)
    # 5.5 kWh, all at 1.50 SEK/kWh = 8.25 SEK.
    assert billing.cost == D("8.25")
    assert billing.flags == {FLAG_PRICE_GAP}


def test_energy_before_the_first_price() -> None:
    # Drawn 18:00-18:30, the first price (2.00) known from 18:30 on.
    prices = timeline((30, "2.00"))
    billing = SessionBilling(Tariff())
    billing.add_energy(5, at(0), at(30), prices)
    assert billing.cost == 10
    assert billing.flags == {FLAG_PRICE_GAP}


def test_no_price_ever() -> None:
    # A price entity that never had a price: the energy costs 0, flagged; the
    # energy fee is charged without the markup factor.
    tariff = Tariff(fee_per_kwh=D(1), markup_factor=D(2), markup_per_kwh=D("0.5"))
    billing = SessionBilling(tariff)
    billing.add_energy(10, at(0), at(60), PriceTimeline())
    assert billing.cost == 0
    assert billing.flags == {FLAG_NO_PRICE}
    assert billing.energy_kwh == 10
    assert billing.priced_kwh == 0
    assert billing.avg_cost_per_kwh is None
    assert billing.price_min is None
    assert billing.price_max is None
    assert billing.energy_fee == 15  # (1 + 0.5) * 10


def test_no_cost_price_configured() -> None:
    # prices=None: no cost source at all. Revenue only, no flag.
    billing = SessionBilling(Tariff(fee_per_kwh=D(3), markup_factor=D(2)))
    billing.add_energy(12.5, at(0), at(60), None)
    assert billing.cost == 0
    assert billing.flags == frozenset()
    assert billing.energy_fee == D("37.5")
    assert billing.avg_cost_per_kwh is None


def test_negative_prices() -> None:
    # 10 kWh at -0.10 SEK/kWh cost -1.00; a spot tariff 1.2 * p + 0.5 charges
    # (1.2 * -0.10 + 0.5) * 10 = 0.38 * 10 = 3.80.
    spot = Tariff(markup_factor=D("1.2"), markup_per_kwh=D("0.5"))
    billing = SessionBilling(spot)
    billing.add_energy(10, at(0), at(60), fixed_price("-0.10"))
    assert billing.cost == D("-1.00")
    assert billing.avg_cost_per_kwh == D("-0.1")
    assert billing.price_min == billing.price_max == D("-0.10")
    assert billing.revenue(charging_s=3600, idle_s=0).total == D("3.80")


def test_negative_energy_fee_is_floored_by_the_minimum_fee() -> None:
    # Pure spot pass-through at -0.50: energy fee -5; the minimum fee (0 by
    # default) keeps the revenue at 0: the user is never paid to charge.
    billing = SessionBilling(Tariff(markup_factor=D(1)))
    billing.add_energy(10, at(0), at(60), fixed_price("-0.50"))
    revenue = billing.revenue(charging_s=3600, idle_s=0)
    assert revenue.energy_fee == -5
    assert revenue.minimum_fee_adjustment == 5
    assert revenue.total == 0


@pytest.mark.parametrize("kwh", [0.0, -1.5, float("nan"), float("inf"), True, None])
def test_unusable_energy_is_not_billed(kwh: Any) -> None:
    billing = SessionBilling(Tariff(fee_per_kwh=D(3)))
    billing.add_energy(kwh, at(0), at(60), fixed_price("1"))
    assert billing.energy_kwh == 0
    assert billing.cost == 0
    assert billing.price_min is None
    assert billing.flags == frozenset()


def test_energy_is_converted_exactly_from_floats() -> None:
    billing = SessionBilling(Tariff(fee_per_kwh=D(1)))
    for _ in range(10):
        billing.add_energy(0.1, at(0), at(1), fixed_price("1"))
    assert billing.energy_kwh == 1  # not 0.9999999999999999
    assert billing.cost == 1


def test_session_billing_rejects_a_non_tariff() -> None:
    with pytest.raises(TypeError):
        SessionBilling({"fee_per_kwh": 3})  # type: ignore[arg-type]


# ------------------------------------------------------------------- idle time


def test_idle_seconds() -> None:
    assert idle_seconds(None, at(60)) == 0.0  # never charged
    assert idle_seconds(at(30), at(60)) == 1800.0
    assert idle_seconds(at(60), at(30)) == 0.0  # clock went back
    naive = datetime(2025, 3, 1, 19, 0)  # naive: the point of the test
    assert idle_seconds(at(0), naive) == 0.0


def test_idle_fee_across_a_smart_charging_pause() -> None:
    # Plugged in at 18:00. Charging 18:00-19:00, paused by smart charging until
    # 22:00, charging 22:00-23:00, unplugged at 23:40. The pause is not idle:
    # idle runs from the last charging end, 23:00-23:40 = 40 min; after the
    # 30 min grace, 10 min at 30 SEK/h = 5 SEK.
    tariff = Tariff(idle_fee_per_hour=D(30), idle_grace_minutes=D(30))
    last_charging_end, unplugged = at(5 * 60), at(5 * 60 + 40)
    idle_s = idle_seconds(last_charging_end, unplugged)
    assert idle_s == 2400
    revenue = bill(tariff, 22, charging_s=2 * 3600, idle_s=idle_s)
    assert revenue.idle_fee == 5
    # Were the pause counted (from the first charging end at 19:00), it would
    # have been 4 h 40 min: 4 h 10 min after the grace = 125 SEK.
    assert bill(tariff, 22, idle_s=idle_seconds(at(60), unplugged)).idle_fee == 125


# -------------------------------------------------------------- tariff changes


def test_tariff_changed_mid_session_keeps_the_starting_tariff() -> None:
    at_start = Tariff(fee_per_kwh=D(3), fee_per_session=D(10))
    billing = SessionBilling(at_start)
    billing.add_energy(10, at(0), at(30), fixed_price("1"))
    # The owner changes the default tariff during the session. The session
    # keeps the tariff it started under: 10 + 3 * 20 = 70, not 5 * 20 = 100.
    changed = Tariff(fee_per_kwh=D(5))
    assert changed != billing.tariff
    billing.add_energy(10, at(30), at(60), fixed_price("1"))
    assert billing.tariff is at_start
    assert billing.revenue(charging_s=3600, idle_s=0).total == 70
    assert billing.to_dict()["tariff"]["fee_per_kwh"] == "3"


def test_per_user_override_known_after_plug_in() -> None:
    # Anna's tag is read 10 minutes into the session: her tariff then bills the
    # whole session, the energy drawn before included. 20 kWh:
    # default 3 * 20 + 10 = 70; Anna 2 * 20 + 5 = 45.
    default = Tariff(fee_per_kwh=D(3), fee_per_session=D(10))
    billing = SessionBilling(default)
    prices = timeline((0, "1.00"), (30, None))
    billing.add_energy(5, at(0), at(10), prices)
    anna = tariff_for_user(default, USERS, "04A1B2C3")
    billing = billing.with_tariff(anna)
    billing.add_energy(15, at(10), at(60), prices)
    assert billing.tariff == anna
    assert billing.revenue(charging_s=3600, idle_s=0).total == 45
    assert billing.cost == 20
    assert billing.flags == {FLAG_PRICE_GAP}
    assert (billing.price_min, billing.price_max) == (D("1.00"), D("1.00"))


# ------------------------------------------------------------------ persistence


def test_session_billing_round_trips_exactly() -> None:
    tariff = Tariff(
        fee_per_session=D("10.00"),
        fee_per_kwh=D("-0.25"),
        fee_per_hour=D("0.1"),
        idle_fee_per_hour=D(20),
        idle_grace_minutes=D("7.5"),
        minimum_fee=D(50),
        markup_factor=D("1.2"),
        markup_per_kwh=D("0.5"),
    )
    billing = SessionBilling(tariff)
    prices = timeline((0, "1.20"), (15, "0.80"), (30, None))
    billing.add_energy(1.1, at(10), at(16), prices)
    billing.add_energy(2.2, at(16), at(40), prices)
    data = json.loads(json.dumps(billing.to_dict()))
    restored = SessionBilling.from_dict(data)
    assert restored.tariff == tariff
    assert str(restored.tariff.fee_per_session) == "10.00"
    for name in ("energy_kwh", "priced_kwh", "cost", "price_min", "price_max"):
        assert getattr(restored, name) == getattr(billing, name)
        assert str(getattr(restored, name)) == str(getattr(billing, name))
    assert restored.flags == billing.flags == {FLAG_PRICE_GAP}
    assert restored.revenue(charging_s=100, idle_s=900) == billing.revenue(
        charging_s=100, idle_s=900
    )


def test_session_billing_from_minimal_data() -> None:
    restored = SessionBilling.from_dict({"tariff": {"fee_per_kwh": "3"}})
    assert restored.tariff == Tariff(fee_per_kwh=D(3))
    assert restored.cost == restored.energy_kwh == 0
    assert restored.price_min is None
    assert restored.flags == frozenset()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"tariff": None},
        {"tariff": {"fee_per_kwh": 3}},  # stored amounts are text
        {"tariff": {"fee_per_kwh": "abc"}},
        {"tariff": {"fee_per_session": "-1"}},
        {"tariff": {"fee_per_kwh": "Infinity"}},
        {"tariff": {}, "cost": "NaN"},
        {"tariff": {}, "price_min": 1.0},
        {"tariff": {}, "flags": "price_gap"},
        {"tariff": {}, "flags": [1]},
    ],
)
def test_session_billing_from_dict_rejects_malformed_data(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Malformed session billing"):
        SessionBilling.from_dict(data)


# ------------------------------------------------------------------------ money


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (None, 4, None),
        (D("NaN"), 4, None),
        (D("Infinity"), 4, None),
        (D("1.23456"), 4, 1.2346),
        (D("0.00005"), 4, 0.0),  # half to even: down to 0.0000
        (D("0.00015"), 4, 0.0002),  # half to even: up to 0.0002
        (D("-0.00004"), 4, 0.0),  # never -0.0
        (D("2.5"), 0, 2.0),
        (D("1234.5678"), -2, 1200.0),
        (D("12345678901234567890123456789.5"), 2, 1.2345678901234568e28),
        (D("1e-30"), 4, 0.0),
    ],
)
def test_money(value: Decimal | None, digits: int, expected: float | None) -> None:
    result = money(value, digits)
    assert result == expected
    if result == 0:
        assert str(result) == "0.0"


def test_revenue_breakdown_to_dict_rounds_at_six_decimals() -> None:
    revenue = RevenueBreakdown(
        D(10), D("1.23456789"), D(1) / D(3), D("0.0000005"), D("-0")
    )
    assert revenue.to_dict() == {
        "session_fee": 10.0,
        "energy_fee": 1.234568,
        "time_fee": 0.333333,
        "idle_fee": 0.0,  # half to even
        "minimum_fee_adjustment": 0.0,
    }


# ------------------------------------------------------------ property tests

AMOUNT = st.decimals(min_value=0, max_value=100, places=2)
PRICE = st.decimals(min_value=-2, max_value=5, places=4)
KWH = st.decimals(min_value=0, max_value=30, places=3)
TARIFFS = st.builds(
    Tariff,
    fee_per_session=AMOUNT,
    fee_per_kwh=st.decimals(min_value=-1, max_value=5, places=2),
    fee_per_hour=AMOUNT,
    idle_fee_per_hour=AMOUNT,
    idle_grace_minutes=st.integers(0, 120).map(Decimal),
    minimum_fee=AMOUNT,
    markup_factor=st.decimals(min_value=0, max_value=3, places=2),
    markup_per_kwh=st.decimals(min_value=-1, max_value=1, places=2),
)
# A price change at an increment's start: none, unavailable, or a new price.
CHANGE = st.one_of(st.just("same"), st.just("unavailable"), PRICE)
STEPS = st.lists(st.tuples(st.integers(1, 3600), KWH, CHANGE), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    tariff=TARIFFS,
    steps=STEPS,
    replay=st.booleans(),
    idle_s=st.integers(0, 4 * 3600),
)
def test_cost_and_revenue_follow_their_formulas(
    tariff: Tariff,
    steps: list[tuple[int, Decimal, Decimal | str]],
    replay: bool,
    idle_s: int,
) -> None:
    """Cost is the sum of increment times price in force; revenue its formula.

    Prices change only at increment boundaries. Live, each increment is billed
    once the prices up to its start are known; in a replay, once all are (so
    energy before the first price takes the first price).
    """
    prices = PriceTimeline()
    billing = SessionBilling(tariff)
    starts = [T0]
    for duration, _, _ in steps:
        starts.append(starts[-1] + timedelta(seconds=duration))
    increments = list(zip(starts, starts[1:], steps, strict=False))

    def set_price(start: datetime, change: Decimal | str) -> None:
        if change == "unavailable":
            prices.set_price(None, start)
        elif isinstance(change, Decimal):
            prices.set_price(change, start)

    for start, end, (_, kwh, change) in increments:
        set_price(start, change)
        if not replay:
            billing.add_energy(float(kwh), start, end, prices)
    if replay:
        for start, end, (_, kwh, _) in increments:
            billing.add_energy(float(kwh), start, end, prices)

    # The oracle, in exact fractions.
    real_prices = [change for _, _, change in steps if isinstance(change, Decimal)]
    first_price = real_prices[0] if real_prices else None
    in_force: Decimal | None = None
    gap = False
    cost = energy_fee = Fraction(0)
    flags: set[str] = set()
    for _, kwh, change in steps:
        if isinstance(change, Decimal):
            in_force, gap = change, False
        elif change == "unavailable" and in_force is not None:
            gap = True
        price, priced_in_gap = in_force, gap
        if price is None and replay:
            price, priced_in_gap = first_price, True
        if kwh == 0:
            continue
        if price is None:
            flags.add(FLAG_NO_PRICE)
        elif priced_in_gap:
            flags.add(FLAG_PRICE_GAP)
        cost += Fraction(kwh) * Fraction(price or 0)
        energy_fee += Fraction(kwh) * Fraction(tariff.energy_price(price))
    charging_s = sum(duration for duration, _, _ in steps)
    time_fee = Fraction(tariff.fee_per_hour) * charging_s / 3600
    billable_idle = max(idle_s - 60 * Fraction(tariff.idle_grace_minutes), 0)
    idle_fee = Fraction(tariff.idle_fee_per_hour) * billable_idle / 3600
    charged = Fraction(tariff.fee_per_session) + energy_fee + time_fee + idle_fee
    total = charged + max(Fraction(tariff.minimum_fee) - charged, 0)

    assert Fraction(billing.cost) == cost
    assert billing.flags == flags
    revenue = billing.revenue(charging_s=charging_s, idle_s=idle_s)
    assert revenue.session_fee == tariff.fee_per_session
    assert Fraction(revenue.energy_fee) == energy_fee
    assert Fraction(revenue.time_fee) == pytest.approx(time_fee, abs=1e-20)
    assert Fraction(revenue.idle_fee) == pytest.approx(idle_fee, abs=1e-20)
    assert Fraction(revenue.total) == pytest.approx(total, abs=1e-18)
    assert revenue.total >= tariff.minimum_fee
    if revenue.minimum_fee_adjustment > 0:
        assert revenue.total == tariff.minimum_fee  # topped up exactly


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 120), st.decimals(0, 22, places=1)),
        min_size=1,
        max_size=15,
    ),
    changes=st.lists(st.tuples(st.integers(-60, 1800), PRICE), max_size=20),
)
def test_cost_integrates_price_over_time_at_constant_power(
    steps: list[tuple[int, Decimal]], changes: list[tuple[int, Decimal]]
) -> None:
    """Prices change anywhere: each increment splits in proportion to time.

    Increments and price changes fall on whole minutes, so the oracle can
    price each minute of each increment at its own price.
    """
    prices = PriceTimeline()
    for minute, price in sorted(changes, key=lambda change: change[0]):
        prices.set_price(price, at(minute))
    billing = SessionBilling(Tariff())
    expected = Fraction(0)
    start = 0
    for minutes, kw in steps:
        end = start + minutes
        kwh = Fraction(kw) * minutes / 60  # constant power over the increment
        billing.add_energy(float(kwh), at(start), at(end), prices)
        if kwh > 0 and prices.changes:
            energy = Fraction(Decimal(repr(float(kwh))))  # as add_energy reads it
            expected += energy * _average_price(prices, start, end)
        start = end
    assert Fraction(billing.cost) == pytest.approx(expected, abs=1e-15)


def _average_price(prices: PriceTimeline, start: int, end: int) -> Fraction:
    """The time-weighted price over [start, end) minutes, minute by minute."""
    total = Fraction(0)
    first = prices.changes[0].price
    for minute in range(start, end):
        price = prices.price_at(at(minute))
        total += Fraction(first if price is None else price)
    return total / (end - start)
