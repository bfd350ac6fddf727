"""Config, options and reconfigure flows for ev_sessions.

One config entry per charger. Like the core helper integrations, everything the
user chooses lives in `entry.options` (the entry's `data` stays empty), so the
options flow can change the source entities as well as the thresholds.

* `user` names the charger and picks its entities and type.
* `reconfigure` swaps the source entities (a new charger, renamed entities).
* The options flow's `init` edits entities, type and thresholds; its second step,
  `status_states`, appears only when the status entity reports states
  ev_sessions does not recognise (or the user has mapped states before), so the
  user can say which of them mean charging, connected and disconnected.

All three check the entities with the same function. A power sensor or energy
meter another charger already measures would count sessions twice: the user
step aborts with `already_configured` (nothing has been entered yet worth
keeping), while reconfigure and options show it as an error on the field, so
the user's other changes survive and another entity can be picked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .charger_status import GAP_STATES, is_recognised, normalise_state
from .const import (
    CHARGER_TYPES,
    CONF_CHARGER_TYPE,
    CONF_CHARGING_STATES,
    CONF_CONNECTED_STATES,
    CONF_DISCONNECTED_STATES,
    CONF_ENERGY_ENTITY,
    CONF_MIN_SESSION_ENERGY_KWH,
    CONF_NAME,
    CONF_POWER_ENTITY,
    CONF_POWER_THRESHOLD_W,
    CONF_SESSION_TIMEOUT_MINUTES,
    CONF_STATUS_ENTITY,
    DEFAULT_CHARGER_TYPE,
    DEFAULT_MIN_SESSION_ENERGY_KWH,
    DEFAULT_NAME,
    DEFAULT_POWER_THRESHOLD_W,
    DEFAULT_SESSION_TIMEOUT_MINUTES,
    DOMAIN,
    ISSUE_UNKNOWN_STATUS_STATE,
    SOURCE_ENTITY_KEYS,
)
from .units import energy_unit_factor, power_unit_factor

# Domains a charger's status can come from: a status/enum sensor, a "plugged in"
# binary sensor, the charger's on/off switch, or a helper the user keeps in sync.
STATUS_ENTITY_DOMAINS: Final = (
    "sensor",
    "binary_sensor",
    "switch",
    "input_boolean",
    "input_select",
)

# The user's own vocabulary for the status entity, one list per charger state.
STATE_LIST_KEYS: Final = (
    CONF_CHARGING_STATES,
    CONF_CONNECTED_STATES,
    CONF_DISCONNECTED_STATES,
)

# The `options` attribute of enum sensors and input_select helpers.
_ATTR_OPTIONS: Final = "options"


@dataclass(frozen=True, slots=True)
class _Measurement:
    """What a power or energy entity must look like to be usable."""

    device_class: SensorDeviceClass
    unit_factor: Callable[[str | None], float | None]
    invalid_device_class: str
    invalid_unit: str


_MEASUREMENTS: Final[Mapping[str, _Measurement]] = {
    CONF_POWER_ENTITY: _Measurement(
        device_class=SensorDeviceClass.POWER,
        unit_factor=power_unit_factor,
        invalid_device_class="invalid_power_device_class",
        invalid_unit="invalid_power_unit",
    ),
    CONF_ENERGY_ENTITY: _Measurement(
        device_class=SensorDeviceClass.ENERGY,
        unit_factor=energy_unit_factor,
        invalid_device_class="invalid_energy_device_class",
        invalid_unit="invalid_energy_unit",
    ),
}

_SOURCE_ENTITY_FIELDS: Final[dict[vol.Marker, Any]] = {
    vol.Optional(CONF_STATUS_ENTITY): EntitySelector(
        EntitySelectorConfig(domain=list(STATUS_ENTITY_DOMAINS))
    ),
    vol.Optional(CONF_POWER_ENTITY): EntitySelector(
        EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
    ),
    vol.Optional(CONF_ENERGY_ENTITY): EntitySelector(
        EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.ENERGY)
    ),
}

_CHARGER_TYPE_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(options=list(CHARGER_TYPES), translation_key=CONF_CHARGER_TYPE)
)

USER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_NAME, default=DEFAULT_NAME): TextSelector(),
        **_SOURCE_ENTITY_FIELDS,
        vol.Required(
            CONF_CHARGER_TYPE, default=DEFAULT_CHARGER_TYPE
        ): _CHARGER_TYPE_SELECTOR,
    }
)

RECONFIGURE_SCHEMA: Final = vol.Schema(_SOURCE_ENTITY_FIELDS)

OPTIONS_SCHEMA: Final = vol.Schema(
    {
        **_SOURCE_ENTITY_FIELDS,
        vol.Required(
            CONF_CHARGER_TYPE, default=DEFAULT_CHARGER_TYPE
        ): _CHARGER_TYPE_SELECTOR,
        vol.Required(
            CONF_POWER_THRESHOLD_W, default=DEFAULT_POWER_THRESHOLD_W
        ): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=5000,
                step=10,
                unit_of_measurement=UnitOfPower.WATT,
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Required(
            CONF_MIN_SESSION_ENERGY_KWH, default=DEFAULT_MIN_SESSION_ENERGY_KWH
        ): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=10,
                step=0.01,
                unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Required(
            CONF_SESSION_TIMEOUT_MINUTES, default=DEFAULT_SESSION_TIMEOUT_MINUTES
        ): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=1440,
                step=1,
                unit_of_measurement=UnitOfTime.MINUTES,
                mode=NumberSelectorMode.BOX,
            )
        ),
    }
)


def _chosen_sources(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Return the source entities the user picked; empty fields are left out."""
    return {key: user_input[key] for key in SOURCE_ENTITY_KEYS if user_input.get(key)}


