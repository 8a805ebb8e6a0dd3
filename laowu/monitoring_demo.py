"""The monitoring story (issue 20), through the public API: 12 priority-group people of three Hainan counties over
four months, in event time, one workstation syncing a month late.

Used by the demo (``laowu.demo.load_monitoring_demo``), the e2e story and the browser story, so what the console
shows and what the tests assert are the same data. Months are relative to today: ``M1`` is five months ago, so the
four story months are complete and the sweeper judges them. Fixed Idempotency-Keys: loading twice changes nothing.

* 秀英区 460105 (工作站 ws-460105-01): a1, a2 to 深圳 (跨省, 5,000 元); a3, a4 to 龙华区 (市内跨县, 4,000 元).
* 龙华区 460106 (ws-460106-01): b1–b4 to 三亚 (省内跨市, 4,500 元); b1–b3 come home in M2 (返乡): the county falls.
* 文昌市 469005 (ws-469005-01): c1, c2 in the county (县内, 3,000 元); c3, c4 to 北京 (跨省, 6,000 元). Its M2
  follow-ups (new wages, and c4's unpaid wages) reach the platform only in M3: the late sync.
* M3: a2's follow-up reports wage arrears (欠薪) — the case the story works.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import httpx

from laowu.auth import issue
from laowu.domain import monitoring as mon
from laowu.domain.alerts import CHINA
from laowu.people import person
from laowu.settings import Settings

EMPLOYER = {"employer_id": "emp-mon-01", "name": "海南某人力资源公司", "uscc": "91440300708461136T"}
BRAND = {"brand_id": "mon-qiongzhu", "name": "琼州劳务", "region_code": "460000", "category": "skilled",
         "level": "provincial"}
COUNTIES = {"a": "460105", "b": "460106", "c": "469005"}
# person → (destination, monthly wage at hiring)
PLAN = {"a1": ("440300", "5000"), "a2": ("440300", "5000"), "a3": ("460106", "4000"), "a4": ("460106", "4000"),
        "b1": ("460200", "4500"), "b2": ("460200", "4500"), "b3": ("460200", "4500"), "b4": ("460200", "4500"),
        "c1": ("469005", "3000"), "c2": ("469005", "3000"), "c3": ("110105", "6000"), "c4": ("110105", "6000")}
SEED = 2_000  # the synthetic people's numbers (laowu.people.person)


def workstation(county: str) -> str:
    return f"ws-{county}-01"


@dataclass
class Story:
    client: httpx.AsyncClient
    settings: Settings
    m1: str = field(default_factory=lambda: mon.shift(mon.month_of(datetime.now(CHINA).date()), -5))
    workers: dict[str, str] = field(default_factory=dict)
    placements: dict[str, str] = field(default_factory=dict)

    # ---- time and credentials -----------------------------------------------------------------------------------
    def day(self, month: int, d: int) -> date:
        """Day ``d`` of story month ``month`` (1–4)."""
        first, _ = mon.month_bounds(mon.shift(self.m1, month - 1))
        return first.replace(day=d)

    def at(self, month: int, d: int, hour: int = 10) -> str:
        return datetime.combine(self.day(month, d), time(hour), CHINA).isoformat()

    def month(self, n: int) -> str:
        return mon.shift(self.m1, n - 1)

    def auth(self, role: str, org: str, region: str | None, subject: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + issue(self.settings, role=role, org=org, region=region, ttl_s=3600,
                                                   subject=subject)}

    def clerk(self, key: str) -> dict[str, str]:
        county = COUNTIES[key[0]]
        return self.auth("workstation", workstation(county), county)

    @property
    def employer(self) -> dict[str, str]:
        return self.auth("employer", EMPLOYER["employer_id"], "440300")

    # ---- HTTP ---------------------------------------------------------------------------------------------------
    async def post(self, path: str, body: dict[str, Any], key: str, auth: dict[str, str]) -> dict[str, Any]:
        r = await self.client.post(path, json=body, headers={"Idempotency-Key": f"mon-story-{key}", **auth})
        if r.status_code >= 400:
            raise RuntimeError(f"monitoring story: {path} answered {r.status_code}: {r.text[:300]}")
        return dict(r.json())

    async def applied(self, event_ids: list[str], timeout: float = 60) -> None:
        """Wait until each event is decided, and require that it applied."""
        deadline = asyncio.get_running_loop().time() + timeout
        for eid in event_ids:
            while True:
                doc = (await self.client.get(f"/v1/events/{eid}")).json()
                if doc.get("status") not in (None, "accepted"):
                    break
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"event {eid} was not decided in time")
                await asyncio.sleep(0.1)
            if doc["status"] != "applied":
                raise RuntimeError(f"monitoring story: event {eid} {doc['status']}: {doc.get('reason')}")

    # ---- the story ----------------------------------------------------------------------------------------------
    async def register(self) -> None:
        done = await self.post("/v1/brands", BRAND, "brand", {})
        await self.applied([done["event_id"]])
        ids = []
        for i, key in enumerate(PLAN):
            body = person(SEED + i, region=COUNTIES[key[0]], name=f"监测{key}") | {
                "brand_ids": [BRAND["brand_id"]], "occurred_at": self.at(1, 1, 9),
                "priority_groups": ["poverty_alleviated"] if i % 3 else ["rural_low_income"]}
            got = await self.post("/v1/workers", body, f"register-{key}", self.clerk(key))
            self.workers[key] = got["worker_id"]
            ids.append(got["event_id"])
        await self.applied(ids)

    async def place(self) -> None:
        """M1: each county sends its people out (one dispatch per destination); the employer confirms them all."""
        groups: dict[tuple[str, str], list[str]] = {}
        for key, (dest, _) in PLAN.items():
            groups.setdefault((key[0], dest), []).append(key)
        ids = []
        for (letter, dest), keys in groups.items():
            county = COUNTIES[letter]
            d = await self.post("/v1/dispatches", {
                "dispatch_id": f"mon-{county}-{dest}", "organizer_id": workstation(county),
                "brand_id": BRAND["brand_id"], "mode": "directed_interregional", "origin_region": county,
                "destination_region": dest, "employer": EMPLOYER, "positions": ["普工"],
                "departure_date": self.day(1, 3).isoformat(), "occurred_at": self.at(1, 3, 8),
                "worker_ids": [self.workers[k] for k in keys]}, f"dispatch-{county}-{dest}", self.clerk(keys[0]))
            by_worker = {p["worker_id"]: p["placement_id"] for p in d["placements"]}
            for k in keys:
                self.placements[k] = by_worker[self.workers[k]]
            ids.append(d["event_id"])
        await self.applied(ids)
        ids = []
        for key, (_, wage) in PLAN.items():
            c = await self.post(f"/v1/placements/{self.placements[key]}/confirm", {
                "employer_id": EMPLOYER["employer_id"], "position": "普工", "start_date": self.day(1, 5).isoformat(),
                "monthly_wage": wage, "contract": True, "contract_months": 12, "occurred_at": self.at(1, 5)},
                f"confirm-{key}", self.employer)
            ids.append(c["event_id"])
        await self.applied(ids)

    async def followup(self, key: str, month: int, d: int, status: str = "on_job", wage: str | None = None,
                       problems: tuple[str, ...] = ()) -> str:
        body: dict[str, Any] = {"followup_id": f"mon-fu-{key}-{month}", "placement_id": self.placements[key],
                                "date": self.day(month, d).isoformat(), "channel": "phone" if d % 2 else "visit",
                                "employment_status": status, "problems": list(problems),
                                "occurred_at": self.at(month, d, 15)}
        if wage is not None:
            body["monthly_wage"] = wage
        return str((await self.post("/v1/followups", body, f"followup-{key}-{month}", self.clerk(key)))["event_id"])

    async def month2_on_time(self) -> None:
        """M2 as it happened at 秀英区 and 龙华区: follow-ups with new wages; three of 龙华区 come home (返乡)."""
        ids = [await self.followup("a1", 2, 10, wage="5200"), await self.followup("a3", 2, 11, wage="4100")]
        for key in ("b1", "b2", "b3"):
            ids.append(str((await self.post(f"/v1/placements/{self.placements[key]}/end", {
                "end_date": self.day(2, 20).isoformat(), "reason": "returned_home", "occurred_at": self.at(2, 20)},
                f"end-{key}", self.clerk(key)))["event_id"]))
        await self.applied(ids)

    async def month3(self) -> None:
        """M3: a2 reports unpaid wages."""
        await self.applied([await self.followup("a2", 3, 3, problems=("wage_arrears",))])

    async def late_sync(self) -> None:
        """文昌市's M2 follow-ups, recorded offline and sent a month late (event time: their own dates)."""
        await self.applied([await self.followup("c1", 2, 12, wage="3300"), await self.followup("c3", 2, 12, wage="6500"),
                            await self.followup("c4", 2, 15, problems=("wage_arrears",))])

    async def load(self) -> None:
        await self.register()
        await self.place()
        await self.month2_on_time()
        await self.month3()
        await self.late_sync()

    def arrears_alert(self, key: str, month: int) -> str:
        return f"wage_arrears:{self.placements[key]}:mon-fu-{key}-{month}"
