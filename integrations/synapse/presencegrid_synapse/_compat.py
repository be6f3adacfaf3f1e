"""What the module takes from Synapse, imported lazily, with stand-ins when Synapse is absent.

The package never imports Synapse (or Twisted) when it is imported itself: its unit tests run
without Synapse, and inside Synapse the imports below resolve to Synapse's own objects.
"""

import asyncio
from typing import Any, Awaitable, Callable, Optional

#: Synapse's ``synapse.module_api.PRESENCE_ALL_USERS`` (``PresenceRouter.ALL_USERS``), the string
#: ``"ALL"``, which Synapse compares with ``==``.
PRESENCE_ALL_USERS = "ALL"


class FallbackConfigError(Exception):
    """Raised for a bad ``config:`` when Synapse is not importable (the same ``(msg, path)``
    signature as Synapse's ``synapse.module_api.errors.ConfigError``)."""

    def __init__(self, msg: str, path: Optional[Any] = None):
        super().__init__(msg)
        self.msg = msg
        self.path = path


def config_error_class() -> type:
    """Synapse's ``ConfigError`` when Synapse is installed (so Synapse reports a bad module
    configuration as it reports its own), otherwise :class:`FallbackConfigError`."""
    try:
        from synapse.module_api.errors import ConfigError  # type: ignore[import-not-found]
    except ImportError:
        return FallbackConfigError
    return ConfigError


class GridTimeout(Exception):
    """A grid call did not finish within ``timeout_ms``."""


def _asyncio_run_in_background(f: Callable[..., Awaitable[Any]], *args: Any) -> "asyncio.Future[Any]":
    return asyncio.ensure_future(f(*args))


def _asyncio_make_deferred_yieldable(d: "asyncio.Future[Any]") -> "asyncio.Future[Any]":
    return d


def _background_primitives() -> tuple:
    """``(run_in_background, make_deferred_yieldable)``: Synapse's (``synapse.module_api``
    exports both; they keep Synapse's logcontext rules under Twisted), or asyncio equivalents when
    Synapse is not installed (the tests' stand-in ``ModuleApi`` runs on asyncio)."""
    try:
        from synapse.module_api import (  # type: ignore[import-not-found]
            make_deferred_yieldable,
            run_in_background,
        )
    except ImportError:
        return _asyncio_run_in_background, _asyncio_make_deferred_yieldable
    return run_in_background, make_deferred_yieldable


async def call_with_timeout(api: Any, timeout_ms: int, f: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Runs ``f(*args)`` and returns its result, or raises :class:`GridTimeout` once
    ``timeout_ms`` has passed.

    Synapse's HTTP client has a fixed 60 s timeout and no per-request one, so the call runs in the
    background (``run_in_background``: a Twisted ``Deferred`` in Synapse) and a timer started with
    the documented ``api.delayed_background_call`` cancels it. Cancelling the ``Deferred`` aborts
    the HTTP request and fires the ``Deferred`` with ``CancelledError`` at once, even when what it
    waits on ignores cancellation, so the caller is released when the timer fires.
    """
    run_in_background, make_deferred_yieldable = _background_primitives()
    running = run_in_background(f, *args)
    timed_out = False

    def expire() -> None:
        nonlocal timed_out
        timed_out = True
        running.cancel()

    timer = api.delayed_background_call(timeout_ms, expire, desc="presencegrid_call_timeout")
    try:
        return await make_deferred_yieldable(running)
    except BaseException:
        if timed_out:
            raise GridTimeout(f"no answer within {timeout_ms} ms") from None
        raise
    finally:
        if not timed_out and timer.active():
            timer.cancel()
