"""The session event entity: session and charging starts and stops."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EvSessionsConfigEntry
from .const import EVENT_TYPES
from .coordinator import EvSessionsCoordinator
from .entity import EvSessionsEntity
from .session_tracker import SessionEvent

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvSessionsConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the charger's session event entity."""
    async_add_entities([EvSessionsEventEntity(entry.runtime_data)])


class EvSessionsEventEntity(EvSessionsEntity, EventEntity):
    """Fires `session_started`, `charging_started`, `charging_stopped`, `session_ended`.

    The attributes are the session record without its curve (curves live in
    the store: state attributes are capped at 16 KB).
    """

    def __init__(self, coordinator: EvSessionsCoordinator) -> None:
        """Create the `session` event entity."""
        super().__init__(coordinator, "session")
        self._attr_event_types = list(EVENT_TYPES)

    async def async_added_to_hass(self) -> None:
        """Listen to the coordinator's session events (not to its view)."""
        self.async_on_remove(
            self.coordinator.async_add_event_listener(self._on_session_event)
        )

    @callback
    def _on_session_event(self, event: SessionEvent, data: dict[str, Any]) -> None:
        if event.type not in EVENT_TYPES:
            return
        self._trigger_event(event.type.value, data)
        self.async_write_ha_state()
