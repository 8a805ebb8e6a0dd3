-- Access control: machine credentials (API keys, stored hashed) and the append-only audit log.

CREATE TABLE credentials (
    credential_id text PRIMARY KEY,
    key_hash      text NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('workstation', 'employer', 'bureau', 'admin')),
    org           text NOT NULL,
    region        text CHECK (region ~ '^[0-9]{6}$'),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

-- Who looked at or exported what, and why (PIPL): every full-PII read, every export, every credential change.
CREATE TABLE audit_log (
    seq       bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    role      text NOT NULL,
    org       text NOT NULL,
    action    text NOT NULL,
    worker_id text,
    purpose   text,
    ip        text,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_worker ON audit_log (worker_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
