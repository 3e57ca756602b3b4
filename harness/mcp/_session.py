"""One live connection to an MCP server, usable from synchronous code.

The SDK is async and the agent calls tools synchronously (and may itself run inside an
event loop), so each connection owns a background thread running its own asyncio loop.
One task on that loop holds the SDK `Client` open for the connection's lifetime (the SDK's
task groups must be entered and left by the same task); calls are submitted to the loop
with `asyncio.run_coroutine_threadsafe` and waited for with a timeout.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from harness.mcp._config import MCPServer

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import CallToolResult
    from mcp_types import Tool as MCPToolInfo

T = TypeVar("T")
CLOSE_TIMEOUT_S = 10.0
"""How long closing may take: the SDK asks a stdio server to exit, then terminates and
kills its process tree, each step bounded."""
MAX_LIST_PAGES = 100
CONNECT_TIMEOUT_S = 30.0
"""The least time a server gets to start and answer the handshake (a Python server spends
seconds importing), whatever the per-call timeout."""


class MCPConnectionError(RuntimeError):
    """An MCP server could not be reached, or stopped answering."""


def require_sdk() -> None:
    """Raise `MCPConnectionError` saying how to install the MCP SDK when it is absent."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise MCPConnectionError("MCP servers need the mcp package: pip install "
                                 "'harness[mcp]' (or pip install 'mcp>=2,<3')") from exc


