"""EV Sessions: charging sessions, curves and totals from a charger's entities."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError

from .const import DOMAIN
from .coordinator import EvSessionsCoordinator
from .store import SessionStore, StoreUnreadableError

PLATFORMS: list[Platform] = [Platform.EVENT, Platform.SENSOR]

type EvSessionsConfigEntry = ConfigEntry[EvSessionsCoordinator]


async def async_setup_entry(hass: HomeAssistant, entry: EvSessionsConfigEntry) -> bool:
    """Set up one charger: resume its store, add entities, start listening."""
    coordinator = EvSessionsCoordinator(hass, entry)
    try:
        await coordinator.async_load()
    except StoreUnreadableError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="store_unreadable",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
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
