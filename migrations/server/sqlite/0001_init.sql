-- Central server schema, version 1 (SQLite): venues.
-- Later migrations add checkpoints, devices, check-ins and alerts, distributed by venue_id.
CREATE TABLE venues (
    venue_id      TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,
    region        TEXT NOT NULL,
    address       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at    TEXT NOT NULL
) STRICT;
