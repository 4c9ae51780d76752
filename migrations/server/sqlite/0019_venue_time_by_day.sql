-- A venue's check-ins are found by day first on SQLite (issue 14, ingest at ten times 茂名).
-- Keyed (venue_id, at_ms, …), every stored check-in went to the end of its venue's range: a
-- random page of an index as large as the whole history (262,610 venues at ten times 茂名), read
-- from disk and written whole into the WAL at the next commit. Keyed (day, venue_id, at_ms, …),
-- new check-ins go into the current days' part of the index, which stays small and cached however
-- long the history grows, and a group commit's rows share its pages. Readers name the days they
-- want (`at_ms / 86400000 IN (...)`, the expression of check_ins_subject_day), as tracing by
-- person already does: a venue-day is one range, a trace's stay window one or two. The columns
-- are those of migration 17 (statistics and tracing stay index-only). PostgreSQL keeps
-- (venue_id, at_ms): it logs row changes, not pages, and Citus routes by the venue.
DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_day
    ON check_ins (at_ms / 86400000, venue_id, at_ms, subject, direction, checkpoint_id, manual,
        verdict, name_masked, inspector, fever);
