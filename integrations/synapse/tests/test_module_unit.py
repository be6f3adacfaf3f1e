"""The module against the stand-in ModuleApi and a fake grid (no silo needed)."""

import asyncio
import logging

import pytest

from fakegrid import HANG, FakeGrid
from helpers import make_module, state, timed, wait_until
from presencegrid_synapse import FallbackConfigError, PresenceGridModule
from standin import (
    PRESENCE_ALL_USERS,
    EventBase,
    UserPresenceState,
    member_event,
    stop_looping_calls,
    synapse_get_interested_users,
    synapse_get_users_for_states,
    synapse_on_new_event,
)

ROUTER = ("POST", "/v1/router/users_for_states")
INTERESTED = ("GET", "/v1/router/interested/")
INGEST = ("POST", "/v1/ingest/states")
MEMBERS = ("PUT", "/v1/rooms/")


def run(test):
    """Runs an async test body against a started fake grid."""

    async def main():
        grid = await FakeGrid().start()
        grid.answers[INGEST] = {}
        try:
            await test(grid)
        finally:
            await grid.stop()

    asyncio.run(main())


# ---------------------------------------------------------------- parse_config


def test_parse_config_defaults():
    config = PresenceGridModule.parse_config({"grid_url": "http://127.0.0.1:8787/"})
    assert (config.grid_url, config.token, config.timeout_ms, config.mirror, config.route) == (
        "http://127.0.0.1:8787",
        None,
        500,
        True,
        True,
    )


@pytest.mark.parametrize(
    "config, key",
    [
        ({"grid_url": "http://g", "grid_ur": "x"}, "grid_ur"),
        ({}, "grid_url"),
        ({"grid_url": "g:8787"}, "grid_url"),
        ({"grid_url": "http://g", "token": ""}, "token"),
        ({"grid_url": "http://g", "timeout_ms": "500"}, "timeout_ms"),
        ({"grid_url": "http://g", "timeout_ms": 0}, "timeout_ms"),
        ({"grid_url": "http://g", "mirror": "yes"}, "mirror"),
        ({"grid_url": "http://g", "route": 1}, "route"),
    ],
)
def test_parse_config_refuses_bad_config_naming_the_key(config, key):
    with pytest.raises(FallbackConfigError) as error:
        PresenceGridModule.parse_config(config)
    assert key in str(error.value)
    assert error.value.path == (key,)


def test_parse_config_refuses_a_config_that_is_not_a_mapping():
    with pytest.raises(FallbackConfigError, match="grid_url"):
        PresenceGridModule.parse_config(None)


def test_registers_both_callbacks_and_a_flush_on_every_instance():
    async def test(grid):
        module, api = make_module(grid.url)
        assert api._get_users_for_states_callbacks == [module.get_users_for_states]
        assert api._get_interested_users_callbacks == [module.get_interested_users]
        assert api._looping_calls == [("presencegrid_mirror_flush", PresenceGridModule.FLUSH_INTERVAL_MS, True)]
        assert api._on_new_event_callbacks == [module.on_new_event]
        await stop_looping_calls(api)

    run(test)


# ---------------------------------------------------------------- the mirror


def test_a_change_routed_twice_is_mirrored_once_and_latest_wins():
    async def test(grid):
        module, api = make_module(grid.url, route=False)
        first, second = state("@a:hs", "online"), state("@a:hs", "unavailable", ts=2000)
        other = state("@b:hs", "online", "hi")
        # Synapse calls get_users_for_states twice per change (local delivery and federation).
        for batch in ([first, other], [first, other], [second], [second]):
            assert await synapse_get_users_for_states(api, batch) == {}
        # The module counts what it mirrored once the grid has answered, which may come after the grid saw the request.
        await wait_until(lambda: module.counters["mirrored"] == 2, what="the answered ingest request")
        await stop_looping_calls(api)
        sent = [s for body in grid.requests_to(*INGEST) for s in body["states"]]
        assert sent == [other.as_dict(), second.as_dict()]
        assert module.counters["mirrored"] == 2 and module.counters["queued"] == 3

    run(test)


