"""Keeps the stand-in faithful to Synapse, which cannot be installed here (no Python package index
is reachable): every public name of the stand-in must be one Synapse documents, with Synapse's
parameters.

The lists below are copied from Synapse's source at element-hq/synapse commit
a58ad44eb0ce3cc14153f921206f322e17339dc5 (v1.157.1-16-ga58ad44eb0):
synapse/module_api/__init__.py (class ModuleApi, PRESENCE_ALL_USERS), synapse/http/client.py
(SimpleHttpClient.get_json, post_json_get_json, put_json), synapse/api/presence.py
(UserPresenceState), docs/modules/presence_router_callbacks.md and
docs/modules/third_party_rules_callbacks.md (on_new_event). Update them when Synapse changes its module API.
"""

import dataclasses
import inspect

import standin

# Every public method and property of synapse.module_api.ModuleApi.
SYNAPSE_MODULE_API_NAMES = {
    "register_spam_checker_callbacks", "register_account_validity_callbacks", "register_ratelimit_callbacks",
    "register_media_repository_callbacks", "register_third_party_rules_callbacks",
    "register_presence_router_callbacks", "register_password_auth_provider_callbacks",
    "register_background_update_controller_callbacks", "register_account_data_callbacks", "register_web_resource",
    "register_add_extra_fields_to_unsigned_client_event_callbacks", "http_client", "public_room_list_manager",
    "account_data_manager", "public_baseurl", "email_app_name", "server_name", "worker_name", "worker_app",
    "get_userinfo_by_id", "get_user_by_req", "is_user_admin", "set_user_admin", "get_qualified_user_id",
    "get_profile_for_user", "get_threepids_for_user", "check_user_exists", "register", "register_user",
    "register_device", "record_user_external_id", "create_login_token", "invalidate_access_token",
    "run_db_interaction", "register_cached_function", "invalidate_cache", "complete_sso_login_async",
    "get_state_events_in_room", "update_room_membership", "create_and_send_event_into_room",
    "send_local_online_presence_to", "set_presence_for_users", "looping_background_call",
    "should_run_background_tasks", "delayed_background_call", "sleep", "send_http_push_notification", "send_mail",
    "read_templates", "is_mine", "get_user_ip_and_agents", "get_room_state", "run_as_background_process",
    "defer_to_thread", "defer_to_threadpool", "check_username", "store_remote_3pid_association",
    "check_push_rule_actions", "set_push_rule_action", "get_monthly_active_users_by_service",
    "get_canonical_room_alias", "lookup_room_alias", "create_room", "delete_room", "set_displayname",
    "get_current_time_msec",
}

# The signatures of the ModuleApi members the stand-in provides: (positional parameters, *args
# name, keyword-only parameters, **kwargs name, async?). "http_client" is a property.
SYNAPSE_SIGNATURES = {
    "register_presence_router_callbacks": ([], None, ["get_users_for_states", "get_interested_users"], None, False),
    "looping_background_call": (["f", "msec"], "args", ["desc", "run_on_all_instances"], "kwargs", False),
    "delayed_background_call": (["msec", "f"], "args", ["desc"], "kwargs", False),
    "sleep": (["seconds"], None, [], None, True),
    "register_third_party_rules_callbacks": (
        [],
        None,
        [
            "check_event_allowed", "on_create_room", "check_threepid_can_be_invited",
            "check_visibility_can_be_modified", "on_new_event", "check_can_shutdown_room",
            "check_can_deactivate_user", "on_profile_update", "on_user_deactivation_status_changed",
            "on_threepid_bind", "on_add_user_third_party_identifier", "on_remove_user_third_party_identifier",
        ],
        None,
        False,
    ),
    "should_run_background_tasks": ([], None, [], None, False),
}

