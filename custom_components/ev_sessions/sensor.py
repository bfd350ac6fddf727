"""Sensors: the charger's status, the current or last session, and totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import slugify

from . import EvSessionsConfigEntry
from .coordinator import (
    STATUS_OPTIONS,
    ChargerView,
    EvSessionsCoordinator,
    PublishGroup,
)
from .entity import EvSessionsEntity
from .period_totals import MonthTotals, PeriodTotals
from .session_tracker import TrackerSettings

# Entities only read the coordinator's view; they never write to the store.
PARALLEL_UPDATES = 0

type SensorValue = str | int | float | Decimal | datetime | None


@dataclass(frozen=True, kw_only=True)
class EvSessionsSensorDescription(SensorEntityDescription):
    """A sensor described by data: where its value comes from."""

    value_fn: Callable[[ChargerView], SensorValue]
    last_reset_fn: Callable[[ChargerView], datetime | None] | None = None
    # When the sensor is refreshed (see `PublishGroup`). The slow group's
    # sensors (durations, month totals) follow the coordinator's slow view:
    # refreshed every 5 minutes, and at once when a session or a charging
    # interval starts or ends.
    group: PublishGroup = PublishGroup.SESSION_ENERGY
    # Money sensors: the unit follows Home Assistant's currency.
    unit_fn: Callable[[str | None], str | None] | None = None
    # Whether the charger's settings call for this sensor at all.
    exists_fn: Callable[[TrackerSettings], bool] = lambda _: True
    # Whether the value means anything now (else the sensor is unavailable).
    available_fn: Callable[[ChargerView], bool] = lambda _: True


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


def _charging(view: ChargerView) -> bool:
    return view.live is not None and view.live.charging


def _estimated_end(view: ChargerView) -> datetime | None:
    return view.live.estimated_end if view.live is not None else None


# Money over a month is split by where the energy was drawn: show it to the
# hundredth of a cent, not the split's fifty digits.
_MONTH_MONEY_DIGITS: Final = 4


def _this_month(view: ChargerView) -> PeriodTotals | None:
    return view.months.this_month if view.months is not None else None


def _last_month(view: ChargerView) -> PeriodTotals | None:
    return view.months.last_month if view.months is not None else None


def _month_start(view: ChargerView) -> datetime | None:
    """Local midnight at the month's start, in UTC like every time we show."""
    return view.months.start.astimezone(UTC) if view.months is not None else None


def _period_value(
    totals: Callable[[ChargerView], PeriodTotals | None], part: str
) -> Callable[[ChargerView], SensorValue]:
    """Read one part (energy, cost or revenue) of a period's totals."""

    def value(view: ChargerView) -> SensorValue:
        period = totals(view)
        if period is None:
            return None
        if part == "energy":
            return round(period.energy_kwh, 3)
        amount: Decimal = getattr(period, part)
        return round(amount, _MONTH_MONEY_DIGITS)

    return value


