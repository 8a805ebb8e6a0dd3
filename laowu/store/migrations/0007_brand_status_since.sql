-- When a brand's current status took effect (event time). Membership and dispatch rules compare it with the
-- event's own occurred_at, so replaying the topics (brands and workers consumed in parallel) gives the same ledger.
ALTER TABLE brands ADD COLUMN status_since timestamptz;
