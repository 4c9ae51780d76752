//! The sync protocol between stations and the central server: wire types, request signing, the
//! rules a batch must meet, retry backoff and the clock-offset measurement.
//!
//! Upload: a station sends its outbox as [`UploadBatch`]es of [`Record`]s (client-made UUIDv7
//! ids); the server stores them idempotently by `(venue_id, id)` and acknowledges every id it
//! holds, new or already there. Download: [`PullResponse`] carries server time, the bound venue's
//! registry entry, its policy, a newer trust list if any, and a signed revocation delta from the
//! station's cursor. Every request but enrolment and `/time` is signed by the device key
//! ([`signing_bytes`]); enrolment is signed by the key it enrols (proof of possession).
//!
//! Invariants: everything here is pure (time, keys and randomness are arguments); a batch that
//! passes [`validate_batch`] names only the device's venue, holds at most [`MAX_BATCH_RECORDS`]
//! records with well-formed, distinct ids and no time beyond `now + FUTURE_SKEW`; the signing
//! bytes bind method, path, device, time, nonce and a hash of the body, so a changed byte of any of
//! them fails verification.
//!
//! Files: `wire.rs` (the types that cross the network), `auth.rs` (request signing and its
//! check), `batch.rs` (the rules an upload must meet), `clock.rs` (backoff, clock offset,
//! staleness), `answer.rs` (signed answers), `succession.rs` (root rotation).

mod answer;
mod auth;
mod batch;
mod clock;
mod succession;
mod wire;

use chrono::Duration;

pub use answer::*;
pub use auth::*;
pub use batch::*;
pub use clock::*;
pub use succession::*;
pub use wire::*;

