"""The benchmark suite still runs: every figure comes out, on tiny inputs.

Only that figures are produced (numbers, finite, in the table and the report)
is checked, never what they are: timings belong to `scripts/bench`, not to
the pass/fail run.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

from homeassistant.core import HassJob

from bench.report import figure_rows, machine, markdown, summary, table
from bench.side_by_side import OTHER, OURS, timer_owner
from bench.suite import NAMES, QUICK, run_suite
from custom_components.ev_sessions.history import SessionHistory


async def test_quick_suite_produces_every_figure(tmp_path: Path) -> None:
    result = await run_suite(QUICK, repeat=1, workdir=tmp_path)

    benchmarks = {figure.benchmark for figure in result.figures}
    assert benchmarks == set(NAMES.values())
    measured = [figure for figure in result.figures if figure.available]
    assert figure_rows(result.figures) == len(measured) >= 20
    for figure in measured:
        assert figure.ours, figure.what
        assert all(math.isfinite(value) for value in figure.ours), figure.what
        assert all(math.isfinite(value) for value in figure.theirs), figure.what
        assert figure.how, figure.what
    for figure in result.figures:
        if not figure.available:
            assert figure.note.startswith("not available yet: ")

    text = table(result)
    for figure in result.figures:
        assert figure.what in text
    assert "Targets:" in summary(result)

    report = tmp_path / "BENCHMARKS.md"
    report.write_text(
        markdown(result, machine(Path.cwd()), "python -m bench --quick"),
        encoding="utf-8",
    )
    written = report.read_text(encoding="utf-8")
    assert written.startswith("# Benchmarks")
    assert "## How each figure was measured" in written
    assert written.count("\n| ") >= len(result.figures)


def test_timers_are_charged_to_whoever_scheduled_them() -> None:
    """A timer of ours is ours however it is wrapped (job, partial, closure)."""
    history = SessionHistory()
    ours = history.prune
    assert timer_owner(ours) == OURS
    assert timer_owner(functools.partial(ours)) == OURS
    assert timer_owner(lambda: ours) == OURS
    assert timer_owner(HassJob(functools.partial(ours))) == OURS
    assert timer_owner(print, (1, "two")) == OTHER
