"""Optional cProfile of the measured sections, for finding why a target is missed.

`python -m bench --profile startup` (or any benchmark name) profiles only the
sections that benchmark times and prints the costliest functions at the end.
Profiling slows the code down: figures from a profiled run are not reported
as results.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import cProfile
import io
import pstats


class Profiles:
    """A cProfile per benchmark named on the command line."""

    def __init__(self, names: set[str] | None = None) -> None:
        """Profile the benchmarks in `names` (none when empty)."""
        self._names = names or set()
        self._profiles: dict[str, cProfile.Profile] = {}

    @property
    def active(self) -> bool:
        """Return whether anything is profiled (figures are then not valid)."""
        return bool(self._names)

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Profile the block when benchmark `name` is profiled."""
        if name not in self._names:
            yield
            return
        profile = self._profiles.setdefault(name, cProfile.Profile())
        profile.enable()
        try:
            yield
        finally:
            profile.disable()

    def report(self, top: int = 25) -> str:
        """Return the costliest functions of each profiled benchmark."""
        out = io.StringIO()
        for name, profile in self._profiles.items():
            out.write(f"\n==> cProfile of {name} (cumulative, top {top})\n")
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(top)
            out.write(f"\n==> cProfile of {name} (own time, top {top})\n")
            stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()
