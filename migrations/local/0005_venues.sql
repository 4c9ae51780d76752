-- Station schema, version 5: one inspector, several venues. A station enrolled at more than one
-- venue holds one device key per venue (the server binds a key to one venue only); the active
-- venue's enrolment stays in `device`, the binding settings and the `venue` sync value, the
-- others wait here until the inspector switches to them. Their unsent records still sync, each
-- under its own venue's key.
CREATE TABLE parked_venues (
    venue_id       TEXT PRIMARY KEY NOT NULL,
    venue_name     TEXT NOT NULL,
    secret_key     TEXT NOT NULL,           -- Ed25519 seed, hex; never leaves the station
    device_id      TEXT NOT NULL,
    server_url     TEXT NOT NULL,
    checkpoint_id  TEXT NOT NULL,
    inspector      TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    enrolled_at    TEXT,
    venue_json     TEXT,                    -- the venue's registry entry as last pulled
    key_made_at    TEXT,                    -- RFC 3339; the key is replaced once it is active
    problem        TEXT                     -- the server's last refusal of this key, if any
) STRICT;
