//! The two calls the residents' page makes: what a code says (`inspect`), and the check-in
//! itself. Every code is verified here as a station would (signature, times, the server's
//! revocation list); core's `self_check_in` judges the request; records go through the same
//! ingest and sighting checks as a station's upload.

use super::*;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use venuecode_core::gate::Verdict;
use venuecode_core::health_code::{self, VerifiedHealthCode};
use venuecode_core::qr::{Ecc, QrMatrix};
use venuecode_core::self_check_in::{self, RefusedRequest};
use venuecode_core::sync::{AlertWire, CheckInWire, Record};
use venuecode_core::trust::Revocations;

use crate::store::Device;
use crate::{body_bytes, json, sightings};

/// The server's answer about one code, from what the phone will keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeView {
    /// The person's pseudonym as the code itself carries it: the page replaces a person's older
    /// code with a newer one instead of listing them twice.
    pub person: String,
    pub name_masked: String,
    /// `green`, `yellow` or `red`.
    pub color: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The code as a QR symbol (SVG), shown full-screen when the phone is offline (反向扫码).
    pub qr_svg: String,
}

/// A refusal of a whole request, person by person where it is about their codes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Refusal {
    pub error: String,
    pub message: String,
    #[serde(default)]
    pub people: Vec<PersonProblem>,
}

/// One person's code that cannot be used (1-based position in the request).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PersonProblem {
    pub index: usize,
    pub error: String,
    pub message: String,
}

fn refusal(
    status: StatusCode,
    error: &str,
    message: String,
    people: Vec<PersonProblem>,
) -> Response {
    (
        status,
        Json(Refusal {
            error: error.into(),
            message,
            people,
        }),
    )
        .into_response()
}

fn from_api(e: ApiError) -> Response {
    e.into_response()
}

/// The revocations the server's list holds for one code, asked before verification.
struct Known {
    code: bool,
    subject: bool,
}

impl Revocations for Known {
    fn code_revoked(&self, _: &str) -> bool {
        self.code
    }
    fn subject_revoked(&self, _: &str) -> bool {
        self.subject
    }
}

/// Verifies one code as a station would: signature, issue and expiry times, the server's
/// revocation list.
fn verify_code(
    store: &dyn Store,
    trust: &TrustList,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Result<VerifiedHealthCode, CodeError>, ApiError> {
    let claims = match health_code::identify(text, trust) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let code_id = claims.code_id_hex();
    let subject = claims.subject.to_hex();
    let known = Known {
        code: store.is_revoked(&code_id, "")?,
        subject: store.is_revoked("", &subject)?,
    };
    Ok(health_code::verify(text, trust, &known, now))
}

#[derive(Deserialize)]
struct InspectBody {
    code: String,
}

fn qr_svg(text: &str) -> Result<String, ApiError> {
    let m = QrMatrix::encode(text, Ecc::M).map_err(|e| ApiError::Internal(e.to_string()))?;
    let side = m.width + 8;
    let path = venuecode_core::poster::qr_svg_path(&m, 4.0, 4.0, 1.0);
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

pub(super) async fn inspect(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let body = body_bytes(body)?;
        if body.len() > MAX_BODY {
            return Err(ApiError::TooLarge(MAX_BODY));
        }
        let InspectBody { code } = json(&body)?;
        let trust = state
            .trust()
            .ok_or_else(|| ApiError::NotFound("this server verifies no codes".into()))?;
        let store = state.store.clone();
        let now = Utc::now();
        let checked =
            blocking(move || verify_code(store.as_ref(), &trust, &code, now).map(|c| (c, code)))
                .await?;
        Ok(checked)
    };
    match run.await {
        Err(e) => from_api(e),
        Ok((Err(e), _)) => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.to_string(),
            Vec::new(),
        ),
        Ok((Ok(v), text)) => match qr_svg(text.trim()) {
            Ok(svg) => Json(CodeView {
                person: v.claims.subject.to_hex(),
                name_masked: v.claims.name_masked.clone(),
                color: v.claims.color.as_str().into(),
                issued_at: v.claims.issued_at,
                expires_at: v.claims.expires_at,
                qr_svg: svg,
            })
            .into_response(),
            Err(e) => from_api(e),
        },
    }
}

#[derive(Deserialize)]
struct CheckInBody {
    /// The poster's URL (or its payload).
    poster: String,
    codes: Vec<String>,
}

/// One person's result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PersonResult {
    pub name_masked: Option<String>,
    pub color: Option<String>,
    /// `pass` or `refuse`.
    pub verdict: String,
    pub reasons: Vec<String>,
}

/// The result screen's content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SelfCheckInAnswer {
    pub at: DateTime<Utc>,
    pub venue_name: String,
    pub checkpoint_name: String,
    pub direction: String,
    /// `pass` when everyone passed, else `refuse`.
    pub verdict: String,
    pub people: Vec<PersonResult>,
    /// The venue's report phone.
    pub phone: String,
}

pub(super) async fn check_in(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match check_in_inner(state, body).await {
        Ok(r) => r,
        Err(e) => from_api(e),
    }
}

