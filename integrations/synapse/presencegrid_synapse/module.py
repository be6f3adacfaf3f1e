"""The Synapse module: mirrors Synapse's presence into a PresenceGrid and answers Synapse's
presence routing from the grid. See docs/synapse.md."""

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union
from urllib.parse import quote

from ._compat import PRESENCE_ALL_USERS, GridTimeout, call_with_timeout, config_error_class

logger = logging.getLogger(__name__)

#: The fields of Synapse's ``UserPresenceState`` (synapse/api/presence.py), in its order; the
#: grid's state objects carry exactly these keys.
STATE_FIELDS = (
    "user_id",
    "state",
    "last_active_ts",
    "last_federation_update_ts",
    "last_user_sync_ts",
    "status_msg",
    "currently_active",
)

_INT_FIELDS = ("last_active_ts", "last_federation_update_ts", "last_user_sync_ts")

#: The memberships the grid's ``PUT /v1/rooms/{roomId}/members/{userId}`` takes.
MEMBERSHIPS = frozenset({"join", "leave", "invite", "ban", "knock"})

StateTuple = Tuple[Any, ...]


@dataclass(frozen=True)
class PresenceGridConfig:
    """The module's parsed ``config:``."""

    grid_url: str
    token: Optional[str] = None
    timeout_ms: int = 500
    mirror: bool = True
    route: bool = True


def _state_tuple(state: Any) -> StateTuple:
    return tuple(getattr(state, field) for field in STATE_FIELDS)


def _state_json(state: Any) -> Dict[str, Any]:
    return {field: getattr(state, field) for field in STATE_FIELDS}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad_state_json(value: Any) -> Optional[str]:
    """Why ``value`` is not a grid state object (None when it is one)."""
    if not isinstance(value, dict):
        return f"expected an object, got {type(value).__name__}"
    if set(value) != set(STATE_FIELDS):
        return f"expected the keys {sorted(STATE_FIELDS)}, got {sorted(map(str, value))}"
    if not isinstance(value["user_id"], str) or not isinstance(value["state"], str):
        return "user_id and state must be strings"
    if not all(_is_int(value[field]) for field in _INT_FIELDS):
        return f"{', '.join(_INT_FIELDS)} must be integers"
    if value["status_msg"] is not None and not isinstance(value["status_msg"], str):
        return "status_msg must be a string or null"
    if not isinstance(value["currently_active"], bool):
        return "currently_active must be a boolean"
    return None


class MalformedAnswer(Exception):
    """The grid answered with JSON of the wrong shape."""


class _ThrottledLog:
    """Logs a kind of failure at most once per interval, with how often it happened since the
    last line, instead of once per call."""

    def __init__(self, interval_s: float):
        self._interval_s = interval_s
        self._last_logged: Dict[str, float] = {}
        self._suppressed: Dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        last = self._last_logged.get(kind)
        if last is not None and now - last < self._interval_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last_logged[kind] = now
        suppressed = self._suppressed.pop(kind, 0)
        if suppressed:
            message += " (%d more like this in the last %d s)"
            args = args + (suppressed, int(self._interval_s))
        logger.warning(message, *args)


