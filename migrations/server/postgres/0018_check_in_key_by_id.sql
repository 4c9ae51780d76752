-- The primary key leads with the check-in's id (issue 14, ingest at ten times 茂名). Ids are
-- UUIDv7s made the moment a check-in is made (stations and the resident page alike), so in this
-- order new keys land at the index's right edge: a few hot pages. Keyed (venue_id, id), each
-- stored check-in went to the end of its venue's range — at ten times 茂名 262,610 insertion
-- points spread over a 6.6 GB index, a page read and dirtied per row (and a full-page image in
-- the WAL after each checkpoint). The key still holds venue_id (Citus: a unique constraint must
-- hold the distribution column); nothing reads it by venue — a venue's check-ins are read
-- through (venue_id, at_ms), and a resent record is found by the whole key either way.
ALTER TABLE check_ins DROP CONSTRAINT check_ins_pkey, ADD PRIMARY KEY (id, venue_id);
