"""Sensors: the charger's status, the current or last session, and totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EvSessionsConfigEntry
from .coordinator import STATUS_OPTIONS, ChargerView, EvSessionsCoordinator
from .entity import EvSessionsEntity

# Entities only read the coordinator's view; they never write to the store.
PARALLEL_UPDATES = 0

type SensorValue = str | int | float | datetime | None


@dataclass(frozen=True, kw_only=True)
class EvSessionsSensorDescription(SensorEntityDescription):
    """A sensor described by data: where its value comes from."""

    value_fn: Callable[[ChargerView], SensorValue]
    last_reset_fn: Callable[[ChargerView], datetime | None] | None = None


def _session_started(view: ChargerView) -> datetime | None:
    """Start of the session in progress, else of the last one."""
    if view.live is not None:
        return view.live.started_at
    return view.last.started_at if view.last is not None else None


def _session_energy(view: ChargerView) -> float | None:
    if view.live is not None:
        return round(view.live.energy_kwh, 3)
    return view.last.energy_kwh if view.last is not None else None


def _session_duration(view: ChargerView) -> int | None:
    if view.live is not None:
        return view.live.duration_s
    return view.last.duration_s if view.last is not None else None


def _session_charging_duration(view: ChargerView) -> int | None:
    if view.live is not None:
        return view.live.charging_duration_s
    return view.last.charging_duration_s if view.last is not None else None


def _session_power_peak(view: ChargerView) -> float | None:
    if view.live is not None:
        return view.live.peak_power_kw
    return view.last.peak_power_kw if view.last is not None else None


SENSOR_DESCRIPTIONS: tuple[EvSessionsSensorDescription, ...] = (
    EvSessionsSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=lambda view: view.status,
    ),
    EvSessionsSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_session_energy,
        last_reset_fn=_session_started,
    ),
    EvSessionsSensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=2,
        value_fn=_session_duration,
    ),
    EvSessionsSensorDescription(
        key="session_charging_duration",
        translation_key="session_charging_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=2,
        value_fn=_session_charging_duration,
    ),
    EvSessionsSensorDescription(
        key="session_power_peak",
        translation_key="session_power_peak",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        value_fn=_session_power_peak,
    ),
    EvSessionsSensorDescription(
        key="session_started",
        translation_key="session_started",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_session_started,
    ),
    EvSessionsSensorDescription(
        key="last_session_ended",
        translation_key="last_session_ended",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda view: view.last.ended_at if view.last is not None else None,
    ),
    EvSessionsSensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: view.last.energy_kwh if view.last is not None else None,
    ),
    EvSessionsSensorDescription(
        key="total_energy",
        translation_key="total_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: round(view.total_energy_kwh, 4),
    ),
    EvSessionsSensorDescription(
        key="sessions",
        translation_key="sessions",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda view: view.sessions,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvSessionsConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the charger's sensors."""
    coordinator = entry.runtime_data
    async_add_entities(
        EvSessionsSensor(coordinator, description)
        for description in SENSOR_DESCRIPTIONS
    )


class EvSessionsSensor(EvSessionsEntity, SensorEntity):
    """A sensor reading one value from the charger's view."""

    entity_description: EvSessionsSensorDescription

    def __init__(
        self,
        coordinator: EvSessionsCoordinator,
        description: EvSessionsSensorDescription,
    ) -> None:
        """Describe the sensor by `description`."""
        self.entity_description = description
        super().__init__(coordinator, description.key)

    @property
    def native_value(self) -> SensorValue:
        """Return the value from the coordinator's current view."""
        return self.entity_description.value_fn(self.coordinator.view)

    @property
    def last_reset(self) -> datetime | None:
        """Return when the session this value belongs to started."""
        if (last_reset_fn := self.entity_description.last_reset_fn) is None:
            return None
        return last_reset_fn(self.coordinator.view)
