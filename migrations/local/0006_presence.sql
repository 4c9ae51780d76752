-- Venue-wide presence (issue 18): who is inside is computed from the venue's passing check-ins of
-- the automatic-exit window — this station's and residents' phone check-ins pulled from the
-- server — so they are read by venue and time, from the index alone (a busy venue has thousands
-- in the window; reading each row from the table cost more than the computation).
CREATE INDEX check_ins_presence ON check_ins (venue_id, at, verdict, subject, checkpoint_id, direction, id);

-- Records the server never acknowledged, by age: the sync bar counts those past the retention
-- window after every round (`Store::overdue_unsent`), reading only the unsent ones.
CREATE INDEX outbox_unsent_age ON outbox (created_at) WHERE sent_at IS NULL;
