"""Service actions and websocket commands: query, export and correct sessions."""

from __future__ import annotations

from collections.abc import Iterable
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_INVALID_FORMAT,
    ERR_NOT_FOUND,
)
from homeassistant.components.websocket_api.decorators import (
    async_response,
    websocket_command,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .coordinator import EvSessionsCoordinator
from .export import CsvDialect, sessions_csv, sessions_json
from .session import SessionRecord
from .session_edit import UNSET
from .session_query import InvalidQueryError, QueryResult, SessionQuery, select_sessions

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_SESSION_ID = "session_id"
ATTR_START = "start"
ATTR_END = "end"
ATTR_USER = "user"
ATTR_VEHICLE = "vehicle"
ATTR_NOTE = "note"
ATTR_ENERGY_KWH = "energy_kwh"
ATTR_MIN_ENERGY_KWH = "min_energy_kwh"
ATTR_INCLUDE_CURVE = "include_curve"
ATTR_LIMIT = "limit"
ATTR_PATH = "path"
ATTR_FORMAT = "format"
ATTR_DIALECT = "dialect"
ATTR_OVERWRITE = "overwrite"
ATTR_SOC = "soc"

SERVICE_GET_SESSIONS = "get_sessions"
SERVICE_EXPORT_SESSIONS = "export_sessions"
SERVICE_UPDATE_SESSION = "update_session"
SERVICE_DELETE_SESSION = "delete_session"
SERVICE_REBUILD_SESSIONS = "rebuild_sessions"
SERVICE_SET_SESSION_TARGET = "set_session_target"

FORMAT_CSV = "csv"
FORMAT_JSON = "json"
# How far back a rebuild may reach in one call (the recorder keeps 10 days by
# default; a longer range is allowed for users who keep more).
MAX_REBUILD_RANGE = timedelta(days=366)

_FILTERS: dict[vol.Marker, Any] = {
    vol.Optional(ATTR_START): cv.datetime,
    vol.Optional(ATTR_END): cv.datetime,
    vol.Optional(ATTR_USER): cv.string,
    vol.Optional(ATTR_MIN_ENERGY_KWH): vol.Coerce(float),
}

GET_SESSIONS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        **_FILTERS,
        vol.Optional(ATTR_INCLUDE_CURVE, default=False): cv.boolean,
        vol.Optional(ATTR_LIMIT): vol.Coerce(int),
    }
)
EXPORT_SESSIONS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_PATH): cv.string,
        vol.Optional(ATTR_FORMAT, default=FORMAT_CSV): vol.In(
            [FORMAT_CSV, FORMAT_JSON]
        ),
        vol.Optional(ATTR_DIALECT, default=CsvDialect.INTERNATIONAL.value): vol.In(
            [dialect.value for dialect in CsvDialect]
        ),
        vol.Optional(ATTR_OVERWRITE, default=False): cv.boolean,
        vol.Optional(ATTR_INCLUDE_CURVE, default=False): cv.boolean,
        **_FILTERS,
    }
)
UPDATE_SESSION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SESSION_ID): cv.string,
        vol.Optional(ATTR_USER): vol.Any(None, cv.string),
        vol.Optional(ATTR_VEHICLE): vol.Any(None, cv.string),
        vol.Optional(ATTR_NOTE): vol.Any(None, cv.string),
        vol.Optional(ATTR_ENERGY_KWH): vol.Coerce(float),
    }
)
DELETE_SESSION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SESSION_ID): cv.string,
    }
)
SET_SESSION_TARGET_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_SOC): vol.All(vol.Coerce(float), vol.Range(min=1, max=100)),
        vol.Optional(ATTR_ENERGY_KWH): vol.All(
            vol.Coerce(float), vol.Range(min=0, min_included=False, max=1000)
        ),
    }
)
REBUILD_SESSIONS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
    }
)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _coordinator(hass: HomeAssistant, entry_id: str) -> EvSessionsCoordinator:
    """The coordinator of a loaded ev_sessions entry, or a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _error("entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _error("entry_not_loaded", charger=entry.title)
    coordinator: EvSessionsCoordinator = entry.runtime_data
    return coordinator


def _coordinators(
    hass: HomeAssistant, call: ServiceCall
) -> list[EvSessionsCoordinator]:
    """The chosen charger, or every loaded charger when none is chosen."""
    if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        return [_coordinator(hass, entry_id)]
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _aware(value: datetime | None) -> datetime | None:
    """Times without an offset are in Home Assistant's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


