//! The store's side of what managers and authorities read: a venue's check-ins counted for
//! statistics (core `statistics` folds them), and the alerts view — refusals' alerts and sighting
//! alerts together, newest first, filtered, with the authority's handling notes.
//!
//! Invariants: statistics read one venue's `(venue_id, at_ms)` index range and return counted
//! groups, never rows; the alerts list is bounded (each kind reads at most `limit` rows before
//! the two are merged) and pages by a `(at, venue, id)` cursor, so page two never repeats page
//! one; region scopes are matched as prefixes of the venue's region code; the SQL is built in one
//! place for both engines (only the placeholder differs).

use chrono::{DateTime, Utc};
use venuecode_core::statistics::Group;

use super::StoreError;

/// What the alerts view asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// Region prefixes the reader covers (an authority's scopes); empty covers nothing.
    pub scopes: Vec<String>,
    /// Only venues whose region starts with this.
    pub region: Option<String>,
    pub venue_id: Option<String>,
    pub reason: Option<AlertReason>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only alerts with no handling note.
    pub unhandled: bool,
    /// The last row of the previous page: `(at, venue_id, alert_id)`.
    pub before: Option<(DateTime<Utc>, String, String)>,
    pub limit: usize,
}

/// The reasons the alerts view filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertReason {
    RedCode,
    YellowCode,
    Fever,
    /// The code, or every code of the person, revoked.
    Revoked,
    /// One code at one venue through two stations closer in time than a second visit allows (a
    /// shared screenshot): a sighting alert of kind `reentry`.
    SharedCode,
    /// Two venues closer in time than travel allows: a sighting alert of kind `two_places`.
    ImpossibleTravel,
}

impl AlertReason {
    pub const ALL: [AlertReason; 6] = [
        AlertReason::RedCode,
        AlertReason::YellowCode,
        AlertReason::Fever,
        AlertReason::Revoked,
        AlertReason::SharedCode,
        AlertReason::ImpossibleTravel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertReason::RedCode => "red_code",
            AlertReason::YellowCode => "yellow_code",
            AlertReason::Fever => "fever",
            AlertReason::Revoked => "revoked",
            AlertReason::SharedCode => "shared_code",
            AlertReason::ImpossibleTravel => "impossible_travel",
        }
    }

    pub fn parse(s: &str) -> Option<AlertReason> {
        AlertReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The reason codes of a refusal's record that mean this (none for sighting kinds).
    fn record_codes(self) -> &'static [&'static str] {
        match self {
            AlertReason::RedCode => &["red_code"],
            AlertReason::YellowCode => &["yellow_code"],
            AlertReason::Fever => &["fever"],
            AlertReason::Revoked => &["revoked", "revoked_subject"],
            AlertReason::SharedCode | AlertReason::ImpossibleTravel => &[],
        }
    }

    fn sighting_kind(self) -> Option<&'static str> {
        match self {
            AlertReason::SharedCode => Some("reentry"),
            AlertReason::ImpossibleTravel => Some("two_places"),
            _ => None,
        }
    }
}

/// One alert as the view lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRow {
    pub venue_id: String,
    pub venue_name: String,
    pub region: String,
    pub alert_id: String,
    /// `refusal` (a station refused someone and raised it), `two_places` or `reentry`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The door, for refusals: its id and name.
    pub checkpoint_id: Option<String>,
    pub checkpoint_name: Option<String>,
    /// Reason codes: a refusal's record reasons, or `impossible_travel` / `shared_code`.
    pub reasons: Vec<String>,
    /// The person's pseudonym, to trace them from the alert.
    pub subject: Option<String>,
    pub name_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub color: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub handled_by: Option<String>,
    pub note: Option<String>,
}

