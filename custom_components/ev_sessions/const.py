"""Constants for ev_sessions: configuration keys, defaults, event names."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "ev_sessions"

# Configuration keys (public contract: never rename).
CONF_NAME: Final = "name"
CONF_STATUS_ENTITY: Final = "status_entity"
CONF_POWER_ENTITY: Final = "power_entity"
CONF_ENERGY_ENTITY: Final = "energy_entity"
CONF_CHARGER_TYPE: Final = "charger_type"
CONF_POWER_THRESHOLD_W: Final = "power_threshold_w"
CONF_MIN_SESSION_ENERGY_KWH: Final = "min_session_energy_kwh"
CONF_SESSION_TIMEOUT_MINUTES: Final = "session_timeout_minutes"
CONF_CHARGING_STATES: Final = "charging_states"
CONF_CONNECTED_STATES: Final = "connected_states"
CONF_DISCONNECTED_STATES: Final = "disconnected_states"

SOURCE_ENTITY_KEYS: Final = (CONF_STATUS_ENTITY, CONF_POWER_ENTITY, CONF_ENERGY_ENTITY)

DEFAULT_NAME: Final = "EV charger"
# Chargers draw 2-10 W in standby and cars keep 50-300 W of pumps and
# electronics awake while "charging" at 100 %; real charging starts at
# 1.4 kW (6 A on one phase). 200 W separates the two on every charger
# we have traces of.
DEFAULT_POWER_THRESHOLD_W: Final = 200.0
DEFAULT_MIN_SESSION_ENERGY_KWH: Final = 0.05
# Without a status entity a session ends after power has stayed below the
# threshold for this long; smart-charging pauses shorter than this stay
# inside one session.
DEFAULT_SESSION_TIMEOUT_MINUTES: Final = 60

CHARGER_TYPE_AC_1_PHASE: Final = "ac_1_phase"
CHARGER_TYPE_AC_3_PHASE: Final = "ac_3_phase"
CHARGER_TYPE_DC: Final = "dc"
CHARGER_TYPES: Final = (
    CHARGER_TYPE_AC_1_PHASE,
    CHARGER_TYPE_AC_3_PHASE,
    CHARGER_TYPE_DC,
)
DEFAULT_CHARGER_TYPE: Final = CHARGER_TYPE_AC_3_PHASE

# Events on the bus (public contract).
EVENT_SESSION_STARTED: Final = "ev_sessions_session_started"
EVENT_SESSION_ENDED: Final = "ev_sessions_session_ended"

# Event types of the `session` event entity (public contract).
EVENT_TYPE_SESSION_STARTED: Final = "session_started"
EVENT_TYPE_CHARGING_STARTED: Final = "charging_started"
EVENT_TYPE_CHARGING_STOPPED: Final = "charging_stopped"
EVENT_TYPE_SESSION_ENDED: Final = "session_ended"
EVENT_TYPES: Final = (
    EVENT_TYPE_SESSION_STARTED,
    EVENT_TYPE_CHARGING_STARTED,
    EVENT_TYPE_CHARGING_STOPPED,
    EVENT_TYPE_SESSION_ENDED,
)

# Repair issue ids (suffixed with the entry id).
ISSUE_UNKNOWN_STATUS_STATE: Final = "unknown_status_state"
ISSUE_SOURCE_ENTITY_MISSING: Final = "source_entity_missing"
ISSUE_UNSUPPORTED_UNIT: Final = "unsupported_unit"
