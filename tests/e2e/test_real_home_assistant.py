"""ev_sessions in a real Home Assistant process, seen through its APIs and a browser.

Not run by the in-process harness legs (marker ``e2e``); scripts/test runs
it in the development environment (.venv/dev), alone with::

    EV_SESSIONS_E2E=only scripts/test

One accelerated session of the simulated charger (plug in, charge, smart-
charging pause, charge, taper, complete, unplug) must come out of the real
process as: a loaded config entry, the ``ev_sessions_session_ended`` event
with plausible figures, entity states that agree with it, history over the
REST API, and rows in the SQLite database (states, the event, short-term
statistics of the total energy). Headless Chromium (if installed) saves
screenshots to artifacts/screenshots/ (or $EV_SESSIONS_ARTIFACTS/screenshots/)
and fails on error texts or missing entities:

* device_page_charging.png: the charger's device page during the session;
* device_page_finished.png: the same page after the session;
* energy_dashboard.png: the Energy dashboard (the charger as a device);
* ev_demo_dashboard.png: the "EV demo" dashboard of config/.

Home Assistant's log and the run's timings go to artifacts/e2e/.

Short-term statistics are compiled by the recorder on its own timer, every
five minutes of wall time (at :00:10, :05:10, ...). The test waits for that
compile's ``recorder_5min_statistics_generated`` event, so it takes between
about 4 and 6 minutes depending on when in the five-minute cycle it starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import re
import shutil
import sqlite3
import time
from typing import Any
from urllib.parse import quote
import warnings

import pytest

from .headless_chromium import BrowserError, HeadlessChromium, find_chromium
from .real_home_assistant import REPO_ROOT, RealHomeAssistant

pytestmark = pytest.mark.e2e

# The whole test, Home Assistant's start and the statistics wait included.
TEST_BUDGET_S = 9 * 60
START_TIMEOUT_S = 120
SESSION_TIMEOUT_S = 300

ARTIFACTS = Path(os.environ.get("EV_SESSIONS_ARTIFACTS") or REPO_ROOT / "artifacts")
SCREENSHOTS = ARTIFACTS / "screenshots"
# Home Assistant's log and the timings of the last run.
RUN_RECORD = ARTIFACTS / "e2e"

# The demo's simulator, but no looping: the test starts its one session.
SIMULATOR_YAML = """\
time_scale: 60
loop: false
max_power_kw: 11
battery_kwh: 64
idle_minutes: 30
"""
# About three and a half real minutes at time_scale 60: 5 s awaiting start,
# 63 s at 11 kW, a 75 s smart-charging pause (longer than ev_sessions' 60 s
# charging-stop delay, so it counts as a pause), 40 s of taper from 80 to
# 90 %, 20 s completed, unplug.
SESSION_PLAN = {
    "start_soc": 62,
    "target_soc": 90,
    "pause_at_soc": 80,
    "pause_minutes": 75,
    "completed_minutes": 20,
}
MAX_POWER_KW = 11.0

CHARGER = "sensor.garage_charger"
STATUS = f"{CHARGER}_status"
SESSION_ENERGY = f"{CHARGER}_session_energy"
LAST_SESSION_ENERGY = f"{CHARGER}_last_session_energy"
TOTAL_ENERGY = f"{CHARGER}_total_energy"
SESSIONS = f"{CHARGER}_sessions"
SESSION_EVENT = "event.garage_charger_session"
SIM_STATUS = "sensor.charger_status"
SIM_POWER = "sensor.charger_power"
SIM_METER = "sensor.charger_lifetime_energy"

# What the device page must show: the names of ev_sessions' entities.
DEVICE_PAGE_NAMES = [
    "Status",
    "Session energy",
    "Session duration",
    "Session peak power",
    "Last session energy",
    "Total energy",
    "Sessions",
    "Session",
    "Estimated end of charging",
    "Energy this month",
    "Anna energy this month",
]
# Texts that mean something is broken on a page.
ERROR_PATTERNS = [
    r"Entity not available",
    r"Unable to connect",
    r"Something went wrong",
    r"\bError\b",
    r"\bUnavailable\b",
    r"\bUnknown error\b",
    r"Failed to",
]

EVENT_ENDED = "ev_sessions_session_ended"
EVENT_STARTED = "ev_sessions_session_started"
EVENT_STATISTICS = "recorder_5min_statistics_generated"


# Shown by design: the estimated end is unavailable while the car does not charge.
EXPECTED_UNAVAILABLE = re.compile(r"Estimated end of charging\s+Unavailable")


def _errors_in(text: str) -> list[str]:
    text = EXPECTED_UNAVAILABLE.sub("", text)
    return [pattern for pattern in ERROR_PATTERNS if re.search(pattern, text)]


async def _next_event(
    queue: asyncio.Queue[dict[str, Any]], what: str, timeout_s: float
) -> dict[str, Any]:
    try:
        async with asyncio.timeout(timeout_s):
            return await queue.get()
    except TimeoutError:
        raise AssertionError(f"no {what} within {timeout_s:.0f} s") from None


async def _wait_state(
    ha: RealHomeAssistant, entity_id: str, predicate: Any, what: str, timeout_s: float
) -> dict[str, Any]:
    state: dict[str, Any] = {}
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                ha.check_alive()
                state = await ha.state(entity_id)
                if predicate(state):
                    return state
                await asyncio.sleep(1)
    except TimeoutError:
        raise AssertionError(
            f"{entity_id}: {what} not seen within {timeout_s:.0f} s; last {state}"
        ) from None


def _number(state: dict[str, Any]) -> float | None:
    try:
        return float(state["state"])
    except (TypeError, ValueError):
        return None


@contextlib.contextmanager
def _database(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


class Timings:
    """Seconds from the test's start at which each milestone was reached."""

    def __init__(self) -> None:
        """Start the clock."""
        self._start = time.monotonic()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        """Remember when `name` happened."""
        self.marks[name] = round(time.monotonic() - self._start, 1)


