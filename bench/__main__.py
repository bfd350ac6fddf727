"""Run the benchmark suite: `python -m bench [--quick] [--repeat N] ...`."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
import sys

# Import our integration before anything puts another custom_components first.
import custom_components.ev_sessions  # isort: skip

from .profiling import Profiles
from .report import machine, markdown, summary, table
from .suite import FULL, NAMES, QUICK, run_suite

REPO = Path(__file__).resolve().parent.parent
# The code measured: the checkout the integration was imported from.
MEASURED = Path(custom_components.ev_sessions.__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the suite, print and write the results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure ev_sessions against Home Assistant's integration and"
        " utility_meter helpers; print a table and write BENCHMARKS.md.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny inputs (seconds; for the smoke test)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each benchmark (default 3)"
    )
    parser.add_argument(
        "--scale-repeat",
        type=int,
        default=1,
        help="simulated days of the scale benchmark (default 1: a day takes minutes;"
        " its hours give the spread)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(NAMES),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--profile",
        action="append",
        choices=sorted(NAMES),
        metavar="NAME",
        help="cProfile this benchmark's measured sections and print the top functions",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the Markdown report (default: BENCHMARKS.md in the"
        " repository for a full run, nowhere for --quick)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.scale_repeat < 1:
        parser.error("--repeat and --scale-repeat must be at least 1")

    logging.basicConfig(
        level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    # Home Assistant warns that a custom integration is loaded; that is the point.
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    profiles = Profiles(set(args.profile or ()))
    size = QUICK if args.quick else FULL

    def progress(message: str) -> None:
        print(f"==> {message}", file=sys.stderr, flush=True)

    result = asyncio.run(
        run_suite(
            size,
            repeat=args.repeat,
            scale_repeat=args.scale_repeat,
            only=set(args.only) if args.only else None,
            profiles=profiles,
            progress=progress,
        )
    )
    print(table(result))
    print()
    print(summary(result))
    if profiles.active:
        print(profiles.report())
    output = args.output
    if output is None and not args.quick and not args.only and not profiles.active:
        output = REPO / "BENCHMARKS.md"
    if output is not None:
        command = "python -m bench " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        output.write_text(
            markdown(result, machine(MEASURED), command.strip()), encoding="utf-8"
        )
        print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
