-- Central server schema, version 2 (PostgreSQL): venue registry details, devices, synced records.
-- Every table that grows with use carries venue_id first in its primary key: that is the
-- distribution key on a Citus cluster (docs/SCALING.md). Times are Unix milliseconds (UTC).

ALTER TABLE venues ADD COLUMN declaration_code TEXT;
ALTER TABLE venues ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN updated_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN fever_threshold_c REAL NOT NULL DEFAULT 37.3;
ALTER TABLE venues ADD COLUMN accept_yellow BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE venues ADD COLUMN require_nat_hours BIGINT;
ALTER TABLE venues ADD COLUMN max_code_age_hours BIGINT;
CREATE UNIQUE INDEX venues_declaration ON venues (declaration_code);

CREATE TABLE checkpoints (
    venue_id       TEXT NOT NULL REFERENCES venues (venue_id),
    checkpoint_id  TEXT NOT NULL,
    name           TEXT NOT NULL,
    PRIMARY KEY (venue_id, checkpoint_id)
);

CREATE TABLE devices (
    device_id      TEXT PRIMARY KEY NOT NULL,
    public_key     TEXT NOT NULL,
    venue_id       TEXT NOT NULL REFERENCES venues (venue_id),
    checkpoint_id  TEXT NOT NULL,
    inspector      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    enrolled_ms    BIGINT NOT NULL,
    last_seen_ms   BIGINT
);

CREATE TABLE request_nonces (
    device_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    seen_ms    BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX request_nonces_age ON request_nonces (seen_ms);

CREATE TABLE check_ins (
    venue_id        TEXT NOT NULL,
    id              TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    checkpoint_id   TEXT NOT NULL,
    inspector       TEXT NOT NULL,
    direction       TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    temperature     TEXT NOT NULL,
    celsius         REAL,
    verdict         TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    fever           BOOLEAN NOT NULL,
    code_id         TEXT,
    subject         TEXT,
    name_masked     TEXT,
    phone_masked    TEXT,
    id_masked       TEXT,
    color           TEXT,
    manual          BOOLEAN NOT NULL,
    proxy_name      TEXT,
    proxy_phone     TEXT,
    proxy_relation  TEXT,
    received_ms     BIGINT NOT NULL,
    PRIMARY KEY (venue_id, id)
);
CREATE INDEX check_ins_subject ON check_ins (subject, at_ms);
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, at_ms);

CREATE TABLE alerts (
    venue_id       TEXT NOT NULL,
    id             TEXT NOT NULL,
    check_in_id    TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    checkpoint_id  TEXT NOT NULL,
    at_ms          BIGINT NOT NULL,
    reasons        TEXT NOT NULL,
    subject        TEXT,
    name_masked    TEXT,
    phone_masked   TEXT,
    color          TEXT,
    received_ms    BIGINT NOT NULL,
    PRIMARY KEY (venue_id, id)
);
CREATE INDEX alerts_time ON alerts (at_ms);

CREATE TABLE revocations (
    seq       BIGSERIAL PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('code', 'subject')),
    target    TEXT NOT NULL,
    made_ms   BIGINT NOT NULL
);