async def test_session_in_real_home_assistant(tmp_path: Path) -> None:
    """One simulated session, end to end: APIs, database, pages."""
    timings = Timings()
    ha = RealHomeAssistant(tmp_path)
    chromium_path = find_chromium()
    browser = (
        HeadlessChromium(chromium_path, tmp_path) if chromium_path is not None else None
    )
    exit_code: int | None = None
    try:
        async with asyncio.timeout(TEST_BUDGET_S):
            await _run(ha, browser, timings)
            if browser is not None:
                await browser.stop()
                browser = None
            exit_code = await ha.stop()
            timings.mark("home_assistant_stopped")
    except TimeoutError:
        pytest.fail(
            f"the test took more than {TEST_BUDGET_S} s; reached {timings.marks}\n"
            + ha.log_tail()
        )
    finally:
        if browser is not None:
            await browser.stop()
        await ha.stop()
        _keep_run_record(ha, timings)

    assert exit_code == 0, f"Home Assistant stopped with {exit_code}\n{ha.log_tail()}"
    _check_database(ha.config_dir / "home-assistant_v2.db")
    _check_log(ha.log_path)
    if chromium_path is None:
        warnings.warn(
            "Chromium is not installed: the screenshots were skipped (install"
            " Debian's chromium package, or let scripts/test do it as root)",
            stacklevel=1,
        )


