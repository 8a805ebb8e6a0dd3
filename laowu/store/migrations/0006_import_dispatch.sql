-- Dispatch lists (派遣名单) through the spreadsheet import: one sheet → one dispatch.created.
-- What an import produced as a whole: for a dispatch list {"dispatch_id", "event_id"} (null when nobody
-- could be dispatched); '{}' for registration sheets, whose rows are their own results.
ALTER TABLE imports ADD COLUMN result jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN imports.kind IS 'workers | dispatch';