def _source_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the chosen source entities; return the form errors (empty when fine).

    Shared by the user, reconfigure and options steps.
    """
    errors: dict[str, str] = {}
    sources = _chosen_sources(user_input)

    if CONF_POWER_ENTITY not in sources and CONF_ENERGY_ENTITY not in sources:
        errors["base"] = "no_measurement"
    elif len(set(sources.values())) < len(sources):
        errors["base"] = "same_entity"

    for key, entity_id in sources.items():
        if (state := hass.states.get(entity_id)) is None:
            errors[key] = "entity_not_found"
        elif (measurement := _MEASUREMENTS.get(key)) is not None and (
            error := _measurement_error(state, measurement)
        ):
            errors[key] = error
    return errors


def _measurement_error(state: State, measurement: _Measurement) -> str | None:
    """Return why a power or energy entity cannot be used, or None if it can.

    A device class that says the entity measures something else is the clearer
    message, so it wins over the unit. A missing device class is accepted: many
    template and integration sensors have none but a perfectly good unit.
    """
    device_class = state.attributes.get(ATTR_DEVICE_CLASS)
    if device_class is not None and device_class != measurement.device_class:
        return measurement.invalid_device_class
    # The coordinator reads units with the same lookup, so the flow accepts
    # exactly the units the integration can convert.
    if measurement.unit_factor(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)) is None:
        return measurement.invalid_unit
    return None


def _source_used_elsewhere(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    *,
    this_entry_id: str | None = None,
) -> str | None:
    """Return the field whose power/energy entity another charger already uses.

    Two entries measuring the same meter would count every session twice.
    """
    measured_by_others = {
        entity_id
        for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False)
        if entry.entry_id != this_entry_id
        for key in (CONF_POWER_ENTITY, CONF_ENERGY_ENTITY)
        if (entity_id := entry.options.get(key))
    }
    for key in (CONF_POWER_ENTITY, CONF_ENERGY_ENTITY):
        if user_input.get(key) in measured_by_others:
            return key
    return None


def _with_sources(
    options: Mapping[str, Any], user_input: Mapping[str, Any]
) -> dict[str, Any]:
    """Return `options` with the source entities replaced by the user's choice.

    Cleared entities disappear. Without a status entity the user's state lists
    describe nothing, so they go too.
    """
    new_options = {
        key: value for key, value in options.items() if key not in SOURCE_ENTITY_KEYS
    }
    new_options.update(_chosen_sources(user_input))
    if CONF_STATUS_ENTITY not in new_options:
        for key in STATE_LIST_KEYS:
            new_options.pop(key, None)
    return new_options


def _possible_states(state: State, *, also_seen: Iterable[str] = ()) -> list[str]:
    """Return the states the status entity can report, as far as we can tell.

    Enum sensors and input_select helpers list them in their `options`
    attribute; for anything else the current state and the states seen before
    (`also_seen`) are all we know.
    """
    listed = state.attributes.get(_ATTR_OPTIONS)
    possible = (
        [str(option) for option in listed] if isinstance(listed, (list, tuple)) else []
    )
    possible.extend((state.state, *also_seen))
    return [
        raw
        for raw in dict.fromkeys(possible)
        if (word := normalise_state(raw)) and word not in GAP_STATES
    ]


def _states_in_repairs(hass: HomeAssistant, entry_id: str, entity_id: str) -> list[str]:
    """Return the states named by this charger's `unknown_status_state` repairs.

    A status sensor without an `options` attribute may have left the state that
    raised the repair by the time the user opens the options, so the states are
    taken from the repair too. The coordinator names every unknown state it has
    seen in the `state` placeholder, joined by ", ".
    """
    states: list[str] = []
    for issue in ir.async_get(hass).issues.values():
        placeholders = issue.translation_placeholders or {}
        if (
            issue.domain == DOMAIN
            and issue.translation_key == ISSUE_UNKNOWN_STATUS_STATE
            and issue.issue_id.endswith(entry_id)
            and placeholders.get("entity_id") == entity_id
            and "state" in placeholders
        ):
            states.extend(placeholders["state"].split(", "))
    return states


def _unrecognised_states(
    possible: Iterable[str], state: State, options: Mapping[str, Any]
) -> list[str]:
    """Return those of the status entity's states that ev_sessions cannot interpret."""
    device_class = state.attributes.get(ATTR_DEVICE_CLASS)
    return [
        raw
        for raw in possible
        if not is_recognised(
            raw,
            domain=state.domain,
            device_class=device_class if isinstance(device_class, str) else None,
            charging_states=options.get(CONF_CHARGING_STATES, ()),
            connected_states=options.get(CONF_CONNECTED_STATES, ()),
            disconnected_states=options.get(CONF_DISCONNECTED_STATES, ()),
        )
    ]