class MCPConnection:
    """A session with one MCP server on a background thread. `list_tools()` and `call()`
    block the caller for at most `timeout_s` (connecting may take `CONNECT_TIMEOUT_S`). A
    connection already seen closed is opened again (a stdio server is started again)
    before a request; one that drops during a request is reopened, and the request is sent
    once more only if it is safe to repeat (`resend`)."""

    def __init__(self, server: MCPServer, *, timeout_s: float = 30.0):
        require_sdk()
        self.server = server
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                         name=f"mcp:{server.name}")
        self._thread.start()
        self._client: Client | None = None
        self._stop: asyncio.Event | None = None
        self._holder: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()  # one reconnect at a time
        self._closed = False
        self.connects = 0
        atexit.register(self.close)

    # -- public, synchronous --------------------------------------------------------------

    def list_tools(self) -> list[MCPToolInfo]:
        """Every tool the server offers (all pages)."""
        async def listing(client: Client) -> list[MCPToolInfo]:
            tools, cursor = [], None
            for _ in range(MAX_LIST_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
            return tools

        return self._request(listing, self.timeout_s)

    def call(self, name: str, arguments: dict[str, Any], timeout_s: float | None = None, *,
             resend: bool = False) -> CallToolResult:
        """The result of calling tool `name`; `TimeoutError` past the timeout,
        `MCPConnectionError` when the server cannot be reached, the SDK's `MCPError` for an
        error the server sent back. `resend` says the call is safe to send again if the
        connection drops while it runs (a read-only or idempotent tool)."""
        limit = self.timeout_s if timeout_s is None else timeout_s

        async def calling(client: Client) -> CallToolResult:
            return await client.call_tool(name, arguments, read_timeout_seconds=limit)

        return self._request(calling, limit, resend=resend)

    def close(self) -> None:
        """End the session (a stdio server's process tree with it) and the thread."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self._submit(self._disconnect(), CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - closing goes on whatever the server did
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CLOSE_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- inside -----------------------------------------------------------------------------

    def _request(self, work: Any, timeout_s: float, *, resend: bool = True) -> Any:
        """Run `work(client)` on the loop. A session already seen closed is reopened first;
        one that drops during the request is reopened and, when `resend`, asked again once
        (a request that may have changed something is not sent twice)."""
        if self._closed:
            raise MCPConnectionError(f"{self.server.describe()}: the connection is closed")
        for attempt in (1, 2):
            self._ensure_connected()
            client = self._client
            assert client is not None
            if attempt == 1 and seen_closed(client):
                self._reset()
                continue
            try:
                return self._submit(asyncio.wait_for(work(client), timeout_s), timeout_s + 5)
            except Exception as exc:
                if not dropped(exc):
                    raise
                self._reset()
                if attempt == 2 or not resend:
                    raise MCPConnectionError(
                        f"{self.server.describe()}: the connection dropped during the request "
                        f"({describe(exc)}); it is reopened on the next call") from exc
        raise AssertionError("unreachable")

    def _ensure_connected(self) -> None:
        with self._lock:
            if self._holder is not None and not self._holder.done():
                return
            ready: asyncio.Future[None] = self._loop.create_future()
            self._holder = asyncio.run_coroutine_threadsafe(self._hold(ready), self._loop)
            try:
                self._submit(_wait(ready), max(self.timeout_s, CONNECT_TIMEOUT_S))
            except Exception as exc:
                self._reset_locked()
                raise MCPConnectionError(f"{self.server.describe()}: cannot connect: "
                                         f"{describe(exc)}") from exc
            self.connects += 1

    def _reset(self) -> None:
        with self._lock:
            self._reset_locked()

    def _reset_locked(self) -> None:
        try:
            self._submit(self._disconnect(), CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - an already broken session is what is being reset
            pass
        self._holder = None

    async def _hold(self, ready: asyncio.Future[None]) -> None:
        """Keep the SDK client open until told to stop (the task that opens it closes it)."""
        from mcp import Client

        self._stop = stop = asyncio.Event()
        try:
            async with _transport(self.server) as transport, \
                    Client(transport, read_timeout_seconds=max(self.timeout_s, CONNECT_TIMEOUT_S)) as client:
                self._client = client
                ready.set_result(None)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception)
                                    else MCPConnectionError(repr(exc)))
            if not isinstance(exc, Exception):
                raise
        finally:
            self._client = None

    async def _disconnect(self) -> None:
        if self._stop is not None:
            self._stop.set()
        holder = self._holder
        if holder is not None:
            await asyncio.wait_for(asyncio.wrap_future(holder), CLOSE_TIMEOUT_S)

    def _submit(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise


async def _wait(future: asyncio.Future[None]) -> None:
    await future


@asynccontextmanager
async def _transport(server: MCPServer) -> AsyncIterator[Any]:
    """The SDK transport for `server`: its process over stdio, or streamable HTTP."""
    if server.command is not None:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=server.command, args=list(server.args),
                                       env=dict(server.env) or None, cwd=server.cwd)
        async with stdio_client(params) as streams:
            yield _Streams(streams)
        return
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    assert server.url is not None
    # the SDK's own defaults: a long read timeout, since a server may hold a stream open
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(headers=dict(server.headers), timeout=timeout) as http, \
            streamable_http_client(server.url, http_client=http) as streams:
        yield _Streams(streams)


class _Streams:
    """An already open pair of streams, as the SDK `Client` takes a transport: entering it
    gives the pair; leaving it leaves closing to the transport that opened them."""

    def __init__(self, streams: Any):
        self._streams = streams

    async def __aenter__(self) -> Any:
        return self._streams

    async def __aexit__(self, *exc: object) -> None:
        return None


def seen_closed(client: Client) -> bool:
    """True when the session already knows its connection ended (a stdio server that
    exited): a request sent now would certainly not arrive. Read from the SDK's dispatcher;
    False if that detail is not where this version of the SDK keeps it."""
    dispatcher = getattr(client.session, "_dispatcher", None)
    return getattr(dispatcher, "_closed", False) is True


def dropped(exc: BaseException) -> bool:
    """True for a failure of the connection rather than an answer from the server."""
    from mcp.shared.exceptions import MCPError
    from mcp_types import CONNECTION_CLOSED

    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, MCPConnectionError)):
        return False
    try:
        import anyio
        import httpx2
    except ImportError:  # pragma: no cover - both come with the SDK
        return isinstance(exc, (ConnectionError, EOFError))
    return isinstance(exc, (anyio.ClosedResourceError, anyio.BrokenResourceError,
                            anyio.EndOfStream, httpx2.TransportError, ConnectionError,
                            EOFError, BrokenPipeError))


def describe(exc: BaseException) -> str:
    """An exception in one line: its type and message, the first of a group's."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
