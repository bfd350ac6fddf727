"""The end-to-end tests need no fixtures beyond pytest's own.

This file marks tests/e2e as a conftest root: scripts/test runs these tests
with ``--confcutdir=tests/e2e`` so that tests/conftest.py (which needs
pytest-homeassistant-custom-component) is not loaded in the development
environment.
"""
