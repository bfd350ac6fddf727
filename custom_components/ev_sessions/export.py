"""Write finished sessions as CSV (for spreadsheets) or JSON (for programs).

Plain Python with no Home Assistant imports: the ``export_sessions`` service
selects the sessions (`session_query`), renders them here and writes the text
to a file.

**CSV** has one row per session, the columns of `CSV_COLUMNS` in that order
(a public contract: columns are added at the end, never renamed or moved),
then, unless left out, a totals row. It is written for spreadsheets:

* Two dialects (`CsvDialect`). ``international``: comma between fields, dot
  before decimals. ``nordic``: semicolon between fields, comma before
  decimals, as Excel and LibreOffice expect with Swedish, Norwegian, Danish,
  Finnish, German, French, ... locale settings (where the comma is the
  decimal separator, the list separator is the semicolon). Numbers have no
  thousands separator.
* The text starts with a UTF-8 byte order mark (U+FEFF): without it
  Excel reads a CSV file in the system's legacy code page and mangles å, ä, ö
  in names and notes. Write the text with ``encoding="utf-8"`` (not
  ``utf-8-sig``, which would add a second mark).
* Rows end with CRLF and fields are quoted only when they must be (they hold
  the separator, a double quote or a line break), as RFC 4180 says.
* Times are local, in the time zone given (Home Assistant's), as
  ``YYYY-MM-DD HH:MM:SS`` (the fraction of a second is dropped): every
  spreadsheet reads that as a date and time. The exact moments, with their
  UTC offset, are in the JSON export.
* Numbers are rounded half up (the way amounts are rounded on a receipt):
  durations in hours and energy in kWh to 3 decimals, power in kW to 3,
  amounts to 2 and prices per kWh (``avg_cost_per_kwh``, ``price_min``,
  ``price_max``) to 4. An unknown value is an empty cell.
* ``flags`` are joined with ``|``.
* Spreadsheet formula injection: a text cell (user, note, vehicle, ...) that
  starts with ``=``, ``+``, ``-`` or ``@`` (after any spaces), or with a tab
  or line break, gets a leading ``'`` so the spreadsheet shows it as text
  instead of running it as a formula (OWASP, "CSV Injection"). Number cells
  are never changed.
* The totals row has ``TOTAL`` in the ``id`` column; ``energy_kwh``,
  ``cost``, ``revenue``, ``margin`` and the revenue parts hold the sums of the
  exact values above (rounded once, so a total may differ by a cent from the
  sum of the rounded cells); ``currency`` holds the sessions' currency when
  they share one. A sum is empty when no session has the value. Other cells
  are empty.

**JSON** is ``{"sessions": [...], "totals": {...}}``: each session is its
record's ``to_dict`` (times in ISO 8601 with their offset, amounts to 6
decimals), pretty-printed, non-ASCII kept as is. It carries no export time,
so the same sessions always give the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import csv
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
import io
import json
import math
from typing import Any, Final

from .session import REVENUE_PARTS, SessionRecord, money_json

CSV_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "charger",
    "user",
    "started_at",
    "ended_at",
    "charging_started_at",
    "charging_ended_at",
    "duration_h",
    "charging_duration_h",
    "energy_kwh",
    "peak_power_kw",
    "avg_power_kw",
    "meter_start_kwh",
    "meter_end_kwh",
    "energy_source",
    "currency",
    "cost",
    "revenue",
    "margin",
    *REVENUE_PARTS,
    "avg_cost_per_kwh",
    "price_min",
    "price_max",
    "vehicle",
    "note",
    "flags",
    "edited_at",
)
"""The CSV columns, in order; see the README for each one's meaning and unit."""

TOTAL_ROW_ID: Final = "TOTAL"
"""The ``id`` cell of the totals row."""
FLAG_SEPARATOR: Final = "|"
BYTE_ORDER_MARK: Final = "\ufeff"
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"

DURATION_DECIMALS: Final = 3
ENERGY_DECIMALS: Final = 3
POWER_DECIMALS: Final = 3
MONEY_DECIMALS: Final = 2
PRICE_DECIMALS: Final = 4

