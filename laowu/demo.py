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
from laowu.domain.regions import region_name
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
    ("reviewer-demo", "评审专家（演示）", "reviewer", "expert-panel-460000", "460000"),  # issue 21: 评审专家
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
        await register_workstations(client)
        ids = [(await _post(client, "/v1/brands", {"brand_id": b, "name": n, "region_code": r, "category": c,
                                                    "level": lvl, "industry": ind}, f"demo-brand-{b}"))["event_id"]
               for b, n, r, c, lvl, ind in BRANDS]
        await _wait(client, ids)
        for b in BRANDS[:4]:
            await _post(client, f"/v1/brands/{b[0]}/status", {"status": "listed", "reason": "入库评审通过"},
                        f"demo-list-{b[0]}")
        bodies = people(workers)
        accepted, hainan, seeking = [], [], []
        for region in COUNTIES:  # each workstation registers its own people with its own credential
            mine = [p for p in bodies if p["household_region"] == region]
            clerk = _as(settings, "workstation", f"ws-{region}-01", region)
            batch = await _post(client, "/v1/events:batch", {"events": [
                {"type": "worker.registered", "payload": p} for p in mine]}, f"demo-workers-{region}", clerk)
            ok = [r for r in batch["results"] if r["status"] == "accepted"]
            accepted += ok
            if region == "469005":
                hainan = [r["worker_id"] for r in ok][:20]
                seeking = [r["worker_id"] for r in ok][20:]
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
            await load_subsidy_demo(client, settings, [p["placement_id"] for p in d["placements"]])
        await load_monitoring_demo(client, settings)
        await load_brand_management(client, settings, hainan[:1])
        await load_demo_demands(client, settings, seeking)
        await load_cooperation_demo(client, settings)
        log.info("demo data loaded: %d brands, %d people", len(BRANDS), len(accepted))
        return len(accepted)


async def register_workstations(client: httpx.AsyncClient) -> None:
    """Each county's workstation in the organization registry by its name, before its first dispatch, so the people
    who see its dispatches (an employer's 待确认到岗, a demand's proposals) read 海南省文昌市劳务工作站, not its id."""
    ids = []
    for region in COUNTIES:
        org = {"org_id": f"ws-{region}-01", "kind": "workstation", "name": f"{region_name(region)}劳务工作站",
               "region_code": region}
        ids.append((await _post(client, "/v1/organizations", org, f"demo-ws-{region}"))["event_id"])
    await _wait(client, ids)


async def load_monitoring_demo(client: httpx.AsyncClient, settings: Settings) -> None:
    """Issue 20: the monitoring story (``laowu.monitoring_demo``: 12 priority-group people of 秀英区, 龙华区 and 文昌市
    over the last months, 龙华区's drop, two wage-arrears alerts) and its accounts: a clerk of 秀英区 (``clerk-105``)
    and the bureaus of 秀英区 and 海口市 (``bureau-105``, ``bureau-city``), password as the other demo accounts. The
    running sweeper raises the county's alert and escalates the unacknowledged case on its own."""
    from laowu.monitoring_demo import Story

    for username, name, role, org, region in (
            ("clerk-105", "秀英区劳务工作站（演示）", "workstation", "ws-460105-01", "460105"),
            ("bureau-105", "海口市秀英区人社局（演示）", "bureau", "hrss-460105", "460105"),
            ("bureau-city", "海口市人社局（演示）", "bureau", "hrss-460100", "460100")):
        r = await client.post("/v1/accounts", json={"username": username, "display_name": name, "role": role,
                                                    "org": org, "region": region, "password": DEMO_PASSWORD})
        if r.status_code not in (201, 409):
            raise RuntimeError(f"demo: account {username}: {r.status_code}: {r.text[:300]}")
    await Story(client, settings).load()


async def load_brand_management(client: httpx.AsyncClient, settings: Settings, workers: list[str]) -> None:
    """Brand dynamic management (issue 21): an entry application for 海南粽师 under review by three experts, two of
    whom have scored (reviewer-demo's score is the one the console's reviewer page is waiting for), a complaint
    about 三亚船长, and typical persons of 椰嫂 and 文昌鸡师傅."""
    bureau = _as(settings, "bureau", "hrss-460000", "460000")
    brand = "hainan-zongzi"
    app = await _post(client, f"/v1/brands/{brand}/applications", {
        "application_id": "demo-app-zongzi", "kind": "entry", "note": "海南粽师申请入库（演示）"}, "demo-app-zongzi", bureau)
    await _wait(client, [app["event_id"]], auth=bureau)
    assigned = await _post(client, f"/v1/brands/{brand}/reviewers", {
        "application_id": "demo-app-zongzi", "reviewers": ["reviewer-demo", "expert-li", "expert-wang"]},
        "demo-app-zongzi-reviewers", bureau)
    await _wait(client, [assigned["event_id"]], auth=bureau)
    for expert, points in (("expert-li", (20, 18, 19, 21)), ("expert-wang", (18, 17, 20, 19))):
        scores = [{"item": item, "score": n} for item, n in zip(("scale", "skills", "quality", "reputation"), points,
                                                                  strict=True)]
        await _post(client, f"/v1/brands/{brand}/scores", {"application_id": "demo-app-zongzi", "scores": scores,
                                                           "comment": "材料齐全（演示）"},
                    f"demo-score-{expert}", _as(settings, "reviewer", expert, "460000"))
    await _post(client, "/v1/brands/sanya-captain/complaints", {
        "complaint_id": "demo-complaint-1", "kind": "complaint", "summary": "游客投诉船长服务态度（演示）",
        "substantiated": True}, "demo-complaint-1", bureau)
    await _post(client, "/v1/brands/yesao/persons", {
        "person_id": "demo-person-yesao", "title": "founder", "name": "符阿姨", "phone": "13800138000",
        "story": "二十年家政从业，带出椰嫂品牌（演示）"}, "demo-person-yesao", bureau)
    for worker_id in workers:
        await _post(client, "/v1/brands/wenchang-chicken-chef/persons", {
            "person_id": "demo-person-chef", "title": "ambassador", "worker_id": worker_id,
            "story": "文昌鸡师傅形象代言人（演示）"}, "demo-person-chef", bureau)


