"""Starts a real silo (the build output of silo/PresenceGrid.Silo) for the tests."""

import asyncio
import os
import socket
import subprocess
import tempfile
import time
from typing import Optional

from standin import http_request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# PRESENCEGRID_SILO_DLL overrides the build output (e.g. a silo built elsewhere).
SILO_DLL = os.environ.get("PRESENCEGRID_SILO_DLL") or os.path.join(
    REPO, "silo", "PresenceGrid.Silo", "bin", "Release", "net10.0", "PresenceGrid.Silo.dll"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Silo:
    """One silo process on a loopback port, with the YAML configuration given."""

    def __init__(self, config_yaml: str, port: Optional[int] = None):
        if not os.path.exists(SILO_DLL):
            raise AssertionError(
                f"{SILO_DLL} does not exist: build the solution first "
                "(dotnet build PresenceGrid.sln -c Release; ./test.sh does)"
            )
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.mkdtemp(prefix="pgrid-synapse-test-")
        self._config = os.path.join(self._dir, "silo.yaml")
        with open(self._config, "w") as f:
            f.write(config_yaml)
        self._log_path = os.path.join(self._dir, "silo.log")
        self._process: Optional[subprocess.Popen] = None

    async def start(self, timeout_s: float = 60.0) -> "Silo":
        log = open(self._log_path, "ab")
        self._process = subprocess.Popen(
            ["dotnet", SILO_DLL, "--config", self._config, "--urls", self.url],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self._dir,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while True:
            if self._process.poll() is not None:
                raise AssertionError(f"the silo exited with {self._process.returncode}:\n{self.log()}")
            try:
                status, _, _ = await http_request("GET", self.url + "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the silo did not answer /healthz within {timeout_s} s:\n{self.log()}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def log(self) -> str:
        try:
            with open(self._log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""