def test_a_full_batch_is_flushed_without_waiting_for_the_looping_call():
    async def test(grid):
        module, api = make_module(grid.url, route=False)
        module.BATCH_SIZE = 3
        await stop_looping_calls(api)  # only the batch-size trigger can send now
        await module.get_users_for_states([state(f"@u{i}:hs") for i in range(3)])
        await wait_until(lambda: grid.requests_to(*INGEST), what="the flush of a full batch")
        assert len(grid.requests_to(*INGEST)[0]["states"]) == 3

    run(test)


def test_the_token_is_sent_as_a_bearer_header():
    async def test(grid):
        module, api = make_module(grid.url, token="s3cret-token-0001", mirror=False)
        grid.answers[INTERESTED] = {"users": []}
        await module.get_interested_users("@a:hs")
        assert grid.requests[0][2]["authorization"] == "Bearer s3cret-token-0001"

    run(test)


def test_refused_states_are_counted_and_warned_not_resent(caplog):
    async def test(grid):
        grid.answers[INGEST] = {"errors": [{"index": 0, "errcode": "M_INVALID_PARAM", "error": "user_id: bad"}]}
        module, api = make_module(grid.url, route=False)
        await module.get_users_for_states([state("@a:hs"), state("@b:hs")])
        await wait_until(lambda: module.counters["batches"] == 1, what="one batch")
        await asyncio.sleep(0.25)  # two more flush intervals: nothing is resent
        await stop_looping_calls(api)
        assert len(grid.requests_to(*INGEST)) == 1
        assert (module.counters["mirrored"], module.counters["refused"]) == (1, 1)

    with caplog.at_level(logging.WARNING):
        run(test)
    assert "refused 1 of 2" in caplog.text


def test_the_backlog_is_bounded_keeps_the_latest_per_user_and_drains_when_the_grid_returns(caplog):
    async def test(grid):
        port = int(grid.url.rsplit(":", 1)[1])
        await grid.stop()  # the grid is down: connections are refused
        module, api = make_module(grid.url, route=False)
        module.MAX_BACKLOG_USERS = 3
        for user in ("@a:hs", "@b:hs", "@c:hs", "@d:hs"):
            await module.get_users_for_states([state(user)])
        await module.get_users_for_states([state("@c:hs", "offline", ts=5)])
        await wait_until(lambda: module.counters["failures"] >= 3, what="failed flushes")
        assert module.counters["dropped"] == 1  # @a, the oldest
        await grid.start(port)
        grid.answers[INGEST] = {}
        await wait_until(lambda: module.counters["mirrored"] == 3, what="the backlog to drain")
        await stop_looping_calls(api)
        sent = [s for body in grid.requests_to(*INGEST) for s in body["states"]]
        assert sent == [state("@b:hs").as_dict(), state("@d:hs").as_dict(), state("@c:hs", "offline", ts=5).as_dict()]

    with caplog.at_level(logging.WARNING):
        run(test)
    # Failures are logged once per interval, not once per failed flush.
    assert len([r for r in caplog.records if "grid call ingest" in r.getMessage()]) == 1


# ---------------------------------------------------------------- room memberships


def test_membership_changes_are_mirrored_latest_per_room_and_user():
    async def test(grid):
        grid.answers[MEMBERS] = {}
        module, api = make_module(grid.url, route=False)
        for event in (
            member_event("!r:hs", "@a:hs", "invite"),
            member_event("!r:hs", "@b:hs", "join"),
            member_event("!r:hs", "@a:hs", "join"),  # replaces the queued invite
            EventBase("m.room.message", "!r:hs", "@a:hs", {"body": "hi"}),
            EventBase("m.room.member", "!r:hs", "@a:hs", {"membership": "leave"}),  # not a state event
            member_event("!r:hs", "@c:hs", "not-a-membership"),
        ):
            await synapse_on_new_event(api, event)
        await wait_until(lambda: module.counters["memberships_mirrored"] == 2, what="the memberships")
        await stop_looping_calls(api)
        assert [(path, body) for method, path, _, body in grid.requests if method == "PUT"] == [
            ("/v1/rooms/%21r%3Ahs/members/%40b%3Ahs", {"membership": "join"}),
            ("/v1/rooms/%21r%3Ahs/members/%40a%3Ahs", {"membership": "join"}),
        ]

    run(test)


