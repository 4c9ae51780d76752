//! Sighting alerts through the router: one person entering two venues closer in time than travel
//! allows, or one venue again through another station, is kept once per pair — however often
//! the batch is retried; refusals and manual registrations never count.

use super::upload::scan;
use super::*;
use venuecode_core::sightings::SightingKind;

const MARKET: &str = "demo-venue-0003";

async fn enrolled_at(f: &Fixture, seed: u8, code: &str) -> Station {
    let s = Station::new(seed);
    let (status, body) = send(&f.app, s.enrol_request(code, &nonce(u64::from(seed)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s
}

async fn upload(f: &Fixture, s: &Station, records: Vec<Record>, n: u64) {
    let req = s.request("POST", "/api/v1/sync/upload", batch(records), &nonce(n));
    let (status, body) = send(&f.app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Scan `n` of the same person (the fixture's codes all name one subject) `min` minutes before
/// the test began.
fn entry(f: &Fixture, n: u64, venue: &str, min: i64) -> venuecode_core::sync::CheckInWire {
    use std::sync::OnceLock;
    static BEGAN: OnceLock<chrono::DateTime<Utc>> = OnceLock::new();
    let began = BEGAN.get_or_init(Utc::now);
    let mut c = scan(n, venue, &f.issuer);
    c.at = *began - Duration::minutes(min);
    c
}

#[tokio::test]
async fn one_person_at_two_venues_too_soon_or_again_through_another_station_is_kept_once() {
    let f = fixture(false);
    let hospital = enrolled_at(&f, 40, "100001").await;
    let market = enrolled_at(&f, 41, "100003").await;
    let hospital_east = enrolled_at(&f, 42, "100001").await;
    let since = Utc::now() - Duration::minutes(1);

    // 阿拉尔市人民医院, then 幸福路农贸市场 (about 1.4 km away) a minute later: too soon.
    upload(
        &f,
        &hospital,
        vec![Record::CheckIn(entry(&f, 1, VENUE, 4))],
        1,
    )
    .await;
    let at_market = Record::CheckIn(entry(&f, 2, MARKET, 3));
    upload(&f, &market, vec![at_market.clone()], 2).await;
    // A retried upload of the same record finds the same pair: still one alert.
    upload(&f, &market, vec![at_market], 3).await;
    // A refusal and a manual registration at the market at the same moment admit nobody.
    let mut refused = entry(&f, 3, MARKET, 3);
    refused.verdict = "refuse".into();
    refused.reasons = vec!["red_code".into()];
    upload(&f, &market, vec![Record::CheckIn(refused)], 4).await;
    // The hospital again, through its other station, a minute later: two minutes after the
    // market (possible), three after the first entry there (again within 30 minutes).
    upload(
        &f,
        &hospital_east,
        vec![Record::CheckIn(entry(&f, 4, VENUE, 1))],
        5,
    )
    .await;

    let alerts = f.store.sighting_alerts(since, 100).unwrap();
    let mut kinds: Vec<_> = alerts
        .iter()
        .map(|a| {
            (
                a.kind,
                a.first_venue_id.as_str(),
                a.second_venue_id.as_str(),
            )
        })
        .collect();
    kinds.sort_by_key(|k| k.0.as_str());
    assert_eq!(
        kinds,
        [
            (SightingKind::ReEntry, VENUE, VENUE),
            (SightingKind::TwoPlaces, VENUE, MARKET),
        ],
        "{alerts:#?}"
    );
    let two = alerts
        .iter()
        .find(|a| a.kind == SightingKind::TwoPlaces)
        .unwrap();
    let metres = two.distance_m.unwrap();
    assert!((1_000..2_000).contains(&metres), "{metres} m");
    assert!(
        two.needed_s > 60,
        "{} s needed for {metres} m",
        two.needed_s
    );
    assert_eq!(two.second_at - two.first_at, Duration::minutes(1));
    let again = alerts
        .iter()
        .find(|a| a.kind == SightingKind::ReEntry)
        .unwrap();
    assert_ne!(again.first_device_id, again.second_device_id);
}
