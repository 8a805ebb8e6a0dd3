"""Connection pool creation — at start-up, never at import."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from laowu.store.errors import UNAVAILABLE, Unavailable


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts stay exact: numeric columns parse the string
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_bytes(value: Any) -> bytes:
    """UTF-8 JSON as stored and published everywhere (Decimals as strings, so amounts stay exact).

    orjson writes datetimes, dates and UUIDs itself (ISO 8601, as ``isoformat`` does); the stdlib encoder was
    the largest single cost of the ledger consumer (15 % of its CPU in a py-spy profile of `make bench`).
    """
    try:
        return orjson.dumps(value, default=_default)
    except TypeError:
        # A mapping with non-string keys (a date, a number), as the stdlib encoder allowed. The option costs
        # 40 % on every call (timeit, a ledger change), so it is only the fallback.
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _jsonb_out(value: Any) -> bytes:
    return b"\x01" + json_bytes(value)  # jsonb's binary form: format version 1, then the text


def _jsonb_in(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary codecs, so that json/jsonb columns can also be written with COPY (asyncpg copies in binary only).
    await conn.set_type_codec("jsonb", encoder=_jsonb_out, decoder=_jsonb_in, schema="pg_catalog", format="binary")
    await conn.set_type_codec("json", encoder=json_bytes, decoder=orjson.loads, schema="pg_catalog", format="binary")


# Writers look rows up by arrays of thousands of ids (``worker_id = ANY($1)``). After five executions
# PostgreSQL may settle on a generic plan; one made while a table was still small is a sequential scan that
# compares every row with every id, and it is kept until the next autoanalyze. On a fresh database that
# stalled the ledger for 15-25 s a minute into load (auto_explain: 2 s per batch at 50,000 workers, growing).
# A custom plan sees the array and the table's real size; planning costs well under a millisecond per batch.
WRITER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


@contextlib.contextmanager
def _translating() -> Iterator[None]:
    try:
        yield
    except UNAVAILABLE as exc:
        raise Unavailable(type(exc).__name__) from exc


def _translated(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _translating():
            return await method(self, *args, **kwargs)

    return call


class _TranslatingTransaction:
    """A transaction whose start, commit and rollback translate as the queries do (its exit checks the
    connection before it rolls back, and says InterfaceError when the connection is gone)."""

    def __init__(self, transaction: Any) -> None:
        self._transaction = transaction

    async def __aenter__(self) -> Any:
        with _translating():
            return await self._transaction.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> Any:
        with _translating():
            return await self._transaction.__aexit__(*exc_info)

    async def start(self) -> None:
        with _translating():
            await self._transaction.start()

    async def commit(self) -> None:
        with _translating():
            await self._transaction.commit()

    async def rollback(self) -> None:
        with _translating():
            await self._transaction.rollback()


class TranslatingConnection(asyncpg.Connection):
    """A connection whose queries and transactions raise :class:`~laowu.store.errors.Unavailable` for the
    driver's "cannot reach the database" errors."""

    def transaction(self, **kwargs: Any) -> Any:
        return _TranslatingTransaction(super().transaction(**kwargs))


for _name in ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany", "prepare", "copy_records_to_table",
              "copy_to_table", "copy_from_table", "copy_from_query"):
    setattr(TranslatingConnection, _name, _translated(getattr(asyncpg.Connection, _name)))


class TranslatingPool(asyncpg.Pool):
    """A pool that also translates failing to connect (the server down or restarting) when a connection is taken."""

    async def _acquire(self, timeout: float | None) -> Any:  # every way to take a connection goes through here
        try:
            return await super()._acquire(timeout)  # type: ignore[misc]
        except UNAVAILABLE as exc:
            raise Unavailable(type(exc).__name__) from exc


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, writer: bool = False,
                      translate: bool = False, **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections speak our JSON codecs; ``writer`` for the batch writers (consumers, sinks).

    ``translate``: the driver's "cannot reach the database" errors surface as ``laowu.store.errors.Unavailable``
    (the API's pool: its layers above the store see the store's errors only). The consumers keep the driver's
    errors, which ``laowu.store.errors.TRANSIENT_DB`` classifies for their retries.
    """
    if writer:
        kwargs["server_settings"] = {**WRITER_SETTINGS, **kwargs.get("server_settings", {})}
    if not translate:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs)
        assert pool is not None
        return pool
    # asyncpg.create_pool builds a Pool with these defaults; the subclass is built the same way.
    defaults: dict[str, Any] = {"max_queries": 50000, "max_inactive_connection_lifetime": 300.0, "loop": None,
                                "record_class": asyncpg.Record}
    translating = TranslatingPool(dsn, min_size=min_size, max_size=max_size, init=_init_connection,
                                  connection_class=TranslatingConnection, **(defaults | kwargs))
    await translating  # at start-up the driver's error stays as it is: no request to answer, the process stops
    return translating


async def answers(pool: asyncpg.Pool) -> bool:
    """Whether the database answers a query now (readiness); any failure is a no, never an exception."""
    try:
        return bool(await pool.fetchval("SELECT 1") == 1)
    except Exception:
        return False


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