def test_memberships_are_mirrored_only_where_background_tasks_run():
    async def test(grid):
        module, api = make_module(grid.url, route=False)
        api.runs_background_tasks = False  # another worker mirrors them
        await synapse_on_new_event(api, member_event("!r:hs", "@a:hs", "join"))
        await asyncio.sleep(0.25)
        await stop_looping_calls(api)
        assert grid.requests == [] and not module._memberships

    run(test)


def test_memberships_wait_out_a_grid_failure_and_a_refused_one_is_not_resent(caplog):
    async def test(grid):
        grid.answers[MEMBERS] = (503, {"errcode": "IO.PRESENCEGRID.UNAVAILABLE", "error": "retry"})
        module, api = make_module(grid.url, route=False)
        await synapse_on_new_event(api, member_event("!bad:hs", "@a:hs", "join"))
        await synapse_on_new_event(api, member_event("!r:hs", "@a:hs", "join"))
        await wait_until(lambda: module.counters["failures"] >= 2, what="failed flushes")
        assert len(module._memberships) == 2
        # The grid is back; it refuses the bad room (answers are matched in insertion order).
        grid.answers.clear()
        grid.answers[("PUT", "/v1/rooms/%21bad")] = (400, {"errcode": "M_INVALID_PARAM", "error": "roomId: bad"})
        grid.answers[MEMBERS] = {}
        grid.answers[INGEST] = {}
        await wait_until(lambda: not module._memberships, what="the membership backlog to drain")
        await stop_looping_calls(api)
        assert (module.counters["memberships_mirrored"], module.counters["memberships_refused"]) == (1, 1)

    with caplog.at_level(logging.WARNING):
        run(test)
    assert "refused the membership join of @a:hs in !bad:hs" in caplog.text


# ---------------------------------------------------------------- routing answers


def test_routing_answers_come_back_as_synapse_types():
    async def test(grid):
        alice, bob = state("@alice:hs"), state("@bob:hs", "unavailable", "away")
        changed = {**bob.as_dict(), "status_msg": "rewritten"}
        built = state("@carol:hs", "offline")  # a module may route a state it built itself
        grid.answers[ROUTER] = {
            "users": {"@w:hs": [alice.as_dict(), bob.as_dict()], "@x:other": [changed], "@y:hs": [], "@z:hs": [built.as_dict()]}
        }
        grid.answers[("GET", "/v1/router/interested/%40w%3Ahs")] = {"users": PRESENCE_ALL_USERS}
        grid.answers[INTERESTED] = {"users": ["@alice:hs", "@bob:hs"]}
        module, api = make_module(grid.url, mirror=False)
        routed = await synapse_get_users_for_states(api, [alice, bob])
        assert routed == {
            "@w:hs": {alice, bob},
            "@x:other": {bob.copy_and_replace(status_msg="rewritten")},
            "@y:hs": set(),
            "@z:hs": {built},
        }
        assert any(s is alice for s in routed["@w:hs"])  # the very object Synapse passed in
        assert all(type(s) is UserPresenceState for entries in routed.values() for s in entries)
        assert await synapse_get_interested_users(api, "@w:hs") == PRESENCE_ALL_USERS
        assert await synapse_get_interested_users(api, "@x:hs") == {"@alice:hs", "@bob:hs"}
        assert grid.requests_to(*ROUTER)[0] == {"states": [alice.as_dict(), bob.as_dict()]}

    run(test)


def test_states_the_grid_refuses_to_route_are_warned(caplog):
    async def test(grid):
        error = {"index": 0, "errcode": "M_INVALID_PARAM", "error": "states[0].user_id: bad"}
        grid.answers[ROUTER] = {"users": {}, "errors": [error]}
        module, api = make_module(grid.url, mirror=False)
        assert await synapse_get_users_for_states(api, [state("@a:hs")]) == {}

    with caplog.at_level(logging.WARNING):
        run(test)
    assert "refused 1 of 1 states for routing" in caplog.text


