-- Read-your-writes (issue 17): a write may name what an earlier write of the same client created as soon as that
-- was accepted (202), before the ledger applied it. What counts as known is the ledger plus what was accepted and
-- not yet decided; laowu.store.known is the one place that asks.

-- Registrations by the entity they create: the API's pre-checks look up an accepted, undecided brand or worker
-- registration (or dispatch) by its id, and the ledger looks up one that was rejected, to end what waits for it.
-- Partial on the type, which a receipt never changes: deciding a receipt updates status, reason and decided_at
-- only, so those updates stay HOT and other event types pay nothing.
CREATE INDEX IF NOT EXISTS event_receipts_registrations ON event_receipts (entity_id)
    WHERE type IN ('brand.registered', 'worker.registered', 'dispatch.created');

-- The placements of accepted dispatches, written by the API before it answers 202: a confirmation or follow-up
-- names a placement_id, which the receipt of its dispatch (keyed by dispatch_id) cannot answer for. A row counts
-- while its dispatch's receipt is still 'accepted'; the ledger deletes the rows of the dispatches it decides.
CREATE TABLE IF NOT EXISTS accepted_placements (
    placement_id text PRIMARY KEY,
    event_id     uuid NOT NULL,
    dispatch_id  text NOT NULL,
    worker_id    text NOT NULL,
    employer_id  text NOT NULL,
    organizer_id text NOT NULL,
    accepted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS accepted_placements_event ON accepted_placements (event_id);
