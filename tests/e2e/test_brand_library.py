"""The brand resource library as the bureau's console reads it: filters by category and level beside region and
status, and a brand's history with every status change and its reason (``GET /v1/brands/{brand_id}/history``)."""

from __future__ import annotations

import httpx
import pytest

from helpers import bearer, wait_receipt

pytestmark = pytest.mark.services

BUREAU = bearer("bureau", "hrss-460000", "460000")
EMPLOYER = bearer("employer", "emp-sz-hotel", "440300")
BRANDS = [
    {"brand_id": "lib-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "municipal"},
    {"brand_id": "lib-mason", "name": "琼州泥瓦匠", "region_code": "460100", "category": "skilled", "level": "provincial"},
    {"brand_id": "lib-tea", "name": "五指山茶农", "region_code": "469001", "category": "agriculture", "level": "county"},
]


async def test_brands_filtered_by_category_and_level_and_a_brand_history(api: httpx.AsyncClient, ledger: object) -> None:
    for b in BRANDS:
        r = await api.post("/v1/brands", json=b, headers=BUREAU)
        assert r.status_code == 202, r.text
        assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"

    async def ids(**params: str) -> list[str]:
        r = await api.get("/v1/brands", params=params, headers=BUREAU)
        assert r.status_code == 200, r.text
        return [b["brand_id"] for b in r.json()["items"]]

    assert await ids(category="skilled") == ["lib-mason"]
    assert await ids(level="county") == ["lib-tea"]
    assert await ids(category="service", level="municipal", region="469005") == ["lib-chef"]
    assert await ids(category="service", level="county") == []
    bad = await api.get("/v1/brands", params={"category": "cooking"}, headers=BUREAU)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "category"]

    for status, reason in (("listed", "评审通过入库"), ("suspended", "培训机构资质过期")):
        r = await api.post("/v1/brands/lib-chef/status", json={"status": status, "reason": reason}, headers=BUREAU)
        assert r.status_code == 202, r.text
        assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"

    # Every role reads the library, the history too; oldest first, status changes with their reasons and who.
    r = await api.get("/v1/brands/lib-chef/history", headers=EMPLOYER)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["type"] for i in items] == ["brand.registered", "brand.status_changed", "brand.status_changed"]
    assert [i["changes"]["status"] for i in items[1:]] == [["candidate", "listed"], ["listed", "suspended"]]
    assert items[2]["changes"]["reason"] == [None, "培训机构资质过期"]
    assert items[2]["actor"]["org"] == "hrss-460000"
    page = await api.get("/v1/brands/lib-chef/history", params={"limit": 2}, headers=BUREAU)
    rest = await api.get("/v1/brands/lib-chef/history", params={"cursor": page.json()["next_cursor"]}, headers=BUREAU)
    assert [i["seq"] for i in page.json()["items"] + rest.json()["items"]] == [i["seq"] for i in items]
    assert (await api.get("/v1/brands/no-such-brand/history", headers=BUREAU)).status_code == 404
