-- Reveal quota (issue 16): a credential may break the glass LAOWU_REVEAL_QUOTA_PER_DAY times a calendar day
-- (Asia/Shanghai). The count is read from the audit log itself, so every API replica sees the same number and a
-- restart forgets nothing; this index keeps it a short range scan of one credential's reveals of the day.
CREATE INDEX IF NOT EXISTS audit_log_reveals ON audit_log (actor, role, at) WHERE action = 'reveal';
