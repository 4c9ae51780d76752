//! The one-round-trip ingest of a batch on PostgreSQL: the `unnest` inserts and the column
//! arrays they are bound from. Each insert comes plain (a resent row fails the statement on the
//! primary key) and deduplicating (`ON CONFLICT DO NOTHING`), for [`insert_batch`].

macro_rules! insert_check_ins {
    () => {
        "
    INSERT INTO check_ins (venue_id, id, device_id, checkpoint_id, inspector, direction, at_ms,
        temperature, celsius, verdict, reasons, fever, code_id, subject, name_masked, phone_masked,
        id_masked, color, manual, proxy_name, proxy_phone, proxy_relation, received_ms)
    SELECT u.venue_id, u.id, $2, u.checkpoint_id, u.inspector, u.direction, u.at_ms,
        u.temperature, u.celsius, u.verdict, u.reasons, u.fever, u.code_id, u.subject,
        u.name_masked, u.phone_masked, u.id_masked, u.color, u.manual, u.proxy_name,
        u.proxy_phone, u.proxy_relation, $3
    FROM unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[],
        $10::real[], $11::text[], $12::text[], $13::boolean[], $14::text[], $15::text[],
        $16::text[], $17::text[], $18::text[], $19::text[], $20::boolean[], $21::text[],
        $22::text[], $23::text[])
        AS u(venue_id, id, checkpoint_id, inspector, direction, at_ms, temperature, celsius, verdict,
             reasons, fever, code_id, subject, name_masked, phone_masked, id_masked, color,
             manual, proxy_name, proxy_phone, proxy_relation)"
    };
}

macro_rules! insert_alerts {
    () => {
        "
    INSERT INTO alerts (venue_id, id, check_in_id, device_id, checkpoint_id, at_ms, reasons,
        subject, name_masked, phone_masked, color, received_ms)
    SELECT u.venue_id, u.id, u.check_in_id, $2, u.checkpoint_id, u.at_ms, u.reasons,
        u.subject, u.name_masked, u.phone_masked, u.color, $3
    FROM unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[],
        $10::text[], $11::text[], $12::text[])
        AS u(venue_id, id, check_in_id, checkpoint_id, at_ms, reasons, subject, name_masked, phone_masked,
             color)"
    };
}

/// A batch's check-ins, plain and deduplicating.
pub(super) const INSERT_CHECK_INS: [&str; 2] = [
    insert_check_ins!(),
    concat!(insert_check_ins!(), " ON CONFLICT DO NOTHING"),
];

/// A batch's alerts, plain and deduplicating.
pub(super) const INSERT_ALERTS: [&str; 2] = [
    insert_alerts!(),
    concat!(insert_alerts!(), " ON CONFLICT DO NOTHING"),
];

/// Inserts a batch's rows with `[plain, dedupe]`: first plain — each row descends each index
/// once, its primary-key check part of the insertion — and only if some row was stored before
/// (a station resending what it could not see acknowledged) again with the deduplicating
/// statement, which checks every row against the key before inserting it: a second descent of
/// the primary key per row, a sixth of the server's time under ingest when always used. The
/// plain attempt runs in a savepoint, so its failure leaves the transaction usable. Returns how
/// many rows are new.
pub(super) fn insert_batch(
    tx: &mut postgres::Transaction<'_>,
    [plain, dedupe]: &[postgres::Statement; 2],
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<u64, postgres::Error> {
    let mut attempt = tx.savepoint("plain_insert")?;
    match attempt.execute(plain, params) {
        Ok(n) => {
            attempt.commit()?;
            Ok(n)
        }
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
            attempt.rollback()?;
            tx.execute(dedupe, params)
        }
        Err(e) => Err(e),
    }
}

/// Column arrays of a batch's check-ins, for one `unnest` insert.
#[derive(Default)]
pub(super) struct CheckInColumns<'a> {
    pub(super) venue_id: Vec<&'a str>,
    pub(super) id: Vec<&'a str>,
    pub(super) checkpoint_id: Vec<&'a str>,
    pub(super) inspector: Vec<&'a str>,
    pub(super) direction: Vec<&'a str>,
    pub(super) at_ms: Vec<i64>,
    pub(super) temperature: Vec<&'a str>,
    pub(super) celsius: Vec<Option<f32>>,
    pub(super) verdict: Vec<&'a str>,
    pub(super) reasons: Vec<String>,
    pub(super) fever: Vec<bool>,
    pub(super) code_id: Vec<Option<&'a str>>,
    pub(super) subject: Vec<Option<&'a str>>,
    pub(super) name_masked: Vec<Option<&'a str>>,
    pub(super) phone_masked: Vec<Option<&'a str>>,
    pub(super) id_masked: Vec<Option<&'a str>>,
    pub(super) color: Vec<Option<&'a str>>,
    pub(super) manual: Vec<bool>,
    pub(super) proxy_name: Vec<Option<&'a str>>,
    pub(super) proxy_phone: Vec<Option<&'a str>>,
    pub(super) proxy_relation: Vec<Option<&'a str>>,
}

/// Column arrays of a batch's alerts.
#[derive(Default)]
pub(super) struct AlertColumns<'a> {
    pub(super) venue_id: Vec<&'a str>,
    pub(super) id: Vec<&'a str>,
    pub(super) check_in_id: Vec<&'a str>,
    pub(super) checkpoint_id: Vec<&'a str>,
    pub(super) at_ms: Vec<i64>,
    pub(super) reasons: Vec<String>,
    pub(super) subject: Vec<Option<&'a str>>,
    pub(super) name_masked: Vec<Option<&'a str>>,
    pub(super) phone_masked: Vec<Option<&'a str>>,
    pub(super) color: Vec<Option<&'a str>>,
}
