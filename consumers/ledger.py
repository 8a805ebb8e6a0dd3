"""The ledger consumer: every source event → the real-name ledger, the brand library and placements.

One consumer owns brands, dispatches and worker topics, so a batch is applied in one transaction with
its offsets. Derived events (ledger changes, alerts, subsidies) go to a transactional outbox in the same
transaction; ``consumers.relay`` publishes them afterwards.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import ValidationError

from consumers.base import BatchConsumer, publication_order
from laowu import metrics
from laowu.domain.errors import DomainError
from laowu.domain.identity import parse_id_number
from laowu.ledger.deferral import REPAIR_EVERY_S, registers_worker
from laowu.ledger.postgres import PostgresLedger
from laowu.ledger.repository import apply, schema_error
from laowu.ledger.rows import rejected_receipt
from laowu.ledger.rules import RULES
from laowu.privacy import Privacy
from laowu.store import ledger as store
from laowu.store.errors import REFUSED_DATA
from schemas.envelope import Envelope
from schemas.events import PAYLOADS, SPECS
from schemas.topics import BRANDS, DISPATCHES, WORKERS

log = logging.getLogger(__name__)


class InvalidEvent(Exception):
    """Wire-level problem: the message can never be applied, whatever the ledger holds."""


class LedgerConsumer(BatchConsumer):
    group = "ledger"

    def __init__(self, *args: Any, privacy: Privacy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.privacy = privacy
        self.topics = [self.settings.topic(t.name) for t in (BRANDS, DISPATCHES, WORKERS)]
        self._next_repair = 0.0
        self._decided: list[dict[str, Any]] = []
        self._recorded: dict[Any, datetime] = {}
        self._deferred: list[str] = []

    # ---- decoding -----------------------------------------------------------------------------
    def decode(self, msg: ConsumerRecord) -> Envelope:
        if msg.value is None:
            raise InvalidEvent("empty message (tombstone) on an event topic")
        try:
            # pydantic parses the bytes itself: no intermediate dict from json.loads on the hot path.
            env = Envelope.model_validate_json(msg.value)
        except ValidationError:
            raise InvalidEvent(_why_invalid(msg.value)) from None
        if env.type not in RULES:
            raise InvalidEvent(f"{env.type} is a derived event and does not belong on {msg.topic}")
        entity = env.payload.get(SPECS[env.type].key)
        if env.key != entity or (msg.key is not None and msg.key.decode("utf-8", "replace") != entity):
            raise InvalidEvent(f"partition key does not match the payload's {SPECS[env.type].key}")
        if registers_worker(env) is not None:
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

    async def refuse(self, conn: asyncpg.Connection, msg: ConsumerRecord, reason: str) -> None:
        receipt = _receipt_for_invalid(msg, reason)
        if receipt:
            await store.decide(conn, [receipt])

    # ---- applying -----------------------------------------------------------------------------
    async def apply_batch(self, conn: asyncpg.Connection, records: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        events: list[Envelope] = []
        invalid: list[dict[str, Any]] = []
        for msg in publication_order(records):  # acceptance order across topics (consumers.base)
            try:
                events.append(self.decode(msg))
            except InvalidEvent as exc:
                self.park(msg, str(exc))
                receipt = _receipt_for_invalid(msg, str(exc))
                if receipt:
                    invalid.append(receipt)
        repo = PostgresLedger(conn, self.settings.topic)
        decision = await apply(repo, events, await self._due_repairs(repo), refused=invalid)
        # counted once the transaction commits (``committed``): a try that rolls back decided nothing
        self._decided = decision.receipts
        self._recorded = {e.event_id: e.recorded_at for e in events}
        # waiting for what they name (laowu.ledger.deferral): counted once, in the batch that first saw them
        waiting = {w["event_id"] for w in decision.deferred}
        self._deferred = [e.type for e in events if e.event_id in waiting]
        return len(decision.receipts)

    def committed(self, decided: int, seconds: float) -> None:
        super().committed(decided, seconds)
        now = datetime.now(UTC)
        # counted per (type, outcome) and added once each: a batch holds thousands of events of a few types
        counts: Counter[tuple[str, str]] = Counter((r["type"], r["status"]) for r in self._decided)
        counts.update((event_type, "deferred") for event_type in self._deferred)
        for (event_type, outcome), n in counts.items():
            spec = SPECS.get(event_type)
            topic, label = (spec.topic, event_type) if spec else ("unknown", "unknown")
            metrics.LEDGER_EVENTS.labels(topic, label, outcome).inc(n)
        for r in self._decided:
            recorded = self._recorded.get(r["event_id"])
            if recorded is not None and r["status"] == "applied":
                metrics.LEDGER_FRESHNESS.observe(max((now - recorded).total_seconds(), 0.0))
        self._decided, self._recorded, self._deferred = [], {}, []

    async def _due_repairs(self, repo: PostgresLedger) -> set[str]:
        """What waits for something already settled, now and then (``laowu.ledger.deferral``: the repair)."""
        if time.monotonic() < self._next_repair:
            return set()
        self._next_repair = time.monotonic() + REPAIR_EVERY_S
        return await repo.stale_satisfied_waits(REPAIR_EVERY_S)

    async def idle(self) -> None:
        if time.monotonic() < self._next_repair:
            return

        async def repair() -> None:
            async with self.pool.acquire() as conn, conn.transaction():
                repo = PostgresLedger(conn, self.settings.topic)
                keys = await self._due_repairs(repo)
                if keys:
                    decision = await apply(repo, [], keys)
                    log.warning("woke %d deferred event(s) nobody had woken", len(decision.receipts))

        try:
            await self._retry(repair)
        except REFUSED_DATA:
            # Housekeeping cannot tell which deferred event PostgreSQL refuses; stopping here would stop the ledger
            # at every restart, so those events stay deferred (and are tried again when their key is woken).
            log.exception("repair of deferred events refused by PostgreSQL; they stay deferred")


def _why_invalid(value: bytes) -> str:
    """The reason a message failed validation, in the words a sender can act on (the slow path, bad data only)."""
    try:
        raw = json.loads(value)
    except (ValueError, RecursionError) as exc:  # deep nesting is an attack, not a bug of ours
        return f"undecodable: not UTF-8 JSON ({type(exc).__name__}: {str(exc)[:200]})"
    if not isinstance(raw, dict):
        return "undecodable: not a JSON object"
    if raw.get("type") not in PAYLOADS:
        return f"unknown event type {str(raw.get('type'))[:64]!r}"
    try:
        Envelope.model_validate(raw)
    except ValidationError as exc:
        return schema_error(exc)
    return "schema: the envelope does not validate from its JSON text"


def _receipt_for_invalid(msg: ConsumerRecord, reason: str) -> dict[str, Any] | None:
    """If the broken message still names its event_id, let its sender learn that it was rejected."""
    try:
        raw = json.loads(msg.value)
        event_id = uuid.UUID(str(raw["event_id"]))
    except Exception:
        return None
    return rejected_receipt(event_id, raw, f"invalid event: {reason}")
