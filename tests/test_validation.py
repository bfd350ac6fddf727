"""Offline stand-ins for hassfest and the HACS action.

These are plain file checks (no `hass` fixture): the manifest, hacs.json, the
brand icon, the quality scale file, icons.json and, above all, the translations.
Every translation key the code uses is found by reading the code (with `ast`
where a value only appears as a literal) or by importing the module that holds
it, so a new config-flow step, error, abort reason, entity, repair issue,
exception or service without texts fails here rather than in front of a user.

Home Assistant does not resolve `[%key:...]` references for custom integrations,
so every string must be spelled out, in English and in Swedish.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
import importlib
import json
from pathlib import Path
import re
import string
import struct
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "ev_sessions"
INTEGRATION_DIR = REPO_ROOT / "custom_components" / DOMAIN
PACKAGE = f"custom_components.{DOMAIN}"
TRANSLATIONS_DIR = INTEGRATION_DIR / "translations"
LANGUAGES = ("en", "sv")

# Swedish strings of more than three words that may equal the English text.
# Key paths, e.g. "config.step.user.data_description.power_entity".
SV_SAME_AS_EN_ALLOWED: frozenset[str] = frozenset()

# The event entity's translation key and the attribute that carries its type.
EVENT_ENTITY_TRANSLATION_KEY = "session"

HACS_KEYS = frozenset(
    {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "hacs",
        "persistent_directory",
    }
)

MANIFEST_KEYS = frozenset(
    {
        "domain",
        "name",
        "after_dependencies",
        "bluetooth",
        "codeowners",
        "config_flow",
        "dependencies",
        "dhcp",
        "documentation",
        "homekit",
        "import_executor",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "loggers",
        "mqtt",
        "quality_scale",
        "requirements",
        "single_config_entry",
        "ssdp",
        "usb",
        "version",
        "zeroconf",
    }
)
IOT_CLASSES = frozenset(
    {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
)

# hassfest's ALL_RULES (script/hassfest/quality_scale.py).
QUALITY_SCALE_RULES = frozenset(
    {
        # Bronze
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
        # Silver
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
        # Gold
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
        # Platinum
        "async-dependency",
        "inject-websession",
        "strict-typing",
    }
)

# The same patterns hassfest applies to translation strings.
RE_HTML = re.compile(r"<[a-z][\s\S]*>", re.IGNORECASE)
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------- helpers


def _load_json(path: Path) -> Any:
    assert path.is_file(), f"{path.relative_to(REPO_ROOT)} is missing"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        pytest.fail(f"{path.relative_to(REPO_ROOT)} is not valid JSON: {err}")


def _translations(language: str) -> dict[str, Any]:
    data = _load_json(TRANSLATIONS_DIR / f"{language}.json")
    assert isinstance(data, dict), f"{language}.json must hold a JSON object"
    return data


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted key path, value) for every non-mapping value in `tree`."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{path}.")
        else:
            yield path, value


def _get(tree: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted key path, or None."""
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _placeholders(text: str) -> set[str]:
    """Return the `{name}` placeholders of a translation string."""
    return {
        name for _, name, _, _ in string.Formatter().parse(text) if name is not None
    }


def _png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) from a PNG file's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG file"
    length, kind = struct.unpack(">I4s", header[8:16])
    assert (length, kind) == (13, b"IHDR"), f"{path.name} has no IHDR chunk first"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _require_text(
    problems: list[str], translations: Mapping[str, Any], path: str, why: str
) -> None:
    value = _get(translations, path)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"en.json: missing {path} ({why})")


# ------------------------------------------------------- reading config_flow.py


@dataclass
class FlowTexts:
    """Translation keys a config or options flow needs."""

    # step id -> description placeholder names given in code (None: not a literal)
    steps: dict[str, set[str] | None] = field(default_factory=dict)
    menus: dict[str, set[str]] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    aborts: set[str] = field(default_factory=set)


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal_keys(node: ast.expr | None) -> set[str] | None:
    """Keys of a dict literal; empty for a missing argument, None if unknowable."""
    if node is None:
        return set()
    if not isinstance(node, ast.Dict):
        return None
    keys: set[str] = set()
    for key in node.keys:  # None stands for {**other}
        if (text := _literal_str(key)) is None:
            return None
        keys.add(text)
    return keys


