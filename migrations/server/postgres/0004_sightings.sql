-- Central server schema, version 4 (PostgreSQL): venues' optional map points, and alerts about one
-- person's entries at two venues (or one venue through two stations) closer in time than travel
-- allows — the trace a shared screenshot leaves. Keyed by the later entry's venue (the
-- distribution key) and the pair of record ids, so a pair found twice is stored once.
ALTER TABLE venues ADD COLUMN lat_e6 INTEGER;   -- map point, millionths of a degree (WGS-84)
ALTER TABLE venues ADD COLUMN lon_e6 INTEGER;

CREATE TABLE sighting_alerts (
    venue_id            TEXT NOT NULL,          -- the later entry's venue
    pair_id             TEXT NOT NULL,          -- first record id + '+' + second record id
    kind                TEXT NOT NULL CHECK (kind IN ('two_places', 'reentry')),
    subject             TEXT NOT NULL,          -- the issuer's pseudonym
    first_venue_id      TEXT NOT NULL,
    first_check_in_id   TEXT NOT NULL,
    first_device_id     TEXT NOT NULL,
    first_at_ms         BIGINT NOT NULL,
    second_check_in_id  TEXT NOT NULL,
    second_device_id    TEXT NOT NULL,
    second_at_ms        BIGINT NOT NULL,
    distance_m          BIGINT,                -- when both venues gave a map point
    needed_s            BIGINT NOT NULL,       -- the least time the trip takes
    detected_ms         BIGINT NOT NULL,
    PRIMARY KEY (venue_id, pair_id)
);
CREATE INDEX sighting_alerts_detected ON sighting_alerts (detected_ms);
