-- Central server schema, version 12 (SQLite): the health authority's handling of alerts (a
-- refusal's alert or a sighting alert), one note per alert, keyed like the alert (venue first:
-- the distribution key). Sighting alerts gain an index on the time of the entry that raised them,
-- so the alerts view reads both kinds newest first.
CREATE TABLE alert_notes (
    venue_id    TEXT NOT NULL,
    alert_id    TEXT NOT NULL,       -- alerts.id, or sighting_alerts.pair_id
    handled_ms  INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (venue_id, alert_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX sighting_alerts_time ON sighting_alerts (second_at_ms);
