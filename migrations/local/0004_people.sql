-- Station schema, version 4: a person signed in on this app (登录). The session (the server's
-- bearer token; it expires within 12 hours and is revoked at sign-out), what was last read from
-- the server for each screen (readable offline, with its age), and application drafts written
-- offline, sent when the server returns.
CREATE TABLE person_session (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    token       TEXT NOT NULL,
    expires_at  TEXT NOT NULL,   -- RFC 3339
    me          TEXT NOT NULL    -- JSON: username, display name, role, scopes
) STRICT;

CREATE TABLE person_cache (
    key         TEXT PRIMARY KEY NOT NULL,   -- venues, queue, venue:<id>
    body        TEXT NOT NULL,               -- JSON as shown
    fetched_ms  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE drafts (
    draft_id    TEXT PRIMARY KEY NOT NULL,
    form        TEXT NOT NULL,               -- JSON of the form as typed
    saved_ms    INTEGER NOT NULL,
    last_error  TEXT
) STRICT, WITHOUT ROWID;
