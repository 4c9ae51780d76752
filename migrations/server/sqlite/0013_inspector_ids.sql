-- Check-ins name their inspector by device id, not by name (issue 16: the movement history
-- keeps no staff names; reports map the id to the device's inspector). Rows stored before this
-- change are rewritten once.
UPDATE check_ins SET inspector = device_id WHERE inspector <> 'self' AND device_id <> 'self';
