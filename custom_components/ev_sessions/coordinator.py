"""The coordinator: one per charger, between Home Assistant and the engine.

It subscribes to the source entities, turns their states into plain samples
(numbers in kW/kWh, a charger state), hands them to the `SessionTracker`,
persists what the tracker and history hold, publishes a view for the entities
and fires events. It does no session arithmetic of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import IntEnum
import logging
from pathlib import Path
from typing import Any

from homeassistant.components.recorder.history import get_significant_states
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_HOMEASSISTANT_STOP,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .charger_status import (
    VOCABULARY_BY_PLATFORM,
    ChargerState,
    is_finished,
    map_status,
)
from .const import (
    CONF_BATTERY_CAPACITY_KWH,
    CONF_CHARGER_TYPE,
    CONF_CHARGING_STATES,
    CONF_CONNECTED_STATES,
    CONF_COST_PER_KWH,
    CONF_DISCONNECTED_STATES,
    CONF_ENERGY_ENTITY,
    CONF_KEEP_DAYS,
    CONF_MIN_SESSION_ENERGY_KWH,
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
    DEFAULT_POWER_THRESHOLD_W,
    DEFAULT_SESSION_TIMEOUT_MINUTES,
    DOMAIN,
    EVENT_CHARGING_COMPLETED,
    EVENT_SESSION_ENDED,
    EVENT_SESSION_STARTED,
    ISSUE_SOURCE_ENTITY_MISSING,
    ISSUE_STORE_MOVED_ASIDE,
    ISSUE_UNKNOWN_STATUS_STATE,
    ISSUE_UNSUPPORTED_UNIT,
)
from .end_estimate import TaperLearner
from .history import SessionHistory
from .period_totals import (
    NO_TOTALS,
    MonthTotals,
    PeriodTotals,
    last_month_bounds,
    month_totals,
    straddling,
)
from .pricing import (
    Tariff,
    UnsupportedPriceUnitError,
    find_user,
    price_per_kwh,
    tariff_for_user,
)
from .session import (
    FLAG_RECONSTRUCTED,
    FLAG_UNIT_CHANGED,
    SessionRecord,
    money_from_json,
)
from .session_edit import edit_session
from .session_tracker import (
    LiveSession,
    SessionEvent,
    SessionEventType,
    SessionTracker,
    TrackerSettings,
)
from .statistics import SessionStatistics
from .store import ACTIVE_SAVE_DELAY_POWER_ONLY_S, SessionStore
from .units import UnsupportedUnitError, energy_kwh, parse_number, power_kw

_LOGGER = logging.getLogger(__name__)

# Every 30 s the tick lets time pass for a session and takes the view; the
# entities then show it in turns, one publish group every 5 s, each group
# holding at most one sensor that moves while a car charges. Samples only
# mark the view stale: a 1 Hz power sensor costs the recorder a row per
# changed sensor every 30 s, not every second. So every entity shows the
# same instant, refreshed every 30 s, yet no moment of the event loop does
# more than one of these: take the view, or write one state (where one
# publish every 30 s wrote five at once, after taking the view).
TICK_INTERVAL = timedelta(seconds=30)
TURN_INTERVAL = timedelta(seconds=5)


class PublishGroup(IntEnum):
    """When an entity is refreshed: in a tick's turn, or only on changes."""

    SESSION_ENERGY = 0
    TOTAL_ENERGY = 1
    SESSION_COST = 2
    TOTAL_COST = 3
    REVENUE = 4
    # Values that change only as time passes (durations) or that are counted
    # over months: refreshed by the 5-minute tick (see `SLOW_PUBLISH_INTERVAL`).
    SLOW = 5
    # Values that change only when a session or its charging starts or ends,
    # an action changes the history, or a month begins (the last session,
    # the number of sessions, last month): refreshed only then.
    CHANGES = 6


# The groups the tick refreshes, one per tick, in turn, after the turn that
# takes the view.
TICK_GROUPS = (
    PublishGroup.SESSION_ENERGY,
    PublishGroup.TOTAL_ENERGY,
    PublishGroup.SESSION_COST,
    PublishGroup.TOTAL_COST,
    PublishGroup.REVENUE,
)
# While a session runs, one tick this often refreshes what changes only as
# time passes (durations) and the month totals, in a view of their own, and
# saves the session: the rarer, heavier work in one tick, not spread over
# many. Session and charging changes show (and save) at once.
SLOW_PUBLISH_INTERVAL = timedelta(minutes=5)
# How long stopping waits for a statistics update's recorder work.
STATISTICS_WAIT_S = 30
# The history file also keeps the charger's learned taper model.
HISTORY_TAPER_MODEL = "taper_model"

STATUS_IDLE = "idle"
STATUS_CONNECTED = "connected"
STATUS_CHARGING = "charging"
STATUS_OPTIONS = [STATUS_IDLE, STATUS_CONNECTED, STATUS_CHARGING]

