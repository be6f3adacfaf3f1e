"""The per-call timeout on Twisted, as it runs inside Synapse: Deferreds, Synapse's way of starting
a coroutine in the background (``run_in_background``: ``defer.ensureDeferred``), and a timer from
``delayed_background_call`` (Twisted's ``callLater``), on Twisted's deterministic ``task.Clock``.

Synapse is not installable here, so a minimal ``synapse.module_api`` is put in ``sys.modules`` for
the duration of each test, with the two functions the module imports from it; Twisted is Debian's
(``python3-twisted``, which ./test.sh installs with pytest)."""

import subprocess
import sys
import types

import pytest
from twisted.internet import defer, task

from presencegrid_synapse import GridTimeout
from presencegrid_synapse._compat import call_with_timeout


def _run_in_background(f, *args, **kwargs):
    """Synapse's ``run_in_background`` without log contexts: call, and wrap a coroutine."""
    try:
        result = f(*args, **kwargs)
    except Exception:
        return defer.fail()
    if isinstance(result, types.CoroutineType):
        return defer.ensureDeferred(result)
    return result if isinstance(result, defer.Deferred) else defer.succeed(result)


class TwistedApi:
    """``delayed_background_call`` as Synapse's: ``clock.call_later`` returning an ``IDelayedCall``."""

    def __init__(self, clock):
        self.clock = clock

    def delayed_background_call(self, msec, f, *args, desc=None, **kwargs):
        return self.clock.callLater(msec / 1000, f, *args, **kwargs)


@pytest.fixture
def synapse_module_api(monkeypatch):
    fake = types.ModuleType("synapse.module_api")
    fake.run_in_background = _run_in_background
    fake.make_deferred_yieldable = lambda d: d
    monkeypatch.setitem(sys.modules, "synapse", types.ModuleType("synapse"))
    monkeypatch.setitem(sys.modules, "synapse.module_api", fake)
    return fake


def _outcome(d):
    results = []
    d.addBoth(results.append)
    return results


@pytest.mark.parametrize("honours_cancel", [True, False])
def test_a_hung_call_is_cut_at_the_timeout(synapse_module_api, honours_cancel):
    clock = task.Clock()
    request = defer.Deferred(None if honours_cancel else (lambda d: None))

    async def hung_request():
        return await request

    outcome = _outcome(defer.ensureDeferred(call_with_timeout(TwistedApi(clock), 500, hung_request)))
    clock.advance(0.499)
    assert outcome == []
    clock.advance(0.002)
    assert len(outcome) == 1 and outcome[0].check(GridTimeout)
    assert request.called  # the request itself was cancelled, not left running


def test_a_call_that_answers_in_time_returns_its_answer_and_stops_the_timer(synapse_module_api):
    clock = task.Clock()
    request = defer.Deferred()

    async def answering_request():
        return await request

    outcome = _outcome(defer.ensureDeferred(call_with_timeout(TwistedApi(clock), 500, answering_request)))
    clock.advance(0.1)
    request.callback({"users": []})
    assert outcome == [{"users": []}]
    assert clock.getDelayedCalls() == []


def test_a_failing_call_fails_with_its_own_error(synapse_module_api):
    clock = task.Clock()

    async def refused():
        raise ConnectionRefusedError("refused")

    outcome = _outcome(defer.ensureDeferred(call_with_timeout(TwistedApi(clock), 500, refused)))
    assert len(outcome) == 1 and outcome[0].check(ConnectionRefusedError)
    assert clock.getDelayedCalls() == []


def test_the_package_imports_neither_synapse_nor_twisted():
    check = (
        "import sys, presencegrid_synapse; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('synapse', 'twisted')], 'imported'"
    )
    package_dir = __file__.rsplit("/tests/", 1)[0]
    subprocess.run([sys.executable, "-c", check], cwd=package_dir, check=True)
