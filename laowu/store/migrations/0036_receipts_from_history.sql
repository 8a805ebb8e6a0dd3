-- Issue 22: an applied event's receipt is its history row. A worker or placement event the ledger applies adds
-- one worker_events row under its event_id (laowu.ledger.rule.Rule.receipt_from_history); the ledger no longer
-- writes (or moves from accepted to applied) an event_receipts row for it, only for what it rejects. What an
-- event became is read from both (laowu.store.receipts.OUTCOMES), so this index answers "is it applied" for the
-- ledger's replay check and GET /v1/events/{event_id}. Receipts written before stay as they are and answer as
-- before: nothing to move. Building the index is the migration's cost (benchmarks/README.md, issue 22).
CREATE INDEX IF NOT EXISTS worker_events_event ON worker_events (event_id);
