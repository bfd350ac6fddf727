"""Make a Home Assistant configuration folder ready for the ev_sessions demo.

Run with the development environment's Python (it uses Home Assistant's own
auth code), from scripts/develop and from the end-to-end test::

    .venv/dev/bin/python scripts/lib/dev_config.py config/

What it does, each part only when missing (a file you changed is never
overwritten; delete it to have it made again):

* links ``custom_components/ev_sessions`` in the folder to the repository's
  package, so that edits show up after a restart of Home Assistant;
* writes into ``.storage/``: the onboarding as done; the local-only owner
  ``dev`` with password ``dev``; the config entries of the charger simulator
  and of ev_sessions configured against it; the Energy dashboard showing
  ev_sessions' total energy as an individual device.

The committed part of config/ (configuration.yaml, simulator.yaml, the
dashboards, the simulator) stays small and readable; everything written here
is runtime state and ignored by git.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "custom_components" / "ev_sessions"

DEV_USERNAME = "dev"
DEV_PASSWORD = "dev"  # noqa: S105 - a documented local development login
DEV_NAME = "Developer"

CHARGER_TITLE = "Garage charger"
STATUS_ENTITY_ID = "sensor.charger_status"
POWER_ENTITY_ID = "sensor.charger_power"
ENERGY_ENTITY_ID = "sensor.charger_lifetime_energy"
PRICE_ENTITY_ID = "sensor.spot_price"
SOC_ENTITY_ID = "sensor.vehicle_battery"
RFID_ENTITY_ID = "sensor.charger_rfid_tag"
# The simulator's unique-id keys of the entities ev_sessions reads.
SIMULATOR_SOURCES = {
    "status": STATUS_ENTITY_ID,
    "power": POWER_ENTITY_ID,
    "lifetime_energy": ENERGY_ENTITY_ID,
}
# ev_sessions' sensors take the charger device's name.
TOTAL_ENERGY_ENTITY_ID = "sensor.garage_charger_total_energy"

# Fixed ids make the demo's URLs and logs the same on every machine.
SIMULATOR_ENTRY_ID = "01JDEVSIMULATEDCHARGER0001"
EV_SESSIONS_ENTRY_ID = "01JDEVEVSESSIONSGARAGE0001"
BACKUP_ENTRY_ID = "01JDEVBACKUP00000000000001"

ONBOARDING_STEPS = ["user", "core_config", "analytics", "integration"]


def link_package(config_dir: Path) -> str:
    """Link config_dir/custom_components/ev_sessions to the repository's package."""
    link = config_dir / "custom_components" / "ev_sessions"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        if link.resolve() == PACKAGE.resolve():
            return f"{link} -> {PACKAGE} (kept)"
        link.unlink()
    elif link.exists():
        return (
            f"{link} is a folder of its own; left as it is (not the repository's code)"
        )
    target = PACKAGE
    if link.parent.resolve() == REPO_ROOT / "config" / "custom_components":
        # Relative inside the repository: survives moving the checkout.
        target = Path("..", "..", "custom_components", "ev_sessions")
    link.symlink_to(target, target_is_directory=True)
    return f"{link} -> {target} (created)"


def _config_entry(
    *,
    entry_id: str,
    domain: str,
    title: str,
    source: str,
    options: dict[str, Any],
) -> dict[str, Any]:
    from homeassistant.config_entries import ConfigEntry

    entry: ConfigEntry[Any] = ConfigEntry(
        data={},
        discovery_keys={},  # type: ignore[arg-type]
        domain=domain,
        entry_id=entry_id,
        minor_version=1,
        options=options,
        source=source,
        subentries_data=None,
        title=title,
        unique_id=None,
        version=1,
    )
    return dict(entry.as_dict())


def config_entries() -> list[dict[str, Any]]:
    """Return the simulator's and ev_sessions' config entries (and Backup's)."""
    return [
        # Home Assistant adds this one itself on a first start, and announces
        # it as "New devices discovered"; made here, the demo starts with no
        # notification to dismiss.
        _config_entry(
            entry_id=BACKUP_ENTRY_ID,
            domain="backup",
            title="Backup",
            source="system",
            options={},
        ),
        _config_entry(
            entry_id=SIMULATOR_ENTRY_ID,
            domain="ev_charger_sim",
            title=CHARGER_TITLE,
            source="import",
            options={},
        ),
        _config_entry(
            entry_id=EV_SESSIONS_ENTRY_ID,
            domain="ev_sessions",
            title=CHARGER_TITLE,
            source="user",
            # What the config flow stores (everything lives in the options).
            options={
                "name": CHARGER_TITLE,
                "status_entity": STATUS_ENTITY_ID,
                "power_entity": POWER_ENTITY_ID,
                "energy_entity": ENERGY_ENTITY_ID,
                # The simulator's 15-minute spot price prices each session.
                "price_entity": PRICE_ENTITY_ID,
                # The car's SoC gives an estimated end of charging. The story
                # runs 60x faster than the real-time meter: as the meter sees
                # it, the 64 kWh battery holds 64 / 60 kWh.
                "soc_entity": SOC_ENTITY_ID,
                "battery_capacity_kwh": round(64 / 60, 3),
                # Who charged: the simulator's RFID tags, as two users.
                "user_entity": RFID_ENTITY_ID,
                "users": [
                    {"name": "Anna", "tag": "04A35B72C190"},
                    {"name": "Bo", "tag": "E2004191F3A7"},
                ],
                "charger_type": "ac_3_phase",
                "power_threshold_w": 200.0,
                "min_session_energy_kwh": 0.05,
                "session_timeout_minutes": 60,
            },
        ),
    ]


