-- Accounts for people (账户): a user name and an Argon2id password hash, exchanged at POST /v1/auth/login for the
-- same bearer token an API key gets. The rules (password policy, lockout) are laowu.accounts_policy; the SQL is
-- laowu.store.accounts.

CREATE TABLE accounts (
    username            text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    display_name        text NOT NULL,
    role                text NOT NULL CHECK (role IN ('workstation', 'employer', 'bureau', 'admin')),
    org                 text NOT NULL,
    region              text CHECK (region ~ '^[0-9]{6}$'),
    enabled             boolean NOT NULL DEFAULT true,
    -- Only ever an Argon2id hash: a plain password (or another algorithm's hash) cannot be stored by mistake.
    password_hash       text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    failed_attempts     integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until        timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (role = 'admin' OR region IS NOT NULL)  -- as laowu.auth.issue: every role but admin has a jurisdiction
);

-- The tokens a sign-in issued and that may still be alive, by account: what "revoke the account's sessions" revokes
-- (their jti go to revoked_tokens, which every replica already checks). A row past expires_at proves nothing (the
-- signature check refuses the token), so rows are deleted then.
CREATE TABLE account_sessions (
    jti        text PRIMARY KEY,
    username   text NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX account_sessions_by_account ON account_sessions (username, expires_at);