# synapse.http.client.SimpleHttpClient (BaseHttpClient), the two methods the module calls.
SYNAPSE_HTTP_CLIENT_SIGNATURES = {
    "get_json": (["uri", "args", "headers"], None, [], None, True),
    "post_json_get_json": (["uri", "post_json", "headers"], None, [], None, True),
    "put_json": (["uri", "json_body", "args", "headers"], None, [], None, True),
}

# What the module reads of synapse.events.EventBase (as synapse/events/auto_accept_invites.py,
# Synapse's own on_new_event module, does): attributes, and is_state().
SYNAPSE_EVENT_NAMES = {"type", "room_id", "sender", "content", "state_key", "membership", "is_state"}

# synapse.api.presence.UserPresenceState's fields, in order, and its public methods.
SYNAPSE_USER_PRESENCE_STATE_FIELDS = [
    "user_id", "state", "last_active_ts", "last_federation_update_ts", "last_user_sync_ts", "status_msg",
    "currently_active",
]
SYNAPSE_USER_PRESENCE_STATE_METHODS = {"as_dict", "copy_and_replace", "default"}


def _public_members(cls):
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


def _shape(function):
    parameters = list(inspect.signature(function).parameters.values())[1:]  # without self
    kind = inspect.Parameter
    return (
        [p.name for p in parameters if p.kind in (kind.POSITIONAL_ONLY, kind.POSITIONAL_OR_KEYWORD)],
        next((p.name for p in parameters if p.kind == kind.VAR_POSITIONAL), None),
        [p.name for p in parameters if p.kind == kind.KEYWORD_ONLY],
        next((p.name for p in parameters if p.kind == kind.VAR_KEYWORD), None),
        inspect.iscoroutinefunction(function),
    )


def test_every_stand_in_module_api_name_is_documented_by_synapse():
    names = _public_members(standin.ModuleApi)
    assert names <= SYNAPSE_MODULE_API_NAMES, names - SYNAPSE_MODULE_API_NAMES
    assert names == set(SYNAPSE_SIGNATURES) | {"http_client"}


def test_stand_in_module_api_signatures_are_synapse_s():
    for name, documented in SYNAPSE_SIGNATURES.items():
        assert _shape(getattr(standin.ModuleApi, name)) == documented, name
    assert isinstance(inspect.getattr_static(standin.ModuleApi, "http_client"), property)


def test_stand_in_http_client_is_synapse_s():
    assert _public_members(standin.SimpleHttpClient) - {"calls"} == set(SYNAPSE_HTTP_CLIENT_SIGNATURES)
    for name, documented in SYNAPSE_HTTP_CLIENT_SIGNATURES.items():
        assert _shape(getattr(standin.SimpleHttpClient, name)) == documented, name


def test_stand_in_event_is_synapse_s():
    event = standin.member_event("!r:hs", "@a:hs", "join")
    assert {name for name in dir(event) if not name.startswith("_")} == SYNAPSE_EVENT_NAMES
    assert event.is_state() and event.state_key == "@a:hs" and event.membership == "join"


def test_stand_in_user_presence_state_is_synapse_s():
    assert [f.name for f in dataclasses.fields(standin.UserPresenceState)] == SYNAPSE_USER_PRESENCE_STATE_FIELDS
    methods = _public_members(standin.UserPresenceState) - set(SYNAPSE_USER_PRESENCE_STATE_FIELDS)
    assert methods == SYNAPSE_USER_PRESENCE_STATE_METHODS
    state = standin.UserPresenceState.default("@a:hs")
    assert hash(state) == hash(state.copy_and_replace())  # frozen: usable in Synapse's sets
    assert state.copy_and_replace(state="online").state == "online"


def test_presence_all_users_is_synapse_s():
    import presencegrid_synapse

    assert standin.PRESENCE_ALL_USERS == presencegrid_synapse.PRESENCE_ALL_USERS == "ALL"


def test_the_module_s_state_fields_are_synapse_s():
    import presencegrid_synapse

    assert list(presencegrid_synapse.STATE_FIELDS) == SYNAPSE_USER_PRESENCE_STATE_FIELDS