async def register_charger(hass: HomeAssistant) -> None:
    """Register the simulated charger's device and source entities.

    A real charger's entities exist before anyone adds ev_sessions, and
    ev_sessions joins the charger's device through them. Here both config
    entries start together on the first run, and ev_sessions would otherwise
    race the simulator for it (and, losing, stand as a device of its own).
    This registers what the simulator will register anyway, with the same
    unique ids, the way Home Assistant itself does.
    """
    from homeassistant.config_entries import ConfigEntries
    from homeassistant.helpers import device_registry as dr, entity_registry as er

    await asyncio.gather(dr.async_load(hass), er.async_load(hass))
    hass.config_entries = ConfigEntries(hass, {})
    await hass.config_entries.async_initialize()
    entry = hass.config_entries.async_get_entry(SIMULATOR_ENTRY_ID)
    if entry is None:  # pragma: no cover - written just before
        raise RuntimeError("the simulator's config entry is missing")
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("ev_charger_sim", entry.entry_id)},
        name=CHARGER_TITLE,
    )
    entities = er.async_get(hass)
    for key, entity_id in SIMULATOR_SOURCES.items():
        entities.async_get_or_create(
            "sensor",
            "ev_charger_sim",
            f"{entry.entry_id}_{key}",
            suggested_object_id=entity_id.split(".", 1)[1],
            config_entry=entry,
            device_id=device.id,
        )


def energy_preferences() -> dict[str, Any]:
    """Return the Energy dashboard's settings: the charger as a device."""
    return {
        "energy_sources": [],
        "device_consumption": [
            {"stat_consumption": TOTAL_ENERGY_ENTITY_ID, "name": CHARGER_TITLE}
        ],
    }


async def seed_storage(config_dir: Path) -> list[str]:
    """Write the missing .storage files; return what was done."""
    from homeassistant.auth import auth_manager_from_config
    from homeassistant.auth.const import GROUP_ID_ADMIN
    from homeassistant.auth.providers import homeassistant as hass_auth
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.storage import Store

    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    hass = HomeAssistant(str(config_dir))
    try:
        if not (storage / "onboarding").exists():
            await Store[dict[str, Any]](hass, 4, "onboarding", private=True).async_save(
                {"done": ONBOARDING_STEPS}
            )
            done.append("onboarding marked done")

        if (
            not (storage / "auth").exists()
            and not (storage / "auth_provider.homeassistant").exists()
        ):
            hass.auth = await auth_manager_from_config(
                hass, [{"type": "homeassistant"}], []
            )
            provider = hass.auth.auth_providers[0]
            if not isinstance(provider, hass_auth.HassAuthProvider):
                raise TypeError(f"unexpected auth provider {provider!r}")
            await provider.async_initialize()
            await provider.async_add_auth(DEV_USERNAME, DEV_PASSWORD)
            credentials = await provider.async_get_or_create_credentials(
                {"username": DEV_USERNAME}
            )
            # The first user is the owner; local_only: no login from outside
            # the local network (and the server listens on loopback only).
            user = await hass.auth.async_create_user(
                DEV_NAME, group_ids=[GROUP_ID_ADMIN], local_only=True
            )
            await hass.auth.async_link_user(user, credentials)
            done.append(f"user {DEV_USERNAME!r} (password {DEV_PASSWORD!r}) created")

        if not (storage / "core.config_entries").exists():
            await Store[dict[str, Any]](
                hass, 1, "core.config_entries", minor_version=5
            ).async_save({"entries": config_entries()})
            done.append("ev_sessions and the charger simulator configured")
            if not (storage / "core.entity_registry").exists():
                registering = HomeAssistant(str(config_dir))
                try:
                    await register_charger(registering)
                finally:
                    await registering.async_stop(force=True)

        if not (storage / "energy").exists():
            await Store[dict[str, Any]](hass, 1, "energy").async_save(
                energy_preferences()
            )
            done.append("Energy dashboard set up")
    finally:
        # Writes what the auth store scheduled.
        await hass.async_stop(force=True)
    return done


def main(argv: list[str] | None = None) -> int:
    """Prepare the folder named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("config_dir", type=Path)
    args = parser.parse_args(argv)
    config_dir: Path = args.config_dir.resolve()
    if not (config_dir / "configuration.yaml").is_file():
        print(f"{config_dir} has no configuration.yaml", file=sys.stderr)
        return 2
    print(f"  {link_package(config_dir)}")
    for line in asyncio.run(seed_storage(config_dir)):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