DEMO_CHEF, DEMO_ROOM = "4-03-02-01", "4-03-01-02"


async def load_demo_demands(client: httpx.AsyncClient, settings: Settings, seeking: list[str]) -> None:
    """Issue 19: the demo employer's job demand (a chef needing a 职业技能等级证书 level 4, room attendants with two
    爱心岗位) published to Hainan, and the 求职意向 of some of 文昌's people who are not on a placement."""
    employer = _as(settings, "employer", "emp-sz-hotel", "440300")
    clerk = _as(settings, "workstation", "ws-469005-01", "469005")
    start = (date.today() + timedelta(days=35)).isoformat()
    demand = {
        "demand_id": "demo-demand-sz-hotel", "title": "2027 春季酒店用工",
        "employer": {"employer_id": "emp-sz-hotel", "name": "深圳某酒店", "uscc": "91440300708461136T"},
        "closing_date": (date.today() + timedelta(days=30)).isoformat(), "origin_regions": ["460000"],
        "contact": {"name": "人事部 李女士", "phone": "13800138000"},
        "positions": [
            {"position_id": "chef", "title": "中式烹调师", "occupation_code": DEMO_CHEF, "headcount": 4,
             "wage_min": "6500", "wage_max": "8500", "work_region": "440305", "start_date": start,
             "certificates": [{"kind": "skill_level", "name": "中式烹调师", "level": 4}], "age_min": 20,
             "age_max": 50, "brand_id": "wenchang-chicken-chef"},
            {"position_id": "room", "title": "客房服务员", "occupation_code": DEMO_ROOM, "headcount": 6,
             "wage_min": "4800", "wage_max": "5800", "work_region": "440305", "start_date": start,
             "reserved_posts": 2}]}
    posted = await _post(client, "/v1/events:batch", {"events": [{"type": "demand.posted", "payload": demand}]},
                         "demo-demand-1", employer)
    rng = random.Random(19)
    events = []
    for i, wid in enumerate(seeking[:16]):
        occupation = DEMO_CHEF if i % 2 == 0 else DEMO_ROOM
        events.append({"type": "worker.intention_recorded", "payload": {
            "worker_id": wid, "occupations": [occupation], "destinations": [rng.choice(["440300", "440000", "460100"])],
            "min_monthly_wage": str(rng.choice([4500, 5500, 6500, 7500])),
            "available_from": (date.today() + timedelta(days=rng.randrange(40))).isoformat(),
            "not_working_reason": rng.choice(["no_suitable_job", "caring_for_family", "waiting_for_work"])}})
        if i % 4 == 0:
            events.append({"type": "worker.certificate_added", "payload": {
                "worker_id": wid, "kind": "skill_level", "name": "中式烹调师", "level": rng.choice([3, 4, 5])}})
    recorded = await _post(client, "/v1/events:batch", {"events": events}, "demo-intentions-1", clerk) if events else {}
    await _wait(client, [r["event_id"] for r in posted["results"] if r.get("event_id")], auth=employer)
    await _wait(client, [r["event_id"] for r in recorded.get("results", []) if r.get("event_id")], auth=clerk)


ORGANIZATIONS = [  # issue 21: a training institution, an HR service agency, a labour broker who is a person
    {"org_id": "org-wc-training", "kind": "training_institution", "name": "文昌市职业技能培训学校",
     "region_code": "469005", "uscc": "52469005MJ0000003W", "contact_name": "王老师"},
    {"org_id": "org-hn-hr", "kind": "hr_service_agency", "name": "海南某人力资源服务有限公司", "region_code": "460100",
     "uscc": "91469005MA5T000017"},
]