type EventListener = Callable[[SessionEvent, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class ChargerView:
    """What the entities show: the charger now, its session, its totals."""

    status: str
    live: LiveSession | None
    last: SessionRecord | None
    total_energy_kwh: float
    sessions: int
    currency: str | None = None
    current_price: Decimal | None = None
    total_cost: Decimal | None = None
    total_revenue: Decimal = Decimal(0)
    # This month and last month in Home Assistant's time zone, the session in
    # progress included.
    months: MonthTotals | None = None


def tracker_settings(entry: ConfigEntry, currency: str | None) -> TrackerSettings:
    """Build the engine's settings from the entry's options."""
    options = entry.options
    cost_price = money_from_json(options.get(CONF_COST_PER_KWH))
    return TrackerSettings(
        entry_id=entry.entry_id,
        charger=entry.title,
        charger_type=options.get(CONF_CHARGER_TYPE, DEFAULT_CHARGER_TYPE),
        has_status=bool(options.get(CONF_STATUS_ENTITY)),
        has_power=bool(options.get(CONF_POWER_ENTITY)),
        has_meter=bool(options.get(CONF_ENERGY_ENTITY)),
        power_threshold_kw=float(
            options.get(CONF_POWER_THRESHOLD_W, DEFAULT_POWER_THRESHOLD_W)
        )
        / 1000,
        min_session_energy_kwh=float(
            options.get(CONF_MIN_SESSION_ENERGY_KWH, DEFAULT_MIN_SESSION_ENERGY_KWH)
        ),
        session_timeout=timedelta(
            minutes=float(
                options.get(
                    CONF_SESSION_TIMEOUT_MINUTES, DEFAULT_SESSION_TIMEOUT_MINUTES
                )
            )
        ),
        currency=currency,
        tariff=Tariff.from_options(options),
        users=tuple(options.get(CONF_USERS, ())),
        cost_price=None if options.get(CONF_PRICE_ENTITY) else cost_price,
        has_price_entity=bool(options.get(CONF_PRICE_ENTITY)),
        has_soc=bool(options.get(CONF_SOC_ENTITY)),
        battery_capacity_kwh=float(capacity)
        if (capacity := options.get(CONF_BATTERY_CAPACITY_KWH))
        else None,
    )


class EvSessionsCoordinator:
    """Feeds one charger's source entities to the engine and publishes results."""

    # Whether a sample may have changed the view since it was taken.
    _stale = False
    # Cancels the next group's turn, while the groups take turns; and whose
    # turn it is.
    _next_turn: CALLBACK_TYPE | None = None
    _turn = 0
    # Whether this cycle took the slow view: its entities take turns too.
    _slow_turns = False
    # The view for values that change only as time passes, and when it was
    # taken (see `slow_view`).
    _slow_view: ChargerView | None = None
    _slow_view_at: datetime | None = None

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Prepare (nothing is read or subscribed yet)."""
        self.hass = hass
        self.entry = entry
        options = entry.options
        self.status_entity_id: str | None = options.get(CONF_STATUS_ENTITY)
        self.power_entity_id: str | None = options.get(CONF_POWER_ENTITY)
        self.energy_entity_id: str | None = options.get(CONF_ENERGY_ENTITY)
        self._charging_states = tuple(options.get(CONF_CHARGING_STATES, ()))
        self._connected_states = tuple(options.get(CONF_CONNECTED_STATES, ()))
        self._disconnected_states = tuple(options.get(CONF_DISCONNECTED_STATES, ()))
        self._vocabulary = self._status_vocabulary()
        self.store = SessionStore(hass, entry.entry_id)
        self.price_entity_id: str | None = options.get(CONF_PRICE_ENTITY)
        self.user_entity_id: str | None = options.get(CONF_USER_ENTITY)
        self.soc_entity_id: str | None = options.get(CONF_SOC_ENTITY)
        self._users: tuple[Mapping[str, Any], ...] = tuple(options.get(CONF_USERS, ()))
        self.user_names = [
            str(user.get("name")) for user in self._users if user.get("name")
        ]
        self.settings = tracker_settings(entry, hass.config.currency)
        self.statistics = SessionStatistics(
            hass,
            title=entry.title,
            currency=self.settings.currency,
            users=self.user_names,
            load_curves=self.store.async_curves,
        )
        self.tracker = SessionTracker(self.settings)
        self.history = SessionHistory()
        # Finished sessions' month totals, and the curves of the few sessions
        # a month's start cuts through (read once, kept while they matter).
        self._month_curves: dict[str, list[Any]] = {}
        self._months = self._finished_months(dt_util.utcnow())
        self._month_timer: CALLBACK_TYPE | None = None
        self.view = self._build_view(dt_util.utcnow())
        self._listeners: dict[PublishGroup, list[CALLBACK_TYPE]] = {
            group: [] for group in PublishGroup
        }
        self._event_listeners: list[EventListener] = []
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._units: dict[str, str | None] = {}
        self._unknown_states: set[str] = set()
        self._open_issues: set[str] = set()
        self._statistics_tasks: set[asyncio.Task[None]] = set()
        # Whether the last scheduled save had a session (one more after it ends).
        self._saved_with_session = False
        self.samples = 0

    # ------------------------------------------------------------- lifecycle

    async def async_load(self) -> None:
        """Read the store and resume the session that was active, if any."""
        loaded = await self.store.async_load()
        active, history = loaded.active, loaded.history
        for path in loaded.moved_aside:
            self._raise_issue(
                f"{ISSUE_STORE_MOVED_ASIDE}_{Path(path).name}",
                ISSUE_STORE_MOVED_ASIDE,
                {"path": path},
            )
        learner = TaperLearner()
        if history is not None:
            self.history = SessionHistory.from_dict(history)
            learner = self._stored_learner(history.get(HISTORY_TAPER_MODEL))
        await self._async_prune(dt_util.utcnow())
        if active is not None:
            self.tracker = SessionTracker.restore(self.settings, active)
            if self.tracker.active:
                _LOGGER.info(
                    "%s: resuming the session that was active when Home Assistant"
                    " stopped (last seen %s)",
                    self.entry.title,
                    self.tracker.last_seen_at,
                )
        self.tracker.learner = learner
        await self._async_refresh_months()
        self.view = self._build_view(dt_util.utcnow())

    def _stored_learner(self, data: Any) -> TaperLearner:
        """The learned taper model as stored, or a fresh one if unreadable."""
        if data is None:
            return TaperLearner()
        try:
            return TaperLearner.from_dict(data)
        except ValueError as err:
            _LOGGER.warning(
                "%s: the stored taper model is unreadable (%s); learning afresh",
                self.entry.title,
                err,
            )
            return TaperLearner()

    def _history_data(self) -> dict[str, Any]:
        """The history file's data: the sessions and the learned taper model."""
        return {
            **self.history.to_dict(),
            HISTORY_TAPER_MODEL: self.tracker.learner.to_dict(),
        }

    @callback
    def _save_history(self) -> None:
        self.store.schedule_history_save(self._history_data)

    @callback
    def async_start(self) -> None:
        """Subscribe to the sources and take their current states."""
        sources = self.source_entity_ids
        self._unsubscribe.append(
            async_track_state_change_event(self.hass, sources, self._on_state_event)
        )
        measured = [
            entity_id
            for entity_id in (
                self.power_entity_id,
                self.energy_entity_id,
                self.price_entity_id,
            )
            if entity_id
        ]
        self._unsubscribe.append(
            async_track_state_report_event(self.hass, measured, self._on_state_event)
        )
        self._unsubscribe.append(
            async_track_time_interval(self.hass, self._on_tick, TICK_INTERVAL)
        )
        now = dt_util.utcnow()
        for entity_id in self._feed_order:
            if (state := self.hass.states.get(entity_id)) is not None:
                self._process(entity_id, state, now)
        self._handle(self.tracker.tick(now), now)
        self._publish()
        self._unsubscribe.append(async_at_started(self.hass, self._check_sources))
        self._unsubscribe.append(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_on_stop)
        )
        # The recorder writes nothing before Home Assistant has started.
        self._unsubscribe.append(async_at_started(self.hass, self._statistics_at_start))
        self._schedule_new_month()

    async def async_shutdown(self) -> None:
        """Unsubscribe and write the store now, so a reload resumes exactly."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        if self._next_turn is not None:
            self._next_turn()
            self._next_turn = None
        await self.async_wait_statistics()
        self.tracker.checkpoint(dt_util.utcnow())
        await self.store.async_flush(self.tracker.snapshot, self._history_data)

    @property
    def _feed_order(self) -> list[str]:
        """Sources in the order simultaneous samples are taken.

        Price and user first, so what follows is priced and attributed; then
        the meter: energy drawn while Home Assistant was down is credited
        before the status may close the session.
        """
        return [
            entity_id
            for entity_id in (
                self.price_entity_id,
                self.user_entity_id,
                self.soc_entity_id,
                self.energy_entity_id,
                self.power_entity_id,
                self.status_entity_id,
            )
            if entity_id
        ]

    @property
    def source_entity_ids(self) -> list[str]:
        """Return the configured source entities."""
        return [
            entity_id
            for entity_id in (
                self.status_entity_id,
                self.power_entity_id,
                self.energy_entity_id,
                self.price_entity_id,
                self.user_entity_id,
                self.soc_entity_id,
            )
            if entity_id
        ]

    # ------------------------------------------------------------ listeners

    @callback
    def async_add_listener(
        self,
        update_callback: CALLBACK_TYPE,
        group: PublishGroup = PublishGroup.SESSION_ENERGY,
    ) -> CALLBACK_TYPE:
        """Call `update_callback` when `group` is published; returns a remover."""
        listeners = self._listeners[group]
        listeners.append(update_callback)
        return lambda: listeners.remove(update_callback)

    @property
    def slow_view(self) -> ChargerView:
        """The view of durations and month totals (`PublishGroup.SLOW`).

        Taken every 5 minutes while a session runs and at every publish of
        all groups (a session or charging change, an action), so a duration
        writes a recorder row every 5 minutes, not every 30 s, yet is exact
        when a session or a charging interval starts or ends.
        """
        return self.view if self._slow_view is None else self._slow_view

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener` for every session event; returns a remover."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    # -------------------------------------------------------------- samples

    @callback
    def _on_state_event(
        self, event: Event[EventStateChangedData] | Event[EventStateReportedData]
    ) -> None:
        entity_id = event.data["entity_id"]
        new_state = event.data["new_state"]
        # Shown at each group's next turn; a session or charging change
        # publishes every group at once (and so clears this). Without a
        # session only the price is shown of what the sources say: an idle
        # charger's power and meter readings change nothing on screen.
        if self.tracker.active or entity_id == self.price_entity_id:
            self._stale = True
        if new_state is None:
            self._source_missing(entity_id)
            now = dt_util.utcnow()
            self._handle(self._feed_gap(entity_id, now), now)
            return
        self._process(entity_id, new_state, new_state.last_reported)

    @callback
    def _on_tick(self, now: datetime) -> None:
        """Let time pass: confirm stops, time sessions out, take the view.

        The groups then show it in turns (`_on_turn`). Every 5 minutes of a
        session the tick takes the slow view (durations, month totals) in
        place of the plain one, and the slow group's entities take the turns
        too, a few each. Without a session, time passing changes nothing:
        there is nothing to time out or to save, and prices change only with
        samples. An idle tick only shows what samples changed, if anything.
        """
        active = self.tracker.active
        if active:
            self._handle(self.tracker.tick(now), now)
            self._schedule_save()
        if active and self._slow_due(now):
            self._take_view(now, slow=True)
            self._slow_turns = True
            # A meter recovers anything a crash loses; the session's save
            # can wait for this tick (see `_schedule_save`).
            if self.settings.has_meter:
                self.store.schedule_active_save(self.tracker.snapshot, at_once=True)
        elif active or self._stale:
            self._take_view(now)
        else:
            return
        self._schedule_turn(0)

    @callback
    def _schedule_turn(self, turn: int) -> None:
        """Let the group at `turn` show the view in `TURN_INTERVAL`."""
        if self._next_turn is not None:
            self._next_turn()
        self._turn = turn
        self._next_turn = async_call_later(self.hass, TURN_INTERVAL, self._on_turn)

    @callback
    def _on_turn(self, _now: datetime) -> None:
        """Show the view to one group, then hand the turn to the next one."""
        self._next_turn = None
        turn = self._turn
        self._show(TICK_GROUPS[turn])
        if self._slow_turns:
            slow = self._listeners[PublishGroup.SLOW]
            for update_callback in slow[turn :: len(TICK_GROUPS)]:
                update_callback()
        if turn + 1 < len(TICK_GROUPS):
            self._schedule_turn(turn + 1)
        else:
            self._slow_turns = False

    def _slow_due(self, now: datetime) -> bool:
        """Whether the slow view is due for its refresh."""
        slow_at = self._slow_view_at
        return (
            self._slow_view is None
            or slow_at is None
            or not slow_at <= now < slow_at + SLOW_PUBLISH_INTERVAL
        )

    @callback
    def _process(self, entity_id: str, state: State, at: datetime) -> None:
        """Turn one source state into a sample for the engine."""
        self.samples += 1
        self._resolve_issue(f"{ISSUE_SOURCE_ENTITY_MISSING}_{entity_id}")
        self._handle(self._sample(self.tracker, entity_id, state, at), at)
        self._schedule_save()

    def _sample(
        self, tracker: SessionTracker, entity_id: str, state: State, at: datetime
    ) -> list[SessionEvent]:
        """Hand one source state to `tracker` as a plain sample."""
        if entity_id == self.status_entity_id:
            return tracker.status_changed(
                self._charger_state(state), at, finished=is_finished(state.state)
            )
        if entity_id == self.power_entity_id:
            return tracker.power_changed(self._reading(state, power_kw), at)
        if entity_id == self.energy_entity_id:
            return tracker.meter_changed(self._reading(state, energy_kwh), at)
        if entity_id == self.price_entity_id:
            return tracker.price_changed(self._reading(state, self._price_per_kwh), at)
        if entity_id == self.soc_entity_id:
            return tracker.soc_changed(parse_number(state.state), at)
        return tracker.user_changed(
            self._user(state), known=self._user_known(state), at=at
        )

    def _feed_gap(self, entity_id: str, at: datetime) -> list[SessionEvent]:
        if entity_id == self.status_entity_id:
            return self.tracker.status_changed(None, at)
        if entity_id == self.power_entity_id:
            return self.tracker.power_changed(None, at)
        if entity_id == self.energy_entity_id:
            return self.tracker.meter_changed(None, at)
        if entity_id == self.price_entity_id:
            return self.tracker.price_changed(None, at)
        if entity_id == self.soc_entity_id:
            return self.tracker.soc_changed(None, at)
        return self.tracker.user_changed(None, known=False, at=at)

    def _price_per_kwh(self, raw: str | None, unit: str | None) -> Decimal | None:
        return price_per_kwh(raw, unit, self.hass.config.currency)

    def _user(self, state: State) -> str | None:
        """The configured user's name for the tag shown, else the raw tag."""
        tag = state.state.strip()
        if state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE) or not tag:
            return None
        user = find_user(self._users, tag, ("tag",))
        return tag if user is None else str(user["name"])

    def _user_known(self, state: State) -> bool:
        return find_user(self._users, state.state, ("tag",)) is not None

    def _reading[T](
        self, state: State, parse: Callable[[str | None, str | None], T | None]
    ) -> T | None:
        """Return the state in kW, kWh or currency/kWh; None for a gap."""
        if state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return None
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        entity_id = state.entity_id
        issue_id = f"{ISSUE_UNSUPPORTED_UNIT}_{entity_id}"
        try:
            value = parse(state.state, unit)
        except (UnsupportedUnitError, UnsupportedPriceUnitError):
            if issue_id not in self._open_issues:
                _LOGGER.warning(
                    "%s: %s reports %r in the unit %r, which ev_sessions cannot"
                    " convert; its readings are ignored until that changes",
                    self.entry.title,
                    entity_id,
                    state.state,
                    unit,
                )
            self._raise_issue(
                issue_id,
                ISSUE_UNSUPPORTED_UNIT,
                {"entity_id": entity_id, "unit": str(unit)},
            )
            return None
        self._resolve_issue(issue_id)
        if value is None:
            _LOGGER.debug(
                "%s: %s is %r, not a number; treated as a gap",
                self.entry.title,
                entity_id,
                state.state,
            )
            return None
        previous = self._units.get(entity_id)
        if previous is not None and previous != unit:
            _LOGGER.info(
                "%s: %s changed its unit from %s to %s; readings are converted",
                self.entry.title,
                entity_id,
                previous,
                unit,
            )
            self.tracker.flag(FLAG_UNIT_CHANGED)
        self._units[entity_id] = unit
        return value

    def _status_vocabulary(self) -> str | None:
        """Which charger family's words the status entity speaks, if known."""
        if self.status_entity_id is None:
            return None
        entry = er.async_get(self.hass).async_get(self.status_entity_id)
        return None if entry is None else VOCABULARY_BY_PLATFORM.get(entry.platform)

    def _charger_state(self, state: State) -> ChargerState | None:
        """Return the charger state the status means; None when it tells nothing."""
        raw = state.state
        if raw in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return None
        mapped = map_status(
            raw,
            domain=state.domain,
            device_class=state.attributes.get(ATTR_DEVICE_CLASS),
            charging_states=self._charging_states,
            connected_states=self._connected_states,
            disconnected_states=self._disconnected_states,
            vocabulary=self._vocabulary,
        )
        if mapped is None and raw not in self._unknown_states:
            self._unknown_states.add(raw)
            _LOGGER.warning(
                "%s: status %r of %s is not a state ev_sessions knows; sessions"
                " are neither started nor ended on it. Map it in the options",
                self.entry.title,
                raw,
                state.entity_id,
            )
            self._raise_issue(
                f"{ISSUE_UNKNOWN_STATUS_STATE}_{state.entity_id}",
                ISSUE_UNKNOWN_STATUS_STATE,
                {
                    "entity_id": state.entity_id,
                    "state": ", ".join(sorted(self._unknown_states)),
                },
            )
        return mapped

    # --------------------------------------------------------- engine output

    @callback
    def _handle(self, events: list[SessionEvent], at: datetime) -> None:
        """Record finished sessions, fire events, save and publish at once."""
        if not events:
            return
        for event in events:
            if event.type is SessionEventType.SESSION_DISCARDED:
                continue
            if event.record is not None:
                self._record_finished(event.record)
                data = event.record.to_dict()
            elif (live := self.tracker.live(at)) is not None:
                data = live.to_dict()
            else:  # pragma: no cover - a start/charging event always has a session
                continue
            if event.type is SessionEventType.SESSION_STARTED:
                self.hass.bus.async_fire(EVENT_SESSION_STARTED, data)
            elif event.type is SessionEventType.SESSION_ENDED:
                self.hass.bus.async_fire(EVENT_SESSION_ENDED, data)
            elif event.type is SessionEventType.CHARGING_COMPLETED:
                self.hass.bus.async_fire(EVENT_CHARGING_COMPLETED, data)
            for listener in list(self._event_listeners):
                listener(event, data)
        self._schedule_save(at_once=True)
        self._publish()

    @callback
    def _record_finished(self, record: SessionRecord) -> None:
        """Keep a finished session: history, its curve, statistics."""
        self.history.add(record)
        self._save_history()
        curve = [list(point) for point in record.curve]
        self._refresh_months(added=[record])
        self.entry.async_create_task(
            self.hass,
            self._async_after_history_change(put={record.id: curve}),
            "ev_sessions history update",
        )

    async def _async_after_history_change(
        self,
        *,
        put: Mapping[str, list[Any]] | None = None,
        removed: Iterable[SessionRecord] = (),
        rebuild_statistics: bool = False,
    ) -> None:
        """Store curves, prune old sessions, and bring statistics up to date."""
        removed = list(removed)
        await self.store.async_update_curves(
            put or {}, {record.id for record in removed}
        )
        await self._async_prune(dt_util.utcnow())
        self._update_statistics(rebuild=rebuild_statistics, removed=removed)

    @callback
    def _statistics_at_start(self, _hass: HomeAssistant) -> None:
        self._update_statistics()

    @callback
    def _update_statistics(
        self, *, rebuild: bool = False, removed: Iterable[SessionRecord] = ()
    ) -> None:
        """Bring the long-term statistics in step with the history.

        In the background: a correction reaching far back rewrites many hours
        in the recorder, and an action's response must not wait for that.
        Every row holds an absolute sum, so an update cut short by a shutdown
        is repaired at the next start.
        """
        # Read when the job needs them: the start-up check reads no record.
        records = self.history.records()
        job = (
            self.statistics.async_rebuild(records, removed=removed)
            if rebuild
            else self.statistics.async_update(records)
        )
        task = self.entry.async_create_background_task(
            self.hass, job, f"{DOMAIN} statistics {self.entry.title}"
        )
        self._statistics_tasks.add(task)
        task.add_done_callback(self._statistics_tasks.discard)

    async def async_wait_statistics(self) -> None:
        """Let statistics updates finish their recorder work.

        Cancelling the task would not stop a read already running in the
        recorder's thread; the recorder must not close its database under it.
        """
        if self._statistics_tasks:
            await asyncio.wait(set(self._statistics_tasks), timeout=STATISTICS_WAIT_S)

    async def _async_on_stop(self, _event: Event) -> None:
        """Home Assistant stops: commit the session, write at the final write."""
        self.tracker.checkpoint(dt_util.utcnow())
        self.store.schedule_active_save(self.tracker.snapshot)
        await self.async_wait_statistics()

    async def _async_prune(self, now: datetime) -> None:
        """Forget sessions older than `keep_days`, if the user set a limit."""
        keep_days = self.entry.options.get(CONF_KEEP_DAYS)
        if not keep_days:
            return
        gone = self.history.prune(now - timedelta(days=float(keep_days)))
        if gone:
            _LOGGER.info(
                "%s: forgot %d sessions older than %s days",
                self.entry.title,
                len(gone),
                keep_days,
            )
            self._save_history()
            await self.store.async_update_curves({}, set(gone))
            self._refresh_months()

    # ------------------------------------------------------------- months

    def _finished_months(self, at: datetime) -> MonthTotals:
        """Month totals of the finished sessions, at `at`."""
        tz = dt_util.get_default_time_zone()
        return month_totals(
            self._months_sessions(at, tz),
            at,
            tz,
            users=self.user_names,
            curves=self._month_curves,
        )

    def _months_sessions(self, at: datetime, tz: tzinfo) -> list[SessionRecord]:
        """The sessions that can count in `at`'s month or the one before.

        Only these records are read from the history, not years of them.
        """
        # Records keep UTC times: a UTC moment compares without zone lookups.
        return self.history.ended_since(last_month_bounds(at, tz)[0].astimezone(UTC))

    @callback
    def _refresh_months(self, *, added: Iterable[SessionRecord] = ()) -> None:
        """Recount the finished sessions' month totals (the history changed).

        A session just recorded brings its curve; one that a month's start
        cuts through keeps it here, so it is never read back from the store.
        """
        now = dt_util.utcnow()
        tz = dt_util.get_default_time_zone()
        for record in straddling(added, now, tz):
            self._month_curves[record.id] = [list(point) for point in record.curve]
        self._months = self._finished_months(now)

    async def _async_refresh_months(self) -> None:
        """Read the curves the month totals need, then recount them."""
        now = dt_util.utcnow()
        tz = dt_util.get_default_time_zone()
        needed = {
            record.id for record in straddling(self._months_sessions(now, tz), now, tz)
        }
        curves = {
            session_id: curve
            for session_id in needed
            if (curve := self._month_curves.get(session_id)) is not None
            or (curve := await self.store.async_curve(session_id)) is not None
        }
        self._month_curves = curves
        self._months = self._finished_months(now)

    @callback
    def _schedule_new_month(self) -> None:
        """Recount the months when the next one begins."""
        cancel = async_track_point_in_utc_time(
            self.hass, self._on_new_month, self._months.end
        )
        self._unsubscribe.append(cancel)
        self._month_timer = cancel

    async def _on_new_month(self, _now: datetime) -> None:
        if self._month_timer in self._unsubscribe:
            self._unsubscribe.remove(self._month_timer)
        await self._async_refresh_months()
        self._publish()
        self._schedule_new_month()

    def _live_months(self, live: LiveSession, at: datetime) -> MonthTotals | None:
        """The session in progress' part of the month totals.

        Counted, like the total energy, once it is sure to be recorded. A
        session that began before this month is split by its curve so far,
        as it will be when it ends.
        """
        if live.energy_kwh < self.settings.min_session_energy_kwh:
            return None
        months = self._months
        if live.started_at >= months.start:
            part = PeriodTotals(
                energy_kwh=live.energy_kwh,
                cost=live.cost or Decimal(0),
                revenue=live.revenue or Decimal(0),
            )
            users = {live.user: part} if live.user in self.user_names else {}
            return MonthTotals(
                start=months.start,
                end=months.end,
                last_start=months.last_start,
                this_month=part,
                last_month=NO_TOTALS,
                users=users,
            )
        if (record := self.tracker.live_record(at)) is None:  # pragma: no cover
            return None
        return month_totals(
            [record], at, dt_util.get_default_time_zone(), users=self.user_names
        )

    # ------------------------------------------------------------ actions

    async def async_set_session_target(
        self, *, soc: float | None = None, energy_kwh: float | None = None
    ) -> bool:
        """Set the session's own SoC and energy targets; False without one."""
        now = dt_util.utcnow()
        if not self.tracker.set_session_target(now, soc=soc, energy_kwh=energy_kwh):
            return False
        self._schedule_save()
        self._publish()
        return True

    async def async_session_with_curve(self, session_id: str) -> SessionRecord | None:
        """Return a recorded session with its curve read from the store."""
        record = self.history.get(session_id)
        if record is None:
            return None
        curve = await self.store.async_curve(session_id) or []
        return dataclasses.replace(
            record,
            curve=tuple(
                (int(offset), None if kw is None else float(kw)) for offset, kw in curve
            ),
        )

    async def async_update_session(
        self, session_id: str, **fields: Any
    ) -> SessionRecord | None:
        """Correct a session (user, vehicle, note, energy); None if unknown."""
        record = self.history.get(session_id)
        if record is None:
            return None
        edited = edit_session(
            record,
            edited_at=dt_util.utcnow(),
            tariff_for_user=self._tariff_for_user,
            **fields,
        )
        old = self.history.replace(edited)
        self._save_history()
        self._refresh_months()
        self._update_statistics(rebuild=True, removed=[old] if old else [])
        self._publish()
        return edited

    async def async_delete_session(self, session_id: str) -> SessionRecord | None:
        """Delete a session and its curve; None if unknown."""
        record = self.history.remove(session_id)
        if record is None:
            return None
        self._save_history()
        self._refresh_months()
        await self._async_after_history_change(
            removed=[record], rebuild_statistics=True
        )
        self._publish()
        return record

    def _tariff_for_user(self, user: str | None) -> tuple[Tariff, bool]:
        """The tariff of `user` (a name or a tag), and whether it is configured."""
        known = find_user(self._users, user) is not None
        return tariff_for_user(self.settings.tariff, self._users, user), known

    async def async_rebuild_sessions(
        self, start: datetime, end: datetime
    ) -> list[SessionRecord]:
        """Reconstruct sessions in [start, end) from the recorder's history.

        The source entities' recorded states are replayed through a fresh
        engine; sessions overlapping ones already recorded are skipped, the
        rest are added with the flag `reconstructed`.
        """
        states = await get_instance(self.hass).async_add_executor_job(
            self._recorded_states, start, end
        )
        tracker = SessionTracker(self.settings)
        events: list[SessionEvent] = []
        for entity_id, state in states:
            at = state.last_updated
            events += self._sample(tracker, entity_id, state, at)
            events += tracker.tick(at)
        events += tracker.tick(end)
        added: list[SessionRecord] = []
        for event in events:
            record = event.record
            if (
                event.type is not SessionEventType.SESSION_ENDED
                or record is None
                or record.id in self.history
                or self.history.overlaps(record.started_at, record.ended_at)
            ):
                continue
            record = dataclasses.replace(
                record, flags=tuple(sorted({*record.flags, FLAG_RECONSTRUCTED}))
            )
            self.history.add(record)
            added.append(record)
        if added:
            self._save_history()
            self._refresh_months(added=added)
            await self._async_after_history_change(
                put={record.id: [list(p) for p in record.curve] for record in added},
                rebuild_statistics=True,
            )
            self._publish()
        return added

    def _recorded_states(
        self, start: datetime, end: datetime
    ) -> list[tuple[str, State]]:
        """The sources' recorded states in time order (recorder thread)."""
        by_entity = get_significant_states(
            self.hass,
            start,
            end,
            self.source_entity_ids,
            significant_changes_only=False,
            include_start_time_state=True,
        )
        ordered = [
            (
                entity_id,
                # The recorder's lazy states lack parts of State (its domain).
                State(
                    entity_id,
                    state.state,
                    state.attributes,
                    last_changed=state.last_changed,
                    last_updated=state.last_updated,
                ),
            )
            for entity_id, entity_states in by_entity.items()
            for state in entity_states
            if isinstance(state, State)
        ]
        order = {entity_id: index for index, entity_id in enumerate(self._feed_order)}
        ordered.sort(key=lambda item: (item[1].last_updated, order.get(item[0], 9)))
        return ordered

    @callback
    def _schedule_save(self, *, at_once: bool = False) -> None:
        """Save the engine's state while a session runs.

        `at_once` when a session or a charging interval starts or ends. In
        between, with a meter, the 5-minute tick saves it (`_on_tick`): a
        crash loses nothing the meter does not recover. Without a meter
        every 2 minutes, so a crash loses at most 2 minutes of integrated
        power. Without a session there is nothing a crash could lose: the
        meter baseline and last-seen time are written at the next session
        start, on unload and when Home Assistant stops.
        """
        if self.tracker.active or self._saved_with_session:
            self._saved_with_session = self.tracker.active
            if at_once or not self.settings.has_meter:
                self.store.schedule_active_save(
                    self.tracker.snapshot,
                    at_once=at_once,
                    delay_s=ACTIVE_SAVE_DELAY_POWER_ONLY_S,
                )

    @callback
    def _publish(self) -> None:
        """Take a new view, the slow view too, and show it to every group.

        On a session or charging change, an action, a new month.
        """
        self._take_view(dt_util.utcnow(), slow=True)
        if self._next_turn is not None:
            # Every group sees this newer view: the cycle's turns are done.
            self._next_turn()
            self._next_turn = None
        self._slow_turns = False
        for group in PublishGroup:
            self._show(group)

    @callback
    def _take_view(self, now: datetime, *, slow: bool = False) -> None:
        """Take the view the entities show; `slow`: the slow view too.

        The month totals are counted only for the slow view; the other
        views carry its month totals along.
        """
        slow_view = self._slow_view
        self.view = self._build_view(
            now, months=None if slow or slow_view is None else slow_view.months
        )
        self._stale = False
        if slow or slow_view is None:
            self._slow_view = self.view
            self._slow_view_at = now

    @callback
    def _show(self, group: PublishGroup) -> None:
        """Call `group`'s entities: each writes its state if what it shows changed."""
        for update_callback in list(self._listeners[group]):
            update_callback()

    def _build_view(
        self, at: datetime, *, months: MonthTotals | None = None
    ) -> ChargerView:
        """The charger's view at `at`; with `months` as given, else counted."""
        live = self.tracker.live(at)
        total = self.history.total_energy_kwh
        if live is not None and live.energy_kwh >= self.settings.min_session_energy_kwh:
            # Count the session in progress once it is sure to be recorded, so
            # the total rises while charging and never falls back.
            total += live.energy_kwh
        if live is None:
            status = STATUS_IDLE
        elif live.charging:
            status = STATUS_CHARGING
        else:
            status = STATUS_CONNECTED
        total_cost: Decimal | None = None
        if self.settings.priced:
            total_cost = self.history.total_cost
            if (
                live is not None
                and live.cost is not None
                and live.energy_kwh >= self.settings.min_session_energy_kwh
            ):
                # Cost accrues in the hour it is drawn (Energy dashboard).
                total_cost += live.cost
        if months is None:
            months = self._months
            if live is not None and (live_part := self._live_months(live, at)):
                months = months.plus(live_part)
        return ChargerView(
            status=status,
            live=live,
            last=self.history.last,
            total_energy_kwh=total,
            sessions=len(self.history),
            currency=self.settings.currency,
            current_price=self.tracker.prices.price_at(at)
            if self.settings.priced
            else None,
            total_cost=total_cost,
            total_revenue=self.history.total_revenue,
            months=months,
        )

    # ------------------------------------------------------------ repairs

    @callback
    def _check_sources(self, hass: HomeAssistant) -> None:
        """Once Home Assistant has started, report sources that don't exist."""
        registry = er.async_get(hass)
        for entity_id in self.source_entity_ids:
            if (
                hass.states.get(entity_id) is None
                and registry.async_get(entity_id) is None
            ):
                self._source_missing(entity_id)

    @callback
    def _source_missing(self, entity_id: str) -> None:
        _LOGGER.warning(
            "%s: source entity %s does not exist (removed or renamed?);"
            " reconfigure the charger to pick its replacement",
            self.entry.title,
            entity_id,
        )
        self._raise_issue(
            f"{ISSUE_SOURCE_ENTITY_MISSING}_{entity_id}",
            ISSUE_SOURCE_ENTITY_MISSING,
            {"entity_id": entity_id},
        )

    def _raise_issue(
        self, issue_id: str, translation_key: str, placeholders: dict[str, str]
    ) -> None:
        self._open_issues.add(issue_id)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{issue_id}_{self.entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders={"charger": self.entry.title, **placeholders},
        )

    def _resolve_issue(self, issue_id: str) -> None:
        if issue_id in self._open_issues:
            self._open_issues.discard(issue_id)
            ir.async_delete_issue(
                self.hass, DOMAIN, f"{issue_id}_{self.entry.entry_id}"
            )

    @callback
    def async_clear_issues(self) -> None:
        """Remove this charger's repair issues (on unload: a reload re-checks)."""
        for issue_id in list(self._open_issues):
            self._resolve_issue(issue_id)
        self._unknown_states.clear()