def _errors_and_aborts(node: ast.AST) -> tuple[set[str], set[str]]:
    """Literal error keys and abort reasons anywhere inside `node`."""
    errors: set[str] = set()
    aborts: set[str] = set()
    for child in ast.walk(node):
        # errors["base"] = "cannot_connect"
        if isinstance(child, ast.Assign):
            value = _literal_str(child.value)
            for target in child.targets:
                if (
                    value is not None
                    and isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "errors"
                ):
                    errors.add(value)
                # errors = {"base": "cannot_connect"}
                if (
                    isinstance(target, ast.Name)
                    and target.id == "errors"
                    and isinstance(child.value, ast.Dict)
                ):
                    errors.update(
                        text
                        for item in child.value.values
                        if (text := _literal_str(item)) is not None
                    )
        if not isinstance(child, ast.Call):
            continue
        name = _call_name(child)
        if name == "async_show_form":
            errors_arg = _keyword(child, "errors")
            if isinstance(errors_arg, ast.Dict):
                errors.update(
                    text
                    for item in errors_arg.values
                    if (text := _literal_str(item)) is not None
                )
        elif name in {"async_abort", "async_update_reload_and_abort"}:
            if (reason := _literal_str(_keyword(child, "reason"))) is not None:
                aborts.add(reason)
        elif name in {"_abort_if_unique_id_configured", "_async_abort_entries_match"}:
            aborts.add("already_configured")
    return errors, aborts


def _steps(method: ast.AsyncFunctionDef) -> Iterator[tuple[str, str, Any]]:
    """Yield ("form" | "menu", step id, details) for each form or menu shown."""
    default_step = method.name.removeprefix("async_step_")
    for child in ast.walk(method):
        if not isinstance(child, ast.Call):
            continue
        name = _call_name(child)
        if name not in {"async_show_form", "async_show_menu"}:
            continue
        step_id = _literal_str(_keyword(child, "step_id")) or default_step
        if name == "async_show_form":
            yield (
                "form",
                step_id,
                _literal_keys(_keyword(child, "description_placeholders")),
            )
        else:
            options = _keyword(child, "menu_options")
            menu: set[str] = set()
            if isinstance(options, (ast.List, ast.Tuple)):
                menu = {
                    text
                    for item in options.elts
                    if (text := _literal_str(item)) is not None
                }
            elif isinstance(options, ast.Dict):
                menu = {
                    text
                    for key in options.keys
                    if (text := _literal_str(key)) is not None
                }
            yield "menu", step_id, menu


def _flow_kind(cls: ast.ClassDef, classes: Mapping[str, ast.ClassDef]) -> str | None:
    """Return "config" or "options" for a flow class, None for other classes."""
    for base in cls.bases:
        name = (
            base.id
            if isinstance(base, ast.Name)
            else base.attr
            if isinstance(base, ast.Attribute)
            else ""
        )
        if "OptionsFlow" in name:
            return "options"
        if name.endswith("ConfigFlow"):
            return "config"
        if name in classes and name != cls.name:
            if (kind := _flow_kind(classes[name], classes)) is not None:
                return kind
    return None


