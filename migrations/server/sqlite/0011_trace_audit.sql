-- Central server schema, version 11 (SQLite): every tracing query is written here before its
-- answer leaves the server — who, when, which subject, which case, why, the window and how many
-- results. Append-only: the triggers refuse any change or deletion.
CREATE TABLE trace_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms        INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    case_number  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    from_ms      INTEGER NOT NULL,
    to_ms        INTEGER NOT NULL,
    visits       INTEGER NOT NULL,
    contacts     INTEGER NOT NULL
) STRICT;
CREATE TRIGGER trace_audit_no_update BEFORE UPDATE ON trace_audit
BEGIN SELECT RAISE(ABORT, 'trace_audit is append-only'); END;
CREATE TRIGGER trace_audit_no_delete BEFORE DELETE ON trace_audit
BEGIN SELECT RAISE(ABORT, 'trace_audit is append-only'); END;
