-- Issue 22: indexes no query uses go. worker_events is written once for nearly every ledger event; its primary key
-- on seq (a bigserial nobody looks a row up by) cost an index insertion each time. Every read of the table is a
-- worker's history page, `WHERE worker_id = $1 AND seq > $2 ORDER BY seq` (laowu.store.queries.worker_history),
-- which worker_events_worker (worker_id, seq) answers: on make bench's kept ledger (1,245,863 rows) that page was
-- an Index Scan using worker_events_worker, 1.5 ms cold, and the key's 27 MB were never scanned (pg_stat_user_indexes
-- and the generic plans of every statement of the run: make bench, detail.index_use). The table stays append-only
-- (its trigger), so seq stays unique without the key.
ALTER TABLE worker_events DROP CONSTRAINT IF EXISTS worker_events_pkey;
