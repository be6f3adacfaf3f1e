"""Shared helpers of the tests."""

import asyncio
import time
from typing import Any, Awaitable, Callable, Optional

from presencegrid_synapse import PresenceGridModule

from standin import ModuleApi, UserPresenceState


def state(user_id: str, presence: str = "online", status_msg: Optional[str] = None, ts: int = 1000, active: bool = True) -> UserPresenceState:
    return UserPresenceState(user_id, presence, ts, ts, ts, status_msg, active)


def make_module(grid_url: str, **config: Any) -> "tuple[PresenceGridModule, ModuleApi]":
    api = ModuleApi()
    module = PresenceGridModule(PresenceGridModule.parse_config({"grid_url": grid_url, **config}), api)
    return module, api


async def wait_until(predicate: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> None:
    """Bounded polling: returns as soon as ``predicate()`` is true, fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


async def timed(awaitable: Awaitable[Any]) -> "tuple[Any, float]":
    started = time.monotonic()
    result = await awaitable
    return result, time.monotonic() - started
