"""Read a charger's status entity as disconnected, connected or charging.

Chargers describe their state in their own words ("awaiting_start",
"SuspendedEV", "Connected: waiting for car demand"). `map_status` turns such a
state into one of three `ChargerState` values, or ``None`` when it does not
know the word:

1. "unknown" and "unavailable" (Home Assistant's words for "no data") give
   ``None``: the caller treats them as gaps, before it ever gets here.
2. The user's own lists (charging, connected, disconnected states) win over
   everything built in. Both sides are compared after `normalise_state`.
3. ``binary_sensor``, ``switch`` and ``input_boolean`` entities say "on" or
   "off". "off" is DISCONNECTED. "on" is CHARGING for a binary sensor whose
   device class says energy flows ("battery_charging", "power", "running"),
   and CONNECTED otherwise (a plug sensor, a smart-plug switch, a helper; the
   power reading then decides whether it charges).
4. Any other entity (``sensor``, ``select``, ``input_select``, ...) is looked
   up in the built-in vocabulary, gathered from the Home Assistant integrations
   of common chargers (`KNOWN_VOCABULARIES`).

The built-in vocabulary follows one principle:

* CHARGING only when the charger says energy flows into the car now.
* CONNECTED when a car is (or may be) plugged in without charging: waiting,
  paused, scheduled, suspended, finished, or in error while plugged.
* DISCONNECTED only when the word clearly means no car is plugged in.

A word that means different things to different chargers resolves to
CONNECTED, the reading that never wrongly ends a session: at worst a session
ends later, on the next clear "no car", instead of being cut in two. A caller
that knows which integration the status entity comes from can pass its
family as ``vocabulary`` to use that charger's own meaning first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
import re
from types import MappingProxyType
from typing import Final


class ChargerState(StrEnum):
    """What a charger's status says about the car and the energy flow."""

    DISCONNECTED = "disconnected"
    CONNECTED = "connected"
    CHARGING = "charging"


_DISCONNECTED: Final = ChargerState.DISCONNECTED
_CONNECTED: Final = ChargerState.CONNECTED
_CHARGING: Final = ChargerState.CHARGING

# Home Assistant's words for "no data": gaps, handled by the caller.
GAP_STATES: Final = frozenset({"unknown", "unavailable"})

ON_OFF_DOMAINS: Final = frozenset({"binary_sensor", "switch", "input_boolean"})
# Binary sensor device classes whose "on" means energy flows now.
CHARGING_DEVICE_CLASSES: Final = frozenset({"battery_charging", "power", "running"})

_SEPARATORS: Final = re.compile(r"[\s\-:,_]+")


def normalise_state(raw: str) -> str:
    """Return ``raw`` in the form vocabularies use: lower case, "_" separated.

    Whitespace, hyphens, colons, commas and underscores, in any run, become one
    "_", and none are left at either end:
    "Connected: waiting for car demand" -> "connected_waiting_for_car_demand",
    "Locked, car connected" -> "locked_car_connected".
    """
    return _SEPARATORS.sub("_", raw.strip().lower()).strip("_")


def _table(entries: Mapping[str, ChargerState]) -> Mapping[str, ChargerState]:
    """Freeze a vendor table, normalising its words as `map_status` will."""
    return MappingProxyType(
        {normalise_state(word): state for word, state in entries.items()}
    )


# Easee (easee_hass): the charger's op mode.
_EASEE: Final = _table(
    {
        "disconnected": _DISCONNECTED,
        "awaiting_start": _CONNECTED,  # car plugged in, waiting to start
        "charging": _CHARGING,
        "completed": _CONNECTED,  # done, car still plugged in
        "error": _CONNECTED,  # an error does not unplug the car
        "ready_to_charge": _CONNECTED,  # a car IS connected and ready
        "awaiting_authorization": _CONNECTED,
        "de_authorizing": _CONNECTED,
        "awaiting_authentication": _CONNECTED,
        "de_authenticating": _CONNECTED,
    }
)

# Zaptec: operation mode keys, and the labels older versions showed.
_ZAPTEC: Final = _table(
    {
        "disconnected": _DISCONNECTED,
        "connected_requesting": _CONNECTED,  # plugged, asking to charge
        "connected_charging": _CHARGING,
        "connected_finished": _CONNECTED,
        "Waiting": _CONNECTED,  # label of connected_requesting
        "Charging": _CHARGING,
        "Charge done": _CONNECTED,  # label of connected_finished
    }
)

