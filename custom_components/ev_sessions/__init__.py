"""EV Sessions: charging sessions, curves and totals from a charger's entities."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import EvSessionsCoordinator
from .entity import async_remove_stale_own_device
from .services import async_setup_services
from .store import SessionStore

PLATFORMS: list[Platform] = [Platform.EVENT, Platform.NUMBER, Platform.SENSOR]

type EvSessionsConfigEntry = ConfigEntry[EvSessionsCoordinator]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever chargers are set up."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EvSessionsConfigEntry) -> bool:
    """Set up one charger: resume its store, add entities, start listening."""
    coordinator = EvSessionsCoordinator(hass, entry)
    await coordinator.async_load()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_remove_stale_own_device(hass, entry.entry_id)
    coordinator.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EvSessionsConfigEntry) -> bool:
    """Stop listening, write the store, remove the entities."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
        entry.runtime_data.async_clear_issues()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EvSessionsConfigEntry) -> None:
    """Delete the charger's stored sessions with the entry."""
    await SessionStore(hass, entry.entry_id).async_remove()


async def _async_options_updated(
    hass: HomeAssistant, entry: EvSessionsConfigEntry
) -> None:
    """Reload so new sources and thresholds take effect (the session resumes)."""
    await hass.config_entries.async_reload(entry.entry_id)
