"""Sensors: the charger's status, the current or last session, and totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

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
from .session_tracker import TrackerSettings

# Entities only read the coordinator's view; they never write to the store.
PARALLEL_UPDATES = 0

type SensorValue = str | int | float | Decimal | datetime | None


@dataclass(frozen=True, kw_only=True)
class EvSessionsSensorDescription(SensorEntityDescription):
    """A sensor described by data: where its value comes from."""

    value_fn: Callable[[ChargerView], SensorValue]
    last_reset_fn: Callable[[ChargerView], datetime | None] | None = None
    # Values that change only because time passes (durations) follow the
    # coordinator's slow view: refreshed every 5 minutes, and at once when a
    # session or a charging interval starts or ends.
    slow: bool = False
    # Money sensors: the unit follows Home Assistant's currency.
    unit_fn: Callable[[str | None], str | None] | None = None
    # Whether the charger's settings call for this sensor at all.
    exists_fn: Callable[[TrackerSettings], bool] = lambda _: True


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


def _session_cost(view: ChargerView) -> Decimal | None:
    if view.live is not None:
        return view.live.cost
    return view.last.cost if view.last is not None else None


def _session_revenue(view: ChargerView) -> Decimal | None:
    if view.live is not None:
        return view.live.revenue
    return view.last.revenue if view.last is not None else None


def _currency(currency: str | None) -> str | None:
    return currency


def _per_kwh(currency: str | None) -> str | None:
    return None if currency is None else f"{currency}/kWh"


def _priced(settings: TrackerSettings) -> bool:
    return settings.priced


def _charges_users(settings: TrackerSettings) -> bool:
    """Revenue sensors: for chargers whose default tariff or users charge."""
    return not settings.tariff.is_free or any(
        user.get("tariff") for user in settings.users
    )


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
        slow=True,
    ),
    EvSessionsSensorDescription(
        key="session_charging_duration",
        translation_key="session_charging_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=2,
        value_fn=_session_charging_duration,
        slow=True,
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
    EvSessionsSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=_session_cost,
        last_reset_fn=_session_started,
        exists_fn=_priced,
    ),
    EvSessionsSensorDescription(
        key="session_revenue",
        translation_key="session_revenue",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=_session_revenue,
        last_reset_fn=_session_started,
        exists_fn=_charges_users,
    ),
    EvSessionsSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=lambda view: view.last.cost if view.last is not None else None,
        exists_fn=_priced,
    ),
    EvSessionsSensorDescription(
        key="last_session_revenue",
        translation_key="last_session_revenue",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=lambda view: view.last.revenue if view.last is not None else None,
        exists_fn=_charges_users,
    ),
    EvSessionsSensorDescription(
        key="total_cost",
        translation_key="total_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=lambda view: view.total_cost,
        exists_fn=_priced,
    ),
    EvSessionsSensorDescription(
        key="total_revenue",
        translation_key="total_revenue",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=lambda view: view.total_revenue,
        exists_fn=_charges_users,
    ),
    EvSessionsSensorDescription(
        key="current_price",
        translation_key="current_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        unit_fn=_per_kwh,
        value_fn=lambda view: view.current_price,
        exists_fn=_priced,
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
        if description.exists_fn(coordinator.settings)
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
        if description.unit_fn is not None:
            self._attr_native_unit_of_measurement = description.unit_fn(
                coordinator.settings.currency
            )

    @property
    def _view(self) -> ChargerView:
        """The coordinator's view this sensor's value follows (slow if slow).

        Both views agree on when a session started (a start is published at
        once to both), so `last_reset` reads the current one.
        """
        if self.entity_description.slow:
            return self.coordinator.slow_view
        return self.coordinator.view

    def _shown(self) -> tuple[object, ...]:
        return (*super()._shown(), self.native_value, self.last_reset)

    @property
    def native_value(self) -> SensorValue:
        """Return the value from the coordinator's current view."""
        return self.entity_description.value_fn(self._view)

    @property
    def last_reset(self) -> datetime | None:
        """Return when the session this value belongs to started."""
        if (last_reset_fn := self.entity_description.last_reset_fn) is None:
            return None
        return last_reset_fn(self.coordinator.view)
