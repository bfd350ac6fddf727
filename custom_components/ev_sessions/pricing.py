"""Price a charging session: what its energy cost, and what the user pays.

Plain Python with no Home Assistant imports. Time is always passed in; nothing
here reads the clock. All amounts are in Home Assistant's currency, in major
units (SEK, EUR, ...), and energy is in kWh.

**Cost** is what the energy cost the owner. A `PriceTimeline` holds the cost
price in force over time (a step function, currency per kWh): one price since
the beginning of time for a fixed ``cost_per_kwh``, or the values of a price
entity (Nord Pool, Tibber, ENTSO-E, ...) as they change. Each energy increment
is priced at the prices in force while it was drawn::

    cost = sum(kwh_i * p_i)

where ``p_i`` is the *time-weighted average* price over the increment's
interval ``[start_i, end_i)``. A meter increment or an integrated-power
interval may span a price change (15-minute and hourly prices); its energy is
then split between the prices in proportion to time. That is exact when the
power was constant over the interval, and the best the data allows otherwise:
within one increment we do not know when the energy was drawn.

**Revenue** is what the user is charged, by a `Tariff`::

    session_fee            = fee_per_session
    energy_fee             = sum(kwh_i * (fee_per_kwh
                                          + markup_factor * p_i
                                          + markup_per_kwh))
                           = (fee_per_kwh + markup_per_kwh) * kwh
                             + markup_factor * cost
    time_fee               = fee_per_hour * charging_s / 3600
    idle_fee               = idle_fee_per_hour
                             * max(idle_s - idle_grace_minutes * 60, 0) / 3600
    minimum_fee_adjustment = max(minimum_fee - (session_fee + energy_fee
                                                + time_fee + idle_fee), 0)
    revenue                = the sum of the five

``charging_s`` counts charging time only (not plugged-in time), and
``idle_s`` the time plugged in after charging has *finally* ended (see
`idle_seconds`: a smart-charging pause between charging intervals is not
idle). ``markup_factor`` and ``markup_per_kwh`` make a spot-following tariff:
the per-kWh price follows the cost price. The tariff in force at session start
applies to the whole session: a `SessionBilling` keeps the `Tariff` it was made
with, and the record keeps it as a snapshot (`Tariff.to_dict`). Per-user
tariffs (`tariff_for_user`) replace the default one as a whole.

**Exactness.** Amounts are `Decimal` from the first multiplication to the
result: incoming floats are converted through their shortest ``repr`` (so
``0.1`` is exactly ``Decimal("0.1")``), price states are read straight from
their text, and time is counted in whole microseconds. The only rounding is
Decimal's own at 28 significant digits, where a division cannot be exact (an
increment split unevenly across a price change, ``/ 3600`` for a fee per
hour), far below any coin. The revenue's components add up to its total
without rounding, so a minimum fee tops up to exactly the minimum. Amounts
are rounded only at the edge, for JSON and display (`money`).

**Negative prices** are valid: spot prices fall below zero, and a session
charged at them has a negative cost. A spot-following energy fee can turn
negative too; the minimum fee (0 unless set) then keeps the revenue from
going below it, so a user is never paid to charge.

**Price gaps.** When the price entity becomes unavailable, the last known
price stays in force and the time until the next real price is a gap: energy
priced across it is flagged ``price_gap``. Energy drawn before the first price
is known is priced at the first known price (nothing better exists) and also
flagged ``price_gap``. Energy drawn while no price at all is known costs 0, its
energy fee ignores the markup factor, and the session is flagged ``no_price``.

**Price units.** `price_factor` turns a price entity's unit into a factor to
currency per kWh. It accepts the currency's code (any case), its symbol and
its minor unit, per Wh, kWh or MWh (see the tables below); a unit naming
another currency, or one we cannot read, raises `UnsupportedPriceUnitError`
(we never convert between currencies).

Bad data never raises from the data path: an unreadable number is ``None``, a
bad option is 0, an unusable energy increment is ignored. Constructors raise
``ValueError`` (or ``TypeError``) for programming errors, and the ``from_dict``
methods raise ``ValueError`` for malformed stored data, so the caller can log
it and start afresh.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    InvalidOperation,
)
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Final, NamedTuple

TARIFF_KEYS: Final = (
    "fee_per_session",
    "fee_per_kwh",
    "fee_per_hour",
    "idle_fee_per_hour",
    "idle_grace_minutes",
    "minimum_fee",
    "markup_factor",
    "markup_per_kwh",
)
"""The tariff's option keys, in order; also the keys of its record snapshot."""

# Tariff components that may be negative: a per-kWh discount. Every other
# component is a fee (or a factor, or minutes) and is at least 0.
_MAY_BE_NEGATIVE: Final = frozenset({"fee_per_kwh", "markup_per_kwh"})

