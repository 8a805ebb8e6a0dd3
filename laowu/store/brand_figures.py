"""A brand's figures for its entry criteria, re-check and integrity (issue 21), gathered from the ledger's rows in
one query set, and its management document (``brands.management``).

The definitions are the statistics' (``laowu.domain.statistics``): a placement counts as placed once confirmed
with a start date (status confirmed or ended); it is due for retention at N months on ``add_months(start, N)``
(``retention_due_sql``) and kept if it had not ended before that day; wages are the confirmed placements'
monthly wages. Alerts are the wage-arrears and injury alerts raised in the brand's placements, open or closed;
satisfaction is the mean of the follow-ups' 1–5 answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from laowu.domain.brand_criteria import Figures
from laowu.domain.statistics import RETENTION_MONTHS
from laowu.store.stats import CONFIRMED_SQL, Conn, retention_due_sql


@dataclass(frozen=True)
class BrandFile:
    """What the brand-management handlers decide against: the applied brand, its document and its figures."""

    brand_id: str
    status: str
    level: str
    region_code: str
    name: str
    management: dict[str, Any] = field(default_factory=dict)
    figures: Figures = field(default_factory=Figures)
    integrity_rating: str | None = None  # what the bureau last recorded on the brand (brand.updated)


_RETENTION = ", ".join(
    f"count(*) FILTER (WHERE conf AND {retention_due_sql(n)} <= $2) AS r{n}_due, "
    f"count(*) FILTER (WHERE conf AND {retention_due_sql(n)} <= $2 "
    f"AND (end_date IS NULL OR end_date >= {retention_due_sql(n)})) AS r{n}_kept"
    for n in RETENTION_MONTHS)

_FIGURES = f"""
WITH b AS (SELECT DISTINCT unnest($1::text[]) AS brand_id),
m AS (
    SELECT b.brand_id, count(w.worker_id) AS members,
           count(w.worker_id) FILTER (WHERE jsonb_array_length(w.trainings) > 0) AS trained,
           count(w.worker_id) FILTER (WHERE jsonb_array_length(w.certificates) > 0) AS certified
      FROM b LEFT JOIN workers w ON w.brand_ids @> ARRAY[b.brand_id]
     GROUP BY b.brand_id),
ps AS (
    SELECT brand_id, placement_id, worker_id, monthly_wage, start_date, end_date,
           status IN {CONFIRMED_SQL} AND start_date IS NOT NULL AS conf
      FROM placements WHERE brand_id = ANY($1::text[])),
p AS (
    SELECT brand_id, count(DISTINCT worker_id) FILTER (WHERE conf) AS placed, {_RETENTION},
           coalesce(sum(monthly_wage) FILTER (WHERE conf AND monthly_wage IS NOT NULL), 0) AS wage_sum,
           count(*) FILTER (WHERE conf AND monthly_wage IS NOT NULL) AS wage_count
      FROM ps GROUP BY brand_id),
a AS (
    SELECT ps.brand_id, count(*) FILTER (WHERE a.kind = 'wage_arrears') AS wage_arrears_alerts,
           count(*) FILTER (WHERE a.kind = 'injury') AS injury_alerts
      FROM alerts a JOIN ps USING (placement_id) GROUP BY ps.brand_id),
f AS (
    SELECT ps.brand_id, coalesce(sum(f.satisfaction), 0) AS satisfaction_sum, count(f.satisfaction) AS satisfaction_count
      FROM followups f JOIN ps USING (placement_id) GROUP BY ps.brand_id)
SELECT m.*, p.placed, {", ".join(f"p.r{n}_due, p.r{n}_kept" for n in RETENTION_MONTHS)}, p.wage_sum, p.wage_count,
       a.wage_arrears_alerts, a.injury_alerts, f.satisfaction_sum, f.satisfaction_count
  FROM m LEFT JOIN p USING (brand_id) LEFT JOIN a USING (brand_id) LEFT JOIN f USING (brand_id)
"""


def _figures(r: asyncpg.Record) -> Figures:
    def n(key: str) -> int:
        return int(r[key] or 0)

    return Figures(members=n("members"), trained=n("trained"), certified=n("certified"), placed=n("placed"),
                   retention_3m_due=n("r3_due"), retention_3m_kept=n("r3_kept"),
                   retention_6m_due=n("r6_due"), retention_6m_kept=n("r6_kept"),
                   wage_sum=Decimal(r["wage_sum"] or 0), wage_count=n("wage_count"),
                   wage_arrears_alerts=n("wage_arrears_alerts"), injury_alerts=n("injury_alerts"),
                   satisfaction_sum=n("satisfaction_sum"), satisfaction_count=n("satisfaction_count"))


async def figures(conn: Conn, brand_ids: Sequence[str], today: date) -> dict[str, Figures]:
    """The figures of each brand as of ``today`` (retention counts placements due on or before it)."""
    if not brand_ids:
        return {}
    rows = await conn.fetch(_FIGURES, list(brand_ids), today)
    return {r["brand_id"]: _figures(r) for r in rows}


async def brand_files(conn: Conn, brand_ids: Sequence[str], today: date) -> dict[str, BrandFile]:
    """Applied brands with their management document and figures; a brand not applied is absent."""
    rows = await conn.fetch("SELECT brand_id, status, level, region_code, name, management, integrity_rating FROM brands "
                            "WHERE brand_id = ANY($1::text[])", list(brand_ids))
    if not rows:
        return {}
    got = await figures(conn, [r["brand_id"] for r in rows], today)
    return {r["brand_id"]: BrandFile(r["brand_id"], r["status"], r["level"], r["region_code"], r["name"],
                                     dict(r["management"] or {}), got.get(r["brand_id"], Figures()),
                                     r["integrity_rating"])
            for r in rows}
