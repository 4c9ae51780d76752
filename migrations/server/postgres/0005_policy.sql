-- Central server schema, version 5 (PostgreSQL): the rest of a venue's policy — the paper-code age
-- limit and the station freshness rules. NULL means the default (7 days; 24 h without a signed
-- time; stale after 48 h; refuse when stale).
ALTER TABLE venues ADD COLUMN max_paper_code_age_hours BIGINT;
ALTER TABLE venues ADD COLUMN max_unsigned_time_hours BIGINT;
ALTER TABLE venues ADD COLUMN stale_after_hours BIGINT;
ALTER TABLE venues ADD COLUMN when_stale TEXT CHECK (when_stale IN ('refuse', 'warn'));
