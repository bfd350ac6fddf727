"""Config, options and reconfigure flows for ev_sessions.

One config entry per charger. Like the core helper integrations, everything the
user chooses lives in `entry.options` (the entry's `data` stays empty), so the
options flow can change the source entities as well as the thresholds.

* `user` names the charger and picks its entities and type. Money is left to
  the options: a charger is useful before anyone has thought about prices.
* `reconfigure` swaps the source entities (a new charger, renamed entities).
* The options flow opens on a menu (`init`) with three topics:
  * `charger` edits entities, the user entity, type and thresholds; its
    follow-up step `status_states` appears only when the status entity reports
    states ev_sessions does not recognise (or the user has mapped states
    before), so the user can say which of them mean charging, connected and
    disconnected.
  * `pricing` sets the cost price (fixed, or a price sensor) and the tariff:
    the fees and markup users pay.
  * `users` is a second menu: `add_user`, `edit_user` (then
    `edit_user_details`), `remove_user` (then `remove_user_confirm`).

Every form of the options flow saves as soon as it is submitted and closes the
dialog, as Home Assistant's own menu-driven options flows do. The alternative,
collecting changes across pages until a final "save", loses them all when the
dialog is closed by habit; and one page per change makes each change, and
each test of it, a short straight path.

Amounts are in Home Assistant's currency. A number field left empty is not
stored, and an absent amount counts as 0; a user's `tariff` holds only the
fields filled in, and is left out when none are.

All three flows check the entities with the same function. A power sensor or
energy meter another charger already measures would count sessions twice: the
user step aborts with `already_configured` (nothing has been entered yet worth
keeping), while reconfigure and options show it as an error on the field, so
the user's other changes survive and another entity can be picked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
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
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.data_entry_flow import section
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
    CONF_BATTERY_CAPACITY_KWH,
    CONF_CHARGER_TYPE,
    CONF_CHARGING_STATES,
    CONF_CONNECTED_STATES,
    CONF_COST_PER_KWH,
    CONF_DISCONNECTED_STATES,
    CONF_ENERGY_ENTITY,
    CONF_FEE_PER_HOUR,
    CONF_FEE_PER_KWH,
    CONF_FEE_PER_SESSION,
    CONF_IDLE_FEE_PER_HOUR,
    CONF_IDLE_GRACE_MINUTES,
    CONF_KEEP_DAYS,
    CONF_MARKUP_FACTOR,
    CONF_MARKUP_PER_KWH,
    CONF_MIN_SESSION_ENERGY_KWH,
    CONF_MINIMUM_FEE,
    CONF_NAME,
    CONF_POWER_ENTITY,
    CONF_POWER_THRESHOLD_W,
    CONF_PRICE_ENTITY,
    CONF_SESSION_TIMEOUT_MINUTES,
    CONF_SOC_ENTITY,
    CONF_STATUS_ENTITY,
    CONF_USER_ENTITY,
    CONF_USERS,
    DEFAULT_CHARGER_TYPE,
    DEFAULT_MIN_SESSION_ENERGY_KWH,
    DEFAULT_NAME,
    DEFAULT_POWER_THRESHOLD_W,
    DEFAULT_SESSION_TIMEOUT_MINUTES,
    DOMAIN,
    ISSUE_UNKNOWN_STATUS_STATE,
    SOURCE_ENTITY_KEYS,
    USER_NAME,
    USER_TAG,
    USER_TARIFF,
)
from .pricing import TARIFF_KEYS, UnsupportedPriceUnitError, price_factor
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

# Domains the user entity can come from: the charger's "last RFID tag" or
# "user" sensor, or a helper an automation keeps up to date.
USER_ENTITY_DOMAINS: Final = ("sensor", "input_text", "input_select", "select")

# The `options` attribute of enum sensors and input_select helpers.
_ATTR_OPTIONS: Final = "options"

# Where the owner's cost of a kWh comes from: a fixed price or a price sensor.
COST_PRICE_KEYS: Final = (CONF_COST_PER_KWH, CONF_PRICE_ENTITY)
# Everything the `pricing` step sets.
PRICING_KEYS: Final = (*COST_PRICE_KEYS, *TARIFF_KEYS)

# Roomy enough for any currency's price of a kWh or a session (even in IDR).
_MAX_AMOUNT: Final = 100_000
# Prices may be negative (pricing.py bills them), but a *fixed* price far
# below zero is a typo rather than a contract.
_MIN_COST_PER_KWH: Final = -10
_MAX_MARKUP_FACTOR: Final = 100
_MAX_IDLE_GRACE_MINUTES: Final = 1440

# The field of the `edit_user` and `remove_user` forms that picks the user.
_FIELD_USER: Final = "user"


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

CHARGER_SCHEMA: Final = vol.Schema(
    {
        **_SOURCE_ENTITY_FIELDS,
        vol.Optional(CONF_USER_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=list(USER_ENTITY_DOMAINS))
        ),
        vol.Optional(CONF_SOC_ENTITY): EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class="battery")
        ),
        vol.Optional(CONF_BATTERY_CAPACITY_KWH): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=500,
                step=0.1,
                unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                mode=NumberSelectorMode.BOX,
            )
        ),
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
        # Empty: keep sessions forever.
        vol.Optional(CONF_KEEP_DAYS): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=36500,
                step=1,
                unit_of_measurement=UnitOfTime.DAYS,
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


# Optional inputs of the `charger` form besides the sources: who charges, the
# vehicle's state of charge and battery size.
_VEHICLE_KEYS: Final = (CONF_USER_ENTITY, CONF_SOC_ENTITY, CONF_BATTERY_CAPACITY_KWH)


def _user_entity_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the user and SoC entities of the `charger` form; return errors."""
    errors: dict[str, str] = {}
    for key in (CONF_USER_ENTITY, CONF_SOC_ENTITY):
        if not (entity_id := user_input.get(key)):
            continue
        if entity_id in _chosen_sources(user_input).values():
            errors[key] = "same_entity"
        elif hass.states.get(entity_id) is None:
            errors[key] = "entity_not_found"
    return errors


