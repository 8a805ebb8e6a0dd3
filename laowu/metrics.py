"""Prometheus metrics of every Laowu process: one home for their names, labels and meaning.

The API serves them at ``/metrics`` (behind the scrape token); the ledger consumer, the relay and sweeper, and the
statistics stream worker serve them on ``LAOWU_METRICS_PORT`` (``laowu.metrics.serve``; 0 turns it off). The alert
rules and the Grafana dashboard in ``deploy/observability/`` name only what this module defines (a test holds them
to it).

Labels carry topics, event types, outcomes, partitions and kinds — never a person, an id number, a phone, a
worker id or an organization: a label's value is stored for as long as the series lives, where erasure cannot reach.
Names follow Prometheus conventions: base units (seconds), ``_total`` for counters, no unit in a ratio.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

#: Outcomes of a source event at the ledger (``outcome`` label of ``laowu_ledger_events_total``): a receipt's status.
OUTCOMES = ("applied", "rejected", "deferred")

LEDGER_EVENTS = Counter(
    "laowu_ledger_events_total", "Source events the ledger decided, by topic, event type and outcome",
    ["topic", "type", "outcome"])
LEDGER_BATCH_EVENTS = Histogram(
    "laowu_ledger_batch_events", "Events in one committed ledger transaction",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000))
LEDGER_BATCH_SECONDS = Histogram(
    "laowu_ledger_batch_duration_seconds", "Time from a batch's fetch to its commit",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
LEDGER_FRESHNESS = Histogram(
    "laowu_ledger_freshness_seconds", "From acceptance by the API (recorded_at) to the ledger's commit, per applied event",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600))
DEAD_LETTERS = Counter(
    "laowu_dead_letters_total", "Messages set aside on the dead-letter topic, by consumer group and source topic",
    ["group", "topic"])
CONSUMER_LAG = Gauge(
    "laowu_consumer_lag", "Events in Kafka not yet applied to PostgreSQL, per consumer group and partition",
    ["group", "topic", "partition"])

OUTBOX_ROWS = Gauge("laowu_outbox_rows", "Committed outbox rows (one per ledger transaction) not yet published")
OUTBOX_AGE = Gauge("laowu_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when empty)")
OUTBOX_PUBLISHED = Counter("laowu_outbox_published_total", "Derived events the relay published")

STATS_EVENTS = Counter("laowu_statistics_events_total", "Events the statistics worker applied, by topic", ["topic"])
STATS_LAG = Histogram(
    "laowu_statistics_lag_seconds", "From a ledger change's commit (its recorded_at) to the figures' commit",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))

SWEEPS = Counter("laowu_sweeper_runs_total", "Deadline sweeps, by outcome (ok, failed)", ["outcome"])
SWEEP_RAISED = Counter("laowu_sweeper_raised_total", "What sweeps raised, by kind (alert, subsidy)", ["kind"])
SWEEP_LAST_OK = Gauge("laowu_sweeper_last_success_timestamp_seconds", "Unix time of the last successful sweep")

IMPORT_ROWS = Counter("laowu_import_rows_total", "Spreadsheet import rows, by outcome (accepted, refused)", ["outcome"])
FEED_SUBSCRIBERS = Gauge("laowu_feed_subscribers", "Open /v1/feed server-sent-event streams of this API process")


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose this process's metrics (a background thread) unless ``port`` is 0."""
    if port:
        start_http_server(port, addr=host)
        log.info("metrics on http://%s:%d/metrics", host, port)


# Series that exist from the start (at 0), so that a rate or an absence alert has something to read before the first
# occurrence (Prometheus' advice for labels known in advance).
for _outcome in ("ok", "failed"):
    SWEEPS.labels(_outcome)
for _kind in ("alert", "subsidy"):
    SWEEP_RAISED.labels(_kind)
for _outcome in ("accepted", "refused"):
    IMPORT_ROWS.labels(_outcome)
