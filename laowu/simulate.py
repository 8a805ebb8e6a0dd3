"""Load generator: realistic traffic from many workstations and employers (``laowu simulate``).

What it sends, in the proportions a province sees (DOMAIN.md, the two seeds):

* the brand library first: 文昌鸡师傅, 三亚船长, 椰嫂, 琼筑劳务, 热带新农人, 海南粽师 (Hainan 46xxxx) and two
  Chongqing brands (50xxxx), then most of them listed (入库);
* real-name registrations (实名登记) of people with valid resident ID numbers whose address codes are real
  GB/T 2260 codes (faker's zh_CN table) — mostly Hainan and Chongqing, some migrants from elsewhere — at many
  workstations; ~5 % are the same person registered again at another workstation; ~25 % belong to a
  priority group (优先输出就业服务对象);
* organized labor output (有组织劳务输出): groups of 5–30 members of one brand to one employer, then per worker
  the employer's confirmation (~90 %) or rejection (no-show), follow-up visits (跟踪服务) and some separations;
* a few certificates, trainings and phone changes; ~0.1 % malformed events.

Field time (``occurred_at``) runs over the last months before an anchor (default: today, UTC midnight), so
the ledger looks like months of history replayed; stream order follows field time loosely, as offline
workstations sync late.

**Ordering.** Over Kafka, order holds per topic partition only: ``dispatch.created`` travels on the
dispatches topic, placement events on the workers topic. The ledger applies brands → dispatches → worker
events within one batch, but across batches a confirmation could overtake its dispatch and be rejected. So
every event that needs an earlier one to be *applied* is held back by ``lag`` stream positions (the CLI uses
``lag_seconds × rate``): workers become dispatchable, brands joinable and placements actionable only ``lag``
positions after the event that created them. The CLI paces on those positions (when nobody is left to
dispatch the stream idles rather than send early), so the lag holds in seconds. The ledger also parks an
event that arrives before what it needs (``deferred_events``); with a lag of a few seconds the expected number
of rejections is ~0 beyond the malformed events (the benchmark sees ~3 in 70,000).

**Determinism.** Everything is drawn from ``random.Random(seed)``; ``event_id`` = uuid5(namespace,
"seed:seq"). The same seed and anchor give the same event stream (the ciphertexts differ: AES-GCM nonces
are random by design). Pure generation lives in :class:`Generator` (no I/O); :class:`KafkaEncoder` turns an
event into the exact envelope the API would publish (its command decided by the API's handler, ``laowu.application``), and
:func:`batch_item` into a ``/v1/events:batch`` item.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import json
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from stdnum.cn import uscc as uscc_rules

from laowu.application import commands as cmd
from laowu.application.catalogue import decide, name, parse
from laowu.application.errors import Refused
from laowu.application.facts import Facts
from laowu.domain import ids, regions
from laowu.domain.identity import id_number_for
from laowu.intake import Context, Intake, InvalidRequest, PlacementRef
from laowu.people import registration, sex_of
from schemas.api import BatchItem
from schemas.common import Actor
from schemas.envelope import Outgoing
from schemas.topics import WORKERS, topic_for

if TYPE_CHECKING:
    from laowu.settings import Settings

NAMESPACE = ids.SIMULATION

# ---- reference data ------------------------------------------------------------------------------


def _cum(weights: tuple[float, ...] | list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: tuple[Any, ...] | list[Any], cum: list[float]) -> Any:
    """``rng.choices(items, cum_weights=cum)[0]`` without its per-call overhead."""
    return items[bisect.bisect(cum, rng.random() * cum[-1], 0, len(cum) - 1)]



@dataclass(frozen=True)
class BrandSeed:
    brand_id: str
    name: str
    region_code: str
    category: str
    level: str
    industry: str
    occupation_code: str
    position: str
    wage: tuple[int, int]  # monthly yuan range
    weight: float  # share of its province's registrations


BRANDS: tuple[BrandSeed, ...] = (
    BrandSeed("wenchang-chicken-chef", "文昌鸡师傅", "469005", "service", "provincial", "特色餐饮", "4-03-02-01",
              "厨师", (5200, 9000), 3),
    BrandSeed("sanya-captain", "三亚船长", "460200", "culture_tourism", "provincial", "旅游", "4-02-04-01",
              "游艇驾驶员", (6500, 12000), 1),
    BrandSeed("yesao", "椰嫂", "460000", "service", "provincial", "家政服务", "4-10-01-06", "家政服务员", (4200, 7500), 3),
    BrandSeed("qiongzhu", "琼筑劳务", "460000", "skilled", "provincial", "建筑", "6-29-01-01", "砌筑工", (5500, 9500), 3),
    BrandSeed("tropical-farmer", "热带新农人", "460000", "agriculture", "provincial", "热带农业", "5-01-02-01",
              "农艺工", (3800, 6500), 2),
    BrandSeed("hainan-zongzi", "海南粽师", "460100", "service", "municipal", "特色餐饮", "4-03-02-05", "面点师",
              (4500, 7800), 1),
    BrandSeed("yucai-chef", "渝菜师傅", "500000", "skilled", "municipal", "餐饮", "4-03-02-01", "中式烹调师",
              (5000, 9000), 3),
    BrandSeed("chengkou-builder", "城口建工", "500229", "skilled", "county", "建筑", "6-29-01-01", "建筑工",
              (5000, 9000), 1),
)
BRANDS_BY_ID = {b.brand_id: b for b in BRANDS}
LISTED = ("wenchang-chicken-chef", "sanya-captain", "yesao", "qiongzhu", "tropical-farmer", "yucai-chef")

# Where organized output goes (GB/T 2260 city codes), with weights.
DESTINATIONS: tuple[tuple[str, str, float], ...] = (
    ("440300", "深圳", 4), ("440100", "广州", 3), ("441900", "东莞", 2), ("330100", "杭州", 1.5),
    ("310000", "上海", 1.5), ("320500", "苏州", 1), ("460100", "海口", 3), ("460200", "三亚", 3),
    ("500000", "重庆", 1),
)
EMPLOYER_KINDS = ("酒店管理有限公司", "餐饮管理有限公司", "建筑工程有限公司", "家政服务有限公司", "农业开发有限公司",
                  "游艇俱乐部有限公司")
PRIORITY_GROUPS = ("poverty_alleviated", "rural_low_income", "relocated", "left_behind_women", "disabled", "veteran")
PRIORITY_WEIGHTS = (40, 25, 12, 12, 6, 5)
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "147", "150", "151", "152", "155",
                   "157", "158", "159", "166", "177", "180", "181", "182", "186", "187", "188", "189", "198", "199")
MODES = ("directed_interregional", "direct_intake", "cooperation")
END_REASONS = ("contract_ended", "resigned", "dismissed", "returned_home", "injury")
END_WEIGHTS = (30, 35, 8, 25, 2)
CHANNELS = ("phone", "visit", "online")
SATISFACTION = (1, 2, 3, 4, 5)
_END_CUM = _cum(END_WEIGHTS)
_CHANNEL_CUM = _cum((6, 3, 1))
_SATISFACTION_CUM = _cum((1, 2, 8, 20, 15))
_MODE_CUM = _cum((6, 3, 1))
_PRIORITY_CUM = _cum(PRIORITY_WEIGHTS)
_DEST_CUM = _cum([d[2] for d in DESTINATIONS])
SERVICES = ("政策宣讲", "岗位推荐", "技能培训推荐", "法律援助转介", "权益维护", "心理疏导")
ISSUERS = {"46": "海南省人力资源和社会保障厅", "50": "重庆市人力资源和社会保障局"}
CERTIFICATES = (("skill_level", "中式烹调师"), ("skill_level", "家政服务员"), ("special_operation", "高处作业"),
                ("qualification", "保育员"), ("special_ability", "文昌鸡制作"))


def _area_codes() -> tuple[list[str], list[str], list[str]]:
    """County-level codes from faker's zh_CN SSN table: (Hainan, Chongqing, elsewhere)."""
    from faker.providers.ssn.zh_CN import Provider

    codes = sorted({c for c in Provider.area_codes if not c.endswith("00")})
    hainan = [c for c in codes if c.startswith("46")]
    chongqing = [c for c in codes if c.startswith("50")]
    other = [c for c in codes if c[:2] not in ("46", "50")]
    return hainan, chongqing, other


