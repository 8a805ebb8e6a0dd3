-- Closing alerts looks them up by placement: without this index every closure scanned the whole table,
-- and the ledger slowed down as alerts accumulated (found by make bench).
CREATE INDEX alerts_placement ON alerts (placement_id, kind);
