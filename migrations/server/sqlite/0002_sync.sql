-- Central server schema, version 2 (SQLite): venue registry details, devices, synced records.
-- Every table that grows with use carries venue_id first in its primary key: that is the
-- distribution key when the PostgreSQL schema is spread over a Citus cluster (docs/SCALING.md).
-- Times are Unix milliseconds (UTC).

ALTER TABLE venues ADD COLUMN declaration_code TEXT;          -- 6 digits (场所申报码)
ALTER TABLE venues ADD COLUMN phone TEXT NOT NULL DEFAULT '';  -- called when someone is refused
ALTER TABLE venues ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN fever_threshold_c REAL NOT NULL DEFAULT 37.3;
ALTER TABLE venues ADD COLUMN accept_yellow INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN require_nat_hours INTEGER;
ALTER TABLE venues ADD COLUMN max_code_age_hours INTEGER;
CREATE UNIQUE INDEX venues_declaration ON venues (declaration_code);

CREATE TABLE checkpoints (
    venue_id       TEXT NOT NULL REFERENCES venues (venue_id),
    checkpoint_id  TEXT NOT NULL,
    name           TEXT NOT NULL,
    PRIMARY KEY (venue_id, checkpoint_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE devices (
    device_id      TEXT PRIMARY KEY NOT NULL,   -- hex key id of the public key
    public_key     TEXT NOT NULL,               -- Ed25519, hex
    venue_id       TEXT NOT NULL REFERENCES venues (venue_id),
    checkpoint_id  TEXT NOT NULL,
    inspector      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    enrolled_ms    INTEGER NOT NULL,
    last_seen_ms   INTEGER
) STRICT;

-- Nonces of signed requests seen within the request time window: a second use is a replay.
CREATE TABLE request_nonces (
    device_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    seen_ms    INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX request_nonces_age ON request_nonces (seen_ms);

CREATE TABLE check_ins (
    venue_id        TEXT NOT NULL,
    id              TEXT NOT NULL,              -- UUIDv7 made on the station
    device_id       TEXT NOT NULL,
    checkpoint_id   TEXT NOT NULL,
    inspector       TEXT NOT NULL,
    direction       TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    temperature     TEXT NOT NULL,
    celsius         REAL,
    verdict         TEXT NOT NULL,
    reasons         TEXT NOT NULL,              -- space-separated reason codes
    fever           INTEGER NOT NULL,
    code_id         TEXT,
    subject         TEXT,
    name_masked     TEXT,
    phone_masked    TEXT,
    id_masked       TEXT,
    color           TEXT,
    manual          INTEGER NOT NULL,
    proxy_name      TEXT,
    proxy_phone     TEXT,
    proxy_relation  TEXT,
    received_ms     INTEGER NOT NULL,
    PRIMARY KEY (venue_id, id)
) STRICT;
-- A rowid table on purpose: rows append in arrival order and secondary index entries carry an
-- 8-byte rowid instead of the whole key, which halves the pages a batch dirties in the one index
-- with random keys (subject) — the write volume that bounds ingest.
-- Tracing: where was this person, and who was at this venue around then.
CREATE INDEX check_ins_subject ON check_ins (subject, at_ms);
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, at_ms);

CREATE TABLE alerts (
    venue_id       TEXT NOT NULL,
    id             TEXT NOT NULL,
    check_in_id    TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    checkpoint_id  TEXT NOT NULL,
    at_ms          INTEGER NOT NULL,
    reasons        TEXT NOT NULL,
    subject        TEXT,
    name_masked    TEXT,
    phone_masked   TEXT,
    color          TEXT,
    received_ms    INTEGER NOT NULL,
    PRIMARY KEY (venue_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX alerts_time ON alerts (at_ms);

-- Revocations in the order they were made; the sequence number is the stations' cursor.
CREATE TABLE revocations (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT NOT NULL CHECK (kind IN ('code', 'subject')),
    target    TEXT NOT NULL,
    made_ms   INTEGER NOT NULL
) STRICT;
