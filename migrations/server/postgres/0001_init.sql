-- Central server schema, version 1 (PostgreSQL): the venue registry.
CREATE TABLE venues (
    venue_id      TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,
    region        TEXT NOT NULL,
    address       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at    TEXT NOT NULL
);
