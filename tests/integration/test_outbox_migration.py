"""Upgrading to the packed outbox keeps what an older relay had not published yet, in its order."""

from __future__ import annotations

import uuid

import asyncpg
import orjson

from laowu.store.migrate import migrate, migration_files
from laowu.store.outbox import unpack
from laowu.store.pool import connect


async def test_unpublished_rows_move_into_one_packed_row(infra) -> None:  # type: ignore[no-untyped-def]
    name = f"t_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(infra.postgres.url("postgres"))
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    dsn = infra.postgres.url(name)
    conn = await connect(dsn)
    try:
        await conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now())")
        for version, sql in migration_files():
            if version >= "0011":
                break
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        old = [("ledger-changes", "w1", {"type": "ledger.changed", "n": 1}),
               ("alerts", "工人2", {"type": "alert.raised", "n": 2}),
               ("ledger-changes", "w1", {"type": "ledger.changed", "n": 3})]
        for topic, key, value in old:
            await conn.execute("INSERT INTO outbox (topic, key, value) VALUES ($1, $2, $3)", topic, key, orjson.dumps(value))

        assert "0011_outbox_packed" in await migrate(dsn)

        rows = await conn.fetch("SELECT messages, counts FROM outbox")
        assert len(rows) == 1
        assert [(t, k.decode(), orjson.loads(v)) for t, k, v in unpack(rows[0]["messages"])] == old
        assert rows[0]["counts"] == {"ledger.changed": 2, "alert.raised": 1}
    finally:
        await conn.close()
