-- Venue-wide presence (issue 18): who is inside is computed from the venue's passing check-ins of
-- the automatic-exit window — this station's and residents' phone check-ins pulled from the
-- server — so they are read by venue and time.
CREATE INDEX check_ins_venue_at ON check_ins (venue_id, at);