FLAG_PRICE_GAP: Final = "price_gap"
"""Some energy was priced at a last known price, or before the first price."""
FLAG_NO_PRICE: Final = "no_price"
"""Some energy was drawn while no cost price at all was known."""

MAX_AMOUNT: Final = Decimal("1e12")
"""Numbers beyond this in size are not prices or fees: they are read as invalid.

It keeps absurd input (a state of "1e999999") from overflowing Decimal.
"""

_ZERO: Final = Decimal(0)
# Adds and subtracts without rounding: the revenue's parts then add up to its
# total exactly, and a minimum fee tops up to exactly the minimum.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_SECONDS_PER_HOUR: Final = Decimal(3600)
_SECONDS_PER_MINUTE: Final = Decimal(60)
_MICROSECOND: Final = timedelta(microseconds=1)
_SERIAL_VERSION: Final = 1

# ----------------------------------------------------------------- price units

PER_ENERGY_UNIT_TO_PER_KWH: Final[Mapping[str, Decimal]] = MappingProxyType(
    {"Wh": Decimal(1000), "kWh": Decimal(1), "MWh": Decimal("0.001")}
)
"""Factor from a price per each energy unit (exact spelling) to a price per kWh."""

# Lower-case spellings that cannot be misread; "mwh" is left out on purpose, as
# in units.py: milli and mega differ only by case.
_PER_ENERGY_UNIT_ANY_CASE: Final[Mapping[str, Decimal]] = MappingProxyType(
    {"wh": Decimal(1000), "kwh": Decimal(1)}
)

_DOLLARS: Final = frozenset({"USD", "AUD", "CAD", "NZD"})
_CROWNS: Final = frozenset({"SEK", "NOK", "DKK"})

MAJOR_UNIT_SYMBOLS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "€": frozenset({"EUR"}),
        "£": frozenset({"GBP"}),
        "$": _DOLLARS,
        "kr": _CROWNS,
        "kr.": _CROWNS,
    }
)
"""Symbols for a currency's major unit (case-insensitive), and the currencies
each may stand for. Every currency is also accepted by its own ISO 4217 code.
"$" is a dollar in any of the dollar currencies listed (Amber in Australia
reports "$/kWh"), "kr" a Swedish, Norwegian or Danish crown."""

MINOR_UNITS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "c": frozenset({"EUR"}) | _DOLLARS,
        "ct": frozenset({"EUR"}) | _DOLLARS,
        "cent": frozenset({"EUR"}) | _DOLLARS,
        "cents": frozenset({"EUR"}) | _DOLLARS,
        "¢": frozenset({"EUR"}) | _DOLLARS,
        "snt": frozenset({"EUR"}),  # Finnish "sentti"
        "öre": _CROWNS,
        "øre": _CROWNS,
        "ore": _CROWNS,
        "p": frozenset({"GBP"}),
        "pence": frozenset({"GBP"}),
    }
)
"""Names of a currency's minor unit (case-insensitive: "Öre" as the Nord Pool
integration writes it), and the currencies each may belong to. Each of these
currencies has 100 minor units to the major one."""

MINOR_UNIT_FACTOR: Final = Decimal("0.01")
"""A minor unit (cent, öre, penny) in major units."""


class UnsupportedPriceUnitError(ValueError):
    """A price entity's unit is not a price per energy in our currency."""

    def __init__(self, unit: str | None, currency: str) -> None:
        """Record the offending unit and the currency it should have named."""
        super().__init__(
            f"Unsupported price unit {unit!r}: expected a price in {currency} "
            "(or its minor unit) per Wh, kWh or MWh"
        )
        self.unit = unit
        self.currency = currency


def price_factor(unit: str | None, currency: str) -> Decimal:
    """Return the factor turning a price in ``unit`` into ``currency`` per kWh.

    ``unit`` is ``money/energy``, spaces allowed around the slash: for
    ``currency`` "SEK", "SEK/kWh" gives 1, "öre/kWh" 0.01, "SEK/MWh" 0.001,
    "öre/MWh" 0.00001 and "SEK/Wh" 1000. The money part is ``currency``'s code,
    one of its `MAJOR_UNIT_SYMBOLS` or one of its `MINOR_UNITS`, in any case;
    the energy part is one of `PER_ENERGY_UNIT_TO_PER_KWH`.

    Raises `UnsupportedPriceUnitError` for anything else: no unit, no energy
    part ("SEK", "%"), a time instead of an energy ("SEK/h"), or a unit of
    another currency ("EUR/MWh" when ``currency`` is "SEK").
    """
    if not isinstance(unit, str) or not isinstance(currency, str):
        raise UnsupportedPriceUnitError(unit, str(currency))
    code = currency.strip().upper()
    money_part, slash, energy_part = unit.partition("/")
    if not slash:
        raise UnsupportedPriceUnitError(unit, code)
    money_factor = _money_factor(money_part.strip(), code)
    energy_factor = _per_energy_factor(energy_part.strip())
    if money_factor is None or energy_factor is None:
        raise UnsupportedPriceUnitError(unit, code)
    return money_factor * energy_factor