def _with_user_entity(
    options: Mapping[str, Any], user_input: Mapping[str, Any]
) -> dict[str, Any]:
    """Return `options` with the `charger` form's user entity, SoC and battery."""
    new_options = {
        key: value for key, value in options.items() if key not in _VEHICLE_KEYS
    }
    for key in _VEHICLE_KEYS:
        if value := user_input.get(key):
            new_options[key] = value
    return new_options


def _amount(
    unit: str, *, minimum: float = 0, maximum: float = _MAX_AMOUNT
) -> NumberSelector:
    """Return a box for an amount of money (or money per kWh, per hour)."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step="any",
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


def _tariff_fields(currency: str) -> dict[vol.Marker, Any]:
    """Return the tariff's fields, all optional, in the order a reader needs them.

    The markup on the cost price first, then the fees, then the idle fee and
    its grace period. The same fields serve the charger's tariff (`pricing`)
    and a user's own (the `tariff` section of the user forms).
    """
    per_kwh = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
    per_hour = f"{currency}/{UnitOfTime.HOURS}"
    selectors: dict[str, NumberSelector] = {
        CONF_MARKUP_FACTOR: NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=_MAX_MARKUP_FACTOR,
                step="any",
                mode=NumberSelectorMode.BOX,
            )
        ),
        CONF_MARKUP_PER_KWH: _amount(per_kwh, minimum=-_MAX_AMOUNT),
        # A fee per kWh may be negative: a discount on a marked-up spot price.
        CONF_FEE_PER_KWH: _amount(per_kwh, minimum=-_MAX_AMOUNT),
        CONF_FEE_PER_SESSION: _amount(currency),
        CONF_FEE_PER_HOUR: _amount(per_hour),
        CONF_MINIMUM_FEE: _amount(currency),
        CONF_IDLE_FEE_PER_HOUR: _amount(per_hour),
        CONF_IDLE_GRACE_MINUTES: NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=_MAX_IDLE_GRACE_MINUTES,
                step=1,
                unit_of_measurement=UnitOfTime.MINUTES,
                mode=NumberSelectorMode.BOX,
            )
        ),
    }
    return {vol.Optional(key): selector for key, selector in selectors.items()}


def _pricing_schema(currency: str) -> vol.Schema:
    """Return the `pricing` form: the cost price, then the charger's tariff."""
    return vol.Schema(
        {
            vol.Optional(CONF_COST_PER_KWH): _amount(
                f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}",
                minimum=_MIN_COST_PER_KWH,
            ),
            vol.Optional(CONF_PRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="sensor")
            ),
            **_tariff_fields(currency),
        }
    )


