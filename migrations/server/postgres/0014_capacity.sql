-- A venue's capacity (限流, issue 18): at most this many people inside at once, across all its
-- gates; NULL means no limit. Stations hold further entries until someone leaves.
ALTER TABLE venues ADD COLUMN capacity INTEGER CHECK (capacity IS NULL OR capacity > 0);
