-- A workstation sees the workers it registered (API.md "Jurisdiction"). Without an index, listing a sparse
-- county's workers had to test `ws = ANY(workstation_ids)` on every worker: 320-650 ms a page with 1,000,000
-- workers in the ledger (`laowu.store.queries.workers`). With it, a small jurisdiction's workers are collected
-- from three indexes instead (household region, dispatch origin, registering workstation).
-- fastupdate off: a pending list (up to 4 MB by default) is read in full by every search until a vacuum merges
-- it; after a bulk load that was 5.2 ms of a 5.7 ms probe. Entries go straight into the tree instead.
CREATE INDEX IF NOT EXISTS workers_workstations ON workers USING gin (workstation_ids) WITH (fastupdate = off);
-- Built inside the migration's transaction (no CONCURRENTLY): it holds writes to workers while it builds, 0.55 s
-- for 1,000,000 workers.
