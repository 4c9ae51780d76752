-- Tracing reads a venue's passages around a case's stays (issue 14). With the columns it reads
-- included in the (venue_id, at_ms) index, those reads can be index-only (pages that VACUUM has
-- marked all-visible need no heap visit). The key stays (venue_id, at_ms): ranges and order
-- are unchanged, and on Citus it remains local to the venue's shard.
DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, at_ms)
    INCLUDE (subject, direction, checkpoint_id, manual, verdict, name_masked);
