-- Central server schema, version 5 (SQLite): the rest of a venue's policy — the paper-code age
-- limit and the station freshness rules. NULL means the default (7 days; 24 h without a signed
-- time; stale after 48 h; refuse when stale).
ALTER TABLE venues ADD COLUMN max_paper_code_age_hours INTEGER;
ALTER TABLE venues ADD COLUMN max_unsigned_time_hours INTEGER;
ALTER TABLE venues ADD COLUMN stale_after_hours INTEGER;
ALTER TABLE venues ADD COLUMN when_stale TEXT CHECK (when_stale IN ('refuse', 'warn'));
