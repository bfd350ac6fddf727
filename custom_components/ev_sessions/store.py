"""Persistence: the active session and the session history, per charger.

Two files under `.storage/`, written atomically:
- `ev_sessions.<entry_id>.active`: the tracker's snapshot (the session in
  progress, meter baseline, last time seen). Written in batches, at most once
  a minute while samples flow, and once more when Home Assistant stops, so a
  1 Hz power sensor costs no more than a write a minute on an SD card.
- `ev_sessions.<entry_id>.history`: finished sessions with their curves,
  written shortly after each session ends.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
ACTIVE_SAVE_DELAY_S = 60
HISTORY_SAVE_DELAY_S = 1

type JsonData = dict[str, Any]


class StoreUnreadableError(HomeAssistantError):
    """A store file exists but cannot be read; it is left untouched."""


class SessionStore:
    """The two store files of one charger."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the stores of the entry `entry_id` (nothing is read yet)."""
        self._active: Store[JsonData] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.active", atomic_writes=True
        )
        self._history: Store[JsonData] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.history", atomic_writes=True
        )
        self._active_save_pending = False
        self.writes = 0

    async def async_load(self) -> tuple[JsonData | None, JsonData | None]:
        """Return (active snapshot, history) as stored, None where absent.

        An unreadable file raises `StoreUnreadableError`: setting up with an
        empty history would overwrite it on the next save.
        """
        try:
            active = await self._active.async_load()
            history = await self._history.async_load()
        except (HomeAssistantError, ValueError) as err:
            raise StoreUnreadableError(str(err)) from err
        return active, history

    @callback
    def schedule_active_save(self, data_fn: Callable[[], JsonData]) -> None:
        """Save the active snapshot within a minute, unless a save is pending.

        `Store.async_delay_save` restarts its timer on every call; calling it
        once per sample would postpone the write for as long as samples flow.
        """
        if self._active_save_pending:
            return
        self._active_save_pending = True

        def _data() -> JsonData:
            self._active_save_pending = False
            self.writes += 1
            return data_fn()

        self._active.async_delay_save(_data, ACTIVE_SAVE_DELAY_S)

    @callback
    def schedule_history_save(self, data_fn: Callable[[], JsonData]) -> None:
        """Save the history shortly (a finished session must not wait long)."""

        def _data() -> JsonData:
            self.writes += 1
            return data_fn()

        self._history.async_delay_save(_data, HISTORY_SAVE_DELAY_S)

    async def async_flush(
        self,
        active_fn: Callable[[], JsonData],
        history_fn: Callable[[], JsonData],
    ) -> None:
        """Write both files now (on unload: a reload resumes exactly)."""
        self._active_save_pending = False
        await self._active.async_save(active_fn())
        await self._history.async_save(history_fn())
        self.writes += 2

    async def async_remove(self) -> None:
        """Delete both files (the entry was removed)."""
        await self._active.async_remove()
        await self._history.async_remove()
