"""A simulated home EV charger for trying ev_sessions (development only).

Configured in YAML (configuration.yaml: `ev_charger_sim:`); the sensors live
on a config entry so that they belong to a device ("Garage charger"), as a
real charger integration's do. The entry is created from the YAML on first
start (scripts/lib/dev_config.py seeds it, so that it exists before
ev_sessions starts).

Services:
* `ev_charger_sim.start_session`: plug a car in now.
* `ev_charger_sim.unplug`: the car leaves now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import time
from typing import Any

from homeassistant.config_entries import SOURCE_IMPORT, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    ATTR_COMPLETED_MINUTES,
    ATTR_PAUSE_AT_SOC,
    ATTR_PAUSE_MINUTES,
    ATTR_START_SOC,
    ATTR_TARGET_SOC,
    CONF_BATTERY_KWH,
    CONF_IDLE_MINUTES,
    CONF_LOOP,
    CONF_MAX_POWER_KW,
    CONF_TIME_SCALE,
    DOMAIN,
    SERVICE_START_SESSION,
    SERVICE_UNPLUG,
    UPDATE_SECONDS,
)
from .simulated_charger import (
    ChargerReading,
    ChargerSettings,
    Phase,
    SimulatedCharger,
    plan_with,
)

PLATFORMS = [Platform.SENSOR]

CONFIG_SCHEMA = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Optional(CONF_TIME_SCALE, default=60): vol.All(
                    vol.Coerce(float), vol.Range(min=1, max=3600)
                ),
                vol.Optional(CONF_LOOP, default=True): cv.boolean,
                vol.Optional(CONF_MAX_POWER_KW, default=11.0): vol.All(
                    vol.Coerce(float), vol.Range(min=1.4, max=22)
                ),
                vol.Optional(CONF_BATTERY_KWH, default=64.0): vol.All(
                    vol.Coerce(float), vol.Range(min=10, max=200)
                ),
                vol.Optional(CONF_IDLE_MINUTES, default=30): vol.All(
                    vol.Coerce(float), vol.Range(min=0, max=1440)
                ),
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)

_SOC = vol.All(vol.Coerce(float), vol.Range(min=0, max=100))
_MINUTES = vol.All(vol.Coerce(float), vol.Range(min=0, max=600))
START_SESSION_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_START_SOC): _SOC,
        vol.Optional(ATTR_TARGET_SOC): _SOC,
        vol.Optional(ATTR_PAUSE_AT_SOC): _SOC,
        vol.Optional(ATTR_PAUSE_MINUTES): _MINUTES,
        vol.Optional(ATTR_COMPLETED_MINUTES): _MINUTES,
    }
)


@dataclass
class SimulatorRuntime:
    """The running charger and the entities that show it."""

    charger: SimulatedCharger
    listeners: list[Callable[[ChargerReading], None]] = field(default_factory=list)
    reading: ChargerReading | None = None
    _last_tick: float = field(default_factory=time.monotonic)

    @callback
    def tick(self, _now: datetime | None = None) -> None:
        """Advance by the real time that passed and tell the entities."""
        now = time.monotonic()
        self.charger.advance(now - self._last_tick)
        self._last_tick = now
        self.publish()

    @callback
    def publish(self) -> None:
        """Tell the entities what the charger shows now."""
        self.reading = self.charger.reading()
        for listener in list(self.listeners):
            listener(self.reading)

    @callback
    def add_listener(self, listener: Callable[[ChargerReading], None]) -> CALLBACK_TYPE:
        """Call `listener` with every reading; returns a remover."""
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)


type SimulatorConfigEntry = ConfigEntry[SimulatorRuntime]


def _settings(conf: dict[str, Any]) -> ChargerSettings:
    return ChargerSettings(
        time_scale=conf[CONF_TIME_SCALE],
        loop=conf[CONF_LOOP],
        max_power_kw=conf[CONF_MAX_POWER_KW],
        battery_kwh=conf[CONF_BATTERY_KWH],
        idle_minutes=conf[CONF_IDLE_MINUTES],
    )


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Read the YAML settings, register the services, create the entry."""
    conf = config.get(DOMAIN) or CONFIG_SCHEMA({DOMAIN: {}})[DOMAIN]
    hass.data[DOMAIN] = conf

    def _runtime() -> SimulatorRuntime:
        for entry in hass.config_entries.async_loaded_entries(DOMAIN):
            runtime: SimulatorRuntime = entry.runtime_data
            return runtime
        raise ServiceValidationError("The charger simulator is not running")

    async def start_session(call: ServiceCall) -> None:
        runtime = _runtime()
        charger = runtime.charger
        if charger.phase is not Phase.IDLE:
            raise ServiceValidationError(
                "A car is already plugged in; call ev_charger_sim.unplug first"
            )
        data = call.data
        plan = plan_with(
            charger.settings.plan,
            start_soc=data.get(ATTR_START_SOC),
            target_soc=data.get(ATTR_TARGET_SOC),
            pause_at_soc=data.get(ATTR_PAUSE_AT_SOC),
            pause_minutes=data.get(ATTR_PAUSE_MINUTES),
            completed_minutes=data.get(ATTR_COMPLETED_MINUTES),
        )
        if plan.pause_minutes == 0:
            plan = replace(plan, pause_at_soc=None)
        if plan.target_soc <= plan.start_soc:
            raise ServiceValidationError(
                "target_soc must be above start_soc, or there is nothing to charge"
            )
        runtime.tick()
        charger.plug_in(plan)
        runtime.publish()

    async def unplug(call: ServiceCall) -> None:
        runtime = _runtime()
        runtime.tick()
        runtime.charger.unplug()
        runtime.publish()

    hass.services.async_register(
        DOMAIN, SERVICE_START_SESSION, start_session, START_SESSION_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_UNPLUG, unplug)

    if not hass.config_entries.async_entries(DOMAIN):
        hass.async_create_task(
            hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_IMPORT}, data={}
            )
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SimulatorConfigEntry) -> bool:
    """Start the charger (idle, the simulated clock at the real time)."""
    conf = hass.data.get(DOMAIN) or CONFIG_SCHEMA({DOMAIN: {}})[DOMAIN]
    charger = SimulatedCharger(_settings(conf), dt_util.now())
    runtime = SimulatorRuntime(charger)
    entry.runtime_data = runtime
    # The entities start with a reading (not "unknown").
    runtime.publish()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(
        async_track_time_interval(
            hass,
            runtime.tick,
            timedelta(seconds=UPDATE_SECONDS),
            name="ev_charger_sim tick",
            cancel_on_shutdown=True,
        )
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SimulatorConfigEntry) -> bool:
    """Stop the charger."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
