namespace PresenceGrid.Presence.Tests;

// Scenario numbers are those of the scenario list in docs/presence-scenarios.md ("§7", numbered 1..67 there; its
// "Spec fixes" and "Rules for routing modules" correct the original specification).
// Test names start with S<number>_. Covered here (pure domain):
//
// | §7 | Synapse test                                             | test class                                |
// |----|----------------------------------------------------------|-------------------------------------------|
// |  5 | test_offline_to_online                                   | HandleUpdateScenarioTests                 |
// |  6 | test_online_to_online                                    | HandleUpdateScenarioTests                 |
// |  7 | test_online_to_online_last_active_noop                   | HandleUpdateScenarioTests                 |
// |  8 | test_online_to_online_last_active                        | HandleUpdateScenarioTests                 |
// |  9 | test_remote_ping_timer                                   | HandleUpdateScenarioTests                 |
// | 10 | test_online_to_offline                                   | HandleUpdateScenarioTests                 |
// | 11 | test_online_to_idle                                      | HandleUpdateScenarioTests                 |
// | 13 | test_override (12 ordered pairs, persist/untracked)      | HandleUpdateScenarioTests                 |
// | 16 | test_idle_timer                                          | HandleTimeoutScenarioTests                |
// | 17 | test_busy_no_idle                                        | HandleTimeoutScenarioTests                |
// | 18 | test_sync_timeout                                        | HandleTimeoutScenarioTests                |
// | 19 | test_sync_online                                         | HandleTimeoutScenarioTests                |
// | 20 | test_federation_ping                                     | HandleTimeoutScenarioTests                |
// | 21 | test_no_timeout                                          | HandleTimeoutScenarioTests                |
// | 22 | test_federation_timeout                                  | HandleTimeoutScenarioTests                |
// | 23 | test_last_active                                         | HandleTimeoutScenarioTests                |
// | 24 | test_restored_presence_idles                             | RestartAndConfigScenarioTests             |
// | 25 | test_restored_presence_online_after_sync (4 cases)       | RestartAndConfigScenarioTests             |
// | 28 | test_config_parsing (duration strings)                   | RestartAndConfigScenarioTests             |
// | 29 | test_sync_online_timeout (custom timers)                 | RestartAndConfigScenarioTests             |
// | 30 | test_idle_timeout (custom timers)                        | RestartAndConfigScenarioTests             |
// | 31 | test_last_active_granularity (custom timers)             | RestartAndConfigScenarioTests             |
// | 32 | test_external_process_timeout (→ keep-alive lease expiry)| SetStateScenarioTests                     |
// | 33 | test_user_goes_offline_by_timeout_status_msg_remain      | SetStateScenarioTests                     |
// | 34 | test_user_goes_offline_manually_with_no_status_msg       | SetStateScenarioTests                     |
// | 35 | test_user_goes_offline_manually_with_status_msg          | SetStateScenarioTests                     |
// | 36 | test_user_reset_online_with_no_status                    | SetStateScenarioTests                     |
// | 37 | test_set_presence_with_status_msg_none                   | SetStateScenarioTests                     |
// | 38 | test_set_presence_from_syncing_not_set                   | SetStateScenarioTests                     |
// | 39 | test_set_presence_from_syncing_is_set                    | SetStateScenarioTests                     |
// | 40 | test_set_presence_from_syncing_multi_device (16 pairs)   | SetStateScenarioTests                     |
// | 41 | test_set_presence_from_non_syncing_multi_device (16)     | SetStateScenarioTests                     |
// | 42 | test_set_presence_from_syncing_keeps_status              | SetStateScenarioTests                     |
// | 43 | test_set_presence_from_syncing_keeps_busy                | SetStateScenarioTests                     |
// | 44 | test_untracked_does_not_idle                             | SetStateScenarioTests                     |
// | X1 | §7 "suggested extra" [FED]: origin mismatch ignored,     | FederationPresenceUpdateTests             |
// |    | no last_active_ago keeps last_active, no status clears   |                                           |
//
// Left to the actor/grain, storage, API and federation layers: 1–4 (routers), 12 (presence_stream persistence),
// 14–15 (rc_presence ratelimit on /sync), 26–27 (disabled-mode DB flush and sync tokens), 45–63 (federation queue,
// joins, excluded rooms, sync interest, worker relay throttle), 64–67 (REST PUT and its ratelimit).
// The worker/monolith variants of 40, 41 and 43 collapse into one case: the edge-triggered model has no workers.
internal static class ScenarioMap
{
}
