"""The base entity every ev_sessions entity shares."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    device as device_helper,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .coordinator import EvSessionsCoordinator, PublishGroup


class EvSessionsEntity(Entity):
    """An entity of one charger: named by translation, linked to its device."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    # What the entity showed at its last write (see `_shown`).
    _last_shown: tuple[object, ...] | None = None
    # The tick's turn this entity is refreshed in.
    _publish_group = PublishGroup.SESSION_ENERGY

    def __init__(self, coordinator: EvSessionsCoordinator, key: str) -> None:
        """Set the unique id `{entry_id}_{key}` and the device link."""
        self.coordinator = coordinator
        entry = coordinator.entry
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_translation_key = key
        self._link_device()

    def _link_device(self) -> None:
        """Join the charger's own device, or stand as a device of our own.

        Home Assistant 2026 links a helper's entities to the source's device
        through `device_entry` (without adding our entry to that device); 2025.4
        knows only a linking `device_info`. Use whichever this version has.
        """
        hass = self.coordinator.hass
        entry = self.coordinator.entry
        for entity_id in self.coordinator.source_entity_ids:
            to_device = getattr(device_helper, "async_entity_id_to_device", None)
            if to_device is not None:
                device: dr.DeviceEntry | None = to_device(hass, entity_id)
                if device is not None:
                    self.device_entry = device
                    return
            elif (
                link := device_helper.async_device_info_to_link_from_entity(
                    hass, entity_id
                )
            ) is not None:
                self._attr_device_info = link
                return
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator's view."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_listener(
                self._view_published, self._publish_group
            )
        )

    def _shown(self) -> tuple[object, ...]:
        """What the entity shows: its state and attributes, as cheap values.

        Subclasses add what they show; a write happens only when it changed.
        """
        return (self.available,)

    @callback
    def _view_published(self) -> None:
        """Write the state only when what the entity shows changed.

        The coordinator calls every entity on each publish; most of them show
        the same as before (a session's start, the last session), and a write
        costs far more than comparing a few values.
        """
        if self._shown() != self._last_shown:
            self.async_write_ha_state()

    @callback
    def async_write_ha_state(self) -> None:
        """Write the state, remembering what it showed."""
        self._last_shown = self._shown()
        super().async_write_ha_state()


@callback
def async_remove_stale_own_device(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the device of our own that no entity of ours uses any more.

    When the charger's entities were not registered yet at a first start, our
    entities stood on a device of our own; once they join the charger's
    device, that one would linger, empty, next to it.
    """
    devices = dr.async_get(hass)
    own = devices.async_get_device(identifiers={(DOMAIN, entry_id)})
    if own is None:
        return
    if any(
        entity.device_id == own.id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
    ):
        return
    devices.async_remove_device(own.id)