/// A value bound into the alerts SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// The alerts query for an engine whose `n`-th placeholder is `ph(n)`: its SQL and parameters.
/// `count` makes it count the matching alerts instead of listing a page.
pub(crate) fn alerts_sql(
    q: &AlertQuery,
    count: bool,
    ph: impl Fn(usize) -> String,
) -> (String, Vec<Param>) {
    let mut params: Vec<Param> = Vec::new();
    let bind = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        ph(params.len())
    };
    // Which kinds the reason filter leaves.
    let refusals = q.reason.is_none_or(|r| !r.record_codes().is_empty());
    let sightings = q.reason.is_none_or(|r| r.sighting_kind().is_some());
    let mut branches = Vec::new();
    for (kind_table, wanted) in [("alerts", refusals), ("sighting_alerts", sightings)] {
        if !wanted {
            continue;
        }
        let (t, at, id) = if kind_table == "alerts" {
            ("a", "a.at_ms", "a.id")
        } else {
            ("s", "s.second_at_ms", "s.pair_id")
        };
        let mut conds: Vec<String> = Vec::new();
        // Scope: the reader's regions (none: nothing). A prefix is written as a range of codes,
        // which planners estimate from statistics (PostgreSQL took `substr(…) = …` for a rare
        // match, joined every alert with a hash and sorted them: 27 ms at 茂名 scale).
        let within = |prefix: &str, params: &mut Vec<Param>| {
            let lo = bind(Param::Text(prefix.to_string()), params);
            let hi = bind(Param::Text(prefix_end(prefix)), params);
            format!("(v.region >= {lo} AND v.region < {hi})")
        };
        if q.scopes.is_empty() {
            conds.push("1 = 0".into());
        } else {
            let any: Vec<String> = q.scopes.iter().map(|s| within(s, &mut params)).collect();
            conds.push(format!("({})", any.join(" OR ")));
        }
        if let Some(r) = &q.region {
            conds.push(within(r, &mut params));
        }
        if let Some(v) = &q.venue_id {
            conds.push(format!(
                "{t}.venue_id = {}",
                bind(Param::Text(v.clone()), &mut params)
            ));
        }
        if let Some(f) = q.from {
            conds.push(format!(
                "{at} >= {}",
                bind(Param::Int(f.timestamp_millis()), &mut params)
            ));
        }
        if let Some(to) = q.to {
            conds.push(format!(
                "{at} <= {}",
                bind(Param::Int(to.timestamp_millis()), &mut params)
            ));
        }
        if let Some(r) = q.reason {
            if kind_table == "alerts" {
                let any: Vec<String> = r
                    .record_codes()
                    .iter()
                    .map(|c| {
                        format!(
                            "(' ' || a.reasons || ' ') LIKE {}",
                            bind(Param::Text(format!("% {c} %")), &mut params)
                        )
                    })
                    .collect();
                conds.push(format!("({})", any.join(" OR ")));
            } else if let Some(k) = r.sighting_kind() {
                conds.push(format!(
                    "s.kind = {}",
                    bind(Param::Text(k.into()), &mut params)
                ));
            }
        }
        if q.unhandled {
            conds.push("n.handled_ms IS NULL".into());
        }
        if let (Some((b_at, b_venue, b_id)), false) = (&q.before, count) {
            let (p1, p2, p3) = (
                bind(Param::Int(b_at.timestamp_millis()), &mut params),
                bind(Param::Text(b_venue.clone()), &mut params),
                bind(Param::Text(b_id.clone()), &mut params),
            );
            conds.push(format!("({at}, {t}.venue_id, {id}) < ({p1}, {p2}, {p3})"));
        }
        let select = if count {
            "count(*) AS n".to_string()
        } else if kind_table == "alerts" {
            "a.venue_id, v.name, v.region, a.id AS alert_id, 'refusal' AS kind, a.at_ms AS at_ms, \
             a.checkpoint_id, a.reasons, a.subject, a.name_masked, a.phone_masked, a.color, \
             n.handled_ms, n.actor, n.note, c.name AS checkpoint_name"
                .to_string()
        } else {
            "s.venue_id, v.name, v.region, s.pair_id AS alert_id, s.kind, s.second_at_ms AS at_ms, \
             NULL AS checkpoint_id, \
             CASE s.kind WHEN 'two_places' THEN 'impossible_travel' ELSE 'shared_code' END AS reasons, \
             s.subject, NULL AS name_masked, NULL AS phone_masked, NULL AS color, n.handled_ms, \
             n.actor, n.note, NULL AS checkpoint_name"
                .to_string()
        };
        // A refusal names its door (the checkpoint's name beside its id).
        let door = if kind_table == "alerts" {
            " LEFT JOIN checkpoints c ON c.venue_id = a.venue_id AND c.checkpoint_id = a.checkpoint_id"
        } else {
            ""
        };
        let mut sql = format!(
            "SELECT {select} FROM {kind_table} {t} JOIN venues v ON v.venue_id = {t}.venue_id \
             LEFT JOIN alert_notes n ON n.venue_id = {t}.venue_id AND n.alert_id = {id}{door} \
             WHERE {}",
            conds.join(" AND ")
        );
        if !count {
            sql.push_str(&format!(
                " ORDER BY {at} DESC, {t}.venue_id DESC, {id} DESC LIMIT {}",
                q.limit
            ));
        }
        branches.push(format!("SELECT * FROM ({sql}) {t}_page"));
    }
    if branches.is_empty() {
        return (
            if count {
                "SELECT 0".into()
            } else {
                "SELECT 1 WHERE 1 = 0".into()
            },
            Vec::new(),
        );
    }
    let sql = if count {
        format!(
            "SELECT CAST(sum(n) AS BIGINT) FROM ({}) counted",
            branches.join(" UNION ALL ")
        )
    } else {
        format!(
            "SELECT * FROM ({}) merged ORDER BY at_ms DESC, venue_id DESC, alert_id DESC LIMIT {}",
            branches.join(" UNION ALL "),
            q.limit
        )
    };
    (sql, params)
}

