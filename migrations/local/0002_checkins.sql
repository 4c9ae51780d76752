-- Local station store, version 2: check-ins, the sync outbox, alerts and presence.
-- Times are RFC 3339 UTC text; ids are UUIDv7 text (time-ordered, made on the station).

CREATE TABLE check_ins (
    id              TEXT PRIMARY KEY NOT NULL,
    venue_id        TEXT NOT NULL,
    checkpoint_id   TEXT NOT NULL,
    inspector       TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    at              TEXT NOT NULL,
    day             TEXT NOT NULL,            -- local calendar day of `at`, for the counters
    temperature     TEXT NOT NULL,            -- not_taken | normal | fever | celsius
    celsius         REAL,
    verdict         TEXT NOT NULL CHECK (verdict IN ('pass', 'refuse')),
    reasons         TEXT NOT NULL,            -- space-separated stable reason codes
    fever           INTEGER NOT NULL CHECK (fever IN (0, 1)),
    code_id         TEXT,                     -- hex, when a code was read
    subject         TEXT,                     -- pseudonym hex, when known
    name_masked     TEXT,
    phone_masked    TEXT,
    id_masked       TEXT,
    color           TEXT,
    manual          INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
    proxy_name      TEXT,
    proxy_phone     TEXT,
    proxy_relation  TEXT
) STRICT;
-- Covers the live counters: one index range per (venue, day), no table lookups.
CREATE INDEX check_ins_counters ON check_ins (venue_id, day, direction, verdict, fever);
CREATE INDEX check_ins_subject ON check_ins (subject, at);

-- Records waiting to reach the server; written in the same transaction as what they carry.
-- lane 0 = alerts (priority), 1 = check-ins.
CREATE TABLE outbox (
    id          TEXT PRIMARY KEY NOT NULL,
    lane        INTEGER NOT NULL CHECK (lane IN (0, 1)),
    kind        TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (sent_at, lane, id);

CREATE TABLE alerts (
    id           TEXT PRIMARY KEY NOT NULL,
    check_in_id  TEXT NOT NULL REFERENCES check_ins (id),
    at           TEXT NOT NULL,
    reasons      TEXT NOT NULL
) STRICT;

-- One open presence per subject at this venue; closed by an exit or after the auto-close hours.
CREATE TABLE presence (
    subject      TEXT NOT NULL,
    venue_id     TEXT NOT NULL,
    entered_at   TEXT NOT NULL,
    entry_id     TEXT NOT NULL REFERENCES check_ins (id),
    exited_at    TEXT,
    exit_id      TEXT
) STRICT;
CREATE UNIQUE INDEX presence_open ON presence (subject, venue_id) WHERE exited_at IS NULL;
CREATE INDEX presence_inside ON presence (venue_id, entered_at) WHERE exited_at IS NULL;
