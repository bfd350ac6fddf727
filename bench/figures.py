"""Figures: one measured quantity, its reference, its target, over repeated runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import math
import statistics


@dataclass(frozen=True, slots=True)
class Target:
    """An upper (or lower) bound on a ratio or on the value itself."""

    limit: float
    on_ratio: bool = True
    at_least: bool = False

    def text(self, unit: str) -> str:
        """Return the target as the issue states it."""
        sign = ">=" if self.at_least else "<="
        if self.on_ratio:
            return f"{sign} {_number(self.limit)}x"
        return f"{sign} {_number(self.limit)} {unit}".rstrip()

    def met(self, value: float, ratio: float | None) -> bool:
        """Return whether `value` (or `ratio`) meets the target."""
        measured = ratio if self.on_ratio else value
        if measured is None or not math.isfinite(measured):
            return False
        return measured >= self.limit if self.at_least else measured <= self.limit


@dataclass(slots=True)
class Figure:
    """One row of the table: ev_sessions' value against a reference, per run."""

    benchmark: str
    what: str
    unit: str
    how: str
    reference: str = ""
    target: Target | None = None
    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)
    digits: int = 1
    available: bool = True
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """Return what identifies the figure across runs."""
        return self.benchmark, self.what

    def add(self, ours: float, theirs: float | None = None) -> None:
        """Record one run's value (and the reference's)."""
        self.ours.append(ours)
        if theirs is not None:
            self.theirs.append(theirs)

    @property
    def ratios(self) -> list[float]:
        """Return ours / reference per run."""
        return [
            o / t if t else math.inf
            for o, t in zip(self.ours, self.theirs, strict=False)
        ]

    @property
    def value(self) -> float | None:
        """Return the median of ours over the runs."""
        return statistics.median(self.ours) if self.ours else None

    @property
    def reference_value(self) -> float | None:
        """Return the median of the reference over the runs."""
        return statistics.median(self.theirs) if self.theirs else None

    @property
    def ratio(self) -> float | None:
        """Return the median ratio over the runs."""
        ratios = self.ratios
        return statistics.median(ratios) if ratios else None

    @property
    def status(self) -> str:
        """Return pass, MISS, or what else applies."""
        if not self.available:
            return "n/a"
        if self.target is None or self.value is None:
            return "-"
        return "pass" if self.target.met(self.value, self.ratio) else "MISS"

    @property
    def spread(self) -> str:
        """Return min-max over the runs of the ratio (or the value), and n."""
        values = self.ratios if self.theirs else self.ours
        if not values:
            return ""
        if len(values) == 1:
            return "n=1"
        low, high = min(values), max(values)
        digits = 2 if self.theirs else self.digits
        suffix = "x" if self.theirs else ""
        return f"{low:.{digits}f}-{high:.{digits}f}{suffix} (n={len(values)})"

    def cells(self) -> list[str]:
        """Return the table cells: figure, ours, reference, ratio, target, result, spread."""
        if not self.available:
            return [self.what, "-", "-", "-", "-", "n/a", self.note]
        value = self.value
        reference = self.reference_value
        ratio = self.ratio
        return [
            self.what,
            _with_unit(value, self.unit, self.digits),
            f"{_with_unit(reference, self.unit, self.digits)} ({self.reference})"
            if reference is not None
            else (self.reference or "-"),
            f"{ratio:.2f}x" if ratio is not None else "-",
            self.target.text(self.unit) if self.target else "-",
            self.status,
            self.spread,
        ]


def merge(runs: Sequence[Sequence[Figure]]) -> list[Figure]:
    """Merge the figures of repeated runs, in first-seen order."""
    merged: dict[tuple[str, str], Figure] = {}
    for figures in runs:
        for figure in figures:
            if (existing := merged.get(figure.key)) is None:
                merged[figure.key] = figure
                continue
            existing.ours.extend(figure.ours)
            existing.theirs.extend(figure.theirs)
    return list(merged.values())


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the `fraction` percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def _with_unit(value: float | None, unit: str, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f} {unit}".rstrip()


def _number(value: float) -> str:
    return f"{value:g}"