def period_descriptions(
    *,
    key: str,
    translation_key: str,
    totals: Callable[[ChargerView], PeriodTotals | None],
    this_month: bool,
) -> tuple[EvSessionsSensorDescription, ...]:
    """Describe a period's energy, cost and revenue sensors.

    ``key`` and ``translation_key`` hold ``{part}``. This month's sensors
    count up from the month's start (state class total, ``last_reset``);
    last month's are a report, fixed for the whole month: without a state
    class, so long-term statistics do not count them a second time. A month
    total needs no 30 s refresh: this month's follow the slow view (every 5
    minutes, and at once when a session starts or ends), which keeps their
    recorder rows and the tick's cost down.
    """
    metered: dict[str, Any] = (
        {"state_class": SensorStateClass.TOTAL, "last_reset_fn": _month_start}
        if this_month
        else {}
    )
    # This month's totals follow the slow view; last month's change only
    # when the month or the history does.
    metered["group"] = PublishGroup.SLOW if this_month else PublishGroup.CHANGES
    return (
        EvSessionsSensorDescription(
            key=key.format(part="energy"),
            translation_key=translation_key.format(part="energy"),
            device_class=SensorDeviceClass.ENERGY,
            native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            suggested_display_precision=2,
            value_fn=_period_value(totals, "energy"),
            **metered,
        ),
        *(
            EvSessionsSensorDescription(
                key=key.format(part=part),
                translation_key=translation_key.format(part=part),
                device_class=SensorDeviceClass.MONETARY,
                suggested_display_precision=2,
                unit_fn=_currency,
                value_fn=_period_value(totals, part),
                exists_fn=exists_fn,
                **metered,
            )
            for part, exists_fn in (("cost", _priced), ("revenue", _charges_users))
        ),
    )


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
        group=PublishGroup.SLOW,
    ),
    EvSessionsSensorDescription(
        key="session_charging_duration",
        translation_key="session_charging_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=2,
        value_fn=_session_charging_duration,
        group=PublishGroup.SLOW,
    ),
    EvSessionsSensorDescription(
        key="session_power_peak",
        translation_key="session_power_peak",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        value_fn=_session_power_peak,
        group=PublishGroup.TOTAL_ENERGY,
    ),
    EvSessionsSensorDescription(
        key="session_started",
        translation_key="session_started",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_session_started,
        group=PublishGroup.CHANGES,
    ),
    EvSessionsSensorDescription(
        key="last_session_ended",
        translation_key="last_session_ended",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda view: view.last.ended_at if view.last is not None else None,
        group=PublishGroup.CHANGES,
    ),
    EvSessionsSensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: view.last.energy_kwh if view.last is not None else None,
        group=PublishGroup.CHANGES,
    ),
    EvSessionsSensorDescription(
        key="total_energy",
        translation_key="total_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: round(view.total_energy_kwh, 4),
        group=PublishGroup.TOTAL_ENERGY,
    ),
    EvSessionsSensorDescription(
        key="sessions",
        translation_key="sessions",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda view: view.sessions,
        group=PublishGroup.CHANGES,
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
        group=PublishGroup.SESSION_COST,
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
        group=PublishGroup.REVENUE,
    ),
    EvSessionsSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=lambda view: view.last.cost if view.last is not None else None,
        exists_fn=_priced,
        group=PublishGroup.CHANGES,
    ),
    EvSessionsSensorDescription(
        key="last_session_revenue",
        translation_key="last_session_revenue",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        unit_fn=_currency,
        value_fn=lambda view: view.last.revenue if view.last is not None else None,
        exists_fn=_charges_users,
        group=PublishGroup.CHANGES,
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
        group=PublishGroup.TOTAL_COST,
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
        group=PublishGroup.CHANGES,
    ),
    EvSessionsSensorDescription(
        key="estimated_end",
        translation_key="estimated_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_estimated_end,
        available_fn=_charging,
        group=PublishGroup.TOTAL_COST,
    ),
    *period_descriptions(
        key="{part}_this_month",
        translation_key="{part}_this_month",
        totals=_this_month,
        this_month=True,
    ),
    *period_descriptions(
        key="{part}_last_month",
        translation_key="{part}_last_month",
        totals=_last_month,
        this_month=False,
    ),
    EvSessionsSensorDescription(
        key="current_price",
        translation_key="current_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        unit_fn=_per_kwh,
        value_fn=lambda view: view.current_price,
        exists_fn=_priced,
        # The cycle's first turn: a price change shows within 30 s.
        group=PublishGroup.SESSION_ENERGY,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvSessionsConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the charger's sensors."""
    coordinator = entry.runtime_data
    sensors = [
        EvSessionsSensor(coordinator, description)
        for description in SENSOR_DESCRIPTIONS
        if description.exists_fn(coordinator.settings)
    ]
    user_sensors = [
        EvSessionsUserSensor(coordinator, description, user)
        for user in coordinator.user_names
        for description in user_descriptions(user)
        if description.exists_fn(coordinator.settings)
    ]
    _remove_stale_user_sensors(hass, entry, user_sensors)
    async_add_entities([*sensors, *user_sensors])


# Per-user sensors' unique-id keys: user_<slug of the name>_<what>_this_month.
USER_KEY_PREFIX: Final = "user_"


def user_descriptions(user: str) -> tuple[EvSessionsSensorDescription, ...]:
    """Describe one configured user's energy, cost and revenue this month."""

    def totals(view: ChargerView) -> PeriodTotals | None:
        months: MonthTotals | None = view.months
        if months is None:
            return None
        return months.users.get(user)

    return period_descriptions(
        key=f"{USER_KEY_PREFIX}{slugify(user)}_{{part}}_this_month",
        translation_key="user_{part}_this_month",
        totals=totals,
        this_month=True,
    )


@callback
def _remove_stale_user_sensors(
    hass: HomeAssistant,
    entry: EvSessionsConfigEntry,
    current: list[EvSessionsUserSensor],
) -> None:
    """Remove the sensors of users that were removed or renamed."""
    registry = er.async_get(hass)
    wanted = {sensor.unique_id for sensor in current}
    prefix = f"{entry.entry_id}_{USER_KEY_PREFIX}"
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if (
            entity.domain == "sensor"
            and entity.unique_id.startswith(prefix)
            and entity.unique_id not in wanted
        ):
            registry.async_remove(entity.entity_id)


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
        self._publish_group = description.group
        super().__init__(coordinator, description.key)
        if description.unit_fn is not None:
            self._attr_native_unit_of_measurement = description.unit_fn(
                coordinator.settings.currency
            )

    @property
    def _view(self) -> ChargerView:
        """The coordinator's view this sensor's value follows (slow if SLOW).

        Both views agree on when a session started (a start is published at
        once to both), so `last_reset` reads the current one.
        """
        if self.entity_description.group is PublishGroup.SLOW:
            return self.coordinator.slow_view
        return self.coordinator.view

    def _shown(self) -> tuple[object, ...]:
        return (*super()._shown(), self.native_value, self.last_reset)

    @property
    def native_value(self) -> SensorValue:
        """Return the value from the coordinator's current view."""
        return self.entity_description.value_fn(self._view)

    @property
    def available(self) -> bool:
        """Return whether the value means anything now."""
        return self.entity_description.available_fn(self.coordinator.view)

    @property
    def last_reset(self) -> datetime | None:
        """Return when the session or month this value belongs to started."""
        if (last_reset_fn := self.entity_description.last_reset_fn) is None:
            return None
        return last_reset_fn(self.coordinator.view)


class EvSessionsUserSensor(EvSessionsSensor):
    """One configured user's total this month; the name says whose."""

    def __init__(
        self,
        coordinator: EvSessionsCoordinator,
        description: EvSessionsSensorDescription,
        user: str,
    ) -> None:
        """Describe the sensor by `description`, named after `user`."""
        super().__init__(coordinator, description)
        self._attr_translation_key = description.translation_key
        self._attr_translation_placeholders = {"user": user}