def _referenced_names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _flow_texts() -> dict[str, FlowTexts]:
    """Read config_flow.py: what each kind of flow shows, errors and aborts with."""
    path = INTEGRATION_DIR / "config_flow.py"
    assert path.is_file(), "config_flow.py is missing (manifest says config_flow)"
    module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    classes = {
        node.name: node for node in module.body if isinstance(node, ast.ClassDef)
    }
    functions = {
        node.name: node
        for node in module.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }

    def helpers_used_by(node: ast.AST) -> set[str]:
        """Module-level functions `node` uses, directly or through each other."""
        found: set[str] = set()
        pending = _referenced_names(node) & functions.keys()
        while pending:
            name = pending.pop()
            found.add(name)
            pending |= (_referenced_names(functions[name]) & functions.keys()) - found
        return found

    texts = {"config": FlowTexts(), "options": FlowTexts()}
    for cls in classes.values():
        if (kind := _flow_kind(cls, classes)) is None:
            continue
        flow = texts[kind]
        errors, aborts = _errors_and_aborts(cls)
        for helper in helpers_used_by(cls):
            more_errors, more_aborts = _errors_and_aborts(functions[helper])
            errors |= more_errors
            aborts |= more_aborts
        flow.errors |= errors
        flow.aborts |= aborts
        for item in cls.body:
            if not (
                isinstance(item, ast.AsyncFunctionDef)
                and item.name.startswith("async_step_")
            ):
                continue
            for shown, step_id, details in _steps(item):
                given = details if shown == "form" else set()
                if shown == "menu":
                    flow.menus[step_id] = details
                # A step shown from several places must get its placeholders
                # from each of them.
                if step_id in flow.steps:
                    earlier = flow.steps[step_id]
                    given = (
                        earlier
                        if given is None
                        else (given if earlier is None else given & earlier)
                    )
                flow.steps[step_id] = given
    return texts


