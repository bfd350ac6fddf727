"""Read raw Home Assistant states as numbers in kW and kWh.

Home Assistant hands us states as strings ("11.2", "unavailable", "") and units as
strings ("W", "kWh"). This module turns them into floats in the engine's units
(kW for power, kWh for energy) at the edge, so nothing further in has to care.

* A state that is not a finite number (``None``, "unknown", "unavailable", "",
  "abc", "nan", "inf") reads as ``None``: a gap in the data, never an error.
* A number in a unit we cannot convert raises `UnsupportedUnitError`: that is a
  configuration problem (the user picked the wrong entity), not a passing glitch,
  so the caller should surface it (a repair issue) rather than guess.

Units are looked up exactly as Home Assistant spells them (``UnitOfPower`` and
``UnitOfEnergy``). Case variants such as "kw" or "KWH" are accepted too, except
where the case carries the meaning: "mW" (milliwatt) versus "MW" (megawatt), so
"mw" and "mwh" in any case other than the exact "MW" and "MWh" stay unsupported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import math
from types import MappingProxyType
from typing import Final

POWER_UNITS_TO_KW: Final[Mapping[str, float]] = MappingProxyType(
    {"W": 0.001, "kW": 1.0, "MW": 1000.0}
)
"""Factor from each supported power unit (exact spelling) to kW."""

ENERGY_UNITS_TO_KWH: Final[Mapping[str, float]] = MappingProxyType(
    {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
)
"""Factor from each supported energy unit (exact spelling) to kWh."""

# Lower-case spellings that cannot be misread. "mw"/"mwh" are left out on
# purpose: milli and mega differ only by case.
_POWER_UNITS_ANY_CASE: Final[Mapping[str, float]] = MappingProxyType(
    {"w": 0.001, "kw": 1.0}
)
_ENERGY_UNITS_ANY_CASE: Final[Mapping[str, float]] = MappingProxyType(
    {"wh": 0.001, "kwh": 1.0}
)


class UnsupportedUnitError(ValueError):
    """A state held a number, but in a unit this integration cannot convert."""

    def __init__(self, unit: str | None, quantity: str) -> None:
        """Record the offending unit and what it was meant to measure."""
        super().__init__(f"Unsupported {quantity} unit: {unit!r}")
        self.unit = unit
        self.quantity = quantity


def parse_number(raw: str | None) -> float | None:
    """Return the finite number in a state string, or ``None`` when there is none.

    Accepts surrounding whitespace and exponent notation ("1.5", " 2 ", "1e3").
    Returns ``None`` for ``None``, "unknown", "unavailable", "", text, NaN, and
    infinities. Locale decimal commas ("1,5") and digit separators ("1_000")
    are not numbers here: Home Assistant states use a plain decimal point.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value


def power_unit_factor(unit: str | None) -> float | None:
    """Return the factor from ``unit`` to kW, or ``None`` if it is not supported."""
    return _unit_factor(unit, POWER_UNITS_TO_KW, _POWER_UNITS_ANY_CASE)


def energy_unit_factor(unit: str | None) -> float | None:
    """Return the factor from ``unit`` to kWh, or ``None`` if it is not supported."""
    return _unit_factor(unit, ENERGY_UNITS_TO_KWH, _ENERGY_UNITS_ANY_CASE)


def power_kw(raw: str | None, unit: str | None) -> float | None:
    """Return a power state in kW, or ``None`` when the state is not a number.

    Raises `UnsupportedUnitError` when the state is a number but ``unit`` (which
    may be ``None``) is not a power unit we know.
    """
    return _scaled(raw, unit, power_unit_factor, "power")


def energy_kwh(raw: str | None, unit: str | None) -> float | None:
    """Return an energy state in kWh, or ``None`` when the state is not a number.

    Raises `UnsupportedUnitError` when the state is a number but ``unit`` (which
    may be ``None``) is not an energy unit we know.
    """
    return _scaled(raw, unit, energy_unit_factor, "energy")


def _scaled(
    raw: str | None,
    unit: str | None,
    unit_factor: Callable[[str | None], float | None],
    quantity: str,
) -> float | None:
    """Parse ``raw`` and convert it by ``unit``'s factor; see `power_kw`."""
    value = parse_number(raw)
    if value is None:
        return None
    factor = unit_factor(unit)
    if factor is None:
        raise UnsupportedUnitError(unit, quantity)
    return value * factor


def _unit_factor(
    unit: str | None,
    exact: Mapping[str, float],
    any_case: Mapping[str, float],
) -> float | None:
    """Look ``unit`` up by exact spelling, then by its unambiguous lower case."""
    if not isinstance(unit, str):
        return None
    text = unit.strip()
    factor = exact.get(text)
    if factor is not None:
        return factor
    return any_case.get(text.lower())
