-- Tracing reads a venue's passages around a case's stays (issue 14). With every column it reads
-- in the (venue_id, at_ms) index, those reads are index-only: no table lookup per passage, which
-- was most of a trace's time at a busy venue (a hospital's regular: ~50,000 passages).
DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_time
    ON check_ins (venue_id, at_ms, subject, direction, checkpoint_id, manual, verdict, name_masked);