async def _run(
    ha: RealHomeAssistant, browser: HeadlessChromium | None, timings: Timings
) -> None:
    ha.prepare(SIMULATOR_YAML)
    await ha.start(START_TIMEOUT_S)
    timings.mark("home_assistant_running")
    print(f"\nHome Assistant ran after {ha.start_seconds:.1f} s at {ha.base_url}")

    # The config entry loaded, and its entities sit on the charger's device.
    entries = await ha.ws("config_entries/get", domain="ev_sessions")
    assert [entry["state"] for entry in entries] == ["loaded"], entries
    registry = await ha.ws("config/entity_registry/list")
    ours = [e for e in registry if e["platform"] == "ev_sessions"]
    charger_devices = {
        e["device_id"] for e in registry if e["platform"] == "ev_charger_sim"
    }
    # At least these (later features add more).
    expected = {
        STATUS,
        SESSION_ENERGY,
        LAST_SESSION_ENERGY,
        TOTAL_ENERGY,
        SESSIONS,
        SESSION_EVENT,
    }
    assert expected <= {e["entity_id"] for e in ours}, [e["entity_id"] for e in ours]
    device_ids = {e["device_id"] for e in ours}
    assert len(device_ids) == 1 and None not in device_ids, ours
    device_id = device_ids.pop()
    assert device_id in charger_devices, (
        "ev_sessions' entities are not on the charger's device"
    )

    # The Energy dashboard shows ev_sessions' total energy as a device.
    prefs = await ha.ws("energy/get_prefs")
    assert [d["stat_consumption"] for d in prefs["device_consumption"]] == [
        TOTAL_ENERGY
    ], prefs

    ended = await ha.subscribe_events(EVENT_ENDED)
    started = await ha.subscribe_events(EVENT_STARTED)
    statistics = await ha.subscribe_events(EVENT_STATISTICS)
    before = datetime.now(UTC) - timedelta(seconds=5)
    meter_before = _number(await ha.state(SIM_METER))

    await ha.rest("POST", "/api/services/ev_charger_sim/start_session", SESSION_PLAN)
    await _next_event(started, EVENT_STARTED, 30)
    timings.mark("session_started")

    # Live: charging, with energy counted (entities publish every 30 s).
    await _wait_state(ha, STATUS, lambda s: s["state"] == "charging", "charging", 60)
    await _wait_state(
        ha, SESSION_ENERGY, lambda s: (_number(s) or 0) > 0, "session energy", 60
    )
    await _wait_state(
        ha, SIM_POWER, lambda s: (_number(s) or 0) > 10_000, "full power", 30
    )
    if browser is not None:
        await browser.start()
        await browser.log_in(ha.base_url, ha.tokens)
        await _device_page(
            browser, ha, device_id, "device_page_charging.png", ["Charging"]
        )
        timings.mark("screenshot_charging")

    ended_event = await _next_event(ended, EVENT_ENDED, SESSION_TIMEOUT_S)
    timings.mark("session_ended")
    record = ended_event["data"]
    meter_after = _number(await ha.state(SIM_METER))
    _check_record(record, meter_before, meter_after)

    # The entities agree with the record.
    await _wait_state(ha, STATUS, lambda s: s["state"] == "idle", "idle", 30)
    last = await _wait_state(
        ha, LAST_SESSION_ENERGY, lambda s: _number(s) is not None, "a value", 30
    )
    assert _number(last) == pytest.approx(record["energy_kwh"], abs=0.001)
    assert (await ha.state(SESSIONS))["state"] == "1"
    total = _number(await ha.state(TOTAL_ENERGY))
    assert total == pytest.approx(record["energy_kwh"], abs=0.001)
    event_state = await ha.state(SESSION_EVENT)
    assert event_state["attributes"]["event_type"] == "session_ended", event_state
    await _check_cost(ha, record)

    # History over the REST API: the status went through charging to idle.
    history = await ha.rest(
        "GET",
        f"/api/history/period/{quote(before.isoformat())}"
        f"?filter_entity_id={STATUS},{SIM_POWER}&minimal_response",
    )
    by_entity = {rows[0]["entity_id"]: rows for rows in history if rows}
    status_states = [row["state"] for row in by_entity[STATUS]]
    assert "charging" in status_states and status_states[-1] == "idle", status_states
    powers = [_number(row) for row in by_entity[SIM_POWER]]
    assert max(power or 0.0 for power in powers) > 10_000, powers

    if browser is not None:
        await _device_page(browser, ha, device_id, "device_page_finished.png", ["Idle"])
        await _energy_dashboard(browser, ha)
        await _demo_dashboard(browser, ha)
        timings.mark("screenshots_done")

    # Short-term statistics: wait for the recorder's own five-minute compile.
    await _next_event(statistics, EVENT_STATISTICS, 6 * 60)
    timings.mark("statistics_compiled")


def _keep_run_record(ha: RealHomeAssistant, timings: Timings) -> None:
    """Keep Home Assistant's log and the timings with the screenshots."""
    RUN_RECORD.mkdir(parents=True, exist_ok=True)
    (RUN_RECORD / "timings.json").write_text(
        json.dumps({"home_assistant_start_s": ha.start_seconds, **timings.marks})
        + "\n",
        encoding="utf-8",
    )
    if ha.log_path.exists():
        shutil.copyfile(ha.log_path, RUN_RECORD / "home-assistant.log")
    print(f"\nend-to-end timings (s): {json.dumps(timings.marks)}")


def _check_record(
    record: dict[str, Any], meter_before: float | None, meter_after: float | None
) -> None:
    """The finished session's figures are what the simulator delivered."""
    energy = record["energy_kwh"]
    # 11 kW for ~63 s plus ~40 s of taper: about 0.3 kWh (see SESSION_PLAN).
    assert 0.1 <= energy <= 0.5, record
    assert record["energy_source"] == "meter", record
    assert record["meter_end_kwh"] - record["meter_start_kwh"] == pytest.approx(
        energy, abs=0.002
    ), record
    # The meter moved by the session's energy (and nothing else charged).
    assert meter_before is not None and meter_after is not None
    assert meter_after - meter_before == pytest.approx(energy, abs=0.01)
    # Power integrated by ev_sessions agrees with the meter.
    assert record["power_energy_kwh"] == pytest.approx(energy, rel=0.1), record
    assert MAX_POWER_KW * 0.95 <= record["peak_power_kw"] <= MAX_POWER_KW * 1.05
    assert 0 < record["charging_duration_s"] < record["duration_s"] <= 300, record
    # The smart-charging pause is not charging time.
    assert record["duration_s"] - record["charging_duration_s"] >= 60, record
    assert 3 <= record["avg_power_kw"] <= MAX_POWER_KW * 1.05, record
    assert not {"glitch_rejected", "data_gap"} & set(record["flags"]), record


