"""The ledger consumer: worker and brand events → the real-name ledger and the brand resource library."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import ValidationError

from consumers.base import BatchConsumer
from laowu.domain import brands as brand_rules
from laowu.domain import workers as worker_rules
from laowu.domain.errors import DomainError
from laowu.domain.identity import parse_id_number
from laowu.domain.outcome import Changes, Rejected
from laowu.privacy import Privacy
from laowu.store import ledger as store
from schemas.envelope import Envelope
from schemas.topics import BRANDS, WORKERS

log = logging.getLogger(__name__)

Rule = Callable[[Any, dict[str, Any], datetime], tuple[Any, Changes]]

WORKER_RULES: dict[str, Rule] = {
    "worker.registered": worker_rules.register,
    "worker.updated": worker_rules.update,
    "worker.certificate_added": worker_rules.add_certificate,
    "worker.training_completed": worker_rules.complete_training,
    "worker.brand_joined": worker_rules.join_brand,
}
BRAND_RULES: dict[str, Rule] = {
    "brand.registered": brand_rules.register,
    "brand.updated": brand_rules.update,
    "brand.status_changed": brand_rules.change_status,
}
CLOSED_BRAND_STATES = {"suspended", "revoked"}


class InvalidEvent(Exception):
    """Wire-level problem: the message can never be applied, whatever the ledger holds."""


class LedgerConsumer(BatchConsumer):
    group = "ledger"

    def __init__(self, *args: Any, privacy: Privacy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.privacy = privacy
        self.topics = [self.settings.topic(BRANDS.name), self.settings.topic(WORKERS.name)]

    # ---- decoding -----------------------------------------------------------------------------
    def decode(self, msg: ConsumerRecord) -> Envelope:
        if msg.value is None:
            raise InvalidEvent("empty message (tombstone) on an event topic")
        try:
            env = Envelope.from_bytes(msg.value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidEvent(f"schema: {where}: {first['msg']} ({exc.error_count()} error(s))") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidEvent(f"undecodable: {exc}") from None
        if env.type not in WORKER_RULES and env.type not in BRAND_RULES:
            raise InvalidEvent(f"{env.type} does not belong on {msg.topic}")
        entity = env.payload.get("worker_id") or env.payload.get("brand_id")
        if env.key != entity or (msg.key is not None and msg.key.decode("utf-8", "replace") != entity):
            raise InvalidEvent("partition key does not match the payload's worker_id/brand_id")
        if env.type == "worker.registered":
            self._check_identity(env.payload)
        return env

    def _check_identity(self, p: dict[str, Any]) -> None:
        """A producer that bypassed the API must not be able to plant an inconsistent person."""
        try:
            id_number = self.privacy.cipher.decrypt(p["id_number_enc"], "id_number")
        except Exception:
            raise InvalidEvent("id_number_enc cannot be decrypted with any configured key") from None
        try:
            info = parse_id_number(id_number)
        except DomainError as exc:
            raise InvalidEvent(str(exc)) from None
        if self.privacy.worker_id(info.number) != p["worker_id"]:
            raise InvalidEvent("worker_id is not the keyed hash of the ID number")
        if info.sex != p["sex"] or info.birth_date.isoformat() != str(p["birth_date"]):
            raise InvalidEvent("sex or birth_date disagrees with the ID number")

    # ---- applying -----------------------------------------------------------------------------
    async def apply_batch(self, conn: asyncpg.Connection, records: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        events: list[Envelope] = []
        receipts: list[dict[str, Any]] = []
        for msgs in records.values():
            for msg in msgs:
                try:
                    events.append(self.decode(msg))
                except InvalidEvent as exc:
                    await self.dead_letter(msg, str(exc))
                    receipt = _receipt_for_invalid(msg, str(exc))
                    if receipt:
                        receipts.append(receipt)
        # Brands first: a registration in the same batch may name a brand registered just before it.
        events.sort(key=lambda e: 0 if e.type in BRAND_RULES else 1)
        done = await store.decided_events(conn, [e.event_id for e in events])
        seen: set[uuid.UUID] = set()
        todo = []
        for e in events:
            if e.event_id not in done and e.event_id not in seen:
                seen.add(e.event_id)
                todo.append(e)

        brand_ids = {e.payload["brand_id"] for e in todo if e.type in BRAND_RULES}
        brand_ids |= {b for e in todo for b in e.payload.get("brand_ids", [])}
        brand_ids |= {e.payload["brand_id"] for e in todo if e.type == "worker.brand_joined"}
        brands = await store.load_brands(conn, brand_ids)
        workers = await store.load_workers(conn, {e.payload["worker_id"] for e in todo if e.type in WORKER_RULES})

        changed_workers: dict[str, worker_rules.WorkerRecord] = {}
        changed_brands: dict[str, brand_rules.BrandRecord] = {}
        worker_history: list[dict[str, Any]] = []
        brand_history: list[dict[str, Any]] = []
        for e in todo:
            try:
                if e.type in BRAND_RULES:
                    bid = e.payload["brand_id"]
                    brand, changes = BRAND_RULES[e.type](brands.get(bid), e.payload, e.occurred_at)
                    brand.version += 1
                    brands[bid] = changed_brands[bid] = brand
                    brand_history.append(_history(e, "brand_id", bid, changes))
                    entity = bid
                else:
                    _check_brands(e, brands)
                    wid = e.payload["worker_id"]
                    worker, changes = WORKER_RULES[e.type](workers.get(wid), e.payload, e.occurred_at)
                    worker.version += 1
                    workers[wid] = changed_workers[wid] = worker
                    worker_history.append(_history(e, "worker_id", wid, changes))
                    entity = wid
                receipts.append(_receipt(e, "applied", None, entity))
            except Rejected as exc:
                receipts.append(_receipt(e, "rejected", exc.reason, e.key))

        await store.save_brands(conn, list(changed_brands.values()))
        await store.save_workers(conn, list(changed_workers.values()))
        await store.append_history(conn, "brand_events", brand_history)
        await store.append_history(conn, "worker_events", worker_history)
        await store.decide(conn, receipts)
        return len(receipts)


def _check_brands(e: Envelope, brands: dict[str, brand_rules.BrandRecord]) -> None:
    wanted = list(e.payload.get("brand_ids", []))
    if e.type == "worker.brand_joined":
        wanted.append(e.payload["brand_id"])
    for bid in wanted:
        brand = brands.get(bid)
        if brand is None:
            raise Rejected(f"unknown brand {bid}")
        if brand.status in CLOSED_BRAND_STATES:
            raise Rejected(f"brand {bid} is {brand.status} and takes no new members")


def _history(e: Envelope, entity_col: str, entity_id: str, changes: Changes) -> dict[str, Any]:
    return {
        entity_col: entity_id,
        "event_id": e.event_id,
        "type": e.type,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "source": e.source,
        "actor": e.actor.model_dump() if e.actor else None,
        "changes": changes,
    }


def _receipt(e: Envelope, status: str, reason: str | None, entity: str) -> dict[str, Any]:
    return {"event_id": e.event_id, "type": e.type, "status": status, "reason": reason,
            "source": e.source, "entity_id": entity}


def _receipt_for_invalid(msg: ConsumerRecord, reason: str) -> dict[str, Any] | None:
    """If the broken message still names its event_id, let its sender learn that it was rejected."""
    import json

    try:
        raw = json.loads(msg.value)
        event_id = uuid.UUID(str(raw["event_id"]))
    except Exception:
        return None
    return {"event_id": event_id, "type": str(raw.get("type", "unknown"))[:64], "status": "rejected",
            "reason": f"invalid event: {reason}", "source": str(raw.get("source", ""))[:64], "entity_id": None}
