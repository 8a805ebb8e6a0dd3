-- Issue 22: an event that only adds history does not rewrite the worker row. A follow-up (跟踪服务) is the
-- placement's record; the worker kept a copy of its newest date, so every follow-up (28 % of make bench's mixed
-- stream) locked and rewrote the worker. The value is now read from the placements (laowu.store.ledger.
-- LAST_FOLLOWUP_AT: the newest placements.last_followup_date of the worker), which every follow-up already kept,
-- so the column holds nothing the placements do not: dropping it loses no data.
ALTER TABLE workers DROP COLUMN IF EXISTS last_followup_at;
