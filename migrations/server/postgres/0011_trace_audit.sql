-- Central server schema, version 11 (PostgreSQL): every tracing query is written here before its
-- answer leaves the server. Append-only: a trigger refuses any change or deletion.
CREATE TABLE trace_audit (
    id           BIGSERIAL PRIMARY KEY,
    at_ms        BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    case_number  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    from_ms      BIGINT NOT NULL,
    to_ms        BIGINT NOT NULL,
    visits       INTEGER NOT NULL,
    contacts     INTEGER NOT NULL
);
CREATE FUNCTION trace_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trace_audit is append-only';
END
$$;
CREATE TRIGGER trace_audit_append_only BEFORE UPDATE OR DELETE ON trace_audit
    FOR EACH ROW EXECUTE FUNCTION trace_audit_append_only();