async fn check_in_inner(
    state: AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge(MAX_BODY));
    }
    let req: CheckInBody = json(&body)?;
    let trust = state.trust();
    let store = state.store.clone();
    let url = poster_url(&req.poster);
    let now = Utc::now();
    let door = {
        let (store, trust) = (store.clone(), trust.clone());
        blocking(move || open_door(store.as_ref(), trust.as_deref(), &url)).await?
    };
    let door = match door {
        Ok(d) => d,
        Err(e) => return Ok(refusal(e.status(), e.code(), e.to_string(), Vec::new())),
    };
    let (Some(trust), Some(claims), Some(policy)) =
        (trust, door.claims.clone(), door.policy.clone())
    else {
        return Err(ApiError::Internal("an open door without claims".into()));
    };
    if !state
        .self_venue_limiter
        .allow(&door.venue_id, now.timestamp().div_euclid(60))
    {
        return Ok(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "venue_busy",
            format!("this place takes at most {PER_VENUE_MINUTE} phone check-ins a minute: wait a moment, or show your code to the staff"),
            Vec::new(),
        ));
    }
    let codes = req.codes;
    let checked = {
        let store = store.clone();
        blocking(move || {
            let mut out = Vec::with_capacity(codes.len());
            for text in codes.iter().take(self_check_in::MAX_PEOPLE + 1) {
                out.push(verify_code(store.as_ref(), &trust, text, now)?);
            }
            Ok((codes, out))
        })
        .await?
    };
    let (codes, results) = checked;
    let people: Vec<self_check_in::Checked<'_>> =
        codes.iter().map(String::as_str).zip(results).collect();
    let zone = FixedOffset::east_opt(ZONE_SECONDS)
        .ok_or_else(|| ApiError::Internal("the zone offset is out of range".into()))?;
    let decided = match self_check_in::decide(&claims, &people, &policy.to_policy(), now, zone) {
        Ok(d) => d,
        Err(e) => return Ok(refused_request(&e)),
    };
    // One person at most so often: counted per subject before anything is stored.
    let hour = now.timestamp().div_euclid(3600);
    for (d, _) in &decided {
        if let Some(subject) = &d.subject {
            if !state.self_person_limiter.allow(subject, hour) {
                return Ok(refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "person_busy",
                    format!("one person checks in at most {PER_PERSON_HOUR} times an hour: show your code to the staff"),
                    Vec::new(),
                ));
            }
        }
    }
    let mut records = Vec::new();
    let mut people_out = Vec::new();
    for (d, _) in &decided {
        let wire = CheckInWire::from_draft(uuid::Uuid::now_v7().to_string(), d);
        if d.alert {
            records.push(Record::Alert(AlertWire::about(
                uuid::Uuid::now_v7().to_string(),
                &wire,
            )));
        }
        people_out.push(PersonResult {
            name_masked: d.name_masked.clone(),
            color: d.color.map(str::to_string),
            verdict: wire.verdict.clone(),
            reasons: wire.reasons.clone(),
        });
        records.push(Record::CheckIn(wire));
    }
    let device = Device {
        device_id: self_check_in::INSPECTOR.into(),
        public_key: String::new(),
        venue_id: door.venue_id.clone(),
        checkpoint_id: door.checkpoint_id.clone(),
        inspector: self_check_in::INSPECTOR.into(),
        revoked: false,
        enrolled_at: now,
        pending: false,
    };
    let entries = sightings::BatchEntries::of(&records);
    let venue_id = door.venue_id.clone();
    let relay = state.relay.clone();
    blocking(move || {
        store.ingest(&device, records, now)?;
        relay.committed(&venue_id);
        sightings::detect(store.as_ref(), &venue_id, &entries, now)?;
        Ok(())
    })
    .await?;
    let verdict = if decided.iter().all(|(_, d)| d.verdict == Verdict::Pass) {
        "pass"
    } else {
        "refuse"
    };
    Ok(Json(SelfCheckInAnswer {
        at: now,
        venue_name: door.venue_name,
        checkpoint_name: door.checkpoint_name,
        direction: match claims.direction {
            Direction::Entry => "entry",
            Direction::Exit => "exit",
        }
        .into(),
        verdict: verdict.into(),
        people: people_out,
        phone: door.phone,
    })
    .into_response())
}

fn refused_request(e: &RefusedRequest) -> Response {
    let (code, people) = match e {
        RefusedRequest::Nobody => ("nobody", Vec::new()),
        RefusedRequest::TooMany { .. } => ("too_many_people", Vec::new()),
        RefusedRequest::SamePerson { second, .. } => (
            "same_person",
            vec![PersonProblem {
                index: *second,
                error: "same_person".into(),
                message: e.to_string(),
            }],
        ),
        RefusedRequest::BadCodes(bad) => (
            "bad_codes",
            bad.iter()
                .map(|(i, err)| PersonProblem {
                    index: *i,
                    error: err.code().into(),
                    message: err.to_string(),
                })
                .collect(),
        ),
    };
    refusal(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        e.to_string(),
        people,
    )
}
