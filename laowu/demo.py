"""A small demo data set for ``make run``: Hainan's and Chongqing's brands, people, one organized output.

Loaded through the public HTTP API like any workstation would, with fixed Idempotency-Keys, so running
it again changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import date, timedelta
from typing import Any

import httpx
from faker import Faker

from laowu.auth import issue
from laowu.domain.identity import id_number_for
from laowu.people import registration
from laowu.settings import Settings

log = logging.getLogger(__name__)

BRANDS = [
    ("wenchang-chicken-chef", "文昌鸡师傅", "469005", "service", "provincial", "特色餐饮"),
    ("sanya-captain", "三亚船长", "460200", "culture_tourism", "provincial", "旅游"),
    ("yesao", "椰嫂", "460000", "service", "provincial", "家政服务"),
    ("qiongzhu", "琼筑劳务", "460000", "skilled", "provincial", "建筑"),
    ("tropical-farmer", "热带新农人", "460000", "agriculture", "provincial", "热带农业"),
    ("hainan-zongzi", "海南粽师", "460100", "service", "municipal", "特色餐饮"),
    ("yucai-chef", "渝菜师傅", "500000", "skilled", "municipal", "餐饮"),
    ("chengkou-builder", "城口建工", "500229", "skilled", "county", "建筑"),
]
DEMO_PASSWORD = "laowu-demo-2026"
"""The demo accounts' password (``make run`` prints it): for a local stack only, never a deployment's."""
ACCOUNTS = [  # (username, display name, role, org, region): one per role, the organizations of the demo data
    ("ws-demo", "文昌市劳务工作站（演示）", "workstation", "ws-469005-01", "469005"),
    ("employer-demo", "深圳某酒店（演示）", "employer", "emp-sz-hotel", "440300"),
    ("bureau-demo", "海南省人社厅（演示）", "bureau", "hrss-460000", "460000"),
    ("admin", "系统管理员（演示）", "admin", "laowu-ops", None),
]
COUNTIES = ["469005", "460106", "460107", "460202", "469001", "469002", "500101", "500229", "500242"]
PRIORITY = ["poverty_alleviated", "rural_low_income", "relocated", "left_behind_women", "disabled", "veteran"]


def people(n: int, seed: int = 2026) -> list[dict[str, Any]]:
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        region = rng.choice(COUNTIES)
        birth = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 38))
        seq = rng.randrange(1000)
        brand = next((b for b in BRANDS if b[2][:2] == region[:2]), BRANDS[0])
        out.append(registration(id_number_for(region, birth, seq), fake.name(), phone=fake.phone_number(),
                                brand_ids=[brand[0]],
                                priority_groups=[rng.choice(PRIORITY)] if rng.random() < 0.3 else []))
    return out


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], key: str,
                auth: dict[str, str] | None = None) -> dict[str, Any]:
    r = await client.post(path, json=body, headers={"Idempotency-Key": key, **(auth or {})})
    if r.status_code >= 400:
        raise RuntimeError(f"demo: {path} answered {r.status_code}: {r.text[:300]}")
    return dict(r.json())


async def _wait(client: httpx.AsyncClient, event_ids: list[str], timeout: float = 60,
                auth: dict[str, str] | None = None) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    for eid in event_ids:
        while (await client.get(f"/v1/events/{eid}", headers=auth)).json().get("status") == "accepted":
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("demo data was not applied in time")
            await asyncio.sleep(0.2)


def _as(settings: Settings, role: str, org: str, region: str | None) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue(settings, role=role, org=org, region=region, ttl_s=3600)}


async def create_demo_accounts(client: httpx.AsyncClient) -> list[str]:
    """One account per role (POST /v1/accounts as an admin); an account that exists already is left as it is.
    Returns the user names."""
    for username, display_name, role, org, region in ACCOUNTS:
        r = await client.post("/v1/accounts", json={"username": username, "display_name": display_name, "role": role,
                                                    "org": org, "region": region, "password": DEMO_PASSWORD})
        if r.status_code not in (201, 409):
            raise RuntimeError(f"demo: account {username}: {r.status_code}: {r.text[:300]}")
    return [a[0] for a in ACCOUNTS]


async def load_demo(api_url: str, settings: Settings, workers: int = 300) -> int:
    """Returns how many people the demo registered; each request carries the credential of who would send it.
    The demo accounts come first, so that a person can sign in even if the data set fails to load."""
    admin = _as(settings, "admin", "laowu-demo", None)
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=admin) as client:
        await create_demo_accounts(client)
        ids = [(await _post(client, "/v1/brands", {"brand_id": b, "name": n, "region_code": r, "category": c,
                                                    "level": lvl, "industry": ind}, f"demo-brand-{b}"))["event_id"]
               for b, n, r, c, lvl, ind in BRANDS]
        await _wait(client, ids)
        for b in BRANDS[:4]:
            await _post(client, f"/v1/brands/{b[0]}/status", {"status": "listed", "reason": "入库评审通过"},
                        f"demo-list-{b[0]}")
        bodies = people(workers)
        accepted, hainan = [], []
        for region in COUNTIES:  # each workstation registers its own people with its own credential
            mine = [p for p in bodies if p["household_region"] == region]
            clerk = _as(settings, "workstation", f"ws-{region}-01", region)
            batch = await _post(client, "/v1/events:batch", {"events": [
                {"type": "worker.registered", "payload": p} for p in mine]}, f"demo-workers-{region}", clerk)
            ok = [r for r in batch["results"] if r["status"] == "accepted"]
            accepted += ok
            if region == "469005":
                hainan = [r["worker_id"] for r in ok][:20]
        await _wait(client, [r["event_id"] for r in accepted])
        clerk = _as(settings, "workstation", "ws-469005-01", "469005")
        employer = _as(settings, "employer", "emp-sz-hotel", "440300")
        if hainan:
            departure = date.today() - timedelta(days=45)
            d = await _post(client, "/v1/dispatches", {
                "dispatch_id": "demo-dispatch-1", "organizer_id": "ws-469005-01", "brand_id": "wenchang-chicken-chef",
                "mode": "directed_interregional", "origin_region": "469005", "destination_region": "440300",
                "employer": {"employer_id": "emp-sz-hotel", "name": "深圳某酒店", "uscc": "91440300708461136T"},
                "positions": ["厨师"], "departure_date": departure.isoformat(), "group_transport": True,
                "worker_ids": hainan}, "demo-dispatch-1", clerk)
            await _wait(client, [d["event_id"]])
            for i, p in enumerate(d["placements"]):
                if i % 10 == 9:
                    await _post(client, f"/v1/placements/{p['placement_id']}/reject",
                                {"employer_id": "emp-sz-hotel", "reason": "未到岗"}, f"demo-reject-{i}", employer)
                else:
                    start = (departure + timedelta(days=2)).isoformat()
                    c = await _post(client, f"/v1/placements/{p['placement_id']}/confirm", {
                        "employer_id": "emp-sz-hotel", "position": "厨师", "start_date": start,
                        "monthly_wage": "6800", "contract": True, "contract_months": 12}, f"demo-confirm-{i}", employer)
                    if i % 3 == 0:
                        await _wait(client, [c["event_id"]], auth=employer)
                        await _post(client, "/v1/followups", {
                            "placement_id": p["placement_id"], "date": (departure + timedelta(days=20)).isoformat(),
                            "channel": "phone", "employment_status": "on_job", "monthly_wage": "6800", "satisfaction": 4,
                            "problems": ["wage_arrears"] if i == 0 else []}, f"demo-followup-{i}", clerk)
        await load_cooperation_demo(client, settings)
        log.info("demo data loaded: %d brands, %d people", len(BRANDS), len(accepted))
        return len(accepted)


COOPERATION_ACCOUNTS = [  # issue 19: the receiving side of the demo agreement, and a workstation posted there
    ("bureau-sz-demo", "深圳市人社局（演示）", "bureau", "bureau-440300", "440300"),
    ("ws-sz-demo", "文昌市驻深圳工作站（演示）", "workstation", "ws-469005-sz", "469005"),
]


async def load_cooperation_demo(client: httpx.AsyncClient, settings: Settings) -> None:
    """Issue 19: the 琼深 cooperation agreement (劳务协作) between Hainan and Shenzhen, signed by Hainan's bureau; a
    Wenchang workstation posted to Shenzhen (驻外工作站) by Shenzhen's bureau; two dispatches under the agreement
    (to 南山区 and 福田区) and one inside Hainan, so the agreement's progress, the flows and the receiving view have
    something to show. Their accounts (password ``DEMO_PASSWORD``) sign in to the console."""
    for username, display_name, role, org, region in COOPERATION_ACCOUNTS:
        r = await client.post("/v1/accounts", json={"username": username, "display_name": display_name, "role": role,
                                                    "org": org, "region": region, "password": DEMO_PASSWORD})
        if r.status_code not in (201, 409):
            raise RuntimeError(f"demo: account {username}: {r.status_code}: {r.text[:300]}")
    hainan, shenzhen = _as(settings, "bureau", "hrss-460000", "460000"), _as(settings, "bureau", "bureau-440300", "440300")
    today = date.today()
    signed = await _post(client, "/v1/agreements", {
        "agreement_id": "qiong-shen-demo", "name": "琼深劳务协作（演示）", "origin_region": "460000",
        "destination_region": "440300", "origin_bureau_id": "hrss-460000", "destination_bureau_id": "bureau-440300",
        "start_date": (today - timedelta(days=365)).isoformat(), "end_date": (today + timedelta(days=365)).isoformat(),
        "target_headcount": 50, "brand_ids": ["wenchang-chicken-chef", "yesao"]}, "demo-agreement-1", hainan)
    await _wait(client, [signed["event_id"]])
    r = await client.put("/v1/postings/ws-469005-sz", json={"posted_region": "440300", "note": "文昌驻深圳工作站"},
                         headers=shenzhen)
    if r.status_code != 200:
        raise RuntimeError(f"demo: posting: {r.status_code}: {r.text[:300]}")
    clerk = _as(settings, "workstation", "ws-469005-01", "469005")
    free = (await client.get("/v1/workers", params={"region": "469005", "state": "registered", "limit": 12},
                             headers=clerk)).json()["items"]
    ids = [w["worker_id"] for w in free]
    plan = [("demo-coop-1", "440305", ids[:5], "qiong-shen-demo"), ("demo-coop-2", "440304", ids[5:8], "qiong-shen-demo"),
            ("demo-coop-3", "460106", ids[8:10], None)]
    employer = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店", "uscc": "91440300708461136T"}
    events: list[str] = []
    placements: list[str] = []
    for key, destination, who, agreement in plan:
        if not who:
            continue
        body: dict[str, Any] = {
            "dispatch_id": key, "organizer_id": "ws-469005-01", "brand_id": "wenchang-chicken-chef",
            "mode": "cooperation" if agreement else "direct_intake", "origin_region": "469005",
            "destination_region": destination, "employer": employer, "positions": ["厨师"],
            "departure_date": (today - timedelta(days=30)).isoformat(), "worker_ids": who}
        if agreement:
            body["agreement_id"] = agreement
        answer = await _post(client, "/v1/dispatches", body, key, clerk)
        events.append(answer["event_id"])
        placements += [p["placement_id"] for p in answer["placements"]] if agreement else []
    await _wait(client, events)
    hotel = _as(settings, "employer", "emp-sz-hotel", "440300")
    for i, pid in enumerate(placements[:4]):  # the hotel confirms some: the agreement's progress counts them
        await _post(client, f"/v1/placements/{pid}/confirm", {
            "employer_id": "emp-sz-hotel", "position": "厨师", "start_date": (today - timedelta(days=28)).isoformat(),
            "monthly_wage": "7200", "contract": True, "contract_months": 12}, f"demo-coop-confirm-{i}", hotel)
