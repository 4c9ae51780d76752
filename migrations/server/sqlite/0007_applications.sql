-- Central server schema, version 7 (SQLite): venue applications and their review. An application
-- is a venue row in status 'pending' with the unit's credit code and responsible person; review
-- sets 'approved' (with a declaration code) or 'rejected' (with the reason); every step is in
-- venue_events with who and when.
ALTER TABLE venues ADD COLUMN credit_code TEXT;
ALTER TABLE venues ADD COLUMN responsible_name TEXT;
ALTER TABLE venues ADD COLUMN responsible_phone TEXT;
ALTER TABLE venues ADD COLUMN applicant TEXT;          -- account id
ALTER TABLE venues ADD COLUMN reviewed_by TEXT;        -- account id
ALTER TABLE venues ADD COLUMN reviewed_ms INTEGER;
ALTER TABLE venues ADD COLUMN reject_reason TEXT;
CREATE INDEX venues_credit_code ON venues (credit_code);
CREATE INDEX venues_status_region ON venues (status, region);

CREATE TABLE venue_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    venue_id   TEXT NOT NULL,
    action     TEXT NOT NULL,      -- applied, approved, rejected
    actor      TEXT NOT NULL,      -- account id
    detail     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX venue_events_venue ON venue_events (venue_id, seq);
