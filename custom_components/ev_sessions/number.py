"""The charge target: the state of charge at which the car counts as full."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberMode, RestoreNumber
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EvSessionsConfigEntry
from .const import CONF_SOC_ENTITY, DEFAULT_TARGET_SOC
from .coordinator import EvSessionsCoordinator, PublishGroup
from .entity import EvSessionsEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvSessionsConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the target state of charge, for chargers that know the car's SoC."""
    if entry.options.get(CONF_SOC_ENTITY):
        async_add_entities([TargetSocNumber(entry.runtime_data)])


class TargetSocNumber(EvSessionsEntity, RestoreNumber):
    """Target state of charge (%), restored across restarts."""

    _attr_device_class = NumberDeviceClass.BATTERY
    _attr_entity_category = EntityCategory.CONFIG
    _attr_mode = NumberMode.SLIDER
    _attr_native_min_value = 10
    _attr_native_max_value = 100
    _attr_native_step = 1
    _attr_native_unit_of_measurement = PERCENTAGE
    # Only the user changes it.
    _publish_group = PublishGroup.CHANGES

    def __init__(self, coordinator: EvSessionsCoordinator) -> None:
        """Create the `target_soc` number."""
        super().__init__(coordinator, "target_soc")
        self._attr_native_value = DEFAULT_TARGET_SOC

    async def async_added_to_hass(self) -> None:
        """Take the value from before the restart, and hand it to the engine."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_number_data()) is not None and (
            last.native_value is not None
        ):
            self._attr_native_value = last.native_value
        self.coordinator.tracker.set_target_soc(float(self.native_value or 100))

    def _shown(self) -> tuple[object, ...]:
        return (*super()._shown(), self.native_value)

    async def async_set_native_value(self, value: float) -> None:
        """Set a new target."""
        self._attr_native_value = value
        self.coordinator.tracker.set_target_soc(value)
        self.async_write_ha_state()
