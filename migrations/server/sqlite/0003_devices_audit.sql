-- Server store (SQLite), version 3: the enrolment audit log (every attempt, the rate limits count
-- from it) and device events (enrolled, revoked, reactivated: when and by whom).
CREATE TABLE enrolment_attempts (
    at_ms             INTEGER NOT NULL,
    source            TEXT NOT NULL,
    declaration_code  TEXT NOT NULL,
    device_id         TEXT NOT NULL,
    outcome           TEXT NOT NULL CHECK (outcome IN ('enrolled', 'refused', 'locked', 'revoked'))
) STRICT;
CREATE INDEX enrolment_attempts_source ON enrolment_attempts (source, outcome, at_ms);
CREATE INDEX enrolment_attempts_code ON enrolment_attempts (declaration_code, outcome, at_ms);

CREATE TABLE device_events (
    at_ms      INTEGER NOT NULL,
    device_id  TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('enrolled', 'revoked', 'reactivated')),
    actor      TEXT NOT NULL
) STRICT;
CREATE INDEX device_events_device ON device_events (device_id, at_ms);