def _query(data: dict[str, Any]) -> SessionQuery:
    query = SessionQuery(
        start=_aware(data.get(ATTR_START)),
        end=_aware(data.get(ATTR_END)),
        user=data.get(ATTR_USER),
        min_energy_kwh=data.get(ATTR_MIN_ENERGY_KWH),
        limit=data.get(ATTR_LIMIT),
    )
    try:
        query.validate()
    except InvalidQueryError as err:
        raise _error(err.reason) from err
    if query.limit is not None and query.limit < 1:
        raise _error("bad_limit")
    return query


async def _select(
    coordinators: Iterable[EvSessionsCoordinator],
    query: SessionQuery,
    *,
    include_curve: bool,
) -> QueryResult:
    records: list[SessionRecord] = []
    for coordinator in coordinators:
        records.extend(coordinator.history)
    result = select_sessions(records, query)
    if not include_curve:
        return result
    by_entry = {coordinator.entry.entry_id: coordinator for coordinator in coordinators}
    with_curves: list[SessionRecord] = []
    for record in result.sessions:
        full = await by_entry[record.entry_id].async_session_with_curve(record.id)
        with_curves.append(full or record)
    return dataclasses.replace(result, sessions=tuple(with_curves))


async def _async_get_sessions(call: ServiceCall) -> ServiceResponse:
    include_curve = call.data[ATTR_INCLUDE_CURVE]
    result = await _select(
        _coordinators(call.hass, call), _query(call.data), include_curve=include_curve
    )
    return result.to_response(include_curve=include_curve)


def _export_path(hass: HomeAssistant, raw: str) -> Path:
    """Resolve the target inside an allowed folder; never escape it."""
    path = Path(raw)
    if not path.is_absolute():
        path = Path(hass.config.path(raw))
    resolved = path.resolve()
    www = Path(hass.config.path("www")).resolve()
    allowed = hass.config.is_allowed_path(str(resolved)) or resolved.is_relative_to(www)
    if not allowed or ".." in Path(raw).parts:
        raise _error("path_not_allowed", path=raw)
    return resolved


async def _async_export_sessions(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    path = _export_path(hass, call.data[ATTR_PATH])
    coordinators = _coordinators(hass, call)
    include_curve = call.data[ATTR_INCLUDE_CURVE]
    result = await _select(coordinators, _query(call.data), include_curve=include_curve)
    records = list(reversed(result.sessions))  # oldest first in a file
    as_json = call.data[ATTR_FORMAT] == FORMAT_JSON
    dialect = CsvDialect(call.data[ATTR_DIALECT])
    time_zone = dt_util.get_default_time_zone()
    overwrite = call.data[ATTR_OVERWRITE]

    def _write() -> None:
        # Rendering thousands of rows takes a while: off the event loop too.
        if as_json:
            text = sessions_json(
                records, include_curve=include_curve, totals=result.totals()
            )
        else:
            text = sessions_csv(records, dialect=dialect, time_zone=time_zone)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w" if overwrite else "x", encoding="utf-8", newline="") as file:
            file.write(text)

    try:
        await hass.async_add_executor_job(_write)
    except FileExistsError as err:
        raise _error("file_exists", path=str(path)) from err
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"path": str(path), "error": str(err)},
        ) from err
    return {"path": str(path), "count": result.count}


