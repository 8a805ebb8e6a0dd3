-- The console's lists (issue 18): a sender's receipts, newest first (GET /v1/events), and the placements of an
-- employer or an organizer by status (GET /v1/placements), each a range of an index instead of a table walk.
CREATE INDEX IF NOT EXISTS event_receipts_by_source ON event_receipts (source, accepted_at DESC, event_id DESC);
CREATE INDEX IF NOT EXISTS placements_employer ON placements (employer_id, status, placement_id);
CREATE INDEX IF NOT EXISTS placements_organizer ON placements (organizer_id, status, placement_id);
