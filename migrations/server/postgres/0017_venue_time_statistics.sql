-- A venue's statistics count its check-ins by hour, door, inspector, direction, refusal and
-- fever (issue 14: one venue-day at the busiest hospital is ~24,000 check-ins). With the inspector
-- and the fever flag included in the `(venue_id, at_ms)` index beside what tracing reads, that
-- count can be index-only too (pages VACUUM has marked all-visible need no heap visit). The key
-- stays (venue_id, at_ms), local to the venue's shard on Citus.
DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, at_ms)
    INCLUDE (subject, direction, checkpoint_id, manual, verdict, name_masked, inspector, fever);
