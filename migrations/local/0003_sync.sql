-- Local station store, version 3: device identity, sync state, revocations, rejected records.

-- The device's own key pair (made on the device) and what the server bound it to. One row.
CREATE TABLE device (
    one            INTEGER PRIMARY KEY CHECK (one = 1),
    secret_key     TEXT NOT NULL,           -- Ed25519 seed, hex; never leaves the station
    device_id      TEXT NOT NULL,
    server_url     TEXT NOT NULL,
    venue_id       TEXT,
    checkpoint_id  TEXT,
    inspector      TEXT,
    enrolled_at    TEXT
) STRICT;

-- What sync last learned: clock offset, last success, trust list age, venue entry, policy,
-- revocation cursor. Key/value, values are text (JSON where structured).
CREATE TABLE sync_state (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
) STRICT;

CREATE TABLE revocations (
    kind    TEXT NOT NULL CHECK (kind IN ('code', 'subject')),
    target  TEXT NOT NULL,
    PRIMARY KEY (kind, target)
) STRICT, WITHOUT ROWID;

-- A record the server refused for its content (e.g. dated in the future) is set aside here,
-- kept, and no longer sent; nothing is deleted.
ALTER TABLE outbox ADD COLUMN rejected TEXT;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (lane, id) WHERE sent_at IS NULL AND rejected IS NULL;
CREATE INDEX outbox_record ON outbox (record_id);
