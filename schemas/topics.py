"""The topic catalogue: every topic, its key, partitions, retention, and which events go where.

Every event about a worker is keyed by the worker's stable id (a keyed hash, never the ID number), so
one worker's events stay in order on one partition. Source topics keep events forever: they are the
replay log the ledger can be rebuilt from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.events import CATALOGUE as EVENTS
from schemas.events import EventType

FOREVER = -1
DAY_MS = 24 * 3600 * 1000


def carried_by(topic: str) -> tuple[EventType, ...]:
    """The event types the catalogue (schemas.events) routes to ``topic``, in catalogue order."""
    return tuple(spec.name for spec in EVENTS if spec.topic == topic)  # type: ignore[misc]


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str
    events: tuple[EventType, ...]
    description: str
    retention_ms: int = FOREVER
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)

    def kafka_config(self) -> dict[str, str]:
        cfg = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
            # 2 MiB lets a 1,000-worker dispatch through while a huge poison message is still refused.
            "max.message.bytes": "2097152",
        }
        cfg.update(self.config)
        return cfg


BRANDS = Topic(
    "laowu.brands.v1", 3, "brand_id", carried_by("laowu.brands.v1"),
    "Brand resource library (资源库) changes.",
)
WORKERS = Topic(
    "laowu.workers.v1", 6, "worker_id", carried_by("laowu.workers.v1"),
    "Everything that happens to one practitioner, in order per worker.",
)
DISPATCHES = Topic(
    "laowu.dispatches.v1", 3, "dispatch_id", carried_by("laowu.dispatches.v1"),
    "Organized labor output (有组织劳务输出) batches.",
)
LEDGER_CHANGES = Topic(
    "laowu.ledger-changes.v1", 6, "worker_id or brand_id", carried_by("laowu.ledger-changes.v1"),
    "Committed ledger changes with before/after state, for statistics and live feeds.",
    retention_ms=30 * DAY_MS,
)
STATS = Topic(
    "laowu.stats.v1", 3, "scope:scope_id", carried_by("laowu.stats.v1"),
    "Statistics updates for live feeds.", retention_ms=7 * DAY_MS,
)
ALERTS = Topic(
    "laowu.alerts.v1", 3, "worker_id", carried_by("laowu.alerts.v1"),
    "Alerts raised and closed.", retention_ms=90 * DAY_MS,
)
SUBSIDIES = Topic(
    "laowu.subsidies.v1", 3, "worker_id", carried_by("laowu.subsidies.v1"),
    "Subsidy accruals.",
)
DEAD_LETTER = Topic(
    "laowu.dead-letter.v1", 3, "original key", (),
    "Messages no processor could apply, original bytes plus headers with the reason and origin.",
    retention_ms=90 * DAY_MS,
    config={"max.message.bytes": "10485760"},
)

CATALOGUE: tuple[Topic, ...] = (BRANDS, WORKERS, DISPATCHES, LEDGER_CHANGES, STATS, ALERTS, SUBSIDIES, DEAD_LETTER)


def topic_for(event_type: str) -> Topic:
    for topic in CATALOGUE:
        if event_type in topic.events:
            return topic
    raise KeyError(f"no topic carries {event_type!r}")
