-- Central server schema, version 9 (PostgreSQL): what a venue administrator edits. Checkpoints
-- get a responsible person (一门一人) and can be disabled; a venue may ask that its administrator
-- approve each new device (pending until then); a venue can be closed (its check-ins stay for
-- tracing, its devices are revoked, its declaration code cleared).
ALTER TABLE checkpoints ADD COLUMN responsible_name TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN responsible_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE devices ADD COLUMN pending BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE venues ADD COLUMN approve_devices BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE venues ADD COLUMN closed_ms BIGINT;
-- Device events gain 'approved'.
ALTER TABLE device_events DROP CONSTRAINT device_events_action_check,
    ADD CONSTRAINT device_events_action_check
    CHECK (action IN ('enrolled', 'revoked', 'reactivated', 'approved'));
