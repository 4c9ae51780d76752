-- A venue's statistics count its check-ins by hour, door, inspector, direction, refusal and
-- fever (issue 14: one venue-day at the busiest hospital is ~24,000 check-ins). With the inspector
-- and the fever flag in the `(venue_id, at_ms)` index beside what tracing reads, that count is
-- index-only too: no table lookup per check-in.
DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_time
    ON check_ins (venue_id, at_ms, subject, direction, checkpoint_id, manual, verdict, name_masked,
        inspector, fever);