/// Most records one upload may carry.
pub const MAX_BATCH_RECORDS: usize = 2_000;
/// Largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How far a record's time may lie ahead of the server's clock.
pub const FUTURE_SKEW: Duration = Duration::minutes(5);
/// How far a signed request's time may differ from the server's clock (either way).
pub const REQUEST_SKEW: Duration = Duration::minutes(5);
/// A station whose clock is off by more than this shows a banner.
pub const CLOCK_WARN: Duration = Duration::minutes(5);
/// A trust list older than this is shown as stale.
pub const TRUST_STALE: Duration = Duration::hours(48);
/// Longest text field the server accepts in a record.
pub const MAX_FIELD_CHARS: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Policy;
    use crate::keys::SecretKey;
    use chrono::{DateTime, Utc};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    const NOW: i64 = 1_790_000_000;

    fn check_in(id: &str, venue: &str, t: i64) -> CheckInWire {
        CheckInWire {
            format: RECORD_FORMAT,
            id: id.into(),
            venue_id: venue.into(),
            checkpoint_id: "main".into(),
            inspector: "王五".into(),
            direction: "entry".into(),
            at: at(t),
            verdict: "pass".into(),
            reasons: vec![],
            temperature: "normal".into(),
            celsius: None,
            fever: false,
            code_id: Some("00112233".into()),
            subject: Some("aabb".into()),
            name_masked: Some("张*".into()),
            phone_masked: None,
            id_masked: None,
            color: Some("green".into()),
            manual: false,
            proxy_name: None,
            proxy_phone: None,
            proxy_relation: None,
            code: None,
            sealed_id: None,
        }
    }

    /// A device of venue `v1`, enrolled a day before NOW.
    fn v1() -> BatchSource<'static> {
        BatchSource {
            venue_id: "v1",
            enrolled_at: at(NOW - 86_400),
        }
    }

    fn uuid(n: u32) -> String {
        format!("0190f0e0-0000-7000-8000-{n:012x}")
    }

    #[test]
    fn a_good_batch_passes_and_round_trips_as_json() {
        let alert = Record::Alert(AlertWire {
            format: RECORD_FORMAT,
            id: uuid(2),
            venue_id: "v1".into(),
            at: at(NOW),
            reasons: vec!["red_code".into()],
            check_in: check_in(&uuid(1), "v1", NOW),
        });
        let b = UploadBatch {
            records: vec![Record::CheckIn(check_in(&uuid(1), "v1", NOW)), alert],
        };
        validate_batch(&b, v1(), at(NOW)).unwrap();
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.contains(r#""kind":"check_in""#) && text.contains(r#""kind":"alert""#));
        assert_eq!(serde_json::from_str::<UploadBatch>(&text).unwrap(), b);
    }

    #[test]
    fn bad_batches_are_refused_with_the_record_named() {
        let ok = |n| Record::CheckIn(check_in(&uuid(n), "v1", NOW));
        let err = |records: Vec<Record>| {
            validate_batch(&UploadBatch { records }, v1(), at(NOW)).unwrap_err()
        };
        assert_eq!(err(vec![]), BatchError::Empty);
        assert!(matches!(
            err((0..MAX_BATCH_RECORDS as u32 + 1).map(ok).collect()),
            BatchError::TooMany { .. }
        ));
        let e = err(vec![ok(1), ok(1)]);
        assert_eq!(e.record_id(), Some(uuid(1).as_str()));
        assert_eq!(
            err(vec![Record::CheckIn(check_in("not-a-uuid", "v1", NOW))]).code(),
            "bad_record"
        );
        assert_eq!(
            err(vec![Record::CheckIn(check_in(
                &uuid(1).to_uppercase(),
                "v1",
                NOW
            ))])
            .code(),
            "bad_record"
        );
        assert_eq!(
            err(vec![ok(1), Record::CheckIn(check_in(&uuid(2), "v2", NOW))]).code(),
            "wrong_venue"
        );
        let future = err(vec![Record::CheckIn(check_in(&uuid(3), "v1", NOW + 301))]);
        assert_eq!(future.code(), "future_timestamp");
        assert_eq!(future.record_id(), Some(uuid(3).as_str()));
        // Within the skew is fine: station clocks drift a little.
        validate_batch(
            &UploadBatch {
                records: vec![Record::CheckIn(check_in(&uuid(3), "v1", NOW + 299))],
            },
            v1(),
            at(NOW),
        )
        .unwrap();
        // Before the device's enrolment (less the skew), or before the retention window: refused.
        let before = err(vec![Record::CheckIn(check_in(
            &uuid(12),
            "v1",
            NOW - 86_400 - 301,
        ))]);
        assert_eq!(before.code(), "too_old");
        assert_eq!(before.record_id(), Some(uuid(12).as_str()));
        let late_enrolled = BatchSource {
            venue_id: "v1",
            enrolled_at: at(NOW - 100 * 86_400),
        };
        let ancient = UploadBatch {
            records: vec![Record::CheckIn(check_in(
                &uuid(13),
                "v1",
                NOW - 29 * 86_400,
            ))],
        };
        assert_eq!(
            validate_batch(&ancient, late_enrolled, at(NOW))
                .unwrap_err()
                .code(),
            "too_old"
        );
        // Readings outside 30–45 °C.
        for t in [29.9, 45.1, f32::INFINITY] {
            let mut c = check_in(&uuid(14), "v1", NOW);
            c.temperature = "celsius".into();
            c.celsius = Some(t);
            assert!(
                matches!(
                    err(vec![Record::CheckIn(c)]),
                    BatchError::BadValue {
                        field: "celsius",
                        ..
                    }
                ),
                "{t}"
            );
        }
        let mut long = check_in(&uuid(4), "v1", NOW);
        long.inspector = "x".repeat(MAX_FIELD_CHARS + 1);
        assert!(matches!(
            err(vec![Record::CheckIn(long)]),
            BatchError::FieldTooLong {
                field: "inspector",
                ..
            }
        ));
        let mut weird = check_in(&uuid(5), "v1", NOW);
        weird.verdict = "maybe".into();
        assert!(matches!(
            err(vec![Record::CheckIn(weird)]),
            BatchError::BadValue {
                field: "verdict",
                ..
            }
        ));
        let mut nan = check_in(&uuid(6), "v1", NOW);
        nan.temperature = "celsius".into();
        nan.celsius = Some(f32::NAN);
        assert_eq!(err(vec![Record::CheckIn(nan)]).code(), "bad_record");
        // An alert smuggling another venue's check-in.
        let smuggled = Record::Alert(AlertWire {
            format: RECORD_FORMAT,
            id: uuid(7),
            venue_id: "v1".into(),
            at: at(NOW),
            reasons: vec![],
            check_in: check_in(&uuid(8), "v2", NOW),
        });
        assert_eq!(err(vec![smuggled]).code(), "wrong_venue");
        // A record from a build with another format is named, not misread.
        let mut newer = check_in(&uuid(9), "v1", NOW);
        newer.format = RECORD_FORMAT + 1;
        let e = err(vec![ok(10), Record::CheckIn(newer)]);
        assert_eq!(e.code(), "unknown_format");
        assert_eq!(e.record_id(), Some(uuid(9).as_str()));
        // Records queued before formats existed read as format 1, which carries no code the
        // server could check: refused, named, whether on its own or inside an alert.
        let mut old =
            serde_json::to_value(Record::CheckIn(check_in(&uuid(11), "v1", NOW))).unwrap();
        old.as_object_mut().unwrap().remove("format");
        let old: Record = serde_json::from_value(old).unwrap();
        assert!(matches!(&old, Record::CheckIn(c) if c.format == 1));
        let e = err(vec![ok(12), old]);
        assert_eq!(e.code(), "unknown_format");
        assert_eq!(e.record_id(), Some(uuid(11).as_str()));
        let mut inner = check_in(&uuid(13), "v1", NOW);
        inner.format = 1;
        let wrapped = Record::Alert(AlertWire {
            format: RECORD_FORMAT,
            id: uuid(14),
            venue_id: "v1".into(),
            at: at(NOW),
            reasons: vec![],
            check_in: inner,
        });
        assert_eq!(err(vec![wrapped]).code(), "unknown_format");
    }

    #[test]
    fn the_scanned_code_must_bear_out_the_record() {
        use crate::health_code::testutil::{claims, issuer_key, now, trust};
        use crate::health_code::{issue, Color};
        let c = claims();
        let text = issue(&issuer_key(), &c);
        let t = now().timestamp();
        let scan = |text: &str, verdict: &str| {
            let mut w = check_in(&uuid(1), "v1", t);
            w.format = RECORD_FORMAT;
            w.code = Some(text.to_string());
            w.code_id = Some(c.code_id_hex());
            w.subject = Some(c.subject.to_hex());
            w.color = Some(c.color.as_str().into());
            w.verdict = verdict.into();
            w
        };
        let check = |w: CheckInWire| {
            check_codes(
                &UploadBatch {
                    records: vec![Record::CheckIn(w)],
                },
                &trust(),
            )
        };
        check(scan(&text, "pass")).unwrap();
        // Another person's subject, another colour, another code id: refused.
        let mut planted = scan(&text, "pass");
        planted.subject = Some("ff".repeat(12));
        assert_eq!(check(planted).unwrap_err().code(), "code_mismatch");
        let mut recoloured = scan(&text, "pass");
        recoloured.color = Some(Color::Red.as_str().into());
        assert_eq!(check(recoloured).unwrap_err().code(), "code_mismatch");
        let mut other_id = scan(&text, "pass");
        other_id.code_id = Some("00".repeat(8));
        assert_eq!(check(other_id).unwrap_err().code(), "code_mismatch");
        // A forged code: a pass is refused, a refusal is what the station did too.
        let forged = issue(&crate::keys::SecretKey::from_seed(&[99; 32]), &c);
        assert_eq!(
            check(scan(&forged, "pass")).unwrap_err().code(),
            "code_mismatch"
        );
        check(scan(&forged, "refuse")).unwrap();
        // A code the station refused unverified (here: revoked, which the server does not
        // check): no identity on the record; a refusal stands, a pass does not.
        let mut revoked = scan(&text, "refuse");
        revoked.code_id = None;
        revoked.subject = None;
        revoked.color = None;
        check(revoked.clone()).unwrap();
        revoked.verdict = "pass".into();
        assert_eq!(check(revoked).unwrap_err().code(), "code_mismatch");
        // A scan without its code is refused, whatever format it claims (format 1 is refused
        // earlier, by `validate_batch`; here it gains nothing either).
        let mut bare = scan(&text, "pass");
        bare.code = None;
        assert_eq!(check(bare.clone()).unwrap_err().code(), "code_mismatch");
        bare.format = 1;
        assert_eq!(check(bare).unwrap_err().code(), "code_mismatch");
        // A manual registration never names an issuer's pseudonym.
        let mut manual = check_in(&uuid(2), "v1", t);
        manual.manual = true;
        manual.subject = Some(c.subject.to_hex());
        assert_eq!(check(manual.clone()).unwrap_err().code(), "code_mismatch");
        manual.subject = Some(format!("local:{}", "ab".repeat(16)));
        check(manual).unwrap();
    }

    #[test]
    fn the_binding_is_stamped_on_every_record() {
        let mut c = check_in(&uuid(1), "v1", NOW);
        c.checkpoint_id = "roof".into();
        c.inspector = "someone else".into();
        let mut b = UploadBatch {
            records: vec![
                Record::CheckIn(c.clone()),
                Record::Alert(AlertWire {
                    format: RECORD_FORMAT,
                    id: uuid(2),
                    venue_id: "v1".into(),
                    at: at(NOW),
                    reasons: vec![],
                    check_in: c,
                }),
            ],
        };
        stamp_binding(&mut b, "main", "王五");
        for r in &b.records {
            let c = match r {
                Record::CheckIn(c) => c,
                Record::Alert(a) => &a.check_in,
            };
            assert_eq!(
                (c.checkpoint_id.as_str(), c.inspector.as_str()),
                ("main", "王五")
            );
        }
    }

    #[test]
    fn signed_headers_are_parsed_strictly_and_extreme_times_never_pass() {
        let key = SecretKey::from_seed(&[7; 32]);
        let nonce = "00112233445566778899aabbccddeeff";
        let h = sign_request(&key, "GET", "/p", NOW * 1000, nonce, b"");
        let time = h.unix_ms.to_string();
        let good = |name: &'static str| -> Option<&str> {
            match name {
                HEADER_DEVICE => Some(&h.device),
                HEADER_TIME => Some(&time),
                HEADER_NONCE => Some(&h.nonce),
                HEADER_SIGNATURE => Some(&h.signature),
                _ => None,
            }
        };
        assert_eq!(parse_signed_headers(good).unwrap(), h);
        for (bad_name, bad_value, err) in [
            (HEADER_TIME, "-5", AuthError::Malformed(HEADER_TIME)),
            (
                HEADER_TIME,
                "99999999999999999999",
                AuthError::Malformed(HEADER_TIME),
            ),
            (HEADER_TIME, "+5", AuthError::Malformed(HEADER_TIME)),
            (HEADER_DEVICE, "zz", AuthError::Malformed(HEADER_DEVICE)),
            (HEADER_NONCE, "abc", AuthError::Malformed(HEADER_NONCE)),
            (
                HEADER_SIGNATURE,
                "00",
                AuthError::Malformed(HEADER_SIGNATURE),
            ),
        ] {
            let get = |name: &'static str| {
                if name == bad_name {
                    Some(bad_value)
                } else {
                    good(name)
                }
            };
            assert_eq!(
                parse_signed_headers(get).unwrap_err(),
                err,
                "{bad_name}={bad_value}"
            );
        }
        let missing = |name: &'static str| {
            if name == HEADER_NONCE {
                None
            } else {
                good(name)
            }
        };
        assert_eq!(
            parse_signed_headers(missing).unwrap_err(),
            AuthError::Missing(HEADER_NONCE)
        );
        // Times at the ends of the range are refused as skewed, never wrapped into the window
        // (i64::MIN - now saturates; its absolute value must not overflow).
        for unix_ms in [i64::MIN, i64::MIN + 1, i64::MAX, 0] {
            let h = sign_request(&key, "GET", "/p", unix_ms, nonce, b"");
            assert!(matches!(
                verify_request(&key.public(), "GET", "/p", &h, b"", at(NOW)),
                Err(AuthError::Skewed { .. })
            ));
        }
    }

    #[test]
    fn signatures_bind_every_part_of_the_request() {
        let key = SecretKey::from_seed(&[7; 32]);
        let body = br#"{"records":[]}"#;
        let nonce = "00112233445566778899aabbccddeeff";
        let ms = NOW * 1000;
        let h = sign_request(&key, "POST", "/api/v1/sync/upload", ms, nonce, body);
        assert_eq!(h.device, device_id(&key.public()));
        let pk = key.public();
        let now = at(NOW);
        verify_request(&pk, "post", "/api/v1/sync/upload", &h, body, now).unwrap();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/pull", &h, body, now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &h, b"{}", now),
            Err(AuthError::BadSignature)
        );
        let mut other_nonce = h.clone();
        other_nonce.nonce = "ffeeddccbbaa99887766554433221100".into();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &other_nonce, body, now),
            Err(AuthError::BadSignature)
        );
        let other = SecretKey::from_seed(&[8; 32]).public();
        assert_eq!(
            verify_request(&other, "POST", "/api/v1/sync/upload", &h, body, now),
            Err(AuthError::BadSignature)
        );
        let late = verify_request(&pk, "POST", "/api/v1/sync/upload", &h, body, at(NOW + 301));
        assert!(matches!(late, Err(AuthError::Skewed { .. })));
        let mut short = h.clone();
        short.nonce = "abc".into();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &short, body, now),
            Err(AuthError::Malformed(HEADER_NONCE))
        );
        let mut garbled = h;
        garbled.signature = "zz".into();
        assert_eq!(
            verify_request(&pk, "POST", "/api/v1/sync/upload", &garbled, body, now),
            Err(AuthError::Malformed(HEADER_SIGNATURE))
        );
    }

    #[test]
    fn backoff_grows_to_the_cap_and_jitter_stays_inside() {
        use std::time::Duration as D;
        let (base, cap) = (D::from_millis(500), D::from_secs(30));
        assert_eq!(backoff_delay(base, cap, 0, 1.0), D::from_millis(500));
        assert_eq!(backoff_delay(base, cap, 3, 1.0), D::from_millis(4000));
        assert_eq!(backoff_delay(base, cap, 10, 1.0), cap);
        assert_eq!(backoff_delay(base, cap, u32::MAX, 1.0), cap);
        assert_eq!(backoff_delay(base, cap, 3, 0.0), D::ZERO);
        assert_eq!(backoff_delay(base, cap, 3, 0.5), D::from_millis(2000));
        assert_eq!(backoff_delay(base, cap, 3, 7.0), D::from_millis(4000));
    }

    #[test]
    fn clock_offset_is_the_ntp_estimate() {
        let ms = |m: i64| DateTime::from_timestamp_millis(NOW * 1000 + m).unwrap();
        let s = ClockSample {
            sent: ms(0),
            received: ms(200),
            server: ms(100 + 600_000),
        };
        assert_eq!(s.offset(), Some(Duration::minutes(10)));
        assert!(clock_offset_warns(s.offset().unwrap()));
        assert!(!clock_offset_warns(Duration::minutes(-4)));
        assert!(clock_offset_warns(Duration::minutes(-6)));
        let backwards = ClockSample {
            sent: ms(200),
            received: ms(0),
            server: ms(0),
        };
        assert_eq!(backwards.offset(), None);
    }

    #[test]
    fn trust_staleness_and_policy_clamping() {
        assert!(trust_is_stale(None, at(NOW)));
        assert!(!trust_is_stale(Some(at(NOW - 47 * 3600)), at(NOW)));
        assert!(trust_is_stale(Some(at(NOW - 49 * 3600)), at(NOW)));
        let wire = PolicyWire {
            fever_threshold_c: 12.0,
            accept_yellow: true,
            require_nat_within_hours: Some(48),
            max_code_age_hours: Some(-3),
            max_paper_code_age_hours: Some(72),
            max_unsigned_time_hours: 0,
            stale_after_hours: 12,
            when_stale: "warn".into(),
            capacity: None,
        };
        let f = wire.freshness();
        assert_eq!(f.max_unsigned, Duration::hours(24));
        assert_eq!(f.stale_after, Duration::hours(12));
        assert!(!f.refuse_when_stale);
        // A policy from before these fields existed reads with the defaults (refuse).
        let old: PolicyWire = serde_json::from_str(
            r#"{"fever_threshold_c":37.3,"accept_yellow":false,"require_nat_within_hours":null,"max_code_age_hours":null}"#,
        )
        .unwrap();
        assert_eq!(old.freshness(), FreshnessPolicy::default());
        let p = wire.to_policy();
        assert_eq!(p.fever_threshold_c, Policy::default().fever_threshold_c);
        assert!(p.accept_yellow);
        assert_eq!(p.require_nat_within, Some(Duration::hours(48)));
        assert_eq!(p.max_code_age, Some(crate::gate::DEFAULT_MAX_CODE_AGE));
        assert_eq!(p.max_paper_code_age, Duration::hours(72));
        assert_eq!(PolicyWire::from(&p).to_policy(), p);
        // A policy from before paper codes had their own limit gets the default, never "off".
        assert_eq!(
            old.to_policy().max_paper_code_age,
            crate::gate::DEFAULT_MAX_PAPER_CODE_AGE
        );
        // What an operator sets is checked, not clamped.
        let set = PolicyWire::from(&Policy::default());
        set.validate().unwrap();
        assert_eq!(wire.validate(), Err(PolicyError::FeverThreshold));
        let bad_hours = PolicyWire {
            stale_after_hours: 0,
            ..set.clone()
        };
        assert_eq!(
            bad_hours.validate(),
            Err(PolicyError::Hours("stale_after_hours", 720))
        );
        let bad_mode = PolicyWire {
            when_stale: "ignore".into(),
            ..set.clone()
        };
        assert_eq!(bad_mode.validate(), Err(PolicyError::WhenStale));
        for (cap, ok) in [
            (Some(0), false),
            (Some(1), true),
            (Some(1_000_001), false),
            (None, true),
        ] {
            let p = PolicyWire {
                capacity: cap,
                ..set.clone()
            };
            assert_eq!(p.validate().is_ok(), ok, "{cap:?}");
        }
        assert!(is_declaration_code("123456"));
        assert!(!is_declaration_code("12345"));
        assert!(!is_declaration_code("12345a"));
        assert!(!is_declaration_code("１２３４５６"));
    }
}
