"""The simulated charger's and car's sensors, on one device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import SimulatorConfigEntry, SimulatorRuntime
from .const import (
    DEVICE_NAME,
    DOMAIN,
    ENERGY_ENTITY_ID,
    POWER_ENTITY_ID,
    PRICE_ENTITY_ID,
    RFID_ENTITY_ID,
    SOC_ENTITY_ID,
    STATUS_ENTITY_ID,
)
from .simulated_charger import STATUSES, ChargerReading


@dataclass(frozen=True, kw_only=True)
class SimSensorDescription(SensorEntityDescription):
    """A sensor of the simulated charger and where its value comes from."""

    entity_id: str
    value_fn: Callable[[ChargerReading], Any]
    attributes_fn: Callable[[ChargerReading], dict[str, Any]] | None = None


DESCRIPTIONS = (
    SimSensorDescription(
        key="status",
        name="Operating mode",
        entity_id=STATUS_ENTITY_ID,
        device_class=SensorDeviceClass.ENUM,
        options=STATUSES,
        icon="mdi:ev-station",
        value_fn=lambda reading: reading.status,
    ),
    SimSensorDescription(
        key="power",
        name="Power",
        entity_id=POWER_ENTITY_ID,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        value_fn=lambda reading: reading.power_w,
    ),
    SimSensorDescription(
        key="lifetime_energy",
        name="Lifetime energy",
        entity_id=ENERGY_ENTITY_ID,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda reading: reading.lifetime_energy_kwh,
    ),
    SimSensorDescription(
        key="vehicle_soc",
        name="Vehicle battery",
        entity_id=SOC_ENTITY_ID,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda reading: reading.soc,
    ),
    SimSensorDescription(
        key="rfid_tag",
        name="RFID tag",
        entity_id=RFID_ENTITY_ID,
        icon="mdi:card-account-details",
        value_fn=lambda reading: reading.rfid_tag,
    ),
    SimSensorDescription(
        key="spot_price",
        name="Spot price",
        entity_id=PRICE_ENTITY_ID,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement="SEK/kWh",
        suggested_display_precision=2,
        icon="mdi:cash-clock",
        value_fn=lambda reading: reading.spot_price,
        attributes_fn=lambda reading: {
            # The simulated clock, to the quarter: the price period's start.
            "period_start": reading.price_period_start.isoformat(),
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SimulatorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the charger's sensors."""
    device = DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=DEVICE_NAME,
        manufacturer="ev_sessions development",
        model="Simulated 11 kW wallbox (Easee vocabulary)",
    )
    async_add_entities(
        (SimMeterSensor if description.key == "lifetime_energy" else SimSensor)(
            entry.runtime_data, description, device, entry.entry_id
        )
        for description in DESCRIPTIONS
    )


class SimSensor(SensorEntity):
    """A sensor that writes its state only when its value changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: SimSensorDescription

    def __init__(
        self,
        runtime: SimulatorRuntime,
        description: SimSensorDescription,
        device: DeviceInfo,
        entry_id: str,
    ) -> None:
        """Describe the sensor; ask for a fixed, readable entity id."""
        self.entity_description = description
        self.entity_id = description.entity_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = device
        self._runtime = runtime
        self._shown: tuple[Any, Any] | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the charger."""
        await super().async_added_to_hass()
        self.async_on_remove(self._runtime.add_listener(self._on_reading))
        if self._runtime.reading is not None:
            self._on_reading(self._runtime.reading)

    @callback
    def _on_reading(self, reading: ChargerReading) -> None:
        description = self.entity_description
        value = description.value_fn(reading)
        attributes = (
            description.attributes_fn(reading) if description.attributes_fn else None
        )
        if (value, attributes) == self._shown:
            return
        self._shown = (value, attributes)
        self._attr_native_value = value
        self._attr_extra_state_attributes = attributes or {}
        self.async_write_ha_state()


class SimMeterSensor(SimSensor, RestoreSensor):
    """The lifetime meter: it carries on from its last value after a restart."""

    async def async_added_to_hass(self) -> None:
        """Restore the meter before following the charger."""
        last = await self.async_get_last_sensor_data()
        if last is not None and last.native_value is not None:
            try:
                restored = float(last.native_value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                restored = 0.0
            charger = self._runtime.charger
            if restored > charger.meter_kwh:
                charger.meter_kwh = restored
                # The first state written must be the restored meter, or the
                # meter would seem to drop and come back.
                self._runtime.reading = charger.reading()
        await super().async_added_to_hass()
