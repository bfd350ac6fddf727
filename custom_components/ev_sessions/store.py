"""Persistence: the active session, the session history and its curves.

Three files per charger under `.storage/`, each written atomically:
- `ev_sessions.<entry_id>.active`: the tracker's snapshot (the session in
  progress, meter baseline, last time seen). Written every 5 minutes while a
  session runs, at once when a session or a charging interval starts or
  ends, and once more when Home Assistant stops, so a 1 Hz power sensor
  costs an SD card 12 writes an hour while a car is plugged in, plus one per
  such change. A crash loses at most those 5 minutes of integrated power; a
  meter recovers them.
- `ev_sessions.<entry_id>.history`: finished sessions without their curves,
  written shortly after each session ends or is corrected. Compact, so that
  years of sessions load quickly at start-up.
- `ev_sessions.<entry_id>.curves`: the curves, by session id, read only when
  one is asked for (an action, the websocket API, a statistics rebuild).

A file that cannot be read is moved aside (never overwritten) and reported;
the charger then starts with what could be read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

ACTIVE_VERSION = 1
# History v1 kept curves inside each session; v2 moved them to their own file.
HISTORY_VERSION = 2
# Curves v1 were lists of [offset, kW]; v2 are compact text (see encode_curve).
CURVES_VERSION = 2
ACTIVE_SAVE_DELAY_S = 300
# Without a meter a crash loses the power integrated since the last write, and
# nothing can recover it: such chargers save more often.
ACTIVE_SAVE_DELAY_POWER_ONLY_S = 120
HISTORY_SAVE_DELAY_S = 1

type JsonData = dict[str, Any]


class _HistoryStore(Store[JsonData]):
    """The history file, migrating older layouts as it loads them."""

    # Curves found in a v1 file, for the curves file (set by the migration).
    migrated_curves: dict[str, Any] | None = None

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: JsonData
    ) -> JsonData:
        if old_major_version == 1:
            sessions = []
            curves: dict[str, Any] = {}
            for raw in old_data.get("sessions", ()):
                record = dict(raw)
                curve = record.pop("curve", None)
                if curve is not None:
                    curves[str(record.get("id"))] = curve
                sessions.append(record)
            self.migrated_curves = curves
            return {"sessions": sessions}
        raise NotImplementedError(
            f"history file version {old_major_version} is newer than this release"
        )


def _has_session_list(data: Any) -> bool:
    """Whether stored history data has the shape it must have."""
    return isinstance(data, dict) and isinstance(data.get("sessions"), list)


def encode_curve(points: Sequence[Sequence[Any]]) -> str:
    """Return a curve as compact text: `step,kW;step,kW;...`.

    Offsets are stored as steps from the previous point and powers as short
    decimals (an unknown power is empty), so a charging hour takes a few
    hundred bytes instead of the kilobytes of an indented JSON list.
    """
    parts: list[str] = []
    previous = 0
    for offset, kw in points:
        step = int(offset) - previous
        previous = int(offset)
        parts.append(f"{step},{'' if kw is None else format(float(kw), 'g')}")
    return ";".join(parts)


def decode_curve(text: str) -> list[list[Any]]:
    """Return the `[offset, kW]` points of `encode_curve` text."""
    points: list[list[Any]] = []
    offset = 0
    for part in text.split(";") if text else ():
        step, _, kw = part.partition(",")
        offset += int(step)
        points.append([offset, float(kw) if kw else None])
    return points


class _CurvesStore(Store[JsonData]):
    """The curves file, migrating v1 lists to compact text."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: JsonData
    ) -> JsonData:
        if old_major_version == 1:
            return {
                "curves": {
                    session_id: encode_curve(points)
                    for session_id, points in old_data.get("curves", {}).items()
                    if isinstance(points, list)
                }
            }
        raise NotImplementedError(
            f"curves file version {old_major_version} is newer than this release"
        )


