//! The demo issuer (`POST /api/v1/demo/codes`, only with `--demo-issuer`, loopback only): issues
//! health codes for the demo and the tests with the demo issuer's keys, validating the shapes the
//! API description documents (ID checksum and birth date → 422).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use venuecode_core::health_code::{self, Color, NatOutcome, NatResult, NewCode};
use venuecode_core::idnumber::IdNumber;

use crate::error::ApiError;
use crate::{body_bytes, json, AppState};

/// A JSON integer as JSON Schema defines it: `599` and `599.0` alike (a number with no
/// fractional part), within i64.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is not a whole number"
        ))),
    }
}

fn whole_number_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

/// `POST /api/v1/demo/codes`: a health code for a demo resident.
#[derive(Debug, Deserialize)]
pub struct DemoCodeRequest {
    pub name: String,
    pub phone: String,
    pub id_number: String,
    /// `green`, `yellow` or `red`.
    pub color: String,
    /// Hours the code stays valid (1–720); 24 when absent.
    #[serde(default, deserialize_with = "whole_number_opt")]
    pub valid_hours: Option<i64>,
    /// A nucleic-acid result and how many hours ago the sample was taken.
    pub nat: Option<DemoNat>,
    /// A printed paper code (纸质码) rather than one for a phone screen.
    #[serde(default)]
    pub paper: bool,
}

/// A demo nucleic-acid result.
#[derive(Debug, Deserialize)]
pub struct DemoNat {
    /// `negative`, `positive` or `pending`.
    pub result: String,
    #[serde(deserialize_with = "whole_number")]
    pub hours_ago: i64,
}

/// The issued code.
#[derive(Debug, Serialize)]
pub struct DemoCodeResponse {
    /// The text to put in a QR code (`JKM1:…`).
    pub code: String,
    pub code_id: String,
    pub expires_at: chrono::DateTime<Utc>,
}

pub(crate) async fn demo_code(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DemoCodeResponse>, ApiError> {
    let keys = state.issuer.clone().ok_or(ApiError::Disabled(
        "the demo issuer is off: start the server with --demo-issuer KEYDIR (demo deployments only)",
    ))?;
    let req: DemoCodeRequest = json(&body_bytes(body)?)?;
    let now = Utc::now();
    let bad = |code, msg: String| ApiError::BadRequest(code, msg);
    // Shapes first (400, as the API description says), then what a pattern cannot say (422).
    if req.name.chars().count() > 32 || req.name.trim().is_empty() {
        return Err(bad("bad_name", "name must be 1 to 32 characters".into()));
    }
    let digits = req.phone.as_bytes();
    if digits.len() != 11 || digits[0] != b'1' || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad(
            "bad_phone",
            "phone must be an 11-digit mainland mobile number".into(),
        ));
    }
    let shape = req.id_number.as_bytes();
    if shape.len() != 18
        || !shape[..17].iter().all(u8::is_ascii_digit)
        || !(shape[17].is_ascii_digit() || shape[17] == b'X' || shape[17] == b'x')
    {
        return Err(bad(
            "bad_id_number",
            "id_number must be 17 digits and a check character (0-9 or X)".into(),
        ));
    }
    let id = IdNumber::parse(&req.id_number, now.date_naive())
        .map_err(|e| ApiError::Unprocessable("bad_id_number", format!("id_number: {e}")))?;
    let color = Color::parse(&req.color)
        .ok_or_else(|| bad("bad_color", "color must be green, yellow or red".into()))?;
    let valid_hours = req.valid_hours.unwrap_or(24);
    if !(1..=720).contains(&valid_hours) {
        return Err(bad("bad_validity", "valid_hours must be 1 to 720".into()));
    }
    let nat = match req.nat {
        None => None,
        Some(n) => {
            let outcome = NatOutcome::parse(&n.result).ok_or_else(|| {
                bad(
                    "bad_nat",
                    "nat.result must be negative, positive or pending".into(),
                )
            })?;
            if !(0..=24 * 60).contains(&n.hours_ago) {
                return Err(bad("bad_nat", "nat.hours_ago must be 0 to 1440".into()));
            }
            Some(NatResult {
                outcome,
                tested_at: now - Duration::hours(n.hours_ago),
            })
        }
    };
    let code_id = venuecode_keys::random_bytes()
        .map_err(|e| ApiError::Internal(format!("random code id: {e}")))?;
    let claims = NewCode {
        issuer: &keys.issuer,
        subject_secret: &keys.subject_secret,
        name: &req.name,
        phone: &req.phone,
        id: &id,
        color,
        color_since: None,
        nat,
        guardian: None,
        issued_at: now,
        valid_for: Duration::hours(valid_hours),
        code_id,
        medium: if req.paper {
            venuecode_core::health_code::Medium::Paper
        } else {
            venuecode_core::health_code::Medium::Screen
        },
    }
    .claims();
    Ok(Json(DemoCodeResponse {
        code: health_code::issue(&keys.issuer_key, &claims),
        code_id: claims.code_id_hex(),
        expires_at: claims.expires_at,
    }))
}
