"""A stand-in for the parts of Synapse's ``ModuleApi`` the module uses, on asyncio.

Synapse cannot be installed where these tests run (no Python package index is reachable), so this
file follows Synapse's documented module API: names, arguments and return shapes as in
``synapse/module_api/__init__.py``, ``synapse/http/client.py`` (``SimpleHttpClient``),
``synapse/api/presence.py`` (``UserPresenceState``), ``synapse/events/presence_router.py`` and
``docs/modules/third_party_rules_callbacks.md`` (``on_new_event``).
``test_standin_matches_synapse.py`` checks the names and signatures against the documented list.
"""

import asyncio
import dataclasses
import inspect
import json
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit

PRESENCE_ALL_USERS = "ALL"


@dataclasses.dataclass(frozen=True)
class UserPresenceState:
    """``synapse.api.presence.UserPresenceState`` (attrs, frozen, slots: hashable by value)."""

    user_id: str
    state: str
    last_active_ts: int
    last_federation_update_ts: int
    last_user_sync_ts: int
    status_msg: Optional[str]
    currently_active: bool

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def copy_and_replace(self, **kwargs: Any) -> "UserPresenceState":
        return dataclasses.replace(self, **kwargs)

    @classmethod
    def default(cls, user_id: str) -> "UserPresenceState":
        return cls(user_id, "offline", 0, 0, 0, None, False)


class EventBase:
    """The parts of Synapse's event (``synapse.events.EventBase``) that ``on_new_event`` reads."""

    def __init__(self, type: str, room_id: str, sender: str, content: Dict[str, Any], state_key: Optional[str] = None):
        self.type = type
        self.room_id = room_id
        self.sender = sender
        self.content = content
        self._state_key = state_key

    def is_state(self) -> bool:
        return self._state_key is not None

    @property
    def state_key(self) -> str:
        if self._state_key is None:
            raise AttributeError("state_key")  # as Synapse's, for an event that is not a state event
        return self._state_key

    @property
    def membership(self) -> str:
        return self.content["membership"]


def member_event(room_id: str, user_id: str, membership: str) -> EventBase:
    return EventBase("m.room.member", room_id, user_id, {"membership": membership}, state_key=user_id)


class HttpResponseException(Exception):
    """``synapse.api.errors.HttpResponseException(code, msg, response)``: a non-2xx answer."""

    def __init__(self, code: int, msg: str, response: bytes):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.response = response