async def load_subsidy_demo(client: httpx.AsyncClient, settings: Settings, placement_ids: list[str]) -> None:
    """Issue 21: organizations in the registry (the workstations registered by name before their first dispatch,
    the hotel by the dispatch on first use), and the demo dispatch's entitlements through the workflow — applied
    for, reviewed (one refused), on a public notice that ended, most of them paid — so every page of 补贴与机构 has
    something to show."""
    clerk = _as(settings, "workstation", "ws-469005-01", "469005")
    bureau = _as(settings, "bureau", "hrss-460000", "460000")
    for org in ORGANIZATIONS:
        await _post(client, "/v1/organizations", org, f"demo-org-{org['org_id']}", bureau)
    broker = id_number_for("469005", date(1978, 4, 2), 88)
    await _post(client, "/v1/organizations", {"kind": "labour_broker", "name": "符大姐", "region_code": "469005",
                                              "id_number": broker, "contact_phone": "13907560088"},
                "demo-org-broker", clerk)
    placement_ids = placement_ids + await _second_dispatch(client, settings)
    r = await _post(client, "/v1/organizations/ws-469005-01/verification",
                    {"status": "verified", "reason": "工作站备案材料齐全"}, "demo-org-verify", bureau)
    await _wait(client, [r["event_id"]])
    wanted, mine, seen = set(placement_ids), [], -1
    for _ in range(40):  # the confirmations were sent without waiting: until their entitlements stop arriving
        found = (await client.get("/v1/subsidies", params={"organization_id": "ws-469005-01", "limit": 500},
                                  headers=bureau)).json()["items"]
        mine = [s for s in found if s["placement_id"] in wanted and s["status"] == "entitled"]
        if mine and len(mine) == seen:
            break
        seen = len(mine)
        await asyncio.sleep(0.5)
    step = [(await _post(client, f"/v1/subsidies/{s['subsidy_id']}/application", {"note": "材料已收齐"},
                         f"demo-apply-{s['subsidy_id']}", clerk))["event_id"] for s in mine]
    await _wait(client, step)
    start = date.today() - timedelta(days=10)
    for n, s in enumerate(mine[:-2]):  # the last two wait on the review page
        refuse = n == 0
        r = await _post(client, f"/v1/subsidies/{s['subsidy_id']}/review", {
            "decision": "refused" if refuse else "approved",
            "reason": "未参加城镇职工社会保险" if refuse else "材料齐全，符合条件",
            "checked": ["身份", "就业", "优先群体", "重复享受"]}, f"demo-review-{s['subsidy_id']}", bureau)
        await _wait(client, [r["event_id"]])
        if refuse:
            continue
        r = await _post(client, f"/v1/subsidies/{s['subsidy_id']}/notice", {
            "notice_id": "gs-demo-01", "start_date": start.isoformat(), "days": 7},
            f"demo-notice-{s['subsidy_id']}", bureau)
        await _wait(client, [r["event_id"]])
        if n % 2 == 0:  # half paid; the rest wait on the payments page
            await _post(client, f"/v1/subsidies/{s['subsidy_id']}/payment", {
                "paid_on": (start + timedelta(days=8)).isoformat(), "voucher_number": f"PZ-DEMO-{n:04d}",
                "amount": s["amount"]}, f"demo-pay-{s['subsidy_id']}", bureau)


async def _second_dispatch(client: httpx.AsyncClient, settings: Settings) -> list[str]:
    """Four priority-group people of 文昌 sent to a Haikou hotel (省内跨市) a hundred days ago, confirmed: their
    transport and social-insurance entitlements now, the service subsidy and migrant bonus when the sweeper passes."""
    clerk = _as(settings, "workstation", "ws-469005-01", "469005")
    employer = _as(settings, "employer", "emp-hk-hotel", "460105")
    bodies = [registration(id_number_for("469005", date(1985, 3, 1) + timedelta(days=40 * n), 700 + n), name,
                           brand_ids=["wenchang-chicken-chef"], priority_groups=["poverty_alleviated"])
              for n, name in enumerate(["符海燕", "陈文强", "林小妹", "吴家兴"])]
    batch = await _post(client, "/v1/events:batch", {"events": [{"type": "worker.registered", "payload": b}
                                                                for b in bodies]}, "demo-workers-subsidy", clerk)
    await _wait(client, [r["event_id"] for r in batch["results"] if r["status"] == "accepted"])
    departure = date.today() - timedelta(days=100)
    d = await _post(client, "/v1/dispatches", {
        "dispatch_id": "demo-dispatch-2", "organizer_id": "ws-469005-01", "brand_id": "wenchang-chicken-chef",
        "mode": "directed_interregional", "origin_region": "469005", "destination_region": "460105",
        "employer": {"employer_id": "emp-hk-hotel", "name": "海口某酒店"}, "positions": ["厨师"],
        "departure_date": departure.isoformat(), "group_transport": True,
        "worker_ids": [r["worker_id"] for r in batch["results"]]}, "demo-dispatch-2", clerk)
    await _wait(client, [d["event_id"]])
    confirms = [(await _post(client, f"/v1/placements/{p['placement_id']}/confirm", {
        "employer_id": "emp-hk-hotel", "position": "厨师", "start_date": (departure + timedelta(days=2)).isoformat(),
        "monthly_wage": "5600", "contract": True}, f"demo-confirm-2-{i}", employer))["event_id"]
        for i, p in enumerate(d["placements"])]
    await _wait(client, confirms, auth=employer)
    return [p["placement_id"] for p in d["placements"]]


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