class _DecodedCurves(Mapping[str, list[list[Any]]]):
    """Stored curves by session id, decoded when one is read."""

    def __init__(self, encoded: Mapping[str, str]) -> None:
        self._encoded = encoded

    def __getitem__(self, session_id: str) -> list[list[Any]]:
        return decode_curve(self._encoded[session_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._encoded)

    def __len__(self) -> int:
        return len(self._encoded)


@dataclass(frozen=True, slots=True)
class LoadedStore:
    """What was read at start-up, and which unreadable files were moved aside."""

    active: JsonData | None
    history: JsonData | None
    moved_aside: tuple[str, ...] = ()


class SessionStore:
    """The store files of one charger."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the stores of the entry `entry_id` (nothing is read yet)."""
        self._hass = hass
        self._active: Store[JsonData] = Store(
            hass, ACTIVE_VERSION, f"{DOMAIN}.{entry_id}.active", atomic_writes=True
        )
        self._history = _HistoryStore(
            hass, HISTORY_VERSION, f"{DOMAIN}.{entry_id}.history", atomic_writes=True
        )
        self._curves = _CurvesStore(
            hass, CURVES_VERSION, f"{DOMAIN}.{entry_id}.curves", atomic_writes=True
        )
        # Encoded curves by session id (text is a fraction of the objects).
        self._curve_cache: dict[str, str] | None = None
        self._active_save_pending = False
        self.writes = 0

    async def async_load(self) -> LoadedStore:
        """Return the active snapshot and the history as stored.

        An unreadable file is renamed to `<name>.corrupt-<time>` next to it
        and left out; the caller reports where it went.
        """
        moved: list[str] = []
        active = await self._async_load_or_move(self._active, moved)
        history = await self._async_load_or_move(self._history, moved)
        if history is not None and not _has_session_list(history):
            moved.append(await self._async_move_aside(self._history))
            history = None
        if self._history.migrated_curves is not None:
            # A v1 history: write the curves to their own file, then the
            # history without them.
            self._curve_cache = {
                session_id: encode_curve(points)
                for session_id, points in self._history.migrated_curves.items()
                if isinstance(points, list)
            }
            await self._curves.async_save({"curves": dict(self._curve_cache)})
            if history is not None:
                await self._history.async_save(history)
            self._history.migrated_curves = None
        return LoadedStore(active, history, tuple(moved))

    async def _async_load_or_move(
        self, store: Store[JsonData], moved: list[str]
    ) -> JsonData | None:
        try:
            return await store.async_load()
        except (
            HomeAssistantError,
            ValueError,
            KeyError,
            TypeError,
            NotImplementedError,  # a file written by a newer release
        ) as err:
            _LOGGER.error("Cannot read %s: %s", store.path, err)
        moved.append(await self._async_move_aside(store))
        return None

    async def _async_move_aside(self, store: Store[JsonData]) -> str:
        """Rename an unreadable file so nothing overwrites it; return its path."""
        source = Path(store.path)
        target = source.with_name(
            f"{source.name}.corrupt-{dt_util.utcnow().strftime('%Y%m%dT%H%M%SZ')}"
        )

        def _rename() -> None:
            if source.exists():
                source.rename(target)

        await self._hass.async_add_executor_job(_rename)
        _LOGGER.error("Moved the unreadable %s aside to %s", source, target)
        return str(target)

    @callback
    def schedule_active_save(
        self,
        data_fn: Callable[[], JsonData],
        *,
        at_once: bool = False,
        delay_s: float = ACTIVE_SAVE_DELAY_S,
    ) -> None:
        """Save the active snapshot within `delay_s`, unless a save is pending.

        `Store.async_delay_save` restarts its timer on every call; calling it
        once per sample would postpone the write for as long as samples flow.
        `at_once` (a session or charging change) writes now instead, in place
        of the pending write.
        """
        if self._active_save_pending and not at_once:
            return
        self._active_save_pending = True

        def _data() -> JsonData:
            self._active_save_pending = False
            self.writes += 1
            return data_fn()

        self._active.async_delay_save(_data, 0 if at_once else delay_s)

    @callback
    def schedule_history_save(self, data_fn: Callable[[], JsonData]) -> None:
        """Save the history shortly (a finished session must not wait long)."""

        def _data() -> JsonData:
            self.writes += 1
            return data_fn()

        self._history.async_delay_save(_data, HISTORY_SAVE_DELAY_S)

    async def async_curves(self) -> Mapping[str, list[list[Any]]]:
        """Return every stored curve by session id (read once, then cached)."""
        return _DecodedCurves(await self._async_encoded_curves())

    async def _async_encoded_curves(self) -> dict[str, str]:
        if self._curve_cache is None:
            try:
                data = await self._curves.async_load()
            except (HomeAssistantError, ValueError, KeyError, TypeError) as err:
                _LOGGER.error("Cannot read %s: %s", self._curves.path, err)
                await self._async_move_aside(self._curves)
                data = None
            curves = data.get("curves") if isinstance(data, dict) else None
            self._curve_cache = (
                {
                    str(session_id): text
                    for session_id, text in curves.items()
                    if isinstance(text, str)
                }
                if isinstance(curves, Mapping)
                else {}
            )
        return self._curve_cache

    async def async_curve(self, session_id: str) -> list[list[Any]] | None:
        """Return one session's stored curve points."""
        text = (await self._async_encoded_curves()).get(session_id)
        return None if text is None else decode_curve(text)

    async def async_update_curves(
        self,
        put: Mapping[str, list[Any]],
        remove: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """Add curves and drop others, then save the curves file soon."""
        curves = await self._async_encoded_curves()
        curves.update(
            {session_id: encode_curve(points) for session_id, points in put.items()}
        )
        for session_id in remove:
            curves.pop(session_id, None)

        def _data() -> JsonData:
            self.writes += 1
            return {"curves": dict(curves)}

        self._curves.async_delay_save(_data, HISTORY_SAVE_DELAY_S)

    async def async_flush(
        self,
        active_fn: Callable[[], JsonData],
        history_fn: Callable[[], JsonData],
    ) -> None:
        """Write the active session and the history now (on unload)."""
        self._active_save_pending = False
        await self._active.async_save(active_fn())
        await self._history.async_save(history_fn())
        self.writes += 2
        if self._curve_cache is not None:
            await self._curves.async_save({"curves": dict(self._curve_cache)})
            self.writes += 1

    async def async_remove(self) -> None:
        """Delete the files (the entry was removed)."""
        await self._active.async_remove()
        await self._history.async_remove()
        await self._curves.async_remove()
