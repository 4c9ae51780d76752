-- Central server schema, version 8 (SQLite): invitations — a system administrator invites a
-- person to a role and scopes; the person picks a user name and password with the one-time code.
-- Only a hash of the code is kept.
CREATE TABLE invitations (
    code_hash     TEXT PRIMARY KEY NOT NULL,      -- SHA-256 of the one-time code, hex
    role          TEXT NOT NULL,
    scopes        TEXT NOT NULL,                  -- space-separated
    display_name  TEXT NOT NULL,
    created_by    TEXT NOT NULL,                  -- account id
    created_ms    INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL,
    used_ms       INTEGER,
    account_id    TEXT                            -- the account made with it
) STRICT, WITHOUT ROWID;
