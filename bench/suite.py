"""The benchmark suite: run each benchmark, repeat, and turn runs into figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import gc
from pathlib import Path
import statistics
import tempfile
import time

from .archive import build_archive
from .curve_size import CurveResult, measure_curves
from .figures import Figure, Target, merge, percentile
from .profiling import Profiles
from .queries import QueryResult, Unavailable, measure_queries
from .scale import ScaleRun, run_scale
from .side_by_side import BARE, OURS, RECIPE, SideBySide, play_side_by_side
from .startup import StartupRun, measure_startup, write_history_store
from .traces import curve_traces, evening_session

HOT_PATH = "1. Hot path"
WRITES = "2. Writes"
STARTUP = "3. Start-up"
CURVE = "4. Curve"
QUERIES = "5. Queries"
SCALE = "6. Scale"
NAMES = {
    "hot_path": HOT_PATH,
    "writes": WRITES,
    "startup": STARTUP,
    "curve": CURVE,
    "queries": QUERIES,
    "scale": SCALE,
}

type Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Size:
    """How big each benchmark's input is."""

    name: str
    stream_hours: float
    sessions: int
    curve_traces: int
    scale_chargers: int
    scale_hours: float
    scale_history: int


FULL = Size("full", 8.0, 5000, 6, 20, 24.0, 5000)
QUICK = Size("quick", 0.25, 50, 2, 3, 0.05, 50)


@dataclass(slots=True)
class SuiteResult:
    """Everything a suite run produced."""

    size: Size
    repeat: int
    scale_repeat: int
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, list[str]] = field(default_factory=dict)
    runtime_s: float = 0.0
    profiled: bool = False


