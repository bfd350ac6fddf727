"""Tests for reading Home Assistant states as kW and kWh."""

from __future__ import annotations

import pytest

from custom_components.ev_sessions.units import (
    ENERGY_UNITS_TO_KWH,
    POWER_UNITS_TO_KW,
    UnsupportedUnitError,
    energy_kwh,
    energy_unit_factor,
    parse_number,
    power_kw,
    power_unit_factor,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.5", 1.5),
        (" 2 ", 2.0),
        ("\t7\n", 7.0),
        ("1e3", 1000.0),
        ("-0.25", -0.25),
        ("+3", 3.0),
        ("0", 0.0),
        ("12345.678", 12345.678),
    ],
)
def test_parse_number_reads_numbers(raw: str, expected: float) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "unknown",
        "unavailable",
        "",
        "   ",
        "abc",
        "1,5",  # locale decimal comma
        "1_000",  # digit separator
        "1.5 kW",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "0x10",
    ],
)
def test_parse_number_gives_none_for_non_numbers(raw: str | None) -> None:
    assert parse_number(raw) is None


def test_unit_tables_match_home_assistant_units() -> None:
    assert dict(POWER_UNITS_TO_KW) == {"W": 0.001, "kW": 1.0, "MW": 1000.0}
    assert dict(ENERGY_UNITS_TO_KWH) == {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("11000", "W", 11.0),
        ("11", "kW", 11.0),
        ("0.011", "MW", 11.0),
        ("7400", "w", 7.4),
        ("7.4", "kw", 7.4),
        ("7.4", "KW", 7.4),
        ("7.4", "Kw", 7.4),
        ("7.4", " kW ", 7.4),
    ],
)
def test_power_kw_scales_supported_units(raw: str, unit: str, expected: float) -> None:
    assert power_kw(raw, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("1500", "Wh", 1.5),
        ("1.5", "kWh", 1.5),
        ("0.0015", "MWh", 1.5),
        ("1500", "wh", 1.5),
        ("1500", "WH", 1.5),
        ("1.5", "kwh", 1.5),
        ("1.5", "KWH", 1.5),
    ],
)
def test_energy_kwh_scales_supported_units(
    raw: str, unit: str, expected: float
) -> None:
    assert energy_kwh(raw, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("unit", ["mW", "mw", "Mw", "A", "kVA", "kWh", "", None])
def test_power_kw_rejects_unsupported_units(unit: str | None) -> None:
    with pytest.raises(UnsupportedUnitError) as caught:
        power_kw("5", unit)
    assert caught.value.unit == unit
    assert caught.value.quantity == "power"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("unit", ["mWh", "mwh", "Mwh", "kW", "J", "", None])
def test_energy_kwh_rejects_unsupported_units(unit: str | None) -> None:
    with pytest.raises(UnsupportedUnitError) as caught:
        energy_kwh("5", unit)
    assert caught.value.unit == unit
    assert caught.value.quantity == "energy"
    assert str(caught.value) == f"Unsupported energy unit: {unit!r}"


@pytest.mark.parametrize("raw", [None, "unknown", "unavailable", "", "nan"])
def test_non_numbers_are_gaps_even_with_a_bad_unit(raw: str | None) -> None:
    assert power_kw(raw, "kW") is None
    assert power_kw(raw, "parsecs") is None
    assert energy_kwh(raw, "kWh") is None
    assert energy_kwh(raw, None) is None


def test_unit_factors() -> None:
    assert power_unit_factor("W") == 0.001
    assert power_unit_factor("MW") == 1000.0
    assert power_unit_factor("mW") is None
    assert power_unit_factor(None) is None
    assert energy_unit_factor("Wh") == 0.001
    assert energy_unit_factor("KWH") == 1.0
    assert energy_unit_factor("MWh") == 1000.0
    assert energy_unit_factor("mwh") is None
    assert energy_unit_factor(None) is None