class SimpleHttpClient:
    """``synapse.http.client.SimpleHttpClient``'s ``get_json`` and ``post_json_get_json``: JSON
    out and in, ``HttpResponseException`` on a non-2xx answer, ``ValueError`` on a body that is
    not JSON. Headers are ``{b"Name": [b"value", ...]}`` (Synapse's ``RawHeaders``). Every call
    is recorded in ``calls`` as ``(method, uri, body)``."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, str, Any]] = []

    async def post_json_get_json(self, uri: str, post_json: Any, headers: Optional[Dict[bytes, List[bytes]]] = None) -> Any:
        self.calls.append(("POST", uri, post_json))
        body = json.dumps(post_json).encode("utf-8")
        return await self._request("POST", uri, body, headers)

    async def put_json(
        self,
        uri: str,
        json_body: Any,
        args: Optional[Dict[str, Any]] = None,
        headers: Optional[Dict[bytes, List[bytes]]] = None,
    ) -> Any:
        self.calls.append(("PUT", uri, json_body))
        if args:
            uri = uri + "?" + urlencode(args, doseq=True)
        return await self._request("PUT", uri, json.dumps(json_body).encode("utf-8"), headers)

    async def get_json(self, uri: str, args: Optional[Dict[str, Any]] = None, headers: Optional[Dict[bytes, List[bytes]]] = None) -> Any:
        self.calls.append(("GET", uri, args))
        if args:
            uri = uri + "?" + urlencode(args, doseq=True)
        return await self._request("GET", uri, None, headers)

    async def _request(self, method: str, uri: str, body: Optional[bytes], headers: Optional[Dict[bytes, List[bytes]]]) -> Any:
        status, reason, payload = await http_request(method, uri, body, headers)
        if not 200 <= status < 300:
            raise HttpResponseException(status, reason, payload)
        return json.loads(payload.decode("utf-8"))  # ValueError when not JSON, as Synapse's


async def http_request(method: str, uri: str, body: Optional[bytes] = None, headers: Optional[Dict[bytes, List[bytes]]] = None) -> Tuple[int, str, bytes]:
    """A minimal HTTP/1.1 client on asyncio streams (one request per connection)."""
    parts = urlsplit(uri)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close", "Accept: application/json"]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        for name, values in (headers or {}).items():
            lines += [f"{name.decode()}: {value.decode()}" for value in values]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (status_line.split(" ", 2) + [""])[:3]
    if any(line.lower().replace(" ", "") == "transfer-encoding:chunked" for line in header_lines):
        payload = _dechunk(payload)
    return int(status), reason, payload


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


class DelayedCall:
    """Twisted's ``IDelayedCall`` as ``delayed_background_call`` returns it: ``active()``,
    ``cancel()``."""

    def __init__(self, handle: asyncio.TimerHandle):
        self._handle = handle
        self.called = False

    def active(self) -> bool:
        return not self.called and not self._handle.cancelled()

    def cancel(self) -> None:
        if not self.active():
            raise RuntimeError("AlreadyCalled or AlreadyCancelled")  # Twisted raises too
        self._handle.cancel()


class ModuleApi:
    """The documented ``ModuleApi`` methods the module may use, on the running asyncio loop."""

    def __init__(self) -> None:
        self._http_client = SimpleHttpClient()
        self._get_users_for_states_callbacks: List[Callable[..., Any]] = []
        self._get_interested_users_callbacks: List[Callable[..., Any]] = []
        self._looping_calls: List[Tuple[str, float, bool]] = []
        self._on_new_event_callbacks: List[Callable[..., Any]] = []
        #: What should_run_background_tasks answers (Synapse: this worker runs background tasks).
        self.runs_background_tasks = True
        self._tasks: "set[asyncio.Task[Any]]" = set()
        self._loops: List[asyncio.Task[Any]] = []

    def register_presence_router_callbacks(
        self,
        *,
        get_users_for_states: Optional[Callable[..., Any]] = None,
        get_interested_users: Optional[Callable[..., Any]] = None,
    ) -> None:
        if [get_users_for_states, get_interested_users].count(None) == 1:
            raise RuntimeError(
                "PresenceRouter modules must register neither or both of the paired callbacks: "
                "[get_users_for_states, get_interested_users]"
            )
        if get_users_for_states is not None:
            self._get_users_for_states_callbacks.append(get_users_for_states)
        if get_interested_users is not None:
            self._get_interested_users_callbacks.append(get_interested_users)

    def register_third_party_rules_callbacks(
        self,
        *,
        check_event_allowed: Optional[Callable[..., Any]] = None,
        on_create_room: Optional[Callable[..., Any]] = None,
        check_threepid_can_be_invited: Optional[Callable[..., Any]] = None,
        check_visibility_can_be_modified: Optional[Callable[..., Any]] = None,
        on_new_event: Optional[Callable[..., Any]] = None,
        check_can_shutdown_room: Optional[Callable[..., Any]] = None,
        check_can_deactivate_user: Optional[Callable[..., Any]] = None,
        on_profile_update: Optional[Callable[..., Any]] = None,
        on_user_deactivation_status_changed: Optional[Callable[..., Any]] = None,
        on_threepid_bind: Optional[Callable[..., Any]] = None,
        on_add_user_third_party_identifier: Optional[Callable[..., Any]] = None,
        on_remove_user_third_party_identifier: Optional[Callable[..., Any]] = None,
    ) -> None:
        given = {name: value for name, value in locals().items() if name != "self" and value is not None}
        if set(given) - {"on_new_event"}:
            raise NotImplementedError(f"the stand-in keeps only on_new_event, not {sorted(given)}")
        if on_new_event is not None:
            self._on_new_event_callbacks.append(on_new_event)

    def should_run_background_tasks(self) -> bool:
        return self.runs_background_tasks

    @property
    def http_client(self) -> SimpleHttpClient:
        return self._http_client

    def looping_background_call(
        self,
        f: Callable[..., Any],
        msec: float,
        *args: object,
        desc: Optional[str] = None,
        run_on_all_instances: bool = False,
        **kwargs: object,
    ) -> None:
        """Waits ``msec``, then calls ``f`` every ``msec`` (Synapse's clock skips a call while
        the previous one still runs, as this does)."""
        self._looping_calls.append((desc or f.__name__, msec, run_on_all_instances))

        async def loop() -> None:
            while True:
                await asyncio.sleep(msec / 1000)
                await _maybe_awaitable(f(*args, **kwargs))

        self._loops.append(asyncio.get_running_loop().create_task(loop()))

    def delayed_background_call(self, msec: float, f: Callable[..., Any], *args: object, desc: Optional[str] = None, **kwargs: object) -> DelayedCall:
        loop = asyncio.get_running_loop()
        call: Optional[DelayedCall] = None

        def fire() -> None:
            assert call is not None
            call.called = True
            task = loop.create_task(_maybe_awaitable(f(*args, **kwargs)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        call = DelayedCall(loop.call_later(msec / 1000, fire))
        return call

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)



# Test helpers (not ModuleApi methods).


async def stop_looping_calls(api: ModuleApi) -> None:
    for task in api._loops:
        task.cancel()
    await asyncio.gather(*api._loops, return_exceptions=True)


async def synapse_get_users_for_states(api: ModuleApi, states: List[UserPresenceState]) -> Dict[str, set]:
    """What Synapse's ``PresenceRouter.get_users_for_states`` makes of the registered callbacks'
    answers (the module must answer with the right types: a wrong one fails the test)."""
    result: Dict[str, set] = {}
    for callback in api._get_users_for_states_callbacks:
        answer = await callback(states)
        assert isinstance(answer, dict), answer
        for key, entries in answer.items():
            assert isinstance(entries, set), entries
            result.setdefault(key, set()).update(entries)
    return result


async def synapse_on_new_event(api: ModuleApi, event: EventBase) -> None:
    """What Synapse does with a new event: runs every registered ``on_new_event`` in order (with
    the room's state map, empty here)."""
    for callback in api._on_new_event_callbacks:
        await callback(event, {})


async def synapse_get_interested_users(api: ModuleApi, user_id: str) -> Any:
    """What Synapse's ``PresenceRouter.get_interested_users`` makes of the callbacks' answers."""
    result: set = set()
    for callback in api._get_interested_users_callbacks:
        answer = await callback(user_id)
        if answer == PRESENCE_ALL_USERS:
            return PRESENCE_ALL_USERS
        assert isinstance(answer, set), answer
        result.update(answer)
    return result


async def _maybe_awaitable(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
