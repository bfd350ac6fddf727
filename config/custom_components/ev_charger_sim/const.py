"""Constants of the development-only charger simulator."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "ev_charger_sim"

CONF_TIME_SCALE: Final = "time_scale"
CONF_LOOP: Final = "loop"
CONF_MAX_POWER_KW: Final = "max_power_kw"
CONF_BATTERY_KWH: Final = "battery_kwh"
CONF_IDLE_MINUTES: Final = "idle_minutes"

SERVICE_START_SESSION: Final = "start_session"
SERVICE_UNPLUG: Final = "unplug"

ATTR_START_SOC: Final = "start_soc"
ATTR_TARGET_SOC: Final = "target_soc"
ATTR_PAUSE_AT_SOC: Final = "pause_at_soc"
ATTR_PAUSE_MINUTES: Final = "pause_minutes"
ATTR_COMPLETED_MINUTES: Final = "completed_minutes"

# The device and the entity ids ev_sessions is configured with
# (scripts/lib/dev_config.py writes them into its config entry).
DEVICE_NAME: Final = "Garage charger"
STATUS_ENTITY_ID: Final = "sensor.charger_status"
POWER_ENTITY_ID: Final = "sensor.charger_power"
ENERGY_ENTITY_ID: Final = "sensor.charger_lifetime_energy"
SOC_ENTITY_ID: Final = "sensor.vehicle_battery"
RFID_ENTITY_ID: Final = "sensor.charger_rfid_tag"
PRICE_ENTITY_ID: Final = "sensor.spot_price"

# Real seconds between two updates: at most 1 Hz.
UPDATE_SECONDS: Final = 1.0