# Wallbox: the "Status description" sensor (ChargerStatus), old and new texts.
_WALLBOX: Final = _table(
    {
        "Ready": _DISCONNECTED,  # status 161/162: idle, no car
        "Charging": _CHARGING,
        "Connected: waiting for car demand": _CONNECTED,
        "Connected: waiting for next schedule": _CONNECTED,
        "Paused by user": _CONNECTED,
        "Paused": _CONNECTED,
        "Disconnected": _DISCONNECTED,
        "Error": _CONNECTED,
        "Scheduled": _CONNECTED,
        "Waiting for car demand": _CONNECTED,
        "Discharging": _CONNECTED,  # V2G: plugged in, energy flows out
        "Locked": _DISCONNECTED,  # locked, no car ("Locked, car connected" is)
        "Updating": _CONNECTED,  # firmware update: says nothing about the car
        "Waiting in queue by Power Sharing": _CONNECTED,
        "Waiting in queue by Power Boost": _CONNECTED,
        "Waiting MID failed": _CONNECTED,
        "Waiting MID safety margin exceeded": _CONNECTED,
        "Waiting in queue by Eco-Smart": _CONNECTED,
        "Locked, car connected": _CONNECTED,
        "Waiting": _CONNECTED,
    }
)

# go-e: API v2 car state, and the texts of older integrations (API v1).
_GO_E: Final = _table(
    {
        "Idle": _DISCONNECTED,  # car state 1: no car
        "Charging": _CHARGING,
        "Wait car": _CONNECTED,  # car state 3: plugged, waiting for the car
        "WaitCar": _CONNECTED,
        "Complete": _CONNECTED,  # car state 4: finished, still plugged in
        "Error": _CONNECTED,
        "Ready": _DISCONNECTED,  # API v1 state 1: ready, no car
        "Waiting for car": _CONNECTED,
        "Charging finished": _CONNECTED,
        "Charger ready, no car connected": _DISCONNECTED,
        "Car is charging": _CHARGING,
        "Car connected, authentication required": _CONNECTED,
        "Charging finished, car can be disconnected": _CONNECTED,
    }
)

# OCPP 1.6 connector status. "Unavailable" is left out on purpose: it is also
# Home Assistant's "no data" word, which the caller treats as a gap.
_OCPP: Final = _table(
    {
        "Available": _DISCONNECTED,  # free connector, no car
        "Preparing": _CONNECTED,  # plugged, transaction starting
        "Charging": _CHARGING,
        "SuspendedEVSE": _CONNECTED,  # paused by the charger
        "SuspendedEV": _CONNECTED,  # paused by the car
        "Suspended EVSE": _CONNECTED,
        "Suspended EV": _CONNECTED,
        "Finishing": _CONNECTED,  # transaction over, car may still be plugged
        "Reserved": _DISCONNECTED,  # held for someone; a plug-in leaves it
        "Faulted": _CONNECTED,  # a fault does not unplug the car
    }
)

# Tesla Wall Connector: the "Status" sensor (EVSE state).
_TESLA_WALL_CONNECTOR: Final = _table(
    {
        "booting": _CONNECTED,  # starting up: says nothing about the car
        "not_connected": _DISCONNECTED,
        "connected": _CONNECTED,
        # State 4, shown as "Ready to charge": seen only with a car plugged in.
        "ready": _CONNECTED,
        "negotiating": _CONNECTED,
        "error": _CONNECTED,
        "charging_finished": _CONNECTED,
        "waiting_car": _CONNECTED,
        "charging_reduced": _CHARGING,
        "charging": _CHARGING,
    }
)

# KEBA KeContact: charging state details and plug states.
_KEBA: Final = _table(
    {
        "starting": _CONNECTED,  # booting: says nothing about the car
        # "not ready for charging, e.g. unplugged, not enabled, no RFID": the
        # car may be plugged in, so not DISCONNECTED. The plug states are clear.
        "not ready for charging": _CONNECTED,
        "ready for charging": _CONNECTED,  # plugged, waiting for the car
        "charging": _CHARGING,
        "error": _CONNECTED,
        "authorization rejected": _CONNECTED,
        "unplugged": _DISCONNECTED,
        "plugged on charging station": _DISCONNECTED,  # cable in, no car
        "plugged on charging station and locked": _DISCONNECTED,
        "plugged on charging station and EV": _CONNECTED,
        "plugged on charging station and EV and locked": _CONNECTED,
    }
)

# Ohme: the "Status" sensor.
_OHME: Final = _table(
    {
        "unplugged": _DISCONNECTED,
        "plugged_in": _CONNECTED,
        "charging": _CHARGING,
        "pending_approval": _CONNECTED,
        "paused": _CONNECTED,
        "finished": _CONNECTED,
    }
)

# Words of template sensors and chargers not listed above.
_GENERIC: Final = _table(
    {
        "plugged": _CONNECTED,
        "connected": _CONNECTED,
        "disconnected": _DISCONNECTED,
        "charging": _CHARGING,
        "not_charging": _CONNECTED,  # says nothing about the plug: keep going
        "idle": _DISCONNECTED,  # as go-e: idle means no car
        "complete": _CONNECTED,
        "completed": _CONNECTED,
        "full": _CONNECTED,
    }
)

KNOWN_VOCABULARIES: Final[Mapping[str, Mapping[str, ChargerState]]] = MappingProxyType(
    {
        "easee": _EASEE,
        "zaptec": _ZAPTEC,
        "wallbox": _WALLBOX,
        "go_e": _GO_E,
        "ocpp": _OCPP,
        "tesla_wall_connector": _TESLA_WALL_CONNECTOR,
        "keba": _KEBA,
        "ohme": _OHME,
        "generic": _GENERIC,
    }
)
"""Charger family -> (normalised state -> ChargerState), one table per family."""