def _package_sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(INTEGRATION_DIR.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _exception_translations() -> dict[str, set[str] | None]:
    """translation_key -> placeholder names of every `raise X(translation_key=...)`."""
    found: dict[str, set[str] | None] = {}
    for _, module in _package_sources():
        for node in ast.walk(module):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            key = _literal_str(_keyword(node.exc, "translation_key"))
            if key is not None:
                found[key] = _literal_keys(
                    _keyword(node.exc, "translation_placeholders")
                )
    return found


# ------------------------------------------------------------------- manifest


def test_manifest() -> None:
    manifest = _load_json(INTEGRATION_DIR / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"], "manifest.json must start with domain, name"
    assert keys[2:] == sorted(keys[2:]), (
        "manifest.json keys after domain and name must be in alphabetical order: "
        f"{keys[2:]}"
    )
    assert not set(keys) - MANIFEST_KEYS, (
        f"unknown manifest keys: {sorted(set(keys) - MANIFEST_KEYS)}"
    )
    assert manifest["domain"] == INTEGRATION_DIR.name == DOMAIN
    assert isinstance(manifest["name"], str)
    assert manifest["name"].strip()
    for key in ("documentation", "issue_tracker"):
        assert str(manifest.get(key, "")).startswith("https://"), (
            f"manifest {key} must be an https URL"
        )
    codeowners = manifest.get("codeowners")
    assert isinstance(codeowners, list)
    assert codeowners
    assert all(isinstance(owner, str) and owner.startswith("@") for owner in codeowners)
    assert manifest.get("iot_class") in IOT_CLASSES
    assert manifest.get("integration_type") == "helper"
    assert manifest.get("config_flow") is True
    assert "recorder" in manifest.get("dependencies", [])
    assert manifest.get("requirements") == []
    assert (INTEGRATION_DIR / "config_flow.py").is_file()


def test_manifest_version() -> None:
    # Home Assistant's loader refuses a custom integration whose version
    # AwesomeVersion cannot read with one of these strategies.
    from awesomeversion import AwesomeVersion, AwesomeVersionStrategy

    version = _load_json(INTEGRATION_DIR / "manifest.json").get("version")
    assert isinstance(version, str), "manifest.json needs a version string"
    parsed = AwesomeVersion(
        version,
        ensure_strategy=[
            AwesomeVersionStrategy.CALVER,
            AwesomeVersionStrategy.SEMVER,
            AwesomeVersionStrategy.SIMPLEVER,
            AwesomeVersionStrategy.BUILDVER,
            AwesomeVersionStrategy.PEP440,
        ],
    )
    assert parsed.valid


# ----------------------------------------------------------------- HACS, brand


def test_hacs_json() -> None:
    from awesomeversion import AwesomeVersion

    hacs = _load_json(REPO_ROOT / "hacs.json")
    assert isinstance(hacs, dict)
    unknown = set(hacs) - HACS_KEYS
    assert not unknown, f"hacs.json keys HACS does not allow: {sorted(unknown)}"
    assert isinstance(hacs.get("name"), str)
    assert hacs["name"].strip()
    if "homeassistant" in hacs:
        assert AwesomeVersion(hacs["homeassistant"]).valid


def test_one_integration_in_custom_components() -> None:
    # HACS installs the single folder under custom_components/.
    folders = [
        path.name
        for path in (REPO_ROOT / "custom_components").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    ]
    assert folders == [DOMAIN]


@pytest.mark.parametrize(("name", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_icon(name: str, size: int) -> None:
    path = INTEGRATION_DIR / "brand" / name
    if name != "icon.png" and not path.exists():
        pytest.skip(f"no {name}")
    assert path.is_file(), f"brand/{name} is missing"
    assert _png_size(path) == (size, size)


# ----------------------------------------------------------------- quality scale


def test_quality_scale() -> None:
    import yaml

    path = INTEGRATION_DIR / "quality_scale.yaml"
    assert path.is_file(), "quality_scale.yaml is missing"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "quality_scale.yaml must hold a mapping"
    assert set(data) == {"rules"}, "quality_scale.yaml holds only `rules:`"
    rules = data["rules"]
    assert isinstance(rules, dict), "`rules:` must be a mapping"
    assert rules, "`rules:` is empty"
    problems: list[str] = []
    for rule, value in rules.items():
        if rule not in QUALITY_SCALE_RULES:
            problems.append(f"{rule}: not a quality scale rule")
        if value in ("done", "todo"):
            continue
        if (
            isinstance(value, dict)
            and set(value) == {"status", "comment"}
            and value["status"] in ("done", "todo", "exempt")
            and isinstance(value["comment"], str)
            and value["comment"].strip()
        ):
            continue
        problems.append(
            f"{rule}: {value!r} is not done, todo or {{status: exempt, comment: ...}}"
        )
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ translations


def test_translation_files_match() -> None:
    """sv.json has exactly the keys and placeholders of en.json, translated."""
    english = dict(_leaves(_translations("en")))
    swedish = dict(_leaves(_translations("sv")))
    problems = [f"sv.json lacks {path}" for path in sorted(english.keys() - swedish)]
    problems += [
        f"sv.json has extra {path}" for path in sorted(swedish.keys() - english)
    ]
    for path in sorted(english.keys() & swedish.keys()):
        en_text, sv_text = english[path], swedish[path]
        if not isinstance(en_text, str) or not isinstance(sv_text, str):
            problems.append(f"{path}: values must be strings")
            continue
        try:
            en_names, sv_names = _placeholders(en_text), _placeholders(sv_text)
        except ValueError as err:
            problems.append(f"{path}: broken placeholder braces ({err})")
            continue
        if en_names != sv_names:
            problems.append(
                f"{path}: placeholders differ, en {sorted(en_names)} sv {sorted(sv_names)}"
            )
        if (
            len(en_text.split()) > 3
            and sv_text == en_text
            and path not in SV_SAME_AS_EN_ALLOWED
        ):
            problems.append(f"{path}: sv.json repeats the English text")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_strings_are_valid(language: str) -> None:
    """The string rules hassfest applies, plus no unresolvable references."""
    problems: list[str] = []
    for path, text in _leaves(_translations(language)):
        if not isinstance(text, str):
            problems.append(f"{path}: not a string")
            continue
        if not text.strip():
            problems.append(f"{path}: empty")
        if text != text.strip():
            problems.append(f"{path}: leading or trailing whitespace")
        if "[%key:" in text:
            problems.append(
                f"{path}: [%key:...] references are not resolved for custom "
                "integrations; spell the text out"
            )
        if RE_HTML.search(text):
            problems.append(f"{path}: contains HTML")
        if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
            problems.append(f"{path}: placeholder inside single quotes")
        if RE_URL.search(text):
            problems.append(f"{path}: contains a URL (use a placeholder)")
        try:
            names = _placeholders(text)
        except ValueError as err:
            problems.append(f"{path}: broken placeholder braces ({err})")
            continue
        problems += [
            f"{path}: placeholder {{{name}}} is not an identifier"
            for name in sorted(names)
            if not name.isidentifier()
        ]
    assert not problems, "\n".join(problems)


def test_config_flow_translations() -> None:
    """Every step, error and abort of the config and options flows has text."""
    en = _translations("en")
    problems: list[str] = []
    for kind, flow in _flow_texts().items():
        for step_id, given in sorted(flow.steps.items()):
            step_path = f"{kind}.step.{step_id}"
            step = _get(en, step_path)
            if not isinstance(step, Mapping):
                problems.append(f"en.json: missing {step_path} (a form is shown)")
                continue
            if not isinstance(step.get("title"), str) and not isinstance(
                step.get("description"), str
            ):
                problems.append(f"en.json: {step_path} has no title or description")
            problems.extend(
                f"en.json: {step_path}.data_description.{key} has no "
                f"{step_path}.data.{key}"
                for key in step.get("data_description", {})
                if key not in step.get("data", {})
            )
            for option in sorted(flow.menus.get(step_id, ())):
                _require_text(
                    problems,
                    en,
                    f"{step_path}.menu_options.{option}",
                    "a menu option",
                )
            if given is None:
                continue  # placeholders not given as a literal: can't tell
            for path, text in _leaves(step, f"{step_path}."):
                if isinstance(text, str) and (missing := _placeholders(text) - given):
                    problems.append(
                        f"en.json: {path} uses {sorted(missing)}, which the step's "
                        "description_placeholders do not give"
                    )
        for error in sorted(flow.errors):
            _require_text(problems, en, f"{kind}.error.{error}", "an error set")
        for reason in sorted(flow.aborts):
            _require_text(problems, en, f"{kind}.abort.{reason}", "an abort reason")
    # A helper's user step needs a description (hassfest).
    if "user" in _flow_texts()["config"].steps:
        _require_text(problems, en, "config.step.user.description", "helper")
    assert not problems, "\n".join(problems)


def test_selector_translations() -> None:
    """Select selectors with a translation_key have a text for every option."""
    from homeassistant.helpers.selector import SelectSelector
    import voluptuous as vol

    config_flow = importlib.import_module(f"{PACKAGE}.config_flow")
    en = _translations("en")

    def selectors(value: Any, depth: int = 0) -> Iterator[SelectSelector]:
        if depth > 5:
            return
        if isinstance(value, SelectSelector):
            yield value
        elif isinstance(value, vol.Schema):
            yield from selectors(value.schema, depth + 1)
        elif isinstance(value, Mapping):
            for item in value.values():
                yield from selectors(item, depth + 1)

    found = {
        id(selector): selector
        for value in vars(config_flow).values()
        for selector in selectors(value)
    }
    problems: list[str] = []
    for selector in found.values():
        key = selector.config.get("translation_key")
        if key is None:
            continue
        for option in selector.config["options"]:
            name = option["value"] if isinstance(option, Mapping) else option
            _require_text(
                problems, en, f"selector.{key}.options.{name}", "a select option"
            )
    assert not problems, "\n".join(problems)


def test_entity_translations() -> None:
    """Every sensor and the event entity have names; enum states have texts."""
    sensor = importlib.import_module(f"{PACKAGE}.sensor")
    const = importlib.import_module(f"{PACKAGE}.const")
    en = _translations("en")
    problems: list[str] = []
    for description in sensor.SENSOR_DESCRIPTIONS:
        key = description.translation_key
        if key is None:
            problems.append(f"sensor {description.key!r} has no translation_key")
            continue
        if not RE_TRANSLATION_KEY.match(key):
            problems.append(f"sensor translation_key {key!r} is not [a-z0-9-_]")
        _require_text(problems, en, f"entity.sensor.{key}.name", "a sensor")
        if description.device_class == "enum":
            options = description.options or []
            if not options:
                problems.append(f"enum sensor {key!r} lists no options")
            for option in options:
                _require_text(
                    problems, en, f"entity.sensor.{key}.state.{option}", "an enum state"
                )
    event_path = f"entity.event.{EVENT_ENTITY_TRANSLATION_KEY}"
    _require_text(problems, en, f"{event_path}.name", "the event entity")
    for event_type in const.EVENT_TYPES:
        _require_text(
            problems,
            en,
            f"{event_path}.state_attributes.event_type.state.{event_type}",
            "an event type",
        )
    assert not problems, "\n".join(problems)


def test_issue_translations() -> None:
    """Every repair issue (ISSUE_* in const) has a title and a description."""
    const = importlib.import_module(f"{PACKAGE}.const")
    en = _translations("en")
    issues = {
        value
        for name, value in vars(const).items()
        if name.startswith("ISSUE_") and isinstance(value, str)
    }
    problems: list[str] = []
    for issue in sorted(issues):
        _require_text(problems, en, f"issues.{issue}.title", "a repair issue")
        _require_text(problems, en, f"issues.{issue}.description", "a repair issue")
    assert not problems, "\n".join(problems)


def test_exception_translations() -> None:
    """Every `raise ...(translation_key="...")` in the package has a message."""
    en = _translations("en")
    problems: list[str] = []
    for key, given in sorted(_exception_translations().items()):
        path = f"exceptions.{key}.message"
        _require_text(problems, en, path, "a raised exception")
        text = _get(en, path)
        if given is not None and isinstance(text, str):
            if missing := _placeholders(text) - given:
                problems.append(
                    f"en.json: {path} uses {sorted(missing)}, which the raise does "
                    "not give in translation_placeholders"
                )
    assert not problems, "\n".join(problems)


def _services() -> dict[str, Any]:
    import yaml

    path = INTEGRATION_DIR / "services.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    assert isinstance(data, dict), "services.yaml must hold a mapping"
    return data


def test_service_translations() -> None:
    """Every service in services.yaml, its sections and fields have texts."""
    services = _services()
    if not services:
        pytest.skip("no services.yaml")
    en = _translations("en")
    problems: list[str] = []

    def check_fields(service: str, fields: Mapping[str, Any]) -> None:
        for name, spec in fields.items():
            if isinstance(spec, Mapping) and "fields" in spec:  # a section
                _require_text(
                    problems, en, f"services.{service}.sections.{name}.name", "section"
                )
                check_fields(service, spec["fields"] or {})
                continue
            for part in ("name", "description"):
                _require_text(
                    problems, en, f"services.{service}.fields.{name}.{part}", "a field"
                )

    for service, spec in services.items():
        for part in ("name", "description"):
            _require_text(problems, en, f"services.{service}.{part}", "a service")
        check_fields(service, (spec or {}).get("fields") or {})
    assert not problems, "\n".join(problems)


def test_icons() -> None:
    """icons.json refers only to translated entities, states and real services."""
    path = INTEGRATION_DIR / "icons.json"
    if not path.is_file():
        pytest.skip("no icons.json")
    icons = _load_json(path)
    en = _translations("en")
    problems: list[str] = []
    unknown = set(icons) - {"entity", "entity_component", "services"}
    if unknown:
        problems.append(f"icons.json: unknown sections {sorted(unknown)}")

    for icon_path, icon in _leaves(icons):
        if not (isinstance(icon, str) and icon.startswith("mdi:")):
            problems.append(f"icons.json: {icon_path} is not an mdi: icon")

    def check_states(where: str, icon_states: Any, text_states: Any) -> None:
        if isinstance(text_states, Mapping):
            problems.extend(
                f"icons.json: {where}.{state} is not a translated state"
                for state in icon_states
                if state not in text_states
            )

    for platform, entities in icons.get("entity", {}).items():
        for key, spec in entities.items():
            where = f"entity.{platform}.{key}"
            texts = _get(en, where)
            if not isinstance(texts, Mapping):
                problems.append(f"icons.json: {where} is not in en.json")
                continue
            check_states(f"{where}.state", spec.get("state", {}), texts.get("state"))
            for attribute, attribute_spec in spec.get("state_attributes", {}).items():
                attribute_texts = _get(texts, f"state_attributes.{attribute}")
                if not isinstance(attribute_texts, Mapping):
                    problems.append(
                        f"icons.json: {where}.state_attributes.{attribute} is not in "
                        "en.json"
                    )
                    continue
                check_states(
                    f"{where}.state_attributes.{attribute}.state",
                    attribute_spec.get("state", {}),
                    attribute_texts.get("state"),
                )

    services = _services()
    problems.extend(
        f"icons.json: services.{service} is not in services.yaml"
        for service in icons.get("services", {})
        if service not in services
    )
    assert not problems, "\n".join(problems)