def _user_schema(currency: str, *, own_tariff: bool) -> vol.Schema:
    """Return the form of one user: name, tag and, folded away, a tariff.

    Built afresh for every form: Home Assistant 2025.4 writes suggested values
    into a section's schema in place, so a shared one would carry one user's
    tariff over to the next form.
    """
    return vol.Schema(
        {
            vol.Required(USER_NAME): TextSelector(),
            vol.Required(USER_TAG): TextSelector(),
            vol.Optional(USER_TARIFF): section(
                vol.Schema(_tariff_fields(currency)), {"collapsed": not own_tariff}
            ),
        }
    )


def _amounts(user_input: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Return the filled-in amounts among `keys`; empty fields are left out.

    Minutes are whole numbers; money stays as entered (a float, as the number
    box gives it; the pricing module turns it into a Decimal).
    """
    amounts: dict[str, Any] = {}
    for key in keys:
        if (value := user_input.get(key)) is None:
            continue
        amounts[key] = int(value) if key == CONF_IDLE_GRACE_MINUTES else float(value)
    return amounts


def _pricing_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the `pricing` form; return the form errors (empty when fine)."""
    errors: dict[str, str] = {}
    if not (entity_id := user_input.get(CONF_PRICE_ENTITY)):
        return errors
    # One source of the cost price: a fixed price of 0 is no price at all.
    if user_input.get(CONF_COST_PER_KWH):
        errors["base"] = "cost_and_price_entity"
    if (state := hass.states.get(entity_id)) is None:
        errors[CONF_PRICE_ENTITY] = "entity_not_found"
        return errors
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    # The coordinator converts prices with the same function, so the flow
    # accepts exactly the units (and currency) the integration can use.
    try:
        price_factor(unit if isinstance(unit, str) else None, hass.config.currency)
    except UnsupportedPriceUnitError:
        errors[CONF_PRICE_ENTITY] = "invalid_price_unit"
    return errors


def _users(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return a copy of the charger's users, safe to change."""
    return [dict(user) for user in options.get(CONF_USERS, ())]


def _with_users(
    options: Mapping[str, Any], users: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return `options` with `users`; without the key once the last one is gone."""
    new_options = {key: value for key, value in options.items() if key != CONF_USERS}
    if users:
        new_options[CONF_USERS] = users
    return new_options


def _same_text(first: str, second: str) -> bool:
    """Tell whether two names or tags would be mistaken for each other."""
    return first.strip().casefold() == second.strip().casefold()


def _user_errors(
    user_input: Mapping[str, Any],
    users: Iterable[Mapping[str, Any]],
) -> dict[str, str]:
    """Check a user's name and tag against the other users (`users`).

    Names and tags are compared without case and surrounding spaces: "Anna"
    and "anna ", or tags "04A1B2" and "04a1b2", would be the same to a reader
    and, for tags, possibly to the charger.
    """
    errors: dict[str, str] = {}
    name = str(user_input.get(USER_NAME) or "").strip()
    tag = str(user_input.get(USER_TAG) or "").strip()
    others = list(users)
    if not name:
        errors[USER_NAME] = "user_name_required"
    elif any(_same_text(name, other[USER_NAME]) for other in others):
        errors[USER_NAME] = "user_name_taken"
    if not tag:
        errors[USER_TAG] = "user_tag_required"
    elif any(_same_text(tag, other[USER_TAG]) for other in others):
        errors[USER_TAG] = "user_tag_taken"
    return errors


def _user_record(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return the user as stored: name, tag and the tariff if one is filled in."""
    user: dict[str, Any] = {
        USER_NAME: str(user_input[USER_NAME]).strip(),
        USER_TAG: str(user_input[USER_TAG]).strip(),
    }
    if tariff := _amounts(user_input.get(USER_TARIFF) or {}, TARIFF_KEYS):
        user[USER_TARIFF] = tariff
    return user


def _user_selector(users: Iterable[Mapping[str, Any]]) -> SelectSelector:
    """Return a drop-down of the users, by name."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[user[USER_NAME] for user in users],
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def _index_of(users: Iterable[Mapping[str, Any]], name: str) -> int:
    """Return the position of the user called `name` (picked from the list)."""
    return next(index for index, user in enumerate(users) if user[USER_NAME] == name)


def _presented_tag(
    hass: HomeAssistant, options: Mapping[str, Any], users: Iterable[Mapping[str, Any]]
) -> str | None:
    """Return the tag the user entity reports now, if no user has it yet.

    Presenting a new tag at the charger before adding its user fills it in.
    """
    if (entity_id := options.get(CONF_USER_ENTITY)) is None or (
        state := hass.states.get(entity_id)
    ) is None:
        return None
    tag = state.state.strip()
    if not tag or tag in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    if any(_same_text(tag, user[USER_TAG]) for user in users):
        return None
    return tag


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
    """Change a charger's entities and thresholds, its prices and its users.

    Each form saves when submitted (see the module docstring for why).
    """

    _new_options: dict[str, Any]
    # The user picked in `edit_user` or `remove_user`, by position in the list.
    _user_index: int

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the three topics: the charger, its prices, its users."""
        return self.async_show_menu(
            step_id="init", menu_options=["charger", "pricing", "users"]
        )

    async def async_step_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the source entities, user entity, type and session thresholds.

        A power or energy entity another charger already uses is an error on the
        form (`already_configured`): aborting would throw the user's other
        changes away.
        """
        options = self.config_entry.options
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _source_errors(self.hass, user_input) | _user_entity_errors(
                self.hass, user_input
            )
            if not errors and (
                field := _source_used_elsewhere(
                    self.hass, user_input, this_entry_id=self.config_entry.entry_id
                )
            ):
                errors[field] = "already_configured"
            if not errors:
                self._new_options = _with_user_entity(
                    _with_sources(options, user_input), user_input
                ) | {
                    CONF_CHARGER_TYPE: user_input[CONF_CHARGER_TYPE],
                    CONF_POWER_THRESHOLD_W: float(user_input[CONF_POWER_THRESHOLD_W]),
                    CONF_MIN_SESSION_ENERGY_KWH: float(
                        user_input[CONF_MIN_SESSION_ENERGY_KWH]
                    ),
                    CONF_SESSION_TIMEOUT_MINUTES: int(
                        user_input[CONF_SESSION_TIMEOUT_MINUTES]
                    ),
                }
                self._new_options.pop(CONF_KEEP_DAYS, None)
                if user_input.get(CONF_KEEP_DAYS):
                    self._new_options[CONF_KEEP_DAYS] = int(user_input[CONF_KEEP_DAYS])
                if self._status_states_wanted():
                    return await self.async_step_status_states()
                return self.async_create_entry(data=self._new_options)

        return self.async_show_form(
            step_id="charger",
            data_schema=self.add_suggested_values_to_schema(
                CHARGER_SCHEMA, options if user_input is None else user_input
            ),
            errors=errors,
        )

    async def async_step_pricing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the cost price and the charger's tariff.

        Fields left empty are removed from the options, so clearing the price
        sensor or a fee takes it away.
        """
        options = self.config_entry.options
        currency = self.hass.config.currency
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _pricing_errors(self.hass, user_input)
            if not errors:
                new_options = {
                    key: value
                    for key, value in options.items()
                    if key not in PRICING_KEYS
                }
                if price_entity := user_input.get(CONF_PRICE_ENTITY):
                    new_options[CONF_PRICE_ENTITY] = price_entity
                new_options |= _amounts(user_input, (CONF_COST_PER_KWH, *TARIFF_KEYS))
                return self.async_create_entry(data=new_options)

        return self.async_show_form(
            step_id="pricing",
            data_schema=self.add_suggested_values_to_schema(
                _pricing_schema(currency),
                options if user_input is None else user_input,
            ),
            errors=errors,
            description_placeholders={"currency": currency},
        )

    async def async_step_users(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer to add a user, and to edit or remove one once there are any."""
        if _users(self.config_entry.options):
            return self.async_show_menu(
                step_id="users",
                menu_options=["add_user", "edit_user", "remove_user", "init"],
            )
        return self.async_show_menu(step_id="users", menu_options=["add_user", "init"])

    async def async_step_add_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a user: a name, the tag the user entity reports, an own tariff."""
        options = self.config_entry.options
        users = _users(options)
        errors: dict[str, str] = {}
        suggested: Mapping[str, Any] | None = user_input
        if user_input is not None:
            errors = _user_errors(user_input, users)
            if not errors:
                users.append(_user_record(user_input))
                return self.async_create_entry(data=_with_users(options, users))
        elif tag := _presented_tag(self.hass, options, users):
            suggested = {USER_TAG: tag}

        return self.async_show_form(
            step_id="add_user",
            data_schema=self.add_suggested_values_to_schema(
                _user_schema(self.hass.config.currency, own_tariff=False), suggested
            ),
            errors=errors,
            description_placeholders={"currency": self.hass.config.currency},
        )

    async def async_step_edit_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the user to edit."""
        return await self._async_pick_user(
            "edit_user", user_input, self.async_step_edit_user_details
        )

    async def async_step_edit_user_details(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the picked user's name, tag or tariff; the form starts filled in."""
        options = self.config_entry.options
        users = _users(options)
        user = users[self._user_index]
        errors: dict[str, str] = {}
        if user_input is not None:
            others = users[: self._user_index] + users[self._user_index + 1 :]
            errors = _user_errors(user_input, others)
            if not errors:
                users[self._user_index] = _user_record(user_input)
                return self.async_create_entry(data=_with_users(options, users))

        return self.async_show_form(
            step_id="edit_user_details",
            data_schema=self.add_suggested_values_to_schema(
                _user_schema(self.hass.config.currency, own_tariff=USER_TARIFF in user),
                user if user_input is None else user_input,
            ),
            errors=errors,
            description_placeholders={
                "name": user[USER_NAME],
                "currency": self.hass.config.currency,
            },
        )

    async def async_step_remove_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the user to remove."""
        return await self._async_pick_user(
            "remove_user", user_input, self.async_step_remove_user_confirm
        )

    async def _async_pick_user(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        next_step: Callable[[], Awaitable[ConfigFlowResult]],
    ) -> ConfigFlowResult:
        """Show the users in a drop-down; remember the one picked, go on to `next_step`."""
        users = _users(self.config_entry.options)
        if user_input is not None:
            self._user_index = _index_of(users, user_input[_FIELD_USER])
            return await next_step()
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema({vol.Required(_FIELD_USER): _user_selector(users)}),
        )

    async def async_step_remove_user_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Remove the picked user once the removal is confirmed."""
        options = self.config_entry.options
        users = _users(options)
        if user_input is not None:
            del users[self._user_index]
            return self.async_create_entry(data=_with_users(options, users))
        return self.async_show_form(
            step_id="remove_user_confirm",
            data_schema=vol.Schema({}),
            description_placeholders={"name": users[self._user_index][USER_NAME]},
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
