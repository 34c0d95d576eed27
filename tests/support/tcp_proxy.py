"""A TCP proxy on 127.0.0.1 that can be cut and restored: the database 'goes away' for real."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.db.session import Database
from gateway.settings import Settings
from tests.support.http import TEST_ISSUER


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut existing ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._pipes):
            task.cancel()
        self._writers.clear()
        self._pipes.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, upstream_writer})
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()


@contextlib.asynccontextmanager
async def app_behind_proxy(
    settings: Settings, *, master_key: bytes | None = None, connect_timeout: float | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, TcpProxy]]:
    """A client of an app whose own database connections go through a `TcpProxy` to the test's
    PostgreSQL, and the proxy, to cut and restore the database under it."""
    url = make_url(settings.resolved_database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    update: dict[str, object] = {
        "database_url": url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    }
    if connect_timeout is not None:
        update["db_connect_timeout_seconds"] = connect_timeout
    proxied = settings.model_copy(update=update)
    app = create_app(proxied, master_key=master_key)
    app.state.database = Database.from_settings(proxied)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_ISSUER) as client:
            yield client, proxy
    finally:
        await app.state.database.dispose()
        await proxy.stop()
