"""A tiny HTTP server on asyncio that plays the grid's router and ingest endpoints with canned
answers, for the answers a real silo never gives (malformed JSON, no answer at all)."""

import asyncio
import json
from typing import Any, Dict, List, Optional, Tuple

HANG = object()  # an answer: accept the request and never respond


class FakeGrid:
    """Answers ``(METHOD, path prefix)`` with ``answers[...]``: a JSON-able value (200), a
    ``(status, value)`` pair, :data:`HANG`, or a callable taking the request body and returning one
    of those. Requests are recorded as ``(method, path, headers, body)``."""

    def __init__(self) -> None:
        self.answers: Dict[Tuple[str, str], Any] = {}
        self.requests: List[Tuple[str, str, Dict[str, str], Any]] = []
        self._server: Optional[asyncio.base_events.Server] = None
        self._handlers: "set[asyncio.Task[Any]]" = set()
        self.url = ""

    async def start(self, port: int = 0) -> "FakeGrid":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        await self._server.wait_closed()

    def requests_to(self, method: str, path_prefix: str) -> List[Any]:
        return [body for m, path, _, body in self.requests if m == method and path.startswith(path_prefix)]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            raw = await reader.readexactly(int(headers.get("content-length", "0")))
            body = json.loads(raw) if raw else None
            self.requests.append((method, path, headers, body))
            answer = self._answer_for(method, path)
            if callable(answer):
                answer = answer(body)
            if answer is HANG:
                await asyncio.Event().wait()
            status, value = answer if isinstance(answer, tuple) else (200, answer)
            payload = value if isinstance(value, bytes) else json.dumps(value).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                f"Connection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(handler)
            writer.close()

    def _answer_for(self, method: str, path: str) -> Any:
        for (m, prefix), answer in self.answers.items():
            if m == method and path.startswith(prefix):
                return answer
        return (404, {"errcode": "M_NOT_FOUND", "error": "no such path"})

