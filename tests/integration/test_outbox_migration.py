"""Upgrading to the packed outbox keeps what an older relay had not published yet, in its order."""

from __future__ import annotations

import orjson

from laowu.store.migrate import migrate
from laowu.store.outbox import unpack
from laowu.store.pool import connect

from helpers import database_before


async def test_unpublished_rows_move_into_one_packed_row(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = await database_before(infra, "0011")
    conn = await connect(dsn)
    try:
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