def _name_tables() -> tuple[list[str], list[float], list[str]]:
    from faker.providers.person.zh_CN import Provider

    last = list(Provider.last_names)
    weights = list(itertools.accumulate(float(w) for w in Provider.last_names.values()))
    return last, weights, list(Provider.first_names)


def employer_uscc(region: str, n: int) -> str:
    """A well-formed unified social credit code (统一社会信用代码) for a synthetic company."""
    body = f"91{region}{n:08d}0"[:17]
    return body + uscc_rules.calc_check_digit(body)


# ---- the stream ----------------------------------------------------------------------------------


@dataclass(slots=True)
class SimEvent:
    """One generated event: an API batch item plus what a direct Kafka producer needs."""

    seq: int
    type: str
    event_id: uuid.UUID
    payload: dict[str, Any]  # the single endpoint's body (+ path id), with occurred_at
    sender: tuple[str, str, str | None] = ("admin", "simulator", None)  # (role, org, region) of the credential
    ref: PlacementRef | None = None  # placement events: whose and which employer's
    malformed: bool = False  # a registration with a broken check digit (422 via the API)
    duplicate: bool = False  # a further registration of a person already registered

    def batch_item(self) -> dict[str, Any]:
        return {"type": self.type, "event_id": str(self.event_id), "payload": self.payload}


@dataclass(slots=True)
class Person:
    idx: int
    id_number: str
    worker_id: str
    name: str
    sex: str
    birth: date
    phone: str
    region: str
    workstation: str
    brand: str
    priority: list[str]
    state: str = "new"  # new → registered; busy while on a dispatch/placement