class PresenceGridModule:
    """A Synapse module (``modules:`` entry ``presencegrid_synapse.PresenceGridModule``).

    - ``mirror``: every presence change Synapse routes is queued once (latest per user) and sent to
      the grid's batched ingest from a looping background call; so is every room membership change
      (latest per room and user), on the process that runs background tasks.
    - ``route``: Synapse's presence router callbacks are answered by the grid's routing.

    Both fail open: a grid that is down or slower than ``timeout_ms`` adds no recipients, and the
    mirror keeps a bounded backlog that it resends when the grid answers again.
    """

    #: How often the mirror queue is flushed.
    FLUSH_INTERVAL_MS = 100
    #: States per ingest request; a callback that fills a batch schedules a flush at once.
    BATCH_SIZE = 1000
    #: States per routing request: under the grid's limits (10,000 states, 8 MiB a body) even
    #: when every state carries a 2 KiB status message.
    ROUTE_BATCH_SIZE = 2000
    #: Users whose latest state the backlog keeps while the grid is unreachable; beyond it the
    #: oldest queued user is dropped and counted.
    MAX_BACKLOG_USERS = 100_000
    #: Room memberships the backlog keeps (latest per room and user); beyond it the oldest is
    #: dropped and counted.
    MAX_BACKLOG_MEMBERSHIPS = 100_000
    #: Users whose last mirrored state is remembered to drop Synapse's repeated calls.
    MAX_REMEMBERED_USERS = 200_000
    #: At most one log line per kind of failure per this many seconds.
    LOG_INTERVAL_S = 60.0

    def __init__(self, config: PresenceGridConfig, api: Any):
        self._config = config
        self._api = api
        self._log = _ThrottledLog(self.LOG_INTERVAL_S)
        self._headers: Optional[Dict[bytes, List[bytes]]] = (
            {b"Authorization": [b"Bearer " + config.token.encode("utf-8")]} if config.token else None
        )
        # user id -> the state JSON waiting to be sent (insertion order: oldest first).
        self._pending: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
        # user id -> the last state queued for it, to drop repeats of the same change.
        self._last_queued: "OrderedDict[str, StateTuple]" = OrderedDict()
        # (room id, user id) -> the membership waiting to be sent (oldest first).
        self._memberships: "OrderedDict[Tuple[str, str], str]" = OrderedDict()
        # Users the grid last answered ALL for: a failed get_users_for_states still gives each an
        # (empty) entry, since Synapse reads the syncing ALL user's entry without a default.
        self._all_users: Set[str] = set()
        self._flushing = False
        self._flush_scheduled = False
        #: Counters, for operators (and tests): states queued, states and batches sent, states
        #: refused by the grid, states dropped from a full backlog, failed grid calls.
        self.counters: Dict[str, int] = {
            "queued": 0,
            "mirrored": 0,
            "batches": 0,
            "refused": 0,
            "dropped": 0,
            "failures": 0,
            "memberships_mirrored": 0,
            "memberships_refused": 0,
            "memberships_dropped": 0,
        }

        if not config.mirror and not config.route:
            logger.warning("presencegrid_synapse: mirror and route are both false; the module does nothing")
            return
        api.register_presence_router_callbacks(
            get_users_for_states=self.get_users_for_states,
            get_interested_users=self.get_interested_users,
        )
        if config.mirror:
            api.register_third_party_rules_callbacks(on_new_event=self.on_new_event)
            # Every process that routes presence (the presence writer and the federation
            # sender) sees changes, so the flush runs on all of them.
            api.looping_background_call(
                self._flush,
                self.FLUSH_INTERVAL_MS,
                desc="presencegrid_mirror_flush",
                run_on_all_instances=True,
            )

    @staticmethod
    def parse_config(config: Mapping[str, Any]) -> PresenceGridConfig:
        """Checks the ``config:`` section (Synapse calls this at start-up; an error stops it)."""
        error = config_error_class()
        if not isinstance(config, Mapping):
            raise error("presencegrid_synapse: config must be a mapping with at least grid_url")
        known = {"grid_url", "token", "timeout_ms", "mirror", "route"}
        unknown = sorted(str(key) for key in config if key not in known)
        if unknown:
            raise error(
                f"presencegrid_synapse: unknown config key(s) {', '.join(unknown)}; "
                f"the keys are {', '.join(sorted(known))}",
                (unknown[0],),
            )
        grid_url = config.get("grid_url")
        if not isinstance(grid_url, str) or not grid_url.startswith(("http://", "https://")):
            raise error(
                f"presencegrid_synapse: grid_url must be an http:// or https:// URL, got {grid_url!r}",
                ("grid_url",),
            )
        token = config.get("token")
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise error("presencegrid_synapse: token must be a non-empty string", ("token",))
        timeout_ms = config.get("timeout_ms", 500)
        if not _is_int(timeout_ms) or not 1 <= timeout_ms <= 60_000:
            raise error(
                f"presencegrid_synapse: timeout_ms must be an integer from 1 to 60000, got {timeout_ms!r}",
                ("timeout_ms",),
            )
        flags = {}
        for key in ("mirror", "route"):
            value = config.get(key, True)
            if not isinstance(value, bool):
                raise error(f"presencegrid_synapse: {key} must be true or false, got {value!r}", (key,))
            flags[key] = value
        return PresenceGridConfig(
            grid_url=grid_url.rstrip("/"), token=token, timeout_ms=timeout_ms, **flags
        )

    # ---------------------------------------------------------------- Synapse's callbacks

    async def get_users_for_states(self, state_updates: Iterable[Any]) -> Dict[str, Set[Any]]:
        """Synapse's ``get_users_for_states``: queues the changes for the mirror, and returns the
        recipients the grid's routing adds (``{}`` when routing is off or the grid fails)."""
        states = list(state_updates)
        if self._config.mirror:
            self._queue(states)
        if not self._config.route or not states:
            return {}
        try:
            routed: Dict[str, Set[Any]] = {}
            # The grid takes at most ROUTE_BATCH_SIZE states a request (Synapse's timeout sweep
            # can pass more at once).
            for start in range(0, len(states), self.ROUTE_BATCH_SIZE):
                chunk = states[start : start + self.ROUTE_BATCH_SIZE]
                answer = await self._call(
                    self._api.http_client.post_json_get_json,
                    f"{self._config.grid_url}/v1/router/users_for_states",
                    {"states": [_state_json(state) for state in chunk]},
                    self._headers,
                )
                for recipient, entries in self._users_for_states_answer(chunk, answer).items():
                    routed.setdefault(recipient, set()).update(entries)
                refused = answer.get("errors")
                if refused:
                    self._log.warning(
                        "refused_route",
                        "presencegrid_synapse: the grid refused %d of %d states for routing, e.g. %.300r",
                        len(refused) if isinstance(refused, list) else 1,
                        len(chunk),
                        refused[0] if isinstance(refused, list) else refused,
                    )
            return routed
        except MalformedAnswer as e:
            self._log.warning("malformed_route", "presencegrid_synapse: skipping the grid's users_for_states answer: %s", e)
        except Exception as e:  # noqa: BLE001 - fail open on any failure of the call
            self._failed("route", "users_for_states", e)
        # No extra recipients. Synapse's sync of a user whose interest is ALL indexes this answer
        # by that user (handlers/presence.py, _filter_all_presence_updates_for_user: a KeyError,
        # so a failed sync, without an entry): those users get an empty entry.
        return {user_id: set() for user_id in self._all_users}

    async def get_interested_users(self, user_id: str) -> Union[Set[str], str]:
        """Synapse's ``get_interested_users``: the users whose presence ``user_id`` additionally
        receives according to the grid, or ``PRESENCE_ALL_USERS`` (an empty set when routing is
        off or the grid fails)."""
        if not self._config.route:
            return set()
        try:
            answer = await self._call(
                self._api.http_client.get_json,
                f"{self._config.grid_url}/v1/router/interested/{quote(user_id, safe='')}",
                None,
                self._headers,
            )
            interested = self._interested_answer(answer)
            if interested == PRESENCE_ALL_USERS:
                self._all_users.add(user_id)
            else:
                self._all_users.discard(user_id)
            return interested
        except MalformedAnswer as e:
            self._log.warning("malformed_route", "presencegrid_synapse: skipping the grid's interested answer: %s", e)
        except Exception as e:  # noqa: BLE001 - fail open on any failure of the call
            self._failed("route", "interested", e)
        return set()

    async def on_new_event(self, event: Any, *args: Any) -> None:
        """Synapse's ``on_new_event`` (third-party rules): queues a room membership change for the
        mirror. Synapse calls it on every worker for every event; only the process that runs
        background tasks mirrors, so each membership is sent once."""
        if event.type != "m.room.member" or not event.is_state():
            return
        membership = event.content.get("membership")
        if membership not in MEMBERSHIPS or not self._api.should_run_background_tasks():
            return
        key = (event.room_id, event.state_key)
        self._memberships.pop(key, None)
        self._memberships[key] = membership
        if len(self._memberships) > self.MAX_BACKLOG_MEMBERSHIPS:
            self._memberships.popitem(last=False)
            self.counters["memberships_dropped"] += 1
            self._log.warning(
                "dropped_memberships",
                "presencegrid_synapse: membership backlog full (%d); dropped the oldest (%d dropped so far)",
                self.MAX_BACKLOG_MEMBERSHIPS,
                self.counters["memberships_dropped"],
            )

    # ---------------------------------------------------------------- routing answers

    @staticmethod
    def _users_for_states_answer(states: List[Any], answer: Any) -> Dict[str, Set[Any]]:
        """The grid's ``{"users": {user: [state JSON]}}`` as Synapse's ``{user: {UserPresenceState}}``.

        A routed state equal to one Synapse passed in is returned as that very object; one that
        differs is built from the passed-in state of its user (``copy_and_replace``), and one of a
        user outside the batch (a module may build states) with the passed-in states' class, so the
        objects are always of Synapse's own ``UserPresenceState`` type."""
        if not isinstance(answer, dict) or not isinstance(answer.get("users"), dict):
            raise MalformedAnswer(f"expected {{\"users\": {{...}}}}, got {answer!r:.200}")
        by_user = {state.user_id: state for state in states}
        state_type = type(states[0])
        result: Dict[str, Set[Any]] = {}
        for recipient, routed in answer["users"].items():
            if not isinstance(routed, list):
                raise MalformedAnswer(f"users[{recipient!r}]: expected a list, got {type(routed).__name__}")
            entries = result.setdefault(recipient, set())
            for index, value in enumerate(routed):
                why = _bad_state_json(value)
                if why is not None:
                    raise MalformedAnswer(f"users[{recipient!r}][{index}]: {why}")
                original = by_user.get(value["user_id"])
                if original is None:
                    # A module built a state of a user outside the batch: Synapse's own type.
                    entries.add(state_type(**value))
                elif _state_tuple(original) == tuple(value[field] for field in STATE_FIELDS):
                    entries.add(original)
                else:
                    entries.add(original.copy_and_replace(**{f: value[f] for f in STATE_FIELDS if f != "user_id"}))
        return result

    @staticmethod
    def _interested_answer(answer: Any) -> Union[Set[str], str]:
        users = answer.get("users") if isinstance(answer, dict) else None
        if users == PRESENCE_ALL_USERS:
            return PRESENCE_ALL_USERS
        if not isinstance(users, list) or not all(isinstance(user, str) for user in users):
            raise MalformedAnswer(f"expected {{\"users\": [user ids] or \"ALL\"}}, got {answer!r:.200}")
        return set(users)

    # ---------------------------------------------------------------- the mirror

    def _queue(self, states: List[Any]) -> None:
        for state in states:
            key = _state_tuple(state)
            user_id = state.user_id
            if self._last_queued.get(user_id) == key:
                continue  # Synapse's second call for the same change (federation), or a repeat
            self._last_queued.pop(user_id, None)
            self._last_queued[user_id] = key
            if len(self._last_queued) > self.MAX_REMEMBERED_USERS:
                self._last_queued.popitem(last=False)
            self._pending.pop(user_id, None)
            self._pending[user_id] = _state_json(state)
            self.counters["queued"] += 1
            if len(self._pending) > self.MAX_BACKLOG_USERS:
                dropped_user, _ = self._pending.popitem(last=False)
                # Forget it too, so that the same state seen again is queued again.
                self._last_queued.pop(dropped_user, None)
                self.counters["dropped"] += 1
                self._log.warning(
                    "dropped",
                    "presencegrid_synapse: mirror backlog full (%d users); dropped the oldest queued state (%d dropped so far)",
                    self.MAX_BACKLOG_USERS,
                    self.counters["dropped"],
                )
        if len(self._pending) >= self.BATCH_SIZE and not self._flush_scheduled and not self._flushing:
            self._flush_scheduled = True
            self._api.delayed_background_call(0, self._flush, desc="presencegrid_mirror_flush_now")

    async def _flush(self) -> None:
        """Sends the queued states in batches until the queue is empty or the grid fails (the
        states then stay queued for the next flush)."""
        self._flush_scheduled = False
        if self._flushing:
            return
        self._flushing = True
        try:
            while self._memberships:
                if not await self._send_membership(*next(iter(self._memberships.items()))):
                    return
            while self._pending:
                batch = list(self._pending.items())[: self.BATCH_SIZE]
                if not await self._send_batch(batch):
                    return
        finally:
            self._flushing = False

    async def _send_membership(self, key: Tuple[str, str], membership: str) -> bool:
        room_id, user_id = key
        try:
            await self._call(
                self._api.http_client.put_json,
                f"{self._config.grid_url}/v1/rooms/{quote(room_id, safe='')}/members/{quote(user_id, safe='')}",
                {"membership": membership},
                None,
                self._headers,
            )
            self.counters["memberships_mirrored"] += 1
        except Exception as e:  # noqa: BLE001 - keep the backlog on any failure of the call
            code = getattr(e, "code", None)
            if not isinstance(code, int) or not 400 <= code < 500 or code == 429:
                self._failed("mirror", "membership", e)
                return False
            # The grid refused this membership (a room or user id it does not take): sending it
            # again would be refused again.
            self.counters["memberships_refused"] += 1
            self._log.warning(
                "refused_memberships",
                "presencegrid_synapse: the grid refused the membership %s of %s in %s: %s",
                membership,
                user_id,
                room_id,
                e,
            )
        if self._memberships.get(key) == membership:
            del self._memberships[key]
        return True

    async def _send_batch(self, batch: List[Tuple[str, Dict[str, Any]]]) -> bool:
        try:
            answer = await self._call(
                self._api.http_client.post_json_get_json,
                f"{self._config.grid_url}/v1/ingest/states",
                {"states": [state for _, state in batch]},
                self._headers,
            )
        except Exception as e:  # noqa: BLE001 - keep the backlog on any failure of the call
            self._failed("mirror", "ingest", e)
            return False
        # Sent: forget what was sent, unless a newer state of that user arrived meanwhile.
        for user_id, state in batch:
            if self._pending.get(user_id) is state:
                del self._pending[user_id]
        self.counters["batches"] += 1
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or (errors is not None and not isinstance(errors, list)):
            self._log.warning("malformed_ingest", "presencegrid_synapse: skipping the grid's malformed ingest answer %.200r", answer)
            self.counters["mirrored"] += len(batch)
            return True
        refused = len(errors or [])
        self.counters["mirrored"] += len(batch) - refused
        if refused:
            self.counters["refused"] += refused
            self._log.warning(
                "refused",
                "presencegrid_synapse: the grid refused %d of %d mirrored states, e.g. %.300r",
                refused,
                len(batch),
                errors[0],
            )
        return True

    # ---------------------------------------------------------------- calls and failures

    async def _call(self, method: Any, uri: str, *args: Any) -> Any:
        return await call_with_timeout(self._api, self._config.timeout_ms, method, uri, *args)

    def _failed(self, kind: str, what: str, error: Exception) -> None:
        self.counters["failures"] += 1
        reason = str(error) or type(error).__name__
        if isinstance(error, GridTimeout):
            reason = f"timed out: {reason}"
        extra = ""
        if kind == "mirror":
            extra = (
                f"; {len(self._pending)} users' states and {len(self._memberships)} memberships queued, "
                f"{self.counters['dropped']} states dropped so far"
            )
        self._log.warning(
            kind,
            "presencegrid_synapse: grid call %s to %s failed (%s)%s; failing open",
            what,
            self._config.grid_url,
            reason,
            extra,
        )
