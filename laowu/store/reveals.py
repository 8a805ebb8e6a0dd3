"""The reveal quota (查看完整身份信息的每日限额): how many times a credential broke the glass today, from the audit log.

A workstation could reveal its whole region at the general rate limit; a day's honest work needs a few dozen
reveals. The count is kept where the reveals are already written — the append-only audit log — so it is the same
for every API replica and survives a restart, and the check and the audit entry are one transaction under a lock
per credential, so two replicas cannot both let the last reveal through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import asyncpg

from laowu.store import queries

ZONE = "Asia/Shanghai"
"""The quota's day is the clerk's calendar day (北京时间), not UTC's."""
REVEAL = "reveal"
REFUSED = "reveal.refused"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    used: int
    """Reveals of this credential today before this attempt."""
    retry_after_s: int
    """Seconds until local midnight, when the count starts again."""
    resets_at: str
    """Local midnight, ISO 8601 with its offset."""


async def spend(pool: asyncpg.Pool, *, actor: str, role: str, org: str, quota: int, worker_id: str, purpose: str,
                ip: str | None) -> Verdict:
    """Audit a reveal if the credential has quota left today, else audit the refusal; either way first.

    ``reveal.refused`` entries do not count: a refused caller is not pushed further into tomorrow.
    """
    async with pool.acquire() as conn, conn.transaction():
        # One credential's reveals are serialised (across replicas): count and insert see each other.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"reveal-quota:{role}:{actor}")
        row = await conn.fetchrow(
            f"""WITH day AS (SELECT date_trunc('day', now() AT TIME ZONE '{ZONE}') AT TIME ZONE '{ZONE}' AS start)
                SELECT (SELECT count(*) FROM audit_log a, day
                         WHERE a.actor = $1 AND a.role = $2 AND a.action = '{REVEAL}' AND a.at >= day.start) AS used,
                       extract(epoch FROM day.start + interval '1 day' - clock_timestamp()) AS left_s,
                       to_char((day.start + interval '1 day') AT TIME ZONE '{ZONE}', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
                           AS resets_at
                  FROM day""",
            actor, role)
        used, allowed = int(row["used"]), int(row["used"]) < quota
        detail = {} if allowed else {"reason": "daily_quota", "quota": quota, "used": used}
        await queries.audit(conn, actor=actor, role=role, org=org, action=REVEAL if allowed else REFUSED,
                            worker_id=worker_id, purpose=purpose, ip=ip, detail=detail)
    return Verdict(allowed=allowed, used=used, retry_after_s=max(1, math.ceil(float(row["left_s"]))),
                   resets_at=row["resets_at"])
