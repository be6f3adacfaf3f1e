"""Measures the latency the module adds to one Synapse presence change, against a running silo.

    python3 integrations/synapse/bench.py --grid-url http://127.0.0.1:8787 [--token T] [--count 2000]

Prints p50/p99 of: ``get_users_for_states`` with ``route: false`` (what mirroring alone adds to
Synapse's call: queuing the state), the mirrored call (one ingest request carrying one state), the routing call
``get_users_for_states`` (one state; includes queuing it for the mirror), and
``get_interested_users``; then the mirror's throughput with full batches. It runs the module on the
tests' stand-in ModuleApi (asyncio, one connection per request: Synapse's client keeps connections
alive, so under Synapse the round trips are, if anything, shorter).
"""

import argparse
import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "tests")]

from presencegrid_synapse import PresenceGridModule  # noqa: E402
from standin import ModuleApi, UserPresenceState, stop_looping_calls  # noqa: E402


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def report(name, seconds):
    ms = [s * 1000 for s in seconds]
    print(f"{name:<40} p50 {percentile(ms, 0.50):7.3f} ms   p99 {percentile(ms, 0.99):7.3f} ms   (n={len(ms)})")


async def main(args):
    api = ModuleApi()
    config = {"grid_url": args.grid_url, "timeout_ms": 5000}
    if args.token:
        config["token"] = args.token
    module = PresenceGridModule(PresenceGridModule.parse_config(config), api)
    await stop_looping_calls(api)  # the bench flushes by itself
    t0 = 1_700_000_000_000

    def change(i, user):
        return UserPresenceState(user, "online" if i % 2 else "unavailable", t0 + i, t0 + i, t0 + i, f"s{i}", True)

    mirror_only = PresenceGridModule(PresenceGridModule.parse_config({**config, "route": False}), api)
    queue_only = []
    for i in range(args.count):
        started = time.perf_counter()
        await mirror_only.get_users_for_states([change(i, f"@queue{i % 100}:{args.server_name}")])
        queue_only.append(time.perf_counter() - started)
    await stop_looping_calls(api)

    mirror, route, interested = [], [], []
    for i in range(args.count):
        user = f"@bench{i % 100}:{args.server_name}"
        started = time.perf_counter()
        await module.get_users_for_states([change(i, user)])
        route.append(time.perf_counter() - started)
        started = time.perf_counter()
        await module._flush()
        mirror.append(time.perf_counter() - started)
        started = time.perf_counter()
        await module.get_interested_users(user)
        interested.append(time.perf_counter() - started)
    if module.counters["failures"]:
        raise SystemExit(f"{module.counters['failures']} grid calls failed: is the silo at {args.grid_url}?")
    report("get_users_for_states, route: false", queue_only)
    report("mirrored call (ingest, 1 state)", mirror)
    report("get_users_for_states (1 state)", route)
    report("get_interested_users", interested)

    module.counters["mirrored"] = 0
    total = args.batches * module.BATCH_SIZE
    started = time.perf_counter()
    for b in range(args.batches):
        module._queue([change(b * module.BATCH_SIZE + j, f"@tp{j}:{args.server_name}") for j in range(module.BATCH_SIZE)])
        await module._flush()
    elapsed = time.perf_counter() - started
    print(f"mirror throughput: {module.counters['mirrored']:,} of {total:,} states in {elapsed:.2f} s = {total / elapsed:,.0f} states/s (batches of {module.BATCH_SIZE})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid-url", default="http://127.0.0.1:8787")
    parser.add_argument("--token")
    parser.add_argument("--server-name", default="localhost", help="the silo's server_name (default localhost)")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