async def run_suite(
    size: Size,
    *,
    repeat: int = 3,
    scale_repeat: int = 1,
    only: set[str] | None = None,
    workdir: Path | None = None,
    profiles: Profiles | None = None,
    progress: Progress = lambda _: None,
) -> SuiteResult:
    """Run the benchmarks (`only` those named, else all) and return the figures."""
    profiles = profiles or Profiles()
    selected = only or set(NAMES)
    unknown = selected - set(NAMES)
    if unknown:
        raise ValueError(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    result = SuiteResult(
        size=size, repeat=repeat, scale_repeat=scale_repeat, profiled=profiles.active
    )
    with tempfile.TemporaryDirectory(dir=workdir, prefix="ev_sessions_bench_") as tmp:
        root = Path(tmp)
        runs: list[list[Figure]] = []
        if selected & {"hot_path", "writes"}:
            for index in range(repeat):
                progress(
                    f"hot path and writes: {size.stream_hours:g} h stream, run {index + 1}/{repeat}"
                )
                stream = await play_side_by_side(
                    root / f"side_by_side_{index}",
                    evening_session(size.stream_hours),
                    profiles,
                    history_sessions=size.sessions,
                )
                runs.append(side_by_side_figures(stream, selected))
                result.details["writes"] = rows_detail(stream)
        if "startup" in selected:
            progress(f"start-up: writing a history of {size.sessions:,} sessions")
            config = root / "startup"
            history = await write_history_store(config, size.sessions)
            progress("start-up: warming up (imports, first set-up)")
            await measure_startup(config, history, Profiles())
            for index in range(repeat):
                progress(f"start-up: run {index + 1}/{repeat}")
                runs.append(
                    startup_figures(await measure_startup(config, history, profiles))
                )
        if "curve" in selected:
            progress("curve: compressing 1 Hz traces")
            with profiles.section("curve"):
                curves = await measure_curves(
                    root / "curve", curve_traces()[: size.curve_traces]
                )
            runs.append(curve_figures(curves))
            result.details["curve"] = curve_detail(curves)
        if "queries" in selected:
            records = build_archive(
                size.sessions, entry_id="01JBENCHQUERIES000000000000"
            )
            for index in range(repeat):
                progress(f"queries: run {index + 1}/{repeat}")
                with profiles.section("queries"):
                    queries, unavailable = measure_queries(records)
                runs.append(query_figures(queries, size.sessions))
            runs.append(not_available_figures(unavailable))
            del records
        gc.collect()
        if "scale" in selected:
            scale_runs = []
            for index in range(scale_repeat):
                progress(
                    f"scale: {size.scale_chargers} chargers, {size.scale_hours:g} simulated"
                    f" hours, run {index + 1}/{scale_repeat} (takes a while)"
                )
                scale = await run_scale(
                    root / f"scale_{index}",
                    chargers=size.scale_chargers,
                    hours=size.scale_hours,
                    history_sessions=size.scale_history,
                    profiles=profiles,
                )
                scale_runs.append(scale)
                runs.append(scale_figures(scale))
            result.details["scale"] = scale_detail(scale_runs)
        result.figures = merge(runs)
    result.runtime_s = time.perf_counter() - started
    return result


# ------------------------------------------------------------------ 1 and 2


def side_by_side_figures(run: SideBySide, selected: set[str]) -> list[Figure]:
    """Figures of benchmarks 1 and 2 from one play of the stream."""
    figures: list[Figure] = []
    bare = statistics.fmean(run.cpu_ns[BARE]) / 1000
    bare_wall = statistics.fmean(run.wall_ns[BARE]) / 1000
    changes = len(run.cpu_ns[OURS])
    subject = (
        f"ev_sessions ({run.history_sessions:,} sessions stored"
        + (", priced: spot price sensor + tariff" if run.priced else "")
        + ")"
    )
    how = (
        f"{run.stream_hours:g} h evening stream at 1 Hz (power + meter,"
        f" {changes:,} source state changes) played identically to the sources of"
        f" {subject}, of the recipe (integration + 2 utility_meter, UI defaults) and"
        " to a sensor nobody listens to, in one Home Assistant with its recorder;"
        " each change timed alone as event-loop CPU (thread_time) of `async_set`"
        " + `async_block_till_done` until the loop is idle, order rotating; minus"
        " the mean of the no-listener sensor. ev_sessions' timers (30 s tick,"
        " 5 s turns, store saves) and hourly price changes are added to its next"
        " change."
    )
    if "hot_path" in selected:
        ours = statistics.fmean(run.cpu_ns[OURS]) / 1000 - bare
        theirs = statistics.fmean(run.cpu_ns[RECIPE]) / 1000 - bare
        figure = Figure(
            HOT_PATH,
            "mean cost per source state change",
            "us",
            how,
            "recipe",
            Target(0.5),
        )
        figure.add(ours, theirs)
        figures.append(figure)
        ours_p99 = percentile(run.cpu_ns[OURS], 0.99) / 1000 - bare
        theirs_p99 = percentile(run.cpu_ns[RECIPE], 0.99) / 1000 - bare
        figure = Figure(
            HOT_PATH,
            "p99 cost per source state change",
            "us",
            "As above; 99th percentile of the per-change times (a tick or turn"
            " lands on ev_sessions' next change) minus the no-listener mean.",
            "recipe",
            Target(0.5),
        )
        figure.add(ours_p99, theirs_p99)
        figures.append(figure)
        figure = Figure(
            HOT_PATH,
            "p99 cost per source state change, timers not folded in",
            "us",
            "As above, but ev_sessions' changes alone: what a state change costs"
            " at the 99th percentile when its ticks and turns are counted apart.",
            "recipe",
        )
        figure.add(percentile(run.change_cpu_ns, 0.99) / 1000 - bare, theirs_p99)
        figures.append(figure)
        figure = Figure(
            HOT_PATH,
            "mean wall time per source state change",
            "us",
            "As the mean, in wall time (perf_counter): includes waiting for the"
            " executor (store file writes) that the timed section awaits.",
            "recipe",
        )
        figure.add(
            statistics.fmean(run.wall_ns[OURS]) / 1000 - bare_wall,
            statistics.fmean(run.wall_ns[RECIPE]) / 1000 - bare_wall,
        )
        figures.append(figure)
        figure = Figure(
            HOT_PATH,
            "of which ev_sessions' timers, per change",
            "us",
            "Event-loop CPU of ev_sessions' own timers (30 s tick that takes the"
            " view, 5 s turns that show it, delayed store saves) divided by the"
            " source changes.",
        )
        figure.add(run.timer_cpu_ns[OURS] / 1000 / changes)
        figures.append(figure)
        figure = Figure(
            HOT_PATH,
            "a state change with no listener (subtracted)",
            "us",
            "Mean event-loop CPU of `async_set` + `async_block_till_done` on the"
            " sensor nobody listens to (the recorder's loop side included).",
        )
        figure.add(bare)
        figures.append(figure)
    if "writes" in selected:
        hours = run.charging_hours
        figure = Figure(
            WRITES,
            "recorder state rows per charging hour",
            "rows",
            f"Rows in the recorder's `states` table written for all 11 ev_sessions"
            f" entities vs the recipe's 3 entities over the same stream, divided by"
            f" its {hours:.2f} charging hours (power >= 200 W); sources excluded.",
            "recipe",
            Target(0.1),
            digits=0,
        )
        figure.add(run.rows[OURS] / hours, run.rows[RECIPE] / hours)
        figures.append(figure)
        figure = Figure(
            WRITES,
            "recorder attribute sets per charging hour",
            "rows",
            "Distinct `state_attributes` rows those states point to (a changing"
            " attribute costs a new row each time).",
            "recipe",
            digits=0,
        )
        figure.add(run.attribute_rows[OURS] / hours, run.attribute_rows[RECIPE] / hours)
        figures.append(figure)
        writes = sum(run.store_writes.values())
        detail = ", ".join(
            f"{key}: {count}" for key, count in sorted(run.store_writes.items())
        )
        figure = Figure(
            WRITES,
            "store writes per charging hour",
            "writes",
            "Files written by Home Assistant's Store for ev_sessions' keys"
            f" (`Store._async_write_data` calls; {detail or 'none'}) over the"
            f" {run.stream_hours:g} h stream, divided by its charging hours. The"
            " recipe keeps no store of its own (its state is in restore_state).",
            target=Target(60, on_ratio=False),
            digits=0,
        )
        figure.add(writes / hours)
        figures.append(figure)
    return figures


def rows_detail(run: SideBySide) -> list[str]:
    """A table of rows per entity (the last run)."""
    lines = [
        (
            f"Rows per entity over the {run.stream_hours:g} h stream"
            f" ({run.charging_hours:.2f} charging hours; energy: ev_sessions"
            f" {run.ours_energy_kwh:.3f} kWh, recipe {run.recipe_energy_kwh:.3f}"
            f" kWh, exact {run.true_energy_kwh:.3f} kWh; sessions recorded during the stream:"
            f" {run.sessions}):"
        ),
        "",
        "| entity | states rows | attribute sets |",
        "|---|---:|---:|",
    ]
    lines.extend(
        f"| `{entity}` | {rows.states} | {rows.attribute_sets} |"
        for entity, rows in run.rows_by_entity.items()
    )
    return lines


# ------------------------------------------------------------------ 3


def startup_figures(run: StartupRun) -> list[Figure]:
    """Figures of benchmark 3 from one repeat."""
    size_mb = run.file_bytes / 1e6
    time_figure = Figure(
        STARTUP,
        f"set-up time, {run.sessions:,} stored sessions",
        "ms",
        "Fresh Home Assistant (recorder running); timed:"
        " `config_entries.async_setup` of an entry whose store holds"
        f" {run.sessions:,} sessions with curves ({run.files} file(s),"
        f" {size_mb:.1f} MB as ev_sessions writes them) until the loop is idle,"
        " vs stdlib `json.loads` of those files' bytes. For scale: orjson.loads"
        f" {run.orjson_loads_s * 1000:.0f} ms; the same set-up with an empty"
        f" store {run.empty_setup_s * 1000:.0f} ms.",
        "json.loads",
        Target(2.0),
        digits=0,
    )
    time_figure.add(run.setup_s * 1000, run.json_loads_s * 1000)
    history_figure = Figure(
        STARTUP,
        "set-up time vs the history file alone",
        "ms",
        "The same set-up time against `json.loads` of the history file only"
        f" ({run.history_bytes / 1e6:.1f} MB): set-up's own overhead on what it"
        " must read (the same file as above when curves live inside it).",
        "json.loads",
        digits=0,
    )
    history_figure.add(run.setup_s * 1000, run.json_loads_history_s * 1000)
    memory_figure = Figure(
        STARTUP,
        "peak memory during set-up",
        "MB",
        "tracemalloc peak above the memory in use before, in a second set-up"
        " (tracemalloc slows Python, so not the timed one), vs tracemalloc peak"
        " of `json.loads` of the same bytes.",
        "json.loads",
        Target(2.0),
    )
    memory_figure.add(run.setup_peak_bytes / 1e6, run.json_loads_peak_bytes / 1e6)
    return [time_figure, history_figure, memory_figure]


# ------------------------------------------------------------------ 4


def curve_figures(curves: list[CurveResult]) -> list[Figure]:
    """Figures of benchmark 4 (worst trace of each kind)."""
    names = ", ".join(curve.trace for curve in curves)
    worst_compact = max(curves, key=lambda c: c.compact_per_hour)
    worst_stored = max(curves, key=lambda c: c.stored_per_hour)
    worst_error = max(curves, key=lambda c: abs(c.energy_error))
    how = (
        f"CurveBuilder fed each 1 Hz trace as the tracker feeds it ({names});"
        " bytes over the trace's charging hours (power >= 200 W); worst trace shown."
    )
    compact = Figure(
        CURVE,
        f"bytes per charging hour, compact JSON (worst: {worst_compact.trace})",
        "B",
        how + " Compact JSON of what `SessionRecord.to_dict(include_curve=True)`"
        " holds, e.g. `[[0,11.0],[60,10.9],...]`.",
        target=Target(2048, on_ratio=False),
        digits=0,
    )
    compact.add(worst_compact.compact_per_hour)
    stored = Figure(
        CURVE,
        f"bytes per charging hour, as stored on disk (worst: {worst_stored.trace})",
        "B",
        "As above, on disk: the session written by ev_sessions' SessionStore with"
        " its curve and without it, the store files' sizes compared (Home"
        " Assistant's Store writes orjson with a 2-space indent).",
        target=Target(2048, on_ratio=False),
        digits=0,
    )
    stored.add(worst_stored.stored_per_hour)
    error = Figure(
        CURVE,
        f"energy error (worst: {worst_error.trace})",
        "%",
        "|curve energy - exact energy of the reported power| / exact energy.",
        target=Target(0.5, on_ratio=False),
        digits=4,
    )
    error.add(abs(worst_error.energy_error) * 100)
    return [compact, stored, error]


def curve_detail(curves: list[CurveResult]) -> list[str]:
    """A table of every trace's curve."""
    lines = [
        "| trace | charging h | points | compact B/h | on disk B/h | energy error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {c.trace}: {c.description} | {c.charging_hours:.2f} | {c.points} |"
        f" {c.compact_per_hour:.0f} | {c.stored_per_hour:.0f} |"
        f" {c.energy_error * 100:+.4f} % |"
        for c in curves
    )
    return lines


# ------------------------------------------------------------------ 5


def query_figures(queries: list[QueryResult], sessions: int) -> list[Figure]:
    """Figures of benchmark 5 from one repeat."""
    figures = []
    for query in queries:
        figure = Figure(
            QUERIES,
            f"{query.name} ({query.records:,} records)",
            "ms",
            f"SessionHistory of {sessions:,} sessions: {query.how}; vs `json.dumps`"
            " of the same records' dicts built beforehand. Median of 5 calls,"
            " garbage collector off (as timeit).",
            "json.dumps",
            digits=2,
        )
        figure.add(query.ours_s * 1000, query.json_dumps_s * 1000)
        figures.append(figure)
    return figures


def not_available_figures(unavailable: list[Unavailable]) -> list[Figure]:
    """The query figures whose features do not exist yet."""
    return [
        Figure(
            QUERIES,
            item.name,
            "",
            f"not available yet: {item.feature}",
            available=False,
            note=f"not available yet: {item.feature}",
        )
        for item in unavailable
    ]


# ------------------------------------------------------------------ 6


def scale_figures(run: ScaleRun) -> list[Figure]:
    """Figures of benchmark 6 from one simulated day."""
    hourly = run.hourly_rates
    spread = (
        f"hourly {min(hourly):,.0f}-{max(hourly):,.0f}/s" if len(hourly) > 1 else ""
    )
    rate = Figure(
        SCALE,
        f"source events per second sustained ({run.chargers} chargers)",
        "/s",
        f"{run.chargers} ev_sessions entries, each on its own 1 Hz power sensor and"
        f" meter, {run.simulated_s / 3600:g} simulated hours played as fast as the"
        f" loop goes (time compressed, every change its own loop pass, nothing"
        f" awaited); {run.changes:,} changes / {run.wall_s:.1f} s wall. Reference:"
        " the rate the chargers produce in real time; ratio = headroom."
        + (f" Hourly range: {spread}." if spread else ""),
        "real time",
        Target(1.0, at_least=True),
        digits=0,
    )
    rate.add(run.events_per_s, run.needed_per_s)
    worst = Figure(
        SCALE,
        "event loop's worst delay (longest callback, loop CPU)",
        "ms",
        "Every callback the loop ran was timed (asyncio Handle._run) in event-loop"
        f" thread CPU; the longest: {run.worst_callback_cpu}. Waiting for the"
        " GIL is left out (compressed time makes the recorder and file writes"
        " contend far more than at 1 Hz), and so are garbage collections that"
        " happened inside (next rows).",
        digits=1,
    )
    worst.add(run.worst_callback_cpu_s * 1000)
    wall = Figure(
        SCALE,
        "longest callback, wall time (GIL waits included)",
        "ms",
        f"As above in wall time: {run.worst_callback}; callbacks over 10 ms:"
        f" {run.callbacks_over_10ms}.",
        digits=1,
    )
    wall.add(run.worst_callback_s * 1000)
    gc_pause = Figure(
        SCALE,
        "longest garbage collection pause",
        "ms",
        f"gc.callbacks timing of the {run.gc_collections:,} collections during the"
        f" day (total {run.gc_total_s:.2f} s); a collection stops the loop like a"
        f" callback. The process tracks {run.tracked_objects:,} objects, of which"
        f" {run.tracked_objects - run.tracked_before_chargers:,} came with the"
        f" {run.chargers} chargers (entities, coordinators, histories).",
        digits=1,
    )
    gc_pause.add(run.gc_worst_s * 1000)
    writes = Figure(
        SCALE,
        "store writes per charger per simulated hour",
        "writes",
        f"ev_sessions store writes ({run.store_writes:,}) / chargers / simulated"
        f" hours; sessions recorded: {run.sessions}. Compressed time lets minutes"
        " pass while a write is in flight, merging some: benchmark 2 counts"
        " writes exactly.",
        digits=1,
    )
    writes.add(run.store_writes / run.chargers / (run.simulated_s / 3600))
    return [rate, worst, wall, gc_pause, writes]


def scale_detail(runs: list[ScaleRun]) -> list[str]:
    """The slowest callbacks of the simulated day(s)."""
    lines = ["Slowest callbacks (wall, loop CPU), last run:", ""]
    run = runs[-1]
    lines.extend(
        f"- {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU: `{name}`"
        for wall, cpu, name in run.slowest
    )
    return lines
