"""Create the simulator's single config entry (from YAML, or by hand)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DEVICE_NAME, DOMAIN


class SimulatorConfigFlow(ConfigFlow, domain=DOMAIN):
    """One simulated charger; its settings are in configuration.yaml."""

    VERSION = 1

    async def async_step_import(self, import_data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry on first start."""
        return self.async_create_entry(title=DEVICE_NAME, data={})

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the simulator from the UI."""
        if user_input is not None:
            return self.async_create_entry(title=DEVICE_NAME, data={})
        return self.async_show_form(step_id="user")
