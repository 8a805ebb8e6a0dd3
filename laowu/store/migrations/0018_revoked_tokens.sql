-- Signed-out tokens (POST /v1/auth/logout), by jti, until the token would have expired anyway: past expires_at a
-- row proves nothing (the signature check refuses the token), so rows are deleted then and the table stays small.

CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY,
    subject    text NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
