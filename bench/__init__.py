"""Benchmarks of ev_sessions against Home Assistant's own helpers, side by side.

Run `scripts/bench` (or `python -m bench --help`). Not part of the test run;
`tests/test_bench.py` only checks that the suite still runs on tiny inputs.
"""