/// The first string after every string that starts with `prefix` (its last character raised
/// by one: region codes are digits, so `"4409"` → `"440:"`). Empty stays empty-ended: `"\u{10FFFF}"`.
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    "\u{10FFFF}".into()
}

/// Check-ins read one by one, counted as [`Reports::venue_groups`] counts them, and the
/// different people among them as [`Reports::venue_people`] does: one pass over the rows.
#[derive(Default)]
pub(crate) struct CountFold {
    /// Doors and inspectors, each name once (a venue has a few).
    names: Vec<String>,
    groups: std::collections::HashMap<(i64, usize, usize, u8, bool, bool), u64>,
    people: std::collections::HashSet<Box<str>>,
}

impl CountFold {
    fn name(&mut self, s: &str) -> usize {
        match self.names.iter().position(|n| n == s) {
            Some(i) => i,
            None => {
                self.names.push(s.to_string());
                self.names.len() - 1
            }
        }
    }

    /// One check-in: its hour (UTC hours since the epoch), door, inspector, direction (an
    /// unknown one counts as an entry), refusal, fever and pseudonym.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        hour: i64,
        checkpoint: &str,
        inspector: &str,
        direction: &str,
        refused: bool,
        fever: bool,
        subject: Option<&str>,
    ) {
        let (c, i) = (self.name(checkpoint), self.name(inspector));
        let d = u8::from(direction == "exit");
        *self
            .groups
            .entry((hour, c, i, d, refused, fever))
            .or_default() += 1;
        if let Some(s) = subject {
            if !self.people.contains(s) {
                self.people.insert(s.into());
            }
        }
    }

    /// The groups (by hour, door, inspector, direction, refusal, fever) and how many people.
    pub(crate) fn finish(self) -> (Vec<Group>, i64) {
        let names = &self.names;
        let mut counted: Vec<_> = self.groups.into_iter().collect();
        counted.sort_by_key(|&((hour, c, i, d, refused, fever), _)| {
            (hour, &names[c], &names[i], d, refused, fever)
        });
        let groups = counted
            .into_iter()
            .map(|((hour, c, i, d, refused, fever), count)| Group {
                hour,
                checkpoint_id: names[c].clone(),
                inspector: names[i].clone(),
                direction: if d == 1 {
                    venuecode_core::gate::Direction::Exit
                } else {
                    venuecode_core::gate::Direction::Entry
                },
                refused,
                fever,
                count,
            })
            .collect();
        (groups, self.people.len() as i64)
    }
}

pub(crate) fn split_reasons(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// One check-in as an export lists it (masked identity only, as stored).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInRow {
    pub at: DateTime<Utc>,
    pub checkpoint_id: String,
    pub inspector: String,
    pub direction: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub temperature: String,
    pub celsius: Option<f64>,
    pub name_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub id_masked: Option<String>,
    pub color: Option<String>,
    pub manual: bool,
    pub proxy_name: Option<String>,
    pub proxy_relation: Option<String>,
}

/// A resident's own check-in as the venue's stations get it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneRow {
    pub id: String,
    pub subject: Option<String>,
    pub row: CheckInRow,
}

/// The columns a [`CheckInRow`] is read from, in order, by both engines.
pub(crate) const CHECK_IN_COLUMNS: &str = "at_ms, checkpoint_id, inspector, direction, verdict, \
    reasons, temperature, celsius, name_masked, phone_masked, id_masked, color, manual, \
    proxy_name, proxy_relation";

