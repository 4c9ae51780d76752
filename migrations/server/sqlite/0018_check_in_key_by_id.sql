-- The primary key leads with the check-in's id (issue 14, ingest at ten times 茂名). Ids are
-- UUIDv7s made the moment a check-in is made (stations and the resident page alike), so in this
-- order new keys land at the key index's right edge: a few hot pages. Keyed (venue_id, id), each
-- stored check-in went to the end of its venue's range, a random page of an index as large as
-- the history — a page more for every commit to write whole into the WAL. Nothing reads the key
-- by venue: a venue's check-ins are read through check_ins_venue_time, and a resent record is
-- found by the whole key either way. SQLite cannot change a key in place: the table is rebuilt
-- (rows copied in their order, indexes made again as migrations 16 and 17 left them).
CREATE TABLE check_ins_by_id (
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
    PRIMARY KEY (id, venue_id)
) STRICT;
INSERT INTO check_ins_by_id SELECT * FROM check_ins ORDER BY rowid;
DROP TABLE check_ins;
ALTER TABLE check_ins_by_id RENAME TO check_ins;
CREATE INDEX check_ins_subject_day ON check_ins (at_ms / 86400000, subject, at_ms);
CREATE INDEX check_ins_venue_time
    ON check_ins (venue_id, at_ms, subject, direction, checkpoint_id, manual, verdict, name_masked,
        inspector, fever);
