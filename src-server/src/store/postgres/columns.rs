//! The one-round-trip ingest of a batch on PostgreSQL: the `unnest` inserts and the column
//! arrays they are bound from.

pub(super) const INSERT_CHECK_INS: &str = "
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
             manual, proxy_name, proxy_phone, proxy_relation)
    ON CONFLICT DO NOTHING";

pub(super) const INSERT_ALERTS: &str = "
    INSERT INTO alerts (venue_id, id, check_in_id, device_id, checkpoint_id, at_ms, reasons,
        subject, name_masked, phone_masked, color, received_ms)
    SELECT u.venue_id, u.id, u.check_in_id, $2, u.checkpoint_id, u.at_ms, u.reasons,
        u.subject, u.name_masked, u.phone_masked, u.color, $3
    FROM unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[],
        $10::text[], $11::text[], $12::text[])
        AS u(venue_id, id, check_in_id, checkpoint_id, at_ms, reasons, subject, name_masked, phone_masked,
             color)
    ON CONFLICT DO NOTHING";

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
