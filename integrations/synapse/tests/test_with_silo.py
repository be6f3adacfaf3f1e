"""The module against a real silo started by the test (stand-in ModuleApi, real grid)."""

import asyncio
import json
import os
import signal
from urllib.parse import quote, urlencode

import pytest

from helpers import make_module, state, timed, wait_until
from silo import Silo
from standin import (
    PRESENCE_ALL_USERS,
    http_request,
    member_event,
    stop_looping_calls,
    synapse_get_interested_users,
    synapse_get_users_for_states,
    synapse_on_new_event,
)

TOKEN = "synapse-module-test-token"
AUTH = {b"Authorization": [f"Bearer {TOKEN}".encode()]}

SILO_CONFIG = f"""
server_name: hs.test
frontend_tokens: ["{TOKEN}"]
modules:
  - module: PresenceGrid.Modules.AlwaysSendToUsersRouter
    config:
      always_send_to_users: ["@gobbler:hs.test"]
      blacklisted_users: ["@ceo:hs.test"]
  - module: PresenceGrid.Modules.PairRouter
    config:
      routes:
        "@bob:hs.test": ["@alice:hs.test", "@carol:remote.test"]
"""

SENDERS = ["@alice:hs.test", "@ceo:hs.test", "@dave:hs.test", "@carol:remote.test"]
RECIPIENTS = ["@bob:hs.test", "@gobbler:hs.test", "@erin:hs.test"]


@pytest.fixture(scope="module")
def silo():
    silo = Silo(SILO_CONFIG)
    asyncio.run(silo.start())
    asyncio.run(warm_up(silo))
    yield silo
    silo.stop()


async def warm_up(silo: Silo) -> None:
    """One call of each kind the tests time, for a user no test uses: a fresh silo's first grain activations and
    code paths (compiled on first use) can take longer than the module's 500 ms timeout on a loaded machine, and the
    tests are about the module, not about a silo's first second."""
    warm = state("@warmup:hs.test", "online").as_dict()
    for path, body in [("/v1/ingest/states", {"states": [warm]}), ("/v1/router/users_for_states", {"states": [warm]})]:
        status, _, answer = await http_request("POST", silo.url + path, json.dumps(body).encode(), headers=AUTH)
        assert status == 200, (path, status, answer)
    await grid_get(silo, "/v1/router/interested/" + quote("@warmup:hs.test", safe=""))


async def grid_get(silo: Silo, path: str):
    status, _, body = await http_request("GET", silo.url + path, headers=AUTH)
    assert status == 200, (path, status, body)
    return json.loads(body)


async def grid_presence(silo: Silo, user_id: str):
    user = quote(user_id, safe="")
    return await grid_get(silo, f"/v1/presence/{user}/status?{urlencode({'requester': user_id})}")


def test_a_change_reaches_the_grid_once_although_synapse_routes_it_twice(silo):
    async def test():
        module, api = make_module(silo.url, token=TOKEN)
        alice = state("@alice:hs.test", "unavailable", "in a meeting")
        # Synapse's two calls for one change: local delivery, then the federation sender.
        await synapse_get_users_for_states(api, [alice])
        await synapse_get_users_for_states(api, [alice])
        await wait_until(lambda: module.counters["mirrored"] == 1, what="the mirrored state")
        await asyncio.sleep(0.3)  # three more flush intervals: nothing else is sent
        await stop_looping_calls(api)
        ingested = [s for method, uri, body in api.http_client.calls if uri.endswith("/v1/ingest/states") for s in body["states"]]
        assert ingested == [alice.as_dict()]
        assert module.counters["failures"] == 0
        presence = await grid_presence(silo, "@alice:hs.test")
        assert (presence["presence"], presence.get("status_msg")) == ("unavailable", "in a meeting")

    asyncio.run(test())