def test_a_large_batch_is_routed_in_chunks_and_the_answers_merged():
    async def test(grid):
        def route_each_to_w(body):
            return {"users": {"@w:hs": body["states"]}}

        grid.answers[ROUTER] = route_each_to_w
        module, api = make_module(grid.url, mirror=False)
        module.ROUTE_BATCH_SIZE = 2
        states = [state(f"@u{i}:hs") for i in range(5)]
        assert await synapse_get_users_for_states(api, states) == {"@w:hs": set(states)}
        assert [len(body["states"]) for body in grid.requests_to(*ROUTER)] == [2, 2, 1]

    run(test)


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"users": []},
        {"users": {"@w:hs": {"user_id": "@alice:hs"}}},
        {"users": {"@w:hs": [{"user_id": "@alice:hs", "state": "online"}]}},
        {"users": {"@w:hs": [{**state("@alice:hs").as_dict(), "last_active_ts": "1"}]}},
        (200, b"not json"),
    ],
)
def test_a_malformed_users_for_states_answer_is_skipped_with_a_warning(caplog, answer):
    async def test(grid):
        grid.answers[ROUTER] = answer
        module, api = make_module(grid.url, mirror=False)
        assert await synapse_get_users_for_states(api, [state("@alice:hs")]) == {}

    with caplog.at_level(logging.WARNING):
        run(test)
    assert "presencegrid_synapse" in caplog.text


@pytest.mark.parametrize("answer", [{"users": "SOME"}, {"users": [1]}, {"user": []}, ["@a:hs"]])
def test_a_malformed_interested_answer_is_skipped_with_a_warning(caplog, answer):
    async def test(grid):
        grid.answers[INTERESTED] = answer
        module, api = make_module(grid.url, mirror=False)
        assert await synapse_get_interested_users(api, "@w:hs") == set()

    with caplog.at_level(logging.WARNING):
        run(test)
    assert "skipping the grid's interested answer" in caplog.text


def test_a_slow_grid_is_cut_off_at_the_timeout_and_fails_open():
    async def test(grid):
        grid.answers[ROUTER] = HANG
        grid.answers[INTERESTED] = HANG
        module, api = make_module(grid.url, timeout_ms=200, mirror=False)
        routed, routed_s = await timed(synapse_get_users_for_states(api, [state("@a:hs")]))
        interested, interested_s = await timed(synapse_get_interested_users(api, "@a:hs"))
        assert (routed, interested) == ({}, set())
        assert 0.19 <= routed_s < 0.7 and 0.19 <= interested_s < 0.7, (routed_s, interested_s)  # 200 ms and scheduling slack
        assert module.counters["failures"] == 2

    run(test)


def test_an_error_status_fails_open():
    async def test(grid):
        grid.answers[ROUTER] = (503, {"errcode": "IO.PRESENCEGRID.UNAVAILABLE", "error": "retry"})
        module, api = make_module(grid.url, mirror=False)
        assert await synapse_get_users_for_states(api, [state("@a:hs")]) == {}
        assert await synapse_get_interested_users(api, "@a:hs") == set()  # 404 from the fake

    run(test)


def test_a_failed_users_for_states_still_gives_all_users_their_entry():
    async def test(grid):
        grid.answers[("GET", "/v1/router/interested/%40w%3Ahs")] = {"users": PRESENCE_ALL_USERS}
        grid.answers[INTERESTED] = {"users": []}
        grid.answers[ROUTER] = (503, {"errcode": "IO.PRESENCEGRID.UNAVAILABLE", "error": "retry"})
        module, api = make_module(grid.url, mirror=False)
        assert await synapse_get_interested_users(api, "@w:hs") == PRESENCE_ALL_USERS
        assert await synapse_get_interested_users(api, "@x:hs") == set()
        # Synapse's sync for @w then reads routed["@w:hs"]: it must exist, empty.
        assert await synapse_get_users_for_states(api, [state("@a:hs")]) == {"@w:hs": set()}

    run(test)


def test_route_false_asks_nothing_and_mirror_false_sends_nothing():
    async def test(grid):
        module, api = make_module(grid.url, route=False, mirror=False)
        assert api._get_users_for_states_callbacks == [] and api._looping_calls == [] and api._on_new_event_callbacks == []
        module, api = make_module(grid.url, route=False)
        assert await module.get_users_for_states([state("@a:hs")]) == {}
        assert await module.get_interested_users("@a:hs") == set()
        await wait_until(lambda: grid.requests, what="the mirror's request")
        await stop_looping_calls(api)
        assert [(m, p) for m, p, _, _ in grid.requests] == [("POST", "/v1/ingest/states")]

    run(test)