@dataclass
class SimConfig:
    workers: int = 10_000
    seed: int = 2026
    total: int = 100_000  # planned stream length: spreads field time over ``span_days``
    lag: int = 2_000  # stream positions between an event and those that need it applied
    anchor: datetime = field(default_factory=lambda: datetime.now(UTC).replace(hour=0, minute=0, second=0,
                                                                                  microsecond=0))
    span_days: int = 180
    registration_share: float = 0.30
    duplicate_rate: float = 0.05
    priority_rate: float = 0.25
    malformed_rate: float = 0.001
    confirm_rate: float = 0.90
    end_rate: float = 0.45
    filler_rate: float = 0.03  # certificates, trainings, phone changes among new activities
    group: tuple[int, int] = (5, 30)


def _iso(t: datetime) -> str:
    return t.isoformat()


def _station(workstation_id: str) -> tuple[str, str, str | None]:
    """The credential of a workstation ``ws-<region>-NN``: its own org id, jurisdiction = its region."""
    return ("workstation", workstation_id, workstation_id.split("-")[1])


def _bureau(region: str) -> tuple[str, str, str | None]:
    province = region[:2] + "0000"
    return ("bureau", f"hrss-{province}", province)


class Generator:
    """The deterministic event stream. Iterate it, or ``take(n)``; ``registrations`` can be switched off
    (e.g. for a dispatch-only stream once everyone is registered) and ``fillers`` likewise."""

    def __init__(self, cfg: SimConfig, worker_id: Callable[[str], str]) -> None:
        self.cfg = cfg
        self.worker_id = worker_id
        self.rng = random.Random(cfg.seed)
        self.registrations = True
        self.fillers = True
        self.seq = 0  # events emitted
        self.vpos = 0  # virtual stream position (advances by one per event, jumps when idle)
        self.counts: Counter[str] = Counter()
        self.people: list[Person] = []
        self._ids: set[str] = set()
        self._hainan, self._chongqing, self._other = _area_codes()
        self._last, self._last_cum, self._first = _name_tables()
        self._pending: list[tuple[int, int, str, Any]] = []  # (due vpos, tiebreak, kind, data)
        self._tiebreak = itertools.count()
        self._brand_ready: dict[str, int] = {}
        self._available: dict[str, deque[tuple[int, int]]] = {b.brand_id: deque() for b in BRANDS}
        self._next_size = {b.brand_id: self.rng.randint(*cfg.group) for b in BRANDS}
        self._registered: list[int] = []  # person idx in registration order
        self._registered_ready: list[int] = []  # vpos at which each became usable
        self._dispatches = 0
        self._followups = 0
        self._employers = self._make_employers()
        self._start = cfg.anchor - timedelta(days=cfg.span_days)
        self._latest = cfg.anchor - timedelta(hours=1)
        self._setup = self._setup_events()

    # ---- helpers -------------------------------------------------------------------------------
    def _make_employers(self) -> dict[str, list[tuple[str, str, str]]]:
        out: dict[str, list[tuple[str, str, str]]] = {}
        rng = random.Random(self.cfg.seed ^ 0x5EED)
        for region, city, _ in DESTINATIONS:
            out[region] = []
            for j in range(6):
                kind = EMPLOYER_KINDS[(j + len(out)) % len(EMPLOYER_KINDS)]
                out[region].append((f"emp-{region}-{j + 1:02d}", f"{city}{rng.choice('华鑫盛隆泰宏嘉瑞')}{kind}",
                                    employer_uscc(region, rng.randrange(10**7))))
        return out

    def _field_time(self, vpos: int | None = None) -> datetime:
        """Field time for a stream position: months back at the start, just before the anchor at the end."""
        pos = self.vpos if vpos is None else vpos
        frac = min(pos / max(self.cfg.total, 1), 1.0)
        jitter = timedelta(minutes=self.rng.randrange(-600, 600))
        return min(self._start + (self.cfg.anchor - self._start) * frac + jitter, self._latest)

    def _clamp(self, t: datetime) -> datetime:
        return min(t, self._latest)

    def _emit(self, command: type[cmd.Command], payload: dict[str, Any], **extra: Any) -> SimEvent:
        type = name(command)
        ev = SimEvent(self.seq, type, uuid.uuid5(NAMESPACE, f"{self.cfg.seed}:{self.seq}"), payload, **extra)
        self.seq += 1
        self.vpos += 1
        self.counts[type] += 1
        return ev

    def _schedule(self, due: int, kind: str, data: Any) -> None:
        heapq.heappush(self._pending, (due, next(self._tiebreak), kind, data))

    # ---- people --------------------------------------------------------------------------------
    def _new_person(self) -> Person:
        rng = self.rng
        roll = rng.random()
        home = self._hainan if roll < 0.70 else self._chongqing if roll < 0.90 else self._other
        region = rng.choice(home)
        while True:
            birth = self.cfg.anchor.date() - timedelta(days=rng.randrange(18 * 366, 58 * 365))
            number = id_number_for(region, birth, rng.randrange(1000))
            if number not in self._ids:
                self._ids.add(number)
                break
        sex = sex_of(number)
        last = _pick(rng, self._last, self._last_cum)
        first = rng.choice(self._first) + (rng.choice(self._first) if rng.random() < 0.6 else "")
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if region[:2] == "46":
            brands = [b for b in BRANDS if b.region_code.startswith("46")]
        elif region[:2] == "50":
            brands = [b for b in BRANDS if b.region_code.startswith("50")]
        else:  # from elsewhere, registered at home by a labor-cooperation station, member of a partner brand
            brands = list(BRANDS)
        brand = rng.choices(brands, weights=[b.weight for b in brands])[0].brand_id
        priority: list[str] = []
        if rng.random() < self.cfg.priority_rate:
            priority = list(dict.fromkeys(_pick(rng, PRIORITY_GROUPS, _PRIORITY_CUM) for _ in range(rng.choice((1, 1, 2)))))
            if sex == "M" and "left_behind_women" in priority:
                priority = [g for g in priority if g != "left_behind_women"] or ["rural_low_income"]
        person = Person(len(self.people), number, self.worker_id(number), f"{last}{first}", sex, birth, phone, region,
                        f"ws-{region}-{rng.randrange(1, 4):02d}", brand, priority)
        self.people.append(person)
        return person

    def _registration(self, p: Person, workstation: str, phone: str, brand_ids: list[str]) -> dict[str, Any]:
        body = registration(p.id_number, p.name, workstation=workstation, phone=phone, brand_ids=brand_ids,
                            priority_groups=p.priority, occurred_at=_iso(self._field_time()))
        if brand_ids:
            body["occupation_code"] = BRANDS_BY_ID[brand_ids[0]].occupation_code
        return body

    def _brand_usable(self, brand_id: str) -> bool:
        return self._brand_ready.get(brand_id, 1 << 62) <= self.vpos

    def _register(self) -> SimEvent:
        registered = len(self._registered)
        if registered and self.rng.random() < self.cfg.duplicate_rate:
            p = self.people[self._registered[self.rng.randrange(registered)]]
            # Another station whose jurisdiction covers the person: the county's next one, or the province's.
            station = (f"ws-{p.region[:2]}0000-01" if self.rng.random() < 0.4
                       else f"ws-{p.region}-{int(p.workstation[-2:]) % 3 + 1:02d}")
            phone = p.phone if self.rng.random() < 0.5 else self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            brands = [p.brand] if self._brand_usable(p.brand) else []
            self.counts["duplicate"] += 1
            return self._emit(cmd.RegisterWorker, self._registration(p, station, phone, brands), duplicate=True,
                              sender=_station(station))
        p = self._new_person()
        brands = [p.brand] if self.rng.random() < 0.85 and self._brand_usable(p.brand) else []
        body = self._registration(p, p.workstation, p.phone, brands)
        p.state = "registered"
        ready = self.vpos + self.cfg.lag
        self._registered.append(p.idx)
        self._registered_ready.append(ready)
        if p.region[:2] == BRANDS_BY_ID[p.brand].region_code[:2]:  # stations dispatch people of their province
            self._available[p.brand].append((ready, p.idx))
        self.counts["people"] += 1
        if p.priority:
            self.counts["priority_people"] += 1
        return self._emit(cmd.RegisterWorker, body, sender=_station(p.workstation))

    def _malformed(self) -> SimEvent:
        """A registration whose ID number has a wrong check digit: refused at once by the API (422)."""
        p = self._new_person()
        self.people.pop()
        self._ids.discard(p.id_number)
        good = p.id_number[17]
        bad = "0" if good != "0" else "1"
        body = self._registration(p, p.workstation, p.phone, [])
        body["id_number"] = p.id_number[:17] + bad
        self.counts["malformed"] += 1
        return self._emit(cmd.RegisterWorker, body, malformed=True, sender=_station(p.workstation))

    def _filler(self) -> SimEvent | None:
        ready = bisect.bisect_right(self._registered_ready, self.vpos)
        if not ready:
            return None
        p = self.people[self._registered[self.rng.randrange(ready)]]
        roll = self.rng.random()
        at = _iso(self._field_time())
        if roll < 0.5:
            kind, name = self.rng.choice(CERTIFICATES)
            cert: dict[str, Any] = {"worker_id": p.worker_id, "kind": kind, "name": name, "occurred_at": at,
                                    "issuer": ISSUERS.get(p.region[:2], "人力资源和社会保障局")}
            if kind == "skill_level":
                cert["level"] = self.rng.choice((3, 4, 4, 5))
            return self._emit(cmd.AddCertificate, cert, sender=_station(p.workstation))
        if roll < 0.8:
            done = self._field_time().date() - timedelta(days=self.rng.randrange(1, 20))
            return self._emit(cmd.CompleteTraining, {
                "worker_id": p.worker_id, "name": f"{BRANDS_BY_ID[p.brand].name}技能培训", "provider": "职业技能培训中心",
                "hours": self.rng.choice((16, 24, 40, 80)), "completed_on": done.isoformat(), "occurred_at": at},
                sender=_station(p.workstation))
        p.phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
        return self._emit(cmd.UpdateWorker, {"worker_id": p.worker_id, "phone": p.phone, "occurred_at": at},
                          sender=_station(p.workstation))

    # ---- organized output ----------------------------------------------------------------------
    def _dispatchable(self) -> list[str]:
        """Brands with a full group ready (each brand waits for the size it drew for its next group)."""
        out = []
        for b, q in self._available.items():
            size = self._next_size[b]
            if len(q) >= size and q[size - 1][0] <= self.vpos and self._brand_usable(b):
                out.append(b)
        return out

    def _dispatch(self, brands: list[str]) -> SimEvent:
        rng = self.rng
        brand = BRANDS_BY_ID[rng.choices(brands, weights=[BRANDS_BY_ID[b].weight for b in brands])[0]]
        queue = self._available[brand.brand_id]
        size = self._next_size[brand.brand_id]
        self._next_size[brand.brand_id] = rng.randint(*self.cfg.group)
        members: list[Person] = []
        while queue and len(members) < size and queue[0][0] <= self.vpos:
            members.append(self.people[queue.popleft()[1]])
        self._dispatches += 1
        dispatch_id = f"dsp-{self.cfg.seed}-{self._dispatches:07d}"
        dest = _pick(rng, DESTINATIONS, _DEST_CUM)[0]
        if dest == brand.region_code:
            dest = "440300"
        employer_id, employer_name, employer_code = rng.choice(self._employers[dest])
        created = self._field_time()
        departure = created.date() + timedelta(days=rng.randrange(2, 8))
        # The organizing station must cover every member (API jurisdiction): the brand's region when it does,
        # else its province (省级劳务协作).
        origin = brand.region_code
        if not all(regions.covers(origin, m.region) for m in members):
            origin = origin[:2] + "0000"
        body = {
            "dispatch_id": dispatch_id, "organizer_id": f"ws-{origin}-01", "brand_id": brand.brand_id,
            "mode": _pick(rng, MODES, _MODE_CUM), "origin_region": origin, "destination_region": dest,
            "employer": {"employer_id": employer_id, "name": employer_name, "uscc": employer_code},
            "positions": [brand.position], "departure_date": departure.isoformat(),
            "group_transport": rng.random() < 0.7, "worker_ids": [m.worker_id for m in members],
            "occurred_at": _iso(created),
        }
        from laowu.domain.lifecycle import placement_id_for

        lag = self.cfg.lag
        for m in members:
            m.state = "busy"
            ref = PlacementRef(placement_id_for(dispatch_id, m.worker_id), m.worker_id, employer_id, body["organizer_id"])
            due = self.vpos + lag + rng.randrange(max(lag // 2, 1))
            self._schedule(due, "decide", (m.idx, ref, brand.brand_id, departure, dest, origin))
        self.counts["dispatched_workers"] += len(members)
        return self._emit(cmd.CreateDispatch, body, sender=_station(body["organizer_id"]))

    def _decide(self, data: tuple[int, PlacementRef, str, date, str, str]) -> SimEvent:
        idx, ref, brand_id, departure, dest, origin = data
        employer = ("employer", ref.employer_id, dest)
        rng = self.rng
        brand = BRANDS_BY_ID[brand_id]
        at = self._clamp(datetime.combine(departure, datetime.min.time(), UTC) + timedelta(hours=rng.randrange(20, 120)))
        if rng.random() >= self.cfg.confirm_rate:
            self._release(idx)
            return self._emit(cmd.RejectPlacement, {
                "placement_id": ref.placement_id, "employer_id": ref.employer_id,
                "reason": rng.choice(("未到岗", "体检未通过", "个人原因放弃", "岗位不匹配")), "occurred_at": _iso(at)},
                ref=ref, sender=employer)
        start = departure + timedelta(days=rng.randrange(0, 3))
        months = rng.choice((6, 12, 12, 24, 36))
        body = {"placement_id": ref.placement_id, "employer_id": ref.employer_id, "position": brand.position,
                "start_date": start.isoformat(), "monthly_wage": f"{rng.randrange(*brand.wage) // 100 * 100}.00",
                "contract": rng.random() < 0.92, "occurred_at": _iso(at)}
        if body["contract"]:
            body["contract_months"] = months
        today = self.cfg.anchor.date()
        lag = self.cfg.lag
        visits = [start + timedelta(days=rng.randrange(7, 30))] if rng.random() < 0.85 else []
        if visits and rng.random() < 0.45:
            visits.append(visits[0] + timedelta(days=rng.randrange(30, 90)))
        end = start + timedelta(days=rng.randrange(15, 300)) if rng.random() < self.cfg.end_rate else None
        for day in visits:
            if day < today:
                # Visits come after the confirmation is applied: the employer's and the station's batches travel
                # separately, and a follow-up of a placement not yet confirmed would be refused.
                self._schedule(self.vpos + lag // 2 + rng.randrange(max(lag // 2, 1)), "followup",
                               (idx, ref, day, body, end, _station(f"ws-{origin}-01")))
        if end is not None and end < today:
            self._schedule(self.vpos + lag // 2 + rng.randrange(max(lag // 2, 1)), "end", (idx, ref, end, employer))
        return self._emit(cmd.ConfirmPlacement, body, ref=ref, sender=employer)

    def _release(self, idx: int) -> None:
        p = self.people[idx]
        p.state = "registered"
        self._available[p.brand].append((self.vpos + self.cfg.lag, idx))

    def _end(self, data: tuple[int, PlacementRef, date, tuple[str, str, str | None]]) -> SimEvent:
        idx, ref, end, employer = data
        self._release(idx)
        reason = _pick(self.rng, END_REASONS, _END_CUM)
        at = self._clamp(datetime.combine(end, datetime.min.time(), UTC) + timedelta(hours=self.rng.randrange(8, 72)))
        return self._emit(cmd.EndPlacement, {"placement_id": ref.placement_id, "end_date": end.isoformat(),
                                              "reason": reason, "occurred_at": _iso(at)}, ref=ref, sender=employer)

    def _followup(self, data: tuple[int, PlacementRef, date, dict[str, Any], date | None, tuple[str, str, str | None]]
                  ) -> SimEvent:
        _idx, ref, day, confirm, end, station = data
        rng = self.rng
        self._followups += 1
        after_end = end is not None and day >= end
        status = ("returned_home" if rng.random() < 0.5 else "unemployed") if after_end else (
            "on_job" if rng.random() < 0.9 else "changed_job")
        problems = [k for k, p in (("wage_arrears", 0.03), ("no_contract", 0.04), ("injury", 0.01), ("dispute", 0.01))
                    if rng.random() < p] if rng.random() < 0.09 else []
        services = list(dict.fromkeys(SERVICES[rng.randrange(len(SERVICES))] for _ in range(rng.randrange(0, 3))))
        if problems and "法律援助转介" not in services:
            services.append("法律援助转介")
        at = self._clamp(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=rng.randrange(9, 40)))
        body: dict[str, Any] = {
            "followup_id": f"fu-{self.cfg.seed}-{self._followups:08d}", "placement_id": ref.placement_id,
            "date": day.isoformat(), "channel": _pick(rng, CHANNELS, _CHANNEL_CUM),
            "employment_status": status, "satisfaction": _pick(rng, SATISFACTION, _SATISFACTION_CUM),
            "problems": problems, "services": services, "occurred_at": _iso(at)}
        if status in ("on_job", "changed_job"):
            body["monthly_wage"] = confirm["monthly_wage"]
        return self._emit(cmd.RecordFollowUp, body, ref=ref, sender=station)

    # ---- the stream ----------------------------------------------------------------------------
    def _setup_events(self) -> Iterator[SimEvent]:
        for b in BRANDS:
            operator = {"name": f"{b.name}品牌运营中心", "kind": "hr_service_agency",
                        "uscc": employer_uscc(b.region_code, int(uuid.uuid5(NAMESPACE, b.brand_id).int % 10**7))}
            yield self._emit(cmd.RegisterBrand, {
                "brand_id": b.brand_id, "name": b.name, "region_code": b.region_code, "category": b.category,
                "level": b.level, "industry": b.industry, "occupation_code": b.occupation_code, "operator": operator,
                "occurred_at": _iso(self._start - timedelta(days=30))}, sender=_bureau(b.region_code))
            self._brand_ready[b.brand_id] = self.vpos + self.cfg.lag
        for bid in LISTED:
            yield self._emit(cmd.ChangeBrandStatus, {"brand_id": bid, "status": "listed", "reason": "入库评审通过",
                                                      "occurred_at": _iso(self._start - timedelta(days=20))},
                             sender=_bureau(BRANDS_BY_ID[bid].region_code))

    def __iter__(self) -> Iterator[SimEvent]:
        return self

    def __next__(self) -> SimEvent:
        for ev in self._setup:
            return ev
        if self.registrations and self.rng.random() < self.cfg.malformed_rate:
            return self._malformed()
        while True:
            if self._pending and self._pending[0][0] <= self.vpos:
                _, _, kind, data = heapq.heappop(self._pending)
                if kind == "decide":
                    return self._decide(data)
                if kind == "end":
                    return self._end(data)
                return self._followup(data)
            fresh = self._new_activity()
            if fresh is not None:
                return fresh
            if not self._pending:
                raise StopIteration  # nobody left to dispatch and nothing pending
            self.vpos = max(self.vpos, self._pending[0][0])  # idle until the next due event

    def _new_activity(self) -> SimEvent | None:
        rng = self.rng
        can_register = self.registrations and len(self._registered) < self.cfg.workers
        if self.fillers and self.registrations and rng.random() < self.cfg.filler_rate:
            ev = self._filler()
            if ev is not None:
                return ev
        want_registration = self.counts[name(cmd.RegisterWorker)] < self.cfg.registration_share * max(self.seq, 1)
        if can_register and want_registration:
            return self._register()
        brands = self._dispatchable()
        if brands:
            return self._dispatch(brands)
        if can_register:
            return self._register()
        return None

    def take(self, n: int) -> list[SimEvent]:
        return list(itertools.islice(self, n))

    def summary(self) -> dict[str, Any]:
        c = self.counts
        decided = c[name(cmd.ConfirmPlacement)] + c[name(cmd.RejectPlacement)]
        return {
            "events": self.seq, "by_type": {k: v for k, v in sorted(c.items()) if "." in k},
            "people": c["people"], "duplicate_registrations": c["duplicate"], "malformed": c["malformed"],
            "priority_share": round(c["priority_people"] / max(c["people"], 1), 4),
            "confirm_share": round(c[name(cmd.ConfirmPlacement)] / max(decided, 1), 4),
            "mean_group": round(c["dispatched_workers"] / max(c[name(cmd.CreateDispatch)], 1), 2),
        }


# ---- encodings -----------------------------------------------------------------------------------


def batch_item(ev: SimEvent) -> dict[str, Any]:
    return ev.batch_item()


class KafkaEncoder:
    """Builds the envelope the API would publish (same Intake: same validation, same encryption)."""

    def __init__(self, intake: Intake, topic: Callable[[str], str] = lambda name: name) -> None:
        self.intake = intake
        self.topic = topic

    def encode(self, ev: SimEvent) -> tuple[str, bytes, bytes, bool]:
        """(topic, key, value, a receipt is expected). Malformed events become bad bytes or a bad schema."""
        if ev.malformed:
            return self._malformed(ev)
        env = envelope(self.intake, ev)
        return self.topic(topic_for(env.type).name), env.key.encode(), env.to_bytes(), True

    def _malformed(self, ev: SimEvent) -> tuple[str, bytes, bytes, bool]:
        topic = self.topic(WORKERS.name)
        key = f"w{uuid.uuid5(NAMESPACE, str(ev.event_id)).hex[:24]}"
        if ev.seq % 2 == 0:  # not JSON at all: dead-lettered, no receipt (nothing names the event)
            return topic, key.encode(), b"\xff\xfe\x00garbage " + ev.event_id.bytes, False
        now = datetime.now(UTC).isoformat()
        body = {"event_id": str(ev.event_id), "type": name(cmd.RegisterWorker), "schema_version": 1, "occurred_at": now,
                "recorded_at": now, "source": ev.payload["workstation_id"], "key": key,
                "payload": {"worker_id": key, "name": ev.payload["name"], "sex": "X"}}  # schema: rejected receipt
        return topic, key.encode(), json.dumps(body, ensure_ascii=False).encode(), True


def actor_of(ev: SimEvent) -> Actor:
    role, org, region = ev.sender
    return Actor(role=role, org=org, region=region, subject=f"{role}:{org}")  # type: ignore[arg-type]


def encode_all(intake: Intake, events: list[SimEvent], topic: Callable[[str], str] = lambda n: n
               ) -> list[tuple[str, bytes, bytes, bool]]:
    enc = KafkaEncoder(intake, topic)
    return [enc.encode(e) for e in events]


def envelope(intake: Intake, ev: SimEvent) -> Outgoing:
    """The envelope the API would publish for ``ev``: its batch item parsed by the catalogue and decided by the same
    handler. A producer writing to the log directly vouches for what its events name (the ledger decides those),
    so the facts vouch for every brand and worker; a placement event knows its placement (``ev.ref``)."""
    facts = Facts.vouched(placements=[ev.ref] if ev.ref else [])
    command = parse(BatchItem.model_validate(ev.batch_item()))
    return decide(intake, command, facts, Context(actor=actor_of(ev), event_id=ev.event_id)).envelope


def validate_registration(intake: Intake, ev: SimEvent) -> None:
    """Raises InvalidRequest when the API would refuse this registration (its body alone: a registration of
    the sender's own jurisdiction is every generated one's)."""
    decide(intake, parse(BatchItem.model_validate(ev.batch_item())), Facts.vouched(), Context(event_id=ev.event_id,
           actor=Actor(role="admin", org="simulator")))


# ---- running it ----------------------------------------------------------------------------------


class _Pace:
    """Releases ``rate`` events per second (None: as fast as possible)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = time.monotonic()

    async def allow(self, sent: int) -> int:
        if not self.rate:
            return 1_000
        while True:
            budget = int((time.monotonic() - self.started) * self.rate) - sent
            if budget > 0:
                return budget
            await asyncio.sleep(0.01)


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]:>8.0f} ev/s"), TextColumn("{task.fields[info]}"), TimeElapsedColumn())


async def run_kafka(gen: Generator, intake: Intake, settings: Settings, bootstrap: str, total: int,
                    rate: float | None) -> dict[str, Any]:
    from laowu import kafka_security
    from laowu.publish import PARTITIONER

    topic = settings.topic
    producer = kafka_security.producer(settings, bootstrap=bootstrap, enable_idempotence=True, acks="all",
                                       linger_ms=5, max_batch_size=256 << 10, max_request_size=2 << 20,
                                       partitioner=PARTITIONER)
    await producer.start()
    enc = KafkaEncoder(intake, topic)
    pace = _Pace(rate)
    sent = refused = receipts = 0
    started = time.monotonic()
    try:
        with _progress() as progress:
            task = progress.add_task("kafka", total=total, rate=0.0, info="")
            pending: list[asyncio.Future[Any]] = []
            while sent < total:
                budget = await pace.allow(gen.vpos)
                events = gen.take(min(budget, total - sent, 2_000))
                if not events:
                    break  # the stream ran dry: nobody left to dispatch and nothing pending
                for ev in events:
                    sent += 1
                    try:
                        t, key, value, expect = enc.encode(ev)
                    except (InvalidRequest, Refused):  # what the API would refuse at once
                        refused += 1
                        continue
                    receipts += expect
                    pending.append(await producer.send(t, value=value, key=key))
                if len(pending) > 5_000:
                    await asyncio.gather(*pending)
                    pending.clear()
                elapsed = max(time.monotonic() - started, 1e-6)
                progress.update(task, completed=sent, rate=sent / elapsed, info=f"refused {refused}")
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    elapsed = time.monotonic() - started
    return {"via": "kafka", "sent": sent, "refused_locally": refused, "receipts_expected": receipts,
            "seconds": round(elapsed, 2), "rate": round(sent / max(elapsed, 1e-6), 1), "stream": gen.summary()}


async def run_api(gen: Generator, api_url: str, total: int, rate: float | None, settings: Any,
                  concurrency: int = 4) -> dict[str, Any]:
    """POST ``/v1/events:batch`` chunks, each with the credential of its sender (workstation, employer, bureau)."""
    import httpx

    from laowu.auth import issue

    tokens: dict[tuple[str, str, str | None], str] = {}

    def auth(sender: tuple[str, str, str | None]) -> dict[str, str]:
        if sender not in tokens:
            role, org, region = sender
            tokens[sender] = issue(settings, role=role, org=org, region=region, ttl_s=24 * 3600)
        return {"Authorization": f"Bearer {tokens[sender]}"}

    pace = _Pace(rate)
    queue: asyncio.Queue[list[SimEvent] | None] = asyncio.Queue(maxsize=concurrency * 4)
    stats: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    started = time.monotonic()
    chunk = 1_000 if not rate else max(1, min(1_000, int(rate / 5)))

    async def poster(client: httpx.AsyncClient) -> None:
        while (events := await queue.get()) is not None:
            body = {"events": [e.batch_item() for e in events]}
            headers = {**auth(events[0].sender), "Idempotency-Key": f"sim-{gen.cfg.seed}-{events[0].seq}"}
            for attempt in range(5):
                try:
                    r = await client.post("/v1/events:batch", json=body, headers=headers)
                    if r.status_code != 429:
                        break
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                except httpx.TransportError:
                    await asyncio.sleep(0.5 * (attempt + 1))
            else:
                stats["gave_up"] += len(events)
                continue
            if r.status_code != 200:
                stats[f"http_{r.status_code}"] += len(events)
                reasons[r.text[:60]] += len(events)
                continue
            for res in r.json()["results"]:
                stats[res["status"]] += 1
                if res["status"] == "rejected":
                    reasons[(res.get("reason") or "")[:60]] += 1

    def show(progress: Any, task: Any, sent: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        progress.update(task, completed=sent, rate=sent / elapsed,
                        info=f"accepted {stats['accepted']} rejected {stats['rejected']}")

    async with httpx.AsyncClient(base_url=api_url, timeout=120) as client:
        workers = [asyncio.create_task(poster(client)) for _ in range(concurrency)]
        sent = 0
        with _progress() as progress:
            task = progress.add_task("api", total=total, rate=0.0, info="")
            while sent < total:
                budget = await pace.allow(gen.vpos)
                events = gen.take(min(budget, total - sent, chunk))
                if not events:
                    break
                sent += len(events)
                by_sender: dict[tuple[str, str, str | None], list[SimEvent]] = {}
                for e in events:
                    by_sender.setdefault(e.sender, []).append(e)
                for group in by_sender.values():
                    await queue.put(group)
                show(progress, task, sent)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
            show(progress, task, sent)
    elapsed = time.monotonic() - started
    return {"via": "api", "sent": sent, **dict(stats), "rejected_reasons": dict(reasons.most_common(5)),
            "seconds": round(elapsed, 2), "rate": round(sent / max(elapsed, 1e-6), 1), "stream": gen.summary()}


def main(workers: int, rate: float, duration: float, via: str, seed: int, api_url: str | None,
         lag_seconds: float = 5.0, anchor: str | None = None, concurrency: int = 4) -> int:
    """``laowu simulate``: prints a JSON summary on its last line."""
    from laowu.privacy import Privacy
    from laowu.settings import get_settings

    settings = get_settings()
    total = max(1, int(rate * duration))
    cfg = SimConfig(workers=workers, seed=seed, total=total, lag=max(50, int(rate * lag_seconds)))
    if anchor:
        cfg.anchor = datetime.fromisoformat(anchor).replace(tzinfo=UTC)
    privacy = Privacy(settings)
    gen = Generator(cfg, privacy.worker_id)
    if via == "kafka":
        bootstrap = settings.kafka_bootstrap or _stack_value(settings, "kafka_bootstrap")
        result = asyncio.run(run_kafka(gen, Intake(privacy), settings, bootstrap, total, rate))
    else:
        url = api_url or _stack_value(settings, "api_url", required=False) or f"http://{settings.api_host}:{settings.api_port}"
        result = asyncio.run(run_api(gen, url, total, rate, settings, concurrency))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _stack_value(settings: Any, key: str, required: bool = True) -> str:
    from laowu.stack.launcher import Stack

    value = (Stack(settings).status_document() or {}).get(key)
    if not value and required:
        raise SystemExit(f"{key} is not set and no local stack is running (`laowu up --detach` starts one)")
    return str(value or "")
