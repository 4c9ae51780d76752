-- Central server schema, version 6 (PostgreSQL): people who sign in — accounts with one role and
-- its scopes, sessions (only a hash of each bearer token is kept), and an account event log.
CREATE TABLE accounts (
    account_id       TEXT PRIMARY KEY NOT NULL,     -- UUIDv4
    username         TEXT NOT NULL UNIQUE,          -- 3–32 of [A-Za-z0-9._-]
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('venue_admin', 'reviewer', 'authority', 'sysadmin')),
    scopes           TEXT NOT NULL,                 -- space-separated region prefixes or venue ids
    password_hash    TEXT NOT NULL,                 -- argon2id, PHC string
    status           TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    failed_sign_ins  BIGINT NOT NULL DEFAULT 0,    -- in a row
    last_failed_ms   BIGINT,
    created_ms       BIGINT NOT NULL,
    created_by       TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,         -- SHA-256 of the bearer token, hex
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    revoked_ms   BIGINT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE account_events (
    seq         BIGSERIAL PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    account_id  TEXT NOT NULL,
    action      TEXT NOT NULL,                      -- created, signed_in, sign_in_failed, locked, signed_out, disabled
    actor       TEXT NOT NULL
);
CREATE INDEX account_events_account ON account_events (account_id, at_ms);