# OWASP "CSV Injection": a cell starting with one of these may be run as a
# formula (after leading spaces) or start a new cell (tab, line break).
_FORMULA_STARTS: Final = ("=", "+", "-", "@")
_SEPARATOR_STARTS: Final = ("\t", "\r", "\n")
_SECONDS_PER_HOUR: Final = Decimal(3600)


class CsvDialect(StrEnum):
    """How fields and decimals are separated in the CSV."""

    INTERNATIONAL = "international"
    """Comma between fields, dot before decimals."""
    NORDIC = "nordic"
    """Semicolon between fields, comma before decimals (Swedish, German, ...)."""


_FIELD_SEPARATOR: Final = {CsvDialect.INTERNATIONAL: ",", CsvDialect.NORDIC: ";"}
_DECIMAL_SEPARATOR: Final = {CsvDialect.INTERNATIONAL: ".", CsvDialect.NORDIC: ","}


def sessions_csv(
    records: Sequence[SessionRecord],
    *,
    dialect: CsvDialect,
    time_zone: tzinfo,
    include_totals: bool = True,
) -> str:
    """Return ``records`` as CSV text: a header, one row each, a totals row.

    See the module for the format. Times are shown in ``time_zone``; the
    totals row is left out when ``include_totals`` is false.
    """
    cells = _Cells(_DECIMAL_SEPARATOR[dialect], time_zone)
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(
        buffer,
        delimiter=_FIELD_SEPARATOR[dialect],
        quotechar='"',
        quoting=csv.QUOTE_MINIMAL,
        lineterminator="\r\n",
    )
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_row(_session_cells(record, cells)) for record in records)
    if include_totals:
        writer.writerow(_row(_total_cells(records, cells)))
    return buffer.getvalue()


def sessions_json(
    records: Sequence[SessionRecord],
    *,
    include_curve: bool,
    totals: Mapping[str, Any],
) -> str:
    """Return ``records`` and ``totals`` as pretty-printed JSON text.

    ``totals`` is typically `QueryResult.totals`; a `Decimal` in it is written
    as a number with 6 decimals and a `datetime` in ISO 8601.
    """
    document = {
        "sessions": [record.to_dict(include_curve=include_curve) for record in records],
        "totals": dict(totals),
    }
    return (
        json.dumps(document, indent=2, ensure_ascii=False, default=_json_value) + "\n"
    )


