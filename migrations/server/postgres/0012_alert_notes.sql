-- Central server schema, version 12 (PostgreSQL): the health authority's handling of alerts, one
-- note per alert, keyed like the alert (venue first: the distribution key); sighting alerts
-- indexed by the time of the entry that raised them.
CREATE TABLE alert_notes (
    venue_id    TEXT NOT NULL,
    alert_id    TEXT NOT NULL,
    handled_ms  BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (venue_id, alert_id)
);
CREATE INDEX sighting_alerts_time ON sighting_alerts (second_at_ms);