def price_per_kwh(raw: str | None, unit: str | None, currency: str) -> Decimal | None:
    """Return a price entity's state in ``currency`` per kWh, or ``None``.

    ``None`` when the state is not a finite number ("unknown", "unavailable",
    "", text, "nan", "inf") or absurdly large. The number is read from its text
    exactly ("123.4" öre/kWh is exactly 1.234 SEK/kWh). Negative prices are
    valid. Raises `UnsupportedPriceUnitError`, as `price_factor` does, when the
    state is a number but ``unit`` is not one we can convert.
    """
    value = _decimal(raw)
    if value is None:
        return None
    return value * price_factor(unit, currency)


def _money_factor(money: str, currency: str) -> Decimal | None:
    """Return the factor from the money part of a unit to ``currency``, if any."""
    if money.upper() == currency:
        return Decimal(1)
    name = money.casefold()
    if currency in MAJOR_UNIT_SYMBOLS.get(name, ()):
        return Decimal(1)
    if currency in MINOR_UNITS.get(name, ()):
        return MINOR_UNIT_FACTOR
    return None


def _per_energy_factor(energy: str) -> Decimal | None:
    """Return the factor from a price per ``energy`` to a price per kWh, if any."""
    factor = PER_ENERGY_UNIT_TO_PER_KWH.get(energy)
    if factor is not None:
        return factor
    return _PER_ENERGY_UNIT_ANY_CASE.get(energy.lower())


# --------------------------------------------------------------------- tariffs


