-- Local station store, version 1: settings.
-- Later migrations add check-ins, the outbox, presence and alerts.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