# The Home Assistant integration (entity platform) behind a status entity tells
# which family's words it speaks: "Ready" is no car on a Wallbox.
VOCABULARY_BY_PLATFORM: Final[Mapping[str, str]] = MappingProxyType(
    {
        "easee": "easee",
        "zaptec": "zaptec",
        "wallbox": "wallbox",
        "goecharger": "go_e",
        "goecharger_api2": "go_e",
        "go_e": "go_e",
        "ocpp": "ocpp",
        "tesla_wall_connector": "tesla_wall_connector",
        "keba": "keba",
        "ohme": "ohme",
    }
)


# Words with which chargers say a car has finished charging (full, or the
# car ended it), as opposed to a pause, a schedule or an unplug. OCPP's
# "Finishing" is left out: it is the end of a transaction, often an unplug.
FINISHED_STATES: Final = frozenset(
    normalise_state(word)
    for word in (
        "completed",  # Easee
        "complete",  # go-e
        "connected_finished",  # Zaptec
        "charge done",  # Zaptec label
        "charging_finished",  # Tesla Wall Connector, older go-e
        "finished",  # Ohme
        "full",
    )
)


def is_finished(raw: str) -> bool:
    """Whether the status says charging finished (the car is full)."""
    return normalise_state(raw) in FINISHED_STATES


def merge_vocabularies(
    tables: Iterable[Mapping[str, ChargerState]],
) -> Mapping[str, ChargerState]:
    """Merge vendor tables into one lookup.

    A word all tables agree on keeps its meaning. A word the tables disagree on
    ("ready": no car on a Wallbox, a car ready to charge on a Tesla Wall
    Connector) becomes CONNECTED: never ending a session wrongly.
    """
    merged: dict[str, ChargerState] = {}
    for table in tables:
        for word, state in table.items():
            known = merged.get(word)
            merged[word] = state if known in (None, state) else _CONNECTED
    return MappingProxyType(merged)


BUILT_IN_VOCABULARY: Final = merge_vocabularies(KNOWN_VOCABULARIES.values())
"""All known families' words in one lookup, disagreements resolved."""


def map_status(
    raw: str,
    *,
    domain: str,
    device_class: str | None = None,
    charging_states: Collection[str] = (),
    connected_states: Collection[str] = (),
    disconnected_states: Collection[str] = (),
    vocabulary: str | None = None,
) -> ChargerState | None:
    """Return what the status ``raw`` of a ``domain`` entity means, if known.

    ``None`` means "not recognised" (or a gap word): the caller keeps its
    current view. The user's lists are checked first, charging before
    connected before disconnected. ``vocabulary`` names a `KNOWN_VOCABULARIES`
    family whose own meaning then comes before the merged built-in one; an
    unknown name is ignored.
    """
    word = normalise_state(raw)
    if not word or word in GAP_STATES:
        return None

    for states, state in (
        (charging_states, _CHARGING),
        (connected_states, _CONNECTED),
        (disconnected_states, _DISCONNECTED),
    ):
        if word in _normalised(states):
            return state

    if _normalised_domain(domain) in ON_OFF_DOMAINS:
        return _on_off_state(word, domain, device_class)

    if vocabulary is not None:
        vendor_state = KNOWN_VOCABULARIES.get(vocabulary, {}).get(word)
        if vendor_state is not None:
            return vendor_state
    return BUILT_IN_VOCABULARY.get(word)


def is_recognised(
    raw: str,
    *,
    domain: str,
    device_class: str | None = None,
    charging_states: Collection[str] = (),
    connected_states: Collection[str] = (),
    disconnected_states: Collection[str] = (),
    vocabulary: str | None = None,
) -> bool:
    """Return whether `map_status` gives ``raw`` a meaning (gap words: no)."""
    return (
        map_status(
            raw,
            domain=domain,
            device_class=device_class,
            charging_states=charging_states,
            connected_states=connected_states,
            disconnected_states=disconnected_states,
            vocabulary=vocabulary,
        )
        is not None
    )


def _on_off_state(
    word: str, domain: str, device_class: str | None
) -> ChargerState | None:
    """Return the meaning of "on"/"off" for an on/off entity, else ``None``."""
    if word == "off":
        return _DISCONNECTED
    if word != "on":
        return None
    if (
        _normalised_domain(domain) == "binary_sensor"
        and isinstance(device_class, str)
        and device_class.strip().lower() in CHARGING_DEVICE_CLASSES
    ):
        return _CHARGING
    return _CONNECTED


def _normalised_domain(domain: str) -> str:
    """Return ``domain`` stripped and lower case ("" if it is not a string)."""
    return domain.strip().lower() if isinstance(domain, str) else ""


def _normalised(states: Collection[str]) -> set[str]:
    """Return a user's state list normalised; a lone string counts as one state."""
    if isinstance(states, str):
        states = (states,)
    return {normalise_state(state) for state in states if isinstance(state, str)}