/// The reports side of the store.
pub trait Reports {
    /// `venue_id`'s check-ins from `from` to `to` (inclusive), oldest first, at most `limit`.
    fn venue_check_ins(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CheckInRow>, StoreError>;
    /// Residents' own check-ins (inspector `self`) at `venue_id` from `since` (inclusive), oldest
    /// first, at most `limit`, each with its id and pseudonym: what the venue's stations add to
    /// their lists and presence.
    fn phone_check_ins(
        &self,
        venue_id: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PhoneRow>, StoreError>;
    /// The venue's passages for its stations' shared presence (issue 18): passing entries and
    /// exits with a pseudonym, at or after `from_at` (the automatic-exit window), received after
    /// `received_after_ms` minus nothing (the caller widens it), from any device but
    /// `except_device` (the asker, who holds its own), oldest received first, at most `limit`,
    /// each with the time the server received it (the relay's cursor).
    fn venue_passages(
        &self,
        venue_id: &str,
        except_device: &str,
        from_at: DateTime<Utc>,
        received_after_ms: i64,
        limit: usize,
    ) -> Result<Vec<(venuecode_core::presence::Passage, i64)>, StoreError>;
    /// `venue_id`'s check-ins from `from` to `to` (inclusive), counted by hour, door, inspector,
    /// direction, refusal and fever.
    fn venue_groups(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Group>, StoreError>;
    /// How many different people (subjects) checked in at `venue_id` from `from` to `to`.
    fn venue_people(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// [`Reports::venue_groups`] and [`Reports::venue_people`] together (an engine may read the
    /// range once for both).
    fn venue_counts(
        &self,
        venue_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Group>, i64), StoreError> {
        Ok((
            self.venue_groups(venue_id, from, to)?,
            self.venue_people(venue_id, from, to)?,
        ))
    }
    /// One page of alerts, newest first.
    fn alerts(&self, q: &AlertQuery) -> Result<Vec<AlertRow>, StoreError>;
    /// How many alerts match (the page's cursor and limit ignored).
    fn count_alerts(&self, q: &AlertQuery) -> Result<i64, StoreError>;
    /// Marks an alert handled with a note (a second note replaces the first); false when no
    /// such alert exists.
    fn handle_alert(
        &self,
        venue_id: &str,
        alert_id: &str,
        actor: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// A stored passage row `(id, subject, door, direction, at_ms, received_ms)` as the relay sends
/// it; a row with an unknown direction or time is skipped.
pub(crate) fn passage_row(
    (id, subject, checkpoint_id, direction, at_ms, received_ms): (
        String,
        String,
        String,
        String,
        i64,
        i64,
    ),
) -> Option<(venuecode_core::presence::Passage, i64)> {
    Some((
        venuecode_core::presence::Passage {
            id,
            subject,
            checkpoint_id,
            direction: venuecode_core::gate::Direction::parse(&direction)?,
            at: DateTime::from_timestamp_millis(at_ms)?,
        },
        received_ms,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_prefix_ends_where_its_codes_end() {
        assert_eq!(prefix_end("4409"), "440:");
        assert_eq!(prefix_end("659002"), "659003");
        assert!("440902001001" < prefix_end("4409").as_str());
        assert!("4410" >= prefix_end("4409").as_str());
    }

    #[test]
    fn the_sql_binds_every_value_and_reads_only_the_kinds_asked() {
        let q = AlertQuery {
            scopes: vec!["6590".into()],
            reason: Some(AlertReason::Revoked),
            limit: 50,
            ..AlertQuery::default()
        };
        let (sql, params) = alerts_sql(&q, false, |n| format!("?{n}"));
        assert!(!sql.contains("sighting_alerts"));
        // The scope's two ends and the reason.
        assert_eq!(params.len(), 3 + 1);
        assert!(sql.contains("?4") && !sql.contains("?5"));
        let q = AlertQuery {
            reason: Some(AlertReason::SharedCode),
            ..q
        };
        let (sql, _) = alerts_sql(&q, true, |n| format!("${n}"));
        assert!(sql.contains("sighting_alerts") && !sql.contains("FROM alerts"));
        // Values never reach the SQL text.
        let q = AlertQuery {
            scopes: vec!["x' OR 1=1 --".into()],
            venue_id: Some("v'; DROP TABLE alerts".into()),
            limit: 10,
            ..AlertQuery::default()
        };
        let (sql, _) = alerts_sql(&q, false, |n| format!("?{n}"));
        assert!(!sql.contains("DROP") && !sql.contains("1=1"));
    }
}
