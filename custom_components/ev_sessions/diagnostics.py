"""Diagnostics: what ev_sessions sees of a charger, for bug reports."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from . import EvSessionsConfigEntry

# Recent sessions are enough to debug detection; the store holds the rest.
RECENT_SESSIONS = 5


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EvSessionsConfigEntry
) -> dict[str, Any]:
    """Return the options, source states, engine snapshot and recent sessions."""
    coordinator = entry.runtime_data
    sources: dict[str, Any] = {}
    for entity_id in coordinator.source_entity_ids:
        state = hass.states.get(entity_id)
        sources[entity_id] = (
            None
            if state is None
            else {"state": state.state, "attributes": dict(state.attributes)}
        )
    recent = list(coordinator.history)[-RECENT_SESSIONS:]
    return {
        "options": dict(entry.options),
        "sources": sources,
        "tracker": coordinator.tracker.snapshot(),
        "view": {
            "status": coordinator.view.status,
            "total_energy_kwh": coordinator.view.total_energy_kwh,
            "sessions": coordinator.view.sessions,
        },
        "taper_model": {
            "model": coordinator.tracker.learner.model.to_dict(),
            "learned_from": coordinator.tracker.learner.to_dict(),
        },
        "samples_processed": coordinator.samples,
        "store_writes": coordinator.store.writes,
        "recent_sessions": [record.to_dict() for record in recent],
    }