def _json_value(value: Any) -> Any:
    """Return JSON data for a value `json` cannot write itself."""
    if isinstance(value, Decimal):
        return money_json(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")


@dataclass(frozen=True, slots=True)
class _Cells:
    """Turn values into CSV cells for one dialect and time zone."""

    decimal_separator: str
    time_zone: tzinfo

    def text(self, value: str | None) -> str:
        """Return text as a cell, neutralised if a spreadsheet could run it."""
        if value is None:
            return ""
        if value.lstrip().startswith(_FORMULA_STARTS) or value.startswith(
            _SEPARATOR_STARTS
        ):
            return f"'{value}"
        return value

    def time(self, value: datetime | None) -> str:
        """Return a moment as local time, to the second."""
        if value is None:
            return ""
        return value.astimezone(self.time_zone).strftime(TIME_FORMAT)

    def number(self, value: float | Decimal | None, decimals: int) -> str:
        """Return a number rounded half up to ``decimals``; empty if unknown."""
        if value is None:
            return ""
        amount = value if isinstance(value, Decimal) else Decimal(repr(value))
        if not amount.is_finite():
            return ""
        # Enough precision for every digit kept, so quantize never overflows it.
        context = Context(
            prec=max(amount.adjusted() + decimals + 2, 1), rounding=ROUND_HALF_UP
        )
        rounded = amount.quantize(Decimal(1).scaleb(-decimals), context=context)
        if rounded.is_zero():
            rounded = abs(rounded)  # "0.00", not "-0.00"
        return f"{rounded:f}".replace(".", self.decimal_separator)

    def hours(self, seconds: int) -> str:
        """Return a duration in seconds as hours."""
        return self.number(Decimal(seconds) / _SECONDS_PER_HOUR, DURATION_DECIMALS)

    def money(self, value: Decimal | None) -> str:
        """Return an amount."""
        return self.number(value, MONEY_DECIMALS)

    def annotation(self, value: Any) -> str:
        """Return a field that records may not have yet (vehicle, note, ...)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            return self.time(value)
        return self.text(str(value))


def _row(cells: Mapping[str, str]) -> list[str]:
    """Return the cells in `CSV_COLUMNS` order; a column not given is empty."""
    return [cells.get(column, "") for column in CSV_COLUMNS]


def _session_cells(record: SessionRecord, cells: _Cells) -> dict[str, str]:
    """Return one session's cells by column."""
    breakdown = record.revenue_breakdown
    return {
        "id": cells.text(record.id),
        "charger": cells.text(record.charger),
        "user": cells.text(record.user),
        "started_at": cells.time(record.started_at),
        "ended_at": cells.time(record.ended_at),
        "charging_started_at": cells.time(record.charging_started_at),
        "charging_ended_at": cells.time(record.charging_ended_at),
        "duration_h": cells.hours(record.duration_s),
        "charging_duration_h": cells.hours(record.charging_duration_s),
        "energy_kwh": cells.number(record.energy_kwh, ENERGY_DECIMALS),
        "peak_power_kw": cells.number(record.peak_power_kw, POWER_DECIMALS),
        "avg_power_kw": cells.number(record.avg_power_kw, POWER_DECIMALS),
        "meter_start_kwh": cells.number(record.meter_start_kwh, ENERGY_DECIMALS),
        "meter_end_kwh": cells.number(record.meter_end_kwh, ENERGY_DECIMALS),
        "energy_source": cells.text(record.energy_source),
        "currency": cells.text(record.currency),
        "cost": cells.money(record.cost),
        "revenue": cells.money(record.revenue),
        "margin": cells.money(record.margin),
        **{
            part: ""
            if breakdown is None
            else cells.money(breakdown.get(part, Decimal(0)))
            for part in REVENUE_PARTS
        },
        "avg_cost_per_kwh": cells.number(record.avg_cost_per_kwh, PRICE_DECIMALS),
        "price_min": cells.number(record.price_min, PRICE_DECIMALS),
        "price_max": cells.number(record.price_max, PRICE_DECIMALS),
        "vehicle": cells.annotation(getattr(record, "vehicle", None)),
        "note": cells.annotation(getattr(record, "note", None)),
        "flags": cells.text(FLAG_SEPARATOR.join(record.flags)),
        "edited_at": cells.annotation(getattr(record, "edited_at", None)),
    }


def _total_cells(records: Sequence[SessionRecord], cells: _Cells) -> dict[str, str]:
    """Return the totals row's cells by column (the others stay empty)."""
    currencies = {record.currency for record in records if record.currency}
    totals = {
        "id": TOTAL_ROW_ID,
        "energy_kwh": cells.number(
            math.fsum(record.energy_kwh for record in records), ENERGY_DECIMALS
        ),
        "currency": cells.text(next(iter(currencies))) if len(currencies) == 1 else "",
        "cost": cells.money(_sum(records, lambda record: record.cost)),
        "revenue": cells.money(_sum(records, lambda record: record.revenue)),
        "margin": cells.money(_sum(records, lambda record: record.margin)),
    }
    for part in REVENUE_PARTS:
        totals[part] = cells.money(_sum(records, _revenue_part(part)))
    return totals


def _revenue_part(part: str) -> Callable[[SessionRecord], Decimal | None]:
    """Return a function reading one revenue part of a record's breakdown."""

    def read(record: SessionRecord) -> Decimal | None:
        breakdown = record.revenue_breakdown
        return None if breakdown is None else breakdown.get(part, Decimal(0))

    return read


def _sum(
    records: Sequence[SessionRecord],
    amount: Callable[[SessionRecord], Decimal | None],
) -> Decimal | None:
    """Return the sum of the known amounts; ``None`` if none is known."""
    known = [value for record in records if (value := amount(record)) is not None]
    return sum(known, Decimal(0)) if known else None