@dataclass(frozen=True, slots=True)
class Tariff:
    """What a user is charged for a session; see the module for the formulas.

    Amounts are in the currency's major units. ``fee_per_hour`` counts charging
    time, ``idle_fee_per_hour`` the time plugged in after charging has ended,
    beyond ``idle_grace_minutes``. The per-kWh price is
    ``fee_per_kwh + markup_factor * cost price + markup_per_kwh``.
    """

    fee_per_session: Decimal = _ZERO
    fee_per_kwh: Decimal = _ZERO
    fee_per_hour: Decimal = _ZERO
    idle_fee_per_hour: Decimal = _ZERO
    idle_grace_minutes: Decimal = _ZERO
    minimum_fee: Decimal = _ZERO
    markup_factor: Decimal = _ZERO
    markup_per_kwh: Decimal = _ZERO

    def __post_init__(self) -> None:
        """Check every component: a finite Decimal, and not negative if a fee.

        Raises ``TypeError`` for a component that is not a `Decimal` and
        ``ValueError`` for one that is not finite, beyond `MAX_AMOUNT`, or
        negative where only ``fee_per_kwh`` and ``markup_per_kwh`` may be.
        """
        for key in TARIFF_KEYS:
            value = getattr(self, key)
            if not isinstance(value, Decimal):
                raise TypeError(f"{key} must be a Decimal: {value!r}")
            if not value.is_finite() or abs(value) > MAX_AMOUNT:
                raise ValueError(f"{key} must be a finite amount: {value!r}")
            if value < 0 and key not in _MAY_BE_NEGATIVE:
                raise ValueError(f"{key} must not be negative: {value!r}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Tariff:
        """Read a tariff from options (the entry's, or a user's ``tariff``).

        Only `TARIFF_KEYS` are read; other keys are ignored. Each value may be
        a number or a numeric string. A missing, ``None``, empty or unreadable
        value (text, NaN, infinity, beyond `MAX_AMOUNT`) reads as 0: the
        options flow validates what it stores, so this only guards against
        damaged options, and charging nothing is the safe reading. A negative
        value reads as 0 too, except ``fee_per_kwh`` and ``markup_per_kwh``,
        which may be negative (a discount per kWh).
        """
        values: dict[str, Decimal] = {}
        for key in TARIFF_KEYS:
            value = _decimal(options.get(key))
            if value is None or value == 0:
                value = _ZERO  # also turns -0 into 0
            elif value < 0 and key not in _MAY_BE_NEGATIVE:
                value = _ZERO
            values[key] = value
        return cls(**values)

    def to_dict(self) -> dict[str, float]:
        """Return the tariff as JSON numbers keyed by `TARIFF_KEYS`.

        This is the session record's ``tariff`` snapshot; `from_options` reads
        it back to the same tariff (short decimals survive the float).
        """
        return {key: float(getattr(self, key)) for key in TARIFF_KEYS}

    @property
    def is_free(self) -> bool:
        """Return whether the tariff charges nothing, whatever the session.

        ``idle_grace_minutes`` alone charges nothing, so it does not count.
        """
        return all(
            getattr(self, key) == 0
            for key in TARIFF_KEYS
            if key != "idle_grace_minutes"
        )

    def energy_price(self, cost_price: Decimal | None) -> Decimal:
        """Return the per-kWh price charged when energy costs ``cost_price``.

        ``fee_per_kwh + markup_factor * cost_price + markup_per_kwh``; with no
        cost price known (``None``) the ``markup_factor`` term is left out.
        """
        price = self.fee_per_kwh + self.markup_per_kwh
        if cost_price is not None:
            price += self.markup_factor * cost_price
        return price


def tariff_for_user(
    default: Tariff, users: Sequence[Mapping[str, Any]], user: str | None
) -> Tariff:
    """Return the tariff for ``user``: their own if they have one, else ``default``.

    ``users`` are as stored in the options: ``{"name": ..., "tag": ...,
    "tariff": {TARIFF_KEYS...} | None}``. ``user`` is a session's user name (a
    tag already mapped to its user) or a raw tag. It is matched against every
    user's name first, then against every user's tag, exactly but ignoring
    case and surrounding spaces. A user's tariff replaces the default as a
    whole (keys it leaves out are 0). A user with no tariff (absent, ``None``
    or with no values), an unknown user, and no user at all get ``default``.
    Malformed user entries are skipped.
    """
    entry = find_user(users, user)
    return default if entry is None else _own_tariff(entry.get("tariff"), default)


def find_user(
    users: Sequence[Mapping[str, Any]],
    value: str | None,
    fields: tuple[str, ...] = ("name", "tag"),
) -> Mapping[str, Any] | None:
    """Return the configured user whose name (first) or tag is ``value``.

    Compared exactly but ignoring case and surrounding spaces; malformed user
    entries are skipped.
    """
    wanted = _user_key(value)
    if wanted is None:
        return None
    entries = [entry for entry in users if isinstance(entry, Mapping)]
    for field_name in fields:
        for entry in entries:
            if _user_key(entry.get(field_name)) == wanted:
                return entry
    return None


def _user_key(value: Any) -> str | None:
    """Return a user name or tag as compared: stripped and case-folded."""
    if not isinstance(value, str):
        return None
    key = value.strip().casefold()
    return key or None


def _own_tariff(options: Any, default: Tariff) -> Tariff:
    """Return the tariff in a user's ``tariff`` options, or ``default`` if none."""
    if not isinstance(options, Mapping):
        return default
    if all(options.get(key) in (None, "") for key in TARIFF_KEYS):
        return default
    return Tariff.from_options(options)


# ---------------------------------------------------------------- price timeline


class PriceChange(NamedTuple):
    """From ``at`` on, ``price`` is in force; ``gap``: it is a last known price."""

    at: datetime
    price: Decimal
    gap: bool


class PricedInterval(NamedTuple):
    """The prices in force over an interval, as `PriceTimeline.prices_over` finds.

    ``weighted`` is the sum of each price times the microseconds it was in
    force, over ``micros`` microseconds (1 for an instant); ``gap`` whether any
    of it was a gap or before the first price; ``low`` and ``high`` the lowest
    and highest price in force.
    """

    weighted: Decimal
    micros: int
    gap: bool
    low: Decimal
    high: Decimal

    @property
    def average(self) -> Decimal:
        """The time-weighted average price; exactly the price if only one."""
        if self.low == self.high:
            return self.low
        return self.weighted / self.micros

    def cost(self, kwh: Decimal) -> Decimal:
        """Return what ``kwh`` drawn at constant power over the interval cost.

        ``kwh * weighted / micros``: one division, so a cost that is a short
        decimal comes out exactly.
        """
        if self.low == self.high:
            return kwh * self.low
        return kwh * self.weighted / self.micros


class PriceTimeline:
    """Cost prices in force over time (currency per kWh): a step function.

    Each `PriceChange` holds until the next one; the last holds on. Before the
    first change no price is known.
    """

    def __init__(self) -> None:
        """Start with no price known."""
        self._changes: list[PriceChange] = []

    @property
    def changes(self) -> tuple[PriceChange, ...]:
        """The price changes kept, oldest first."""
        return tuple(self._changes)

    def set_price(self, price: Decimal | None, at: datetime) -> None:
        """Put ``price`` in force from ``at`` on; ``None`` means unavailable.

        While unavailable, the last known price stays in force and the time
        until the next real price is a gap. An unavailable price before any
        real one changes nothing (that time is before the first price anyway).
        A price that is not a finite number counts as unavailable. A time
        before the last change (a clock that went back) is taken as the last
        change's time, and a change at the same time as the last replaces it.
        A time without a time zone is ignored.
        """
        if not _aware(at):
            return
        value = _decimal(price)
        changes = self._changes
        if changes:
            last = changes[-1]
            at = max(at, last.at)
            if value is None:
                change = PriceChange(at, last.price, True)
            else:
                change = PriceChange(at, value, False)
            if at == last.at:
                changes.pop()
        elif value is None:
            return
        else:
            change = PriceChange(at, value, False)
        if changes and changes[-1][1:] == change[1:]:
            return  # the same price, still (or again) in force: no change
        changes.append(change)

    def price_at(self, at: datetime) -> Decimal | None:
        """Return the price in force at ``at``: the last known one in a gap.

        ``None`` before the first price is known (or for a time without a
        time zone).
        """
        index = self._index_at(at)
        return None if index is None or index < 0 else self._changes[index].price

    def average(
        self, start: datetime, end: datetime
    ) -> tuple[Decimal | None, bool, Decimal | None, Decimal | None]:
        """Return the prices over ``[start, end)``: ``(average, gap, low, high)``.

        ``average`` is the time-weighted average price, ``gap`` whether any
        part of the interval lies in a gap or before the first price (priced at
        the first known price then), and ``low``/``high`` the lowest and
        highest price in force over it. When ``end <= start`` (an instantaneous
        increment) all three are the price at ``start``. With no price known
        at all (or times without a time zone): ``(None, True, None, None)``.
        """
        priced = self.prices_over(start, end)
        if priced is None:
            return None, True, None, None
        return priced.average, priced.gap, priced.low, priced.high

    def prices_over(self, start: datetime, end: datetime) -> PricedInterval | None:
        """Return the prices in force over ``[start, end)``, or ``None`` if none.

        As `average`, but keeping the time-weighted sum undivided, so that
        `PricedInterval.cost` divides only once.
        """
        changes = self._changes
        index = self._index_at(start)
        if index is None or not changes or not _aware(end):
            return None
        if end <= start:
            if index < 0:
                first_price = changes[0].price
                return PricedInterval(first_price, 1, True, first_price, first_price)
            change = changes[index]
            return PricedInterval(
                change.price, 1, change.gap, change.price, change.price
            )

        pieces: list[tuple[Decimal, int]] = []  # (price, microseconds)
        gap = False
        cursor = start
        if index < 0:
            # Before the first price: nothing better than the first one.
            first = changes[0]
            cursor = min(end, first.at)
            pieces.append((first.price, _microseconds(start, cursor)))
            gap = True
            index = 0
        while cursor < end:
            change = changes[index]
            following = index + 1
            piece_end = (
                end if following == len(changes) else min(end, changes[following].at)
            )
            pieces.append((change.price, _microseconds(cursor, piece_end)))
            gap = gap or change.gap
            cursor = piece_end
            index = following

        return PricedInterval(
            weighted=sum((price * micros for price, micros in pieces), _ZERO),
            micros=sum(micros for _, micros in pieces),
            gap=gap,
            low=min(price for price, _ in pieces),
            high=max(price for price, _ in pieces),
        )

    def forget_before(self, at: datetime) -> None:
        """Drop the changes that stopped being in force before ``at``.

        The change in force at ``at`` and all later ones are kept, so prices
        from ``at`` on are unaffected: call it with the start of the oldest
        interval still to be priced, to keep memory bounded. Times before
        ``at`` then read as before the first price. A time without a time
        zone is ignored.
        """
        index = self._index_at(at)
        if index is not None and index > 0:
            del self._changes[:index]

    def _index_at(self, at: datetime) -> int | None:
        """Return the index of the change in force at ``at``; -1 before any.

        ``None`` for a time without a time zone.
        """
        if not _aware(at):
            return None
        return bisect_right(self._changes, at, key=_change_time) - 1

    def to_dict(self) -> dict[str, Any]:
        """Return the timeline as JSON-serialisable data (prices as exact text)."""
        return {
            "version": _SERIAL_VERSION,
            "changes": [
                [change.at.isoformat(), str(change.price), change.gap]
                for change in self._changes
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceTimeline:
        """Rebuild a timeline from `to_dict` output.

        Raises ``ValueError`` when the data is malformed, so the caller can log
        it and start with no price known.
        """
        try:
            changes = [_stored_change(item) for item in data.get("changes", ())]
        except (TypeError, ValueError, AttributeError, InvalidOperation) as err:
            raise ValueError(f"Malformed price timeline: {err!r}") from err
        for before, after in pairwise(changes):
            if not before.at < after.at:
                raise ValueError("Malformed price timeline: changes out of order")
        timeline = cls()
        timeline._changes = changes
        return timeline


def _change_time(change: PriceChange) -> datetime:
    """Return when a change took effect (the bisection key)."""
    return change.at


def _stored_change(item: Any) -> PriceChange:
    """Return a stored ``[iso time, price text, gap]`` as a `PriceChange`."""
    at_text, price_text, gap = item
    if not isinstance(at_text, str) or not isinstance(gap, bool):
        raise TypeError(f"not a stored price change: {item!r}")
    at = datetime.fromisoformat(at_text)
    if not _aware(at):
        raise ValueError(f"time without a time zone: {at_text!r}")
    return PriceChange(at, _stored_decimal(price_text), gap)


# --------------------------------------------------------------------- billing

JSON_MONEY_DIGITS: Final = 6
"""Decimals kept when an amount becomes a JSON number (as ``session.MONEY_DIGITS``)."""


@dataclass(frozen=True, slots=True)
class RevenueBreakdown:
    """A session's revenue, by tariff component; see the module's formulas."""

    session_fee: Decimal
    energy_fee: Decimal
    time_fee: Decimal
    idle_fee: Decimal
    minimum_fee_adjustment: Decimal

    @property
    def total(self) -> Decimal:
        """The revenue: the sum of the components, exactly."""
        return _exact_sum(
            self.session_fee,
            self.energy_fee,
            self.time_fee,
            self.idle_fee,
            self.minimum_fee_adjustment,
        )

    def to_dict(self) -> dict[str, float]:
        """Return the components as JSON numbers: the record's ``revenue_breakdown``.

        Rounded half-even to `JSON_MONEY_DIGITS` decimals, as the record's
        other amounts.
        """
        return {
            item.name: _money(getattr(self, item.name), JSON_MONEY_DIGITS)
            for item in fields(self)
        }


class SessionBilling:
    """Cost and revenue of one session, accumulated as its energy is drawn.

    It keeps tariff-free sums (energy, cost, priced energy), so the energy fee
    is always the module's formula over the whole session under ``tariff``.
    """

    def __init__(self, tariff: Tariff) -> None:
        """Start a session billed under ``tariff`` (the one in force at its start)."""
        if not isinstance(tariff, Tariff):
            raise TypeError(f"not a Tariff: {tariff!r}")
        self.tariff = tariff
        self.energy_kwh = _ZERO  # all energy billed
        self.priced_kwh = _ZERO  # the part drawn at a known cost price
        self.cost = _ZERO  # sum of kwh * cost price in force
        self.price_min: Decimal | None = None
        self.price_max: Decimal | None = None
        self._flags: set[str] = set()

    @property
    def flags(self) -> frozenset[str]:
        """``price_gap`` and/or ``no_price``, when energy was priced so."""
        return frozenset(self._flags)

    @property
    def energy_fee(self) -> Decimal:
        """The energy fee so far: ``sum(kwh_i * tariff.energy_price(p_i))``.

        As the per-kWh price is linear in the cost price, that is
        ``(fee_per_kwh + markup_per_kwh) * energy_kwh + markup_factor * cost``
        (energy drawn with no price known adds to ``energy_kwh`` only).
        """
        return _energy_fee(self.tariff, self.energy_kwh, self.cost)

    @property
    def avg_cost_per_kwh(self) -> Decimal | None:
        """The average cost price of the priced energy; ``None`` with none priced."""
        if self.priced_kwh == 0:
            return None
        return self.cost / self.priced_kwh

    def add_energy(
        self,
        kwh: float,
        start: datetime,
        end: datetime,
        prices: PriceTimeline | None,
    ) -> None:
        """Bill ``kwh`` drawn over ``[start, end)`` at the prices then in force.

        ``prices`` is ``None`` when no cost price is configured at all: the
        energy is billed at the tariff's per-kWh price without a markup
        factor, and neither costs anything nor raises a flag (the caller
        reports no cost). A fixed cost price is a `PriceTimeline` with that
        price set at a time before any session. The energy is priced at the
        time-weighted average price over the interval (see the module); with
        ``end <= start``, at the price at ``start``.

        ``kwh`` that is not a positive finite number is ignored: negative
        energy is never billed. Times without a time zone find no price
        (``no_price``), as with an empty timeline.
        """
        energy = _decimal(kwh)
        if energy is None or energy <= 0:
            return
        self.energy_kwh += energy
        if prices is None:
            return
        priced = prices.prices_over(start, end)
        if priced is None:
            self._flags.add(FLAG_NO_PRICE)
            return
        if priced.gap:
            self._flags.add(FLAG_PRICE_GAP)
        self.priced_kwh += energy
        self.cost += priced.cost(energy)
        low, high = priced.low, priced.high
        self.price_min = low if self.price_min is None else min(self.price_min, low)
        self.price_max = high if self.price_max is None else max(self.price_max, high)

    def revenue(self, *, charging_s: float, idle_s: float) -> RevenueBreakdown:
        """Return what the session is charged, by component.

        ``charging_s`` is the session's charging time and ``idle_s`` its idle
        time (`idle_seconds`), both in seconds; anything but a positive finite
        number counts as 0. A recorded session always pays its session fee.
        """
        return _revenue(self.tariff, self.energy_fee, charging_s, idle_s)

    def revenue_total_later(
        self, *, charging_s: float, idle_s: float
    ) -> Callable[[], Decimal]:
        """Return what `revenue(...).total` is now, counted when first called.

        The exact Decimal sums cost more than the rest of a session's live
        view, and most readers of the view do not need them. The energy and
        cost are taken now, so a later call still counts this moment.
        """
        return _RevenueLater(
            self.tariff, self.energy_kwh, self.cost, charging_s, idle_s
        )

    def with_tariff(self, tariff: Tariff) -> SessionBilling:
        """Return a copy billed under ``tariff`` instead, with the same energy.

        For a session whose user (and so their tariff) becomes known after the
        car was plugged in: the whole session is then billed under the user's
        tariff, exactly, energy drawn so far included.
        """
        billing = SessionBilling(tariff)
        billing.energy_kwh = self.energy_kwh
        billing.priced_kwh = self.priced_kwh
        billing.cost = self.cost
        billing.price_min = self.price_min
        billing.price_max = self.price_max
        billing._flags = set(self._flags)
        return billing

    def to_dict(self) -> dict[str, Any]:
        """Return the state as JSON-serialisable data, amounts as exact text.

        For persisting an active session; `from_dict` reads it back exactly.
        """
        return {
            "version": _SERIAL_VERSION,
            "tariff": {key: str(getattr(self.tariff, key)) for key in TARIFF_KEYS},
            "energy_kwh": str(self.energy_kwh),
            "priced_kwh": str(self.priced_kwh),
            "cost": str(self.cost),
            "price_min": _optional_text(self.price_min),
            "price_max": _optional_text(self.price_max),
            "flags": sorted(self._flags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionBilling:
        """Rebuild a session's billing from `to_dict` output.

        Only ``tariff`` is required; missing amounts are 0. Raises
        ``ValueError`` when the data is malformed, so the caller can log it.
        """
        try:
            return cls._read(data)
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            InvalidOperation,
        ) as err:
            raise ValueError(f"Malformed session billing: {err!r}") from err

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> SessionBilling:
        """Do the work of `from_dict`; raise on the first malformed value."""
        stored_tariff = data["tariff"]
        tariff = Tariff(
            **{key: _stored_decimal(stored_tariff.get(key, "0")) for key in TARIFF_KEYS}
        )
        billing = cls(tariff)
        billing.energy_kwh = _stored_decimal(data.get("energy_kwh", "0"))
        billing.priced_kwh = _stored_decimal(data.get("priced_kwh", "0"))
        billing.cost = _stored_decimal(data.get("cost", "0"))
        billing.price_min = _optional_stored_decimal(data.get("price_min"))
        billing.price_max = _optional_stored_decimal(data.get("price_max"))
        flags = data.get("flags", [])
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise TypeError(f"flags are not a list of strings: {flags!r}")
        billing._flags = set(flags)
        return billing


def idle_seconds(charging_ended_at: datetime | None, ended_at: datetime) -> float:
    """Return how long the car stayed plugged in after charging finally ended.

    ``charging_ended_at`` is the end of the session's *last* charging interval:
    a smart-charging pause between intervals is not idle time. ``None`` (it
    never charged) gives 0, as does an end before it or times that cannot be
    compared (one without a time zone).
    """
    if charging_ended_at is None:
        return 0.0
    try:
        seconds = (ended_at - charging_ended_at).total_seconds()
    except TypeError:
        return 0.0
    return max(seconds, 0.0)


def money(value: Decimal | None, digits: int = 4) -> float | None:
    """Return an amount for JSON or display: rounded half-even to ``digits``.

    ``None`` for ``None`` or a value that is not a finite number.
    """
    if value is None or not value.is_finite():
        return None
    return _money(value, digits)


def _money(value: Decimal, digits: int) -> float:
    """Round a finite amount half-even to ``digits`` decimals, as a float."""
    # Enough precision for every digit kept, so quantize never overflows it.
    context = Context(
        prec=max(value.adjusted() + digits + 2, 1), rounding=ROUND_HALF_EVEN
    )
    rounded = value.quantize(Decimal(1).scaleb(-digits), context=context)
    return float(rounded) + 0.0  # no -0.0


# --------------------------------------------------------------------- helpers


class _RevenueLater:
    """A session's revenue total at one moment, summed when first called.

    (A plain class: `functools.cache` costs more to create than it saves.)
    """

    __slots__ = ("_args", "_total")

    def __init__(
        self,
        tariff: Tariff,
        energy_kwh: Decimal,
        cost: Decimal,
        charging_s: float,
        idle_s: float,
    ) -> None:
        self._args = (tariff, energy_kwh, cost, charging_s, idle_s)
        self._total: Decimal | None = None

    def __call__(self) -> Decimal:
        if self._total is None:
            tariff, energy_kwh, cost, charging_s, idle_s = self._args
            energy_fee = _energy_fee(tariff, energy_kwh, cost)
            self._total = _revenue(tariff, energy_fee, charging_s, idle_s).total
        return self._total


def _energy_fee(tariff: Tariff, energy_kwh: Decimal, cost: Decimal) -> Decimal:
    """``(fee_per_kwh + markup_per_kwh) * energy_kwh + markup_factor * cost``."""
    return (
        tariff.fee_per_kwh + tariff.markup_per_kwh
    ) * energy_kwh + tariff.markup_factor * cost


def _revenue(
    tariff: Tariff, energy_fee: Decimal, charging_s: float, idle_s: float
) -> RevenueBreakdown:
    """What a session is charged, by component (see `SessionBilling.revenue`).

    A fee the tariff does not charge is 0 without turning durations into
    Decimals (most tariffs charge neither by the hour nor for idling).
    """
    session_fee = tariff.fee_per_session
    time_fee = _ZERO
    if tariff.fee_per_hour:
        time_fee = tariff.fee_per_hour * _non_negative(charging_s) / _SECONDS_PER_HOUR
    idle_fee = _ZERO
    if tariff.idle_fee_per_hour:
        billable_idle = max(
            _non_negative(idle_s) - tariff.idle_grace_minutes * _SECONDS_PER_MINUTE,
            _ZERO,
        )
        idle_fee = tariff.idle_fee_per_hour * billable_idle / _SECONDS_PER_HOUR
    charged = _exact_sum(session_fee, energy_fee, time_fee, idle_fee)
    return RevenueBreakdown(
        session_fee=session_fee,
        energy_fee=energy_fee,
        time_fee=time_fee,
        idle_fee=idle_fee,
        minimum_fee_adjustment=max(_EXACT.subtract(tariff.minimum_fee, charged), _ZERO),
    )


def _decimal(value: Any) -> Decimal | None:
    """Return ``value`` as an exact finite Decimal, or ``None`` if it is none.

    Reads Decimals, ints, floats (through their shortest ``repr``, so 0.1 is
    exactly 0.1) and numeric strings (surrounding spaces and exponents allowed;
    no digit separators, as in ``units.parse_number``). Booleans, text, NaN,
    infinities and numbers beyond `MAX_AMOUNT` in size are ``None``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or "_" in text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or abs(number) > MAX_AMOUNT:
        return None
    return number


def _exact_sum(*amounts: Decimal) -> Decimal:
    """Return the sum of ``amounts`` without rounding."""
    total = _ZERO
    for amount in amounts:
        total = _EXACT.add(total, amount)
    return total


def _non_negative(value: float) -> Decimal:
    """Return a duration as a Decimal; anything but a positive number is 0."""
    number = _decimal(value)
    return number if number is not None and number > 0 else _ZERO


def _microseconds(start: datetime, end: datetime) -> int:
    """Return the whole microseconds from ``start`` to ``end``."""
    return (end - start) // _MICROSECOND


def _aware(at: Any) -> bool:
    """Return whether ``at`` is a datetime with a time zone."""
    return isinstance(at, datetime) and at.utcoffset() is not None


def _stored_decimal(value: Any) -> Decimal:
    """Return a stored amount (exact text) as a Decimal; raise if it is not one."""
    if not isinstance(value, str):
        raise TypeError(f"not a stored amount: {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return number


def _optional_stored_decimal(value: Any) -> Decimal | None:
    """Return a stored amount, or ``None`` when absent."""
    return None if value is None else _stored_decimal(value)


def _optional_text(value: Decimal | None) -> str | None:
    """Return an amount as exact text, or ``None``."""
    return None if value is None else str(value)
