-- Central server schema, version 9 (SQLite): what a venue administrator edits. Checkpoints get a
-- responsible person (一门一人) and can be disabled; a venue may ask that its administrator
-- approve each new device (pending until then); a venue can be closed (deleted from use: its
-- check-ins stay for tracing, its devices are revoked, its declaration code cleared).
ALTER TABLE checkpoints ADD COLUMN responsible_name TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN responsible_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN approve_devices INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN closed_ms INTEGER;
-- Device events gain 'approved' (SQLite changes a CHECK by rebuilding the table).
CREATE TABLE device_events_new (
    at_ms      INTEGER NOT NULL,
    device_id  TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('enrolled', 'revoked', 'reactivated', 'approved')),
    actor      TEXT NOT NULL
) STRICT;
INSERT INTO device_events_new SELECT at_ms, device_id, action, actor FROM device_events;
DROP TABLE device_events;
ALTER TABLE device_events_new RENAME TO device_events;
CREATE INDEX device_events_device ON device_events (device_id, at_ms);
