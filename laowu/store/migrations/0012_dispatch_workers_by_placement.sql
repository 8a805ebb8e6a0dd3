-- The ledger asks dispatch_workers by placement_id in every batch (was this placement refused by its
-- dispatch?) and its wake-up repair asks it for every deferred event; without an index each question read the
-- whole table. In `make bench` the repair alone took 2.3 s a call once the table held 100,000 rows.
CREATE INDEX IF NOT EXISTS dispatch_workers_placement ON dispatch_workers (placement_id);