def _state_list(value: Any) -> list[str]:
    """Tidy one submitted state list: strip blanks, drop empties and repeats."""
    states: list[str] = []
    for raw in value or ():
        if (stripped := str(raw).strip()) and stripped not in states:
            states.append(stripped)
    return states


def _in_two_lists(state_lists: Iterable[list[str]]) -> bool:
    """Tell whether a state appears in more than one list.

    States are compared the way the status mapping compares them
    ("Ready to charge" and "ready_to_charge" are the same state).
    """
    seen: set[str] = set()
    for states in state_lists:
        words = {normalise_state(raw) for raw in states}
        if seen & words:
            return True
        seen |= words
    return False


class EvSessionsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one charger: its name, source entities and type."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EvSessionsOptionsFlow:
        """Return the options flow; it reads the entry from `self.config_entry`."""
        return EvSessionsOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the charger's name, source entities and type."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _source_errors(self.hass, user_input)
            if not errors:
                if _source_used_elsewhere(self.hass, user_input) is not None:
                    return self.async_abort(reason="already_configured")
                name = user_input[CONF_NAME].strip() or DEFAULT_NAME
                return self.async_create_entry(
                    title=name,
                    data={},
                    options={
                        CONF_NAME: name,
                        **_chosen_sources(user_input),
                        CONF_CHARGER_TYPE: user_input[CONF_CHARGER_TYPE],
                        CONF_POWER_THRESHOLD_W: DEFAULT_POWER_THRESHOLD_W,
                        CONF_MIN_SESSION_ENERGY_KWH: DEFAULT_MIN_SESSION_ENERGY_KWH,
                        CONF_SESSION_TIMEOUT_MINUTES: DEFAULT_SESSION_TIMEOUT_MINUTES,
                    },
                )

        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Swap the charger's source entities, e.g. after replacing the charger.

        A power or energy entity another charger already uses is shown as an
        error on the form rather than an abort, so the user can pick another one
        without starting over.
        """
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _source_errors(self.hass, user_input)
            if not errors and (
                field := _source_used_elsewhere(
                    self.hass, user_input, this_entry_id=entry.entry_id
                )
            ):
                errors[field] = "already_configured"
            if not errors:
                # The integration's update listener reloads the entry. Not
                # async_update_reload_and_abort: with an update listener that is
                # an error from 2026.12; async_update_and_abort is missing in 2025.4.
                self.hass.config_entries.async_update_entry(
                    entry, options=_with_sources(entry.options, user_input)
                )
                return self.async_abort(reason="reconfigure_successful")

        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                RECONFIGURE_SCHEMA, entry.options if user_input is None else user_input
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )


class EvSessionsOptionsFlow(OptionsFlow):
    """Change a charger's entities, type and thresholds, and map unknown states."""

    _new_options: dict[str, Any]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the source entities, charger type and session thresholds.

        A power or energy entity another charger already uses is an error on the
        form (`already_configured`): aborting would throw the user's other
        changes away.
        """
        options = self.config_entry.options
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _source_errors(self.hass, user_input)
            if not errors and (
                field := _source_used_elsewhere(
                    self.hass, user_input, this_entry_id=self.config_entry.entry_id
                )
            ):
                errors[field] = "already_configured"
            if not errors:
                self._new_options = _with_sources(options, user_input) | {
                    CONF_CHARGER_TYPE: user_input[CONF_CHARGER_TYPE],
                    CONF_POWER_THRESHOLD_W: float(user_input[CONF_POWER_THRESHOLD_W]),
                    CONF_MIN_SESSION_ENERGY_KWH: float(
                        user_input[CONF_MIN_SESSION_ENERGY_KWH]
                    ),
                    CONF_SESSION_TIMEOUT_MINUTES: int(
                        user_input[CONF_SESSION_TIMEOUT_MINUTES]
                    ),
                }
                if self._status_states_wanted():
                    return await self.async_step_status_states()
                return self.async_create_entry(data=self._new_options)

        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, options if user_input is None else user_input
            ),
            errors=errors,
        )

    async def async_step_status_states(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user say which status states mean charging, connected, disconnected."""
        errors: dict[str, str] = {}
        if user_input is not None:
            state_lists = {
                key: _state_list(user_input.get(key)) for key in STATE_LIST_KEYS
            }
            if _in_two_lists(state_lists.values()):
                errors["base"] = "state_in_two_lists"
            else:
                new_options = {
                    key: value
                    for key, value in self._new_options.items()
                    if key not in STATE_LIST_KEYS
                }
                new_options.update(
                    {key: states for key, states in state_lists.items() if states}
                )
                return self.async_create_entry(data=new_options)

        status_entity_id: str = self._new_options[CONF_STATUS_ENTITY]
        possible, unrecognised = self._status_entity_states(status_entity_id)
        already_mapped = [
            raw for key in STATE_LIST_KEYS for raw in self._new_options.get(key, ())
        ]
        state_selector = SelectSelector(
            SelectSelectorConfig(
                options=list(dict.fromkeys([*possible, *already_mapped])),
                multiple=True,
                custom_value=True,
                mode=SelectSelectorMode.DROPDOWN,
            )
        )
        schema = vol.Schema(
            {vol.Optional(key): state_selector for key in STATE_LIST_KEYS}
        )
        return self.async_show_form(
            step_id="status_states",
            data_schema=self.add_suggested_values_to_schema(
                schema, self._new_options if user_input is None else user_input
            ),
            errors=errors,
            description_placeholders={
                "entity_id": status_entity_id,
                "states": ", ".join(unrecognised) if unrecognised else "-",
            },
        )

    def _status_states_wanted(self) -> bool:
        """Tell whether the `status_states` step has something to offer.

        It does when the status entity reports states ev_sessions cannot
        interpret, or when the user has mapped states before (so they can
        review or clear the lists, e.g. after switching status entity).
        """
        if (status_entity_id := self._new_options.get(CONF_STATUS_ENTITY)) is None:
            return False
        if any(key in self._new_options for key in STATE_LIST_KEYS):
            return True
        return bool(self._status_entity_states(status_entity_id)[1])

    def _status_entity_states(self, entity_id: str) -> tuple[list[str], list[str]]:
        """Return the status entity's possible states and the unrecognised ones."""
        if (state := self.hass.states.get(entity_id)) is None:
            return [], []
        possible = _possible_states(
            state,
            also_seen=_states_in_repairs(
                self.hass, self.config_entry.entry_id, entity_id
            ),
        )
        return possible, _unrecognised_states(possible, state, self._new_options)
