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

# Money options (public contract: never rename). Amounts are in Home Assistant's
# currency (`hass.config.currency`); an amount that is absent counts as 0.
# The cost price: what a kWh costs the owner, fixed or from a price sensor.
CONF_COST_PER_KWH: Final = "cost_per_kwh"
CONF_PRICE_ENTITY: Final = "price_entity"
# The tariff: what a user pays (`pricing.TARIFF_KEYS`).
CONF_FEE_PER_SESSION: Final = "fee_per_session"
CONF_FEE_PER_KWH: Final = "fee_per_kwh"
CONF_FEE_PER_HOUR: Final = "fee_per_hour"
CONF_IDLE_FEE_PER_HOUR: Final = "idle_fee_per_hour"
CONF_IDLE_GRACE_MINUTES: Final = "idle_grace_minutes"
CONF_MINIMUM_FEE: Final = "minimum_fee"
CONF_MARKUP_FACTOR: Final = "markup_factor"
CONF_MARKUP_PER_KWH: Final = "markup_per_kwh"

# Users (public contract: never rename). `user_entity` reports who is charging
# (an RFID tag or user id); `users` is a list of {"name": str, "tag": str} with
# an optional "tariff" mapping of the tariff keys above, present only when the
# user has a tariff of their own.
# The vehicle: its state of charge (%) and battery size.
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_BATTERY_CAPACITY_KWH: Final = "battery_capacity_kwh"
DEFAULT_TARGET_SOC: Final = 100.0

# History: how long finished sessions are kept (absent: forever).
CONF_KEEP_DAYS: Final = "keep_days"

CONF_USER_ENTITY: Final = "user_entity"
CONF_USERS: Final = "users"
USER_NAME: Final = "name"
USER_TAG: Final = "tag"
USER_TARIFF: Final = "tariff"

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
EVENT_CHARGING_COMPLETED: Final = "ev_sessions_charging_completed"

# Event types of the `session` event entity (public contract).
EVENT_TYPE_SESSION_STARTED: Final = "session_started"
EVENT_TYPE_CHARGING_STARTED: Final = "charging_started"
EVENT_TYPE_CHARGING_STOPPED: Final = "charging_stopped"
EVENT_TYPE_SESSION_ENDED: Final = "session_ended"
EVENT_TYPE_CHARGING_COMPLETED: Final = "charging_completed"
EVENT_TYPES: Final = (
    EVENT_TYPE_SESSION_STARTED,
    EVENT_TYPE_CHARGING_STARTED,
    EVENT_TYPE_CHARGING_STOPPED,
    EVENT_TYPE_SESSION_ENDED,
    EVENT_TYPE_CHARGING_COMPLETED,
)

# Repair issue ids (suffixed with the entry id).
ISSUE_UNKNOWN_STATUS_STATE: Final = "unknown_status_state"
ISSUE_SOURCE_ENTITY_MISSING: Final = "source_entity_missing"
ISSUE_UNSUPPORTED_UNIT: Final = "unsupported_unit"
ISSUE_STORE_MOVED_ASIDE: Final = "store_moved_aside"