async def _async_update_session(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    fields: dict[str, Any] = {
        key: call.data.get(key, UNSET)
        for key in (ATTR_USER, ATTR_VEHICLE, ATTR_NOTE, ATTR_ENERGY_KWH)
    }
    energy = fields[ATTR_ENERGY_KWH]
    if energy is not UNSET and not 0 <= energy < float("inf"):
        raise _error("invalid_energy", energy=str(energy))
    session_id = call.data[ATTR_SESSION_ID]
    record = await coordinator.async_update_session(session_id, **fields)
    if record is None:
        raise _error("session_not_found", session_id=session_id)
    return {"session": record.to_dict()}


async def _async_delete_session(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    session_id = call.data[ATTR_SESSION_ID]
    record = await coordinator.async_delete_session(session_id)
    if record is None:
        raise _error("session_not_found", session_id=session_id)
    return {"session": record.to_dict()}


async def _async_set_session_target(call: ServiceCall) -> ServiceResponse:
    """Set the session in progress' own targets (a field left out is cleared)."""
    coordinator = _coordinator(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    if not await coordinator.async_set_session_target(
        soc=call.data.get(ATTR_SOC), energy_kwh=call.data.get(ATTR_ENERGY_KWH)
    ):
        raise _error("no_active_session", charger=coordinator.entry.title)
    live = coordinator.view.live
    return {"session": None if live is None else live.to_dict()}


async def _async_rebuild_sessions(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    start: datetime = _aware(call.data[ATTR_START]) or dt_util.utcnow()
    end = _aware(call.data.get(ATTR_END)) or dt_util.utcnow()
    if start >= end or end - start > MAX_REBUILD_RANGE:
        raise _error("bad_range")
    added = await coordinator.async_rebuild_sessions(start, end)
    return {"sessions": [record.to_dict() for record in added], "count": len(added)}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions and websocket commands (once, for all chargers)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_SESSIONS,
        _async_get_sessions,
        schema=GET_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_SESSIONS,
        _async_export_sessions,
        schema=EXPORT_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_UPDATE_SESSION,
        _async_update_session,
        schema=UPDATE_SESSION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_DELETE_SESSION,
        _async_delete_session,
        schema=DELETE_SESSION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REBUILD_SESSIONS,
        _async_rebuild_sessions,
        schema=REBUILD_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_SESSION_TARGET,
        _async_set_session_target,
        schema=SET_SESSION_TARGET_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_command(hass, _ws_sessions)
    async_register_command(hass, _ws_session)


@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/sessions",
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_USER): cv.string,
        vol.Optional(ATTR_MIN_ENERGY_KWH): vol.Coerce(float),
        vol.Optional(ATTR_LIMIT): vol.Coerce(int),
    }
)
@async_response
async def _ws_sessions(
    hass: HomeAssistant,
    connection: ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """List sessions, filtered like `ev_sessions.get_sessions`, without curves."""
    try:
        if (entry_id := msg.get(ATTR_CONFIG_ENTRY_ID)) is not None:
            coordinators = [_coordinator(hass, entry_id)]
        else:
            coordinators = [
                entry.runtime_data
                for entry in hass.config_entries.async_entries(DOMAIN)
                if entry.state is ConfigEntryState.LOADED
            ]
        result = await _select(coordinators, _query(msg), include_curve=False)
    except ServiceValidationError as err:
        connection.send_error(msg["id"], ERR_INVALID_FORMAT, str(err))
        return
    connection.send_result(msg["id"], result.to_response(include_curve=False))


@websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/session",
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SESSION_ID): cv.string,
    }
)
@async_response
async def _ws_session(
    hass: HomeAssistant,
    connection: ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """One session with its curve."""
    try:
        coordinator = _coordinator(hass, msg[ATTR_CONFIG_ENTRY_ID])
    except ServiceValidationError as err:
        connection.send_error(msg["id"], ERR_NOT_FOUND, str(err))
        return
    record = await coordinator.async_session_with_curve(msg[ATTR_SESSION_ID])
    if record is None:
        connection.send_error(msg["id"], ERR_NOT_FOUND, "session not found")
        return
    connection.send_result(msg["id"], {"session": record.to_dict(include_curve=True)})