def test_routing_answers_match_the_silo_s_explain_and_all_passes_through(silo):
    async def test():
        module, api = make_module(silo.url, token=TOKEN)
        states = [state(user) for user in SENDERS]
        routed = await synapse_get_users_for_states(api, states)
        await wait_until(lambda: module.counters["mirrored"] == len(states), what="the mirrored states")
        await stop_looping_calls(api)
        assert module.counters["failures"] == 0
        checked = 0
        for recipient in RECIPIENTS:
            interested = await synapse_get_interested_users(api, recipient)
            routed_to = {s.user_id for s in routed.get(recipient, set())}
            for sender in SENDERS:
                explained = await grid_get(silo, "/v1/admin/explain?" + urlencode({"from": sender, "to": recipient}))
                # The grid's own rule (docs/api.md, explain): an ALL recipient gets exactly what
                # get_users_for_states routes to it, any other the users get_interested_users lists.
                if interested == PRESENCE_ALL_USERS:
                    decided = sender in routed_to
                else:
                    decided = sender in interested
                assert decided == explained["delivered"], (sender, recipient, interested, routed_to, explained)
                checked += explained["delivered"]
        # The configured modules: gobbler gets ALL but not the blacklisted ceo; bob his pairs.
        assert await synapse_get_interested_users(api, "@gobbler:hs.test") == PRESENCE_ALL_USERS
        assert {s.user_id for s in routed["@gobbler:hs.test"]} == {"@alice:hs.test", "@dave:hs.test", "@carol:remote.test"}
        assert await synapse_get_interested_users(api, "@bob:hs.test") == {"@alice:hs.test", "@carol:remote.test"}
        assert await synapse_get_interested_users(api, "@erin:hs.test") == set()
        assert checked == 5
        # The states handed back are the very objects Synapse passed in.
        assert all(any(s is original for original in states) for entries in routed.values() for s in entries)

    asyncio.run(test())


def test_room_memberships_reach_the_grid(silo):
    async def test():
        module, api = make_module(silo.url, token=TOKEN, route=False)
        room, frank, gina = "!team:hs.test", "@frank:hs.test", "@gina:hs.test"

        async def explain():
            return await grid_get(silo, "/v1/admin/explain?" + urlencode({"from": frank, "to": gina}))

        assert (await explain())["delivered"] is False
        await synapse_on_new_event(api, member_event(room, frank, "join"))
        await synapse_on_new_event(api, member_event(room, gina, "join"))
        await wait_until(lambda: module.counters["memberships_mirrored"] == 2, what="the joins")
        explained = await explain()
        assert explained["delivered"] is True and {"kind": "room", "room_id": room} in explained["reasons"], explained
        await synapse_on_new_event(api, member_event(room, gina, "leave"))
        await wait_until(lambda: module.counters["memberships_mirrored"] == 3, what="the leave")
        await stop_looping_calls(api)
        assert (await explain())["delivered"] is False

    asyncio.run(test())


def test_grid_frozen_then_down_fails_open_within_the_timeout_and_the_backlog_drains_when_it_returns():
    async def test(grid: Silo):
        module, api = make_module(grid.url, token=TOKEN, timeout_ms=300)
        pid = grid._process.pid

        # Frozen: the silo's socket accepts connections, nothing answers; the timeout cuts them.
        os.kill(pid, signal.SIGSTOP)
        try:
            routed, routed_s = await timed(synapse_get_users_for_states(api, [state("@alice:hs.test", "online")]))
            interested, interested_s = await timed(synapse_get_interested_users(api, "@bob:hs.test"))
        finally:
            os.kill(pid, signal.SIGCONT)
        assert (routed, interested) == ({}, set())
        assert routed_s < 1.0 and interested_s < 1.0, (routed_s, interested_s)  # 300 ms and slack; a hung call waits forever

        # Down: nothing listens.
        grid.stop()
        bob_online = state("@bob:hs.test", "online", "here")
        routed, routed_s = await timed(synapse_get_users_for_states(api, [bob_online]))
        assert routed == {} and routed_s < 1.0
        alice_latest = state("@alice:hs.test", "unavailable", "back soon", ts=2000)
        await synapse_get_users_for_states(api, [alice_latest])
        failures = module.counters["failures"]
        await wait_until(lambda: module.counters["failures"] > failures, what="a failed flush")
        assert list(module._pending) == ["@bob:hs.test", "@alice:hs.test"]  # the latest per user

        # Back (a fresh in-memory silo on the same port): the latest state per user arrives.
        await grid.start()
        await wait_until(lambda: not module._pending, what="the backlog to drain")
        await stop_looping_calls(api)
        assert (await grid_presence(grid, "@bob:hs.test"))["presence"] == "online"
        alice = await grid_presence(grid, "@alice:hs.test")
        assert (alice["presence"], alice.get("status_msg")) == ("unavailable", "back soon")
        assert module.counters["dropped"] == 0

    async def main():
        grid = await Silo(SILO_CONFIG).start()
        try:
            await test(grid)
        finally:
            grid.stop()

    asyncio.run(main())
