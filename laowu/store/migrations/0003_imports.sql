-- Spreadsheet imports (Excel / CSV) from workstations and their row-by-row error report.

CREATE TABLE imports (
    import_id      uuid PRIMARY KEY,
    kind           text NOT NULL,                       -- workers (dispatches later)
    workstation_id text NOT NULL,
    file_sha256    text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    filename       text,
    status         text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    rows           integer NOT NULL DEFAULT 0,          -- data rows read so far (blank rows not counted)
    accepted       integer NOT NULL DEFAULT 0,          -- published
    rejected       integer NOT NULL DEFAULT 0,          -- in import_errors with severity 'error'
    warnings       integer NOT NULL DEFAULT 0,          -- accepted rows that carry a warning
    sheet          text,                                -- the sheet the header was found on
    header_row     integer,
    columns        jsonb NOT NULL DEFAULT '[]',         -- the file's own header labels, in order
    error          text,                                -- why a failed import failed (Chinese)
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(), -- heartbeat: bumped with every chunk
    finished_at    timestamptz
);
-- The same file from the same workstation is one import (a re-upload answers with the earlier import_id),
-- unless that import failed: then a new one starts, and its deterministic event ids keep rows that were
-- already published from being registered twice.
CREATE UNIQUE INDEX imports_same_file ON imports (kind, workstation_id, file_sha256) WHERE status <> 'failed';
CREATE INDEX imports_workstation ON imports (workstation_id, created_at DESC);

-- "values" holds the row's cells (aligned with imports.columns) sealed with the field cipher: they contain
-- ID numbers and phone numbers, which the ledger never stores in the clear.
CREATE TABLE import_errors (
    import_id  uuid NOT NULL REFERENCES imports (import_id) ON DELETE CASCADE,
    row_number integer NOT NULL,
    severity   text NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warning')),
    "values"   jsonb NOT NULL,
    reason_zh  text NOT NULL,
    reason     text NOT NULL,
    PRIMARY KEY (import_id, severity, row_number)
);