async def _check_cost(ha: RealHomeAssistant, record: dict[str, Any]) -> None:
    """Check the session's cost when ev_sessions has a cost sensor."""
    states = await ha.rest("GET", "/api/states")
    costs = [
        state
        for state in states
        if state["entity_id"].startswith(f"{CHARGER}_")
        and state["attributes"].get("device_class") == "monetary"
    ]
    if not costs:
        warnings.warn(
            "ev_sessions has no cost sensor (device class monetary) yet:"
            " the plausible-cost check was skipped",
            stacklevel=1,
        )
        return
    energy = record["energy_kwh"]
    for state in costs:
        value = _number(state)
        # The simulator's spot price stays between 0.01 and about 3 SEK/kWh.
        assert value is not None, state
        assert 0 <= value <= energy * 4, (state, energy)


async def _page(
    browser: HeadlessChromium,
    url: str,
    filename: str,
    expected: list[str],
    settle_s: float = 2.0,
) -> str:
    """Open `url`, wait for `expected`, save a screenshot, fail on errors."""
    await browser.open(url)
    text, missing = await browser.wait_for_text(
        expected, timeout_s=60, settle_s=settle_s
    )
    # Saved whatever the page shows: a failing page is worth seeing too.
    await browser.screenshot(SCREENSHOTS / filename)
    if missing:
        raise BrowserError(f"{filename}: the page lacks {missing}; it shows {text!r}")
    if errors := _errors_in(text):
        raise BrowserError(f"{filename}: the page shows {errors}: {text!r}")
    return text


async def _device_page(
    browser: HeadlessChromium,
    ha: RealHomeAssistant,
    device_id: str,
    filename: str,
    expected: list[str],
) -> None:
    await _page(
        browser,
        f"{ha.base_url}/config/devices/device/{device_id}",
        filename,
        ["Garage charger", *DEVICE_PAGE_NAMES, *expected],
    )


async def _energy_dashboard(browser: HeadlessChromium, ha: RealHomeAssistant) -> None:
    await _page(
        browser,
        f"{ha.base_url}/energy",
        "energy_dashboard.png",
        ["Individual devices total usage", "Individual devices detail usage"],
        settle_s=4,
    )


async def _demo_dashboard(browser: HeadlessChromium, ha: RealHomeAssistant) -> None:
    await _page(
        browser,
        f"{ha.base_url}/ev-demo/charging",
        "ev_demo_dashboard.png",
        ["EV Sessions", "Session energy", "Spot price"],
        settle_s=4,
    )


def _check_database(path: Path) -> None:
    """The recorder wrote states, the event and statistics to SQLite."""
    assert path.exists(), path
    with _database(path) as db:

        def states(entity_id: str) -> list[str]:
            return [
                row[0]
                for row in db.execute(
                    "SELECT s.state FROM states s JOIN states_meta m"
                    " ON s.metadata_id = m.metadata_id WHERE m.entity_id = ?"
                    " ORDER BY s.last_updated_ts",
                    (entity_id,),
                )
            ]

        assert "charging" in states(STATUS)
        assert states(SESSIONS)[-1] == "1"
        assert len(states(SIM_POWER)) > 30

        events = [
            json.loads(row[0])
            for row in db.execute(
                "SELECT d.shared_data FROM events e"
                " JOIN event_types t ON e.event_type_id = t.event_type_id"
                " JOIN event_data d ON e.data_id = d.data_id"
                " WHERE t.event_type = ?",
                (EVENT_ENDED,),
            )
        ]
        assert len(events) == 1, events
        assert events[0]["energy_kwh"] > 0

        for statistic_id in (TOTAL_ENERGY, SIM_METER):
            meta = db.execute(
                "SELECT id, has_sum FROM statistics_meta WHERE statistic_id = ?",
                (statistic_id,),
            ).fetchone()
            assert meta is not None, f"no statistics for {statistic_id}"
            assert meta[1] == 1, f"{statistic_id} statistics have no sum"
            (rows,) = db.execute(
                "SELECT COUNT(*) FROM statistics_short_term WHERE metadata_id = ?",
                (meta[0],),
            ).fetchone()
            assert rows >= 1, f"no short-term statistics for {statistic_id}"


def _check_log(path: Path) -> None:
    """Nothing logged an error (the configuration is ours: it must be clean)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    errors = [
        line
        for line in text.splitlines()
        if re.match(r"^\S+ \S+ (ERROR|CRITICAL) ", line)
    ]
    assert not errors, "\n".join(errors)
