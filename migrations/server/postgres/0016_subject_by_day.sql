-- One person's check-ins are found by day first (issue 14, ingest at ten times 茂名). Keyed on
-- (subject, at_ms), every stored check-in went to a random place in an index as large as the
-- whole history; keyed on (day, subject, at_ms), new check-ins go into the current days' part of
-- the index, which stays in shared buffers however long the history grows. Readers name the
-- days they want (`at_ms / 86400000 = ANY(...)`, the same expression, so the index applies).
-- On Citus the index stays local to each venue shard, like every check-in index.
DROP INDEX check_ins_subject;
CREATE INDEX check_ins_subject_day ON check_ins ((at_ms / 86400000), subject, at_ms);
