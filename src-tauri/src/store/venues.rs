//! One inspector, several venues: the enrolments this station holds besides the active one.
//!
//! The server binds a device key to one venue, so a station enrolled at several venues keeps one
//! key per venue. The active venue's enrolment lives where it always did (the `device` row, the
//! binding settings, the `venue` and `device_key_made_at` sync values); the others are parked in
//! `parked_venues` with their key, door, inspector, direction and last registry entry.
//!
//! Invariants: switching moves the active enrolment out and the chosen one in within one
//! transaction, so the station is bound to exactly one venue at any moment; a venue is held at
//! most once (active or parked); a parked venue's unsent records stay in the outbox and sync
//! under its own key; forgetting a parked venue drops only that venue's unsent records (its
//! check-ins stay in the local history).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use venuecode_core::checkin::Binding;
use venuecode_core::gate::Direction;

use super::settings::binding_pairs;
use super::{upsert, KeyValueTable, Store};
use crate::error::AppError;

/// An enrolment waiting while another venue is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedVenue {
    pub binding: Binding,
    pub secret_key: String,
    pub device_id: String,
    pub server_url: String,
    /// The venue's registry entry as last pulled (JSON), if any.
    pub venue_json: Option<String>,
    /// The server's last refusal of this venue's key (`device_revoked`, `device_pending` …).
    pub problem: Option<String>,
}

/// A new enrolment to make active: the key the server accepted and what it bound it to.
#[derive(Debug, Clone)]
pub struct NewEnrolment<'a> {
    pub secret_key: &'a str,
    pub device_id: &'a str,
    pub server_url: &'a str,
    pub binding: &'a Binding,
    pub venue_json: &'a str,
}

const PARKED_COLUMNS: &str = "venue_id, venue_name, checkpoint_id, inspector, direction,
     secret_key, device_id, server_url, venue_json, problem";

fn parked_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ParkedVenue> {
    let direction: String = r.get(4)?;
    Ok(ParkedVenue {
        binding: Binding {
            venue_id: r.get(0)?,
            venue_name: r.get(1)?,
            checkpoint_id: r.get(2)?,
            inspector: r.get(3)?,
            direction: Direction::parse(&direction).unwrap_or(Direction::Entry),
        },
        secret_key: r.get(5)?,
        device_id: r.get(6)?,
        server_url: r.get(7)?,
        venue_json: r.get(8)?,
        problem: r.get(9)?,
    })
}

fn get_value(tx: &Transaction<'_>, table: &str, key: &str) -> Result<Option<String>, AppError> {
    let sql = format!("SELECT value FROM {table} WHERE key = ?1");
    Ok(tx.query_row(&sql, [key], |r| r.get(0)).optional()?)
}

/// Moves the active enrolment (if the station is enrolled) into `parked_venues`, noting
/// `problem` on it; the `device` row and the venue's sync values go. Returns the venue parked.
fn park_active(tx: &Transaction<'_>, problem: Option<&str>) -> Result<Option<String>, AppError> {
    if get_value(tx, "sync_state", "pending_device_key")?.is_some() {
        return Err(AppError::Invalid(
            "this station is changing its device key: sync once with the server, then try again"
                .into(),
        ));
    }
    let active = tx
        .query_row(
            "SELECT secret_key, device_id, server_url, venue_id, enrolled_at FROM device
             WHERE one = 1 AND venue_id IS NOT NULL",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((secret, device_id, url, venue_id, enrolled_at)) = active else {
        tx.execute("DELETE FROM device", [])?;
        return Ok(None);
    };
    let setting = |k: &str| get_value(tx, "settings", k);
    let (Some(name), Some(cp), Some(inspector), Some(direction)) = (
        setting("venue_name")?,
        setting("checkpoint_id")?,
        setting("inspector")?,
        setting("direction")?,
    ) else {
        return Err(AppError::Invalid(
            "the station's binding is incomplete; enrol again".into(),
        ));
    };
    tx.execute(
        "INSERT INTO parked_venues (venue_id, venue_name, secret_key, device_id, server_url,
             checkpoint_id, inspector, direction, enrolled_at, venue_json, key_made_at, problem)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (venue_id) DO UPDATE SET venue_name = excluded.venue_name,
             secret_key = excluded.secret_key, device_id = excluded.device_id,
             server_url = excluded.server_url, checkpoint_id = excluded.checkpoint_id,
             inspector = excluded.inspector, direction = excluded.direction,
             enrolled_at = excluded.enrolled_at, venue_json = excluded.venue_json,
             key_made_at = excluded.key_made_at, problem = excluded.problem",
        params![
            venue_id,
            name,
            secret,
            device_id,
            url,
            cp,
            inspector,
            direction,
            enrolled_at,
            get_value(tx, "sync_state", "venue")?,
            get_value(tx, "sync_state", "device_key_made_at")?,
            problem,
        ],
    )?;
    tx.execute("DELETE FROM device", [])?;
    tx.execute(
        "DELETE FROM sync_state WHERE key IN ('venue', 'device_key_made_at')",
        [],
    )?;
    Ok(Some(venue_id))
}

/// An enrolment being made active: its key, binding and what sync kept for it.
struct Active<'a> {
    secret: &'a str,
    device_id: &'a str,
    url: &'a str,
    binding: &'a Binding,
    enrolled_at: Option<&'a str>,
    venue_json: Option<&'a str>,
    key_made_at: Option<&'a str>,
}

/// Makes `a` the active enrolment: its device row, binding settings and sync values.
fn install(tx: &Transaction<'_>, a: &Active<'_>) -> Result<(), AppError> {
    let b = a.binding;
    tx.execute("DELETE FROM device", [])?;
    tx.execute(
        "INSERT INTO device (one, secret_key, device_id, server_url, venue_id, checkpoint_id,
             inspector, enrolled_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            a.secret,
            a.device_id,
            a.url,
            b.venue_id,
            b.checkpoint_id,
            b.inspector,
            a.enrolled_at
        ],
    )?;
    for (key, value) in binding_pairs(b) {
        upsert(tx, KeyValueTable::Settings, key, value)?;
    }
    for (key, value) in [
        ("venue", a.venue_json),
        ("device_key_made_at", a.key_made_at),
    ] {
        match value {
            Some(v) => upsert(tx, KeyValueTable::SyncState, key, v)?,
            None => {
                tx.execute("DELETE FROM sync_state WHERE key = ?1", [key])?;
            }
        }
    }
    tx.execute(
        "DELETE FROM parked_venues WHERE venue_id = ?1",
        [&b.venue_id],
    )?;
    Ok(())
}

impl Store {
    /// The venues parked while another is active, by name.
    pub fn parked_venues(&self) -> Result<Vec<ParkedVenue>, AppError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PARKED_COLUMNS} FROM parked_venues ORDER BY venue_name, venue_id"
        ))?;
        let rows = stmt
            .query_map([], parked_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Makes the parked venue `venue_id` active and parks the one that was; returns the new
    /// binding.
    pub fn switch_venue(&mut self, venue_id: &str) -> Result<Binding, AppError> {
        let tx = self.conn.transaction()?;
        let row = tx
            .query_row(
                &format!(
                    "SELECT {PARKED_COLUMNS}, enrolled_at, key_made_at FROM parked_venues
                     WHERE venue_id = ?1"
                ),
                [venue_id],
                |r| {
                    Ok((
                        parked_row(r)?,
                        r.get::<_, Option<String>>(10)?,
                        r.get::<_, Option<String>>(11)?,
                    ))
                },
            )
            .optional()?;
        let Some((p, enrolled_at, made)) = row else {
            return Err(AppError::Invalid(format!(
                "this station is not enrolled at venue {venue_id}"
            )));
        };
        park_active(&tx, None)?;
        install(
            &tx,
            &Active {
                secret: &p.secret_key,
                device_id: &p.device_id,
                url: &p.server_url,
                binding: &p.binding,
                enrolled_at: enrolled_at.as_deref(),
                venue_json: p.venue_json.as_deref(),
                key_made_at: made.as_deref(),
            },
        )?;
        tx.commit()?;
        Ok(p.binding)
    }

    /// Makes a new enrolment (a key the server just bound) active: the venue that was active is
    /// parked, unless it is the same venue (the new key replaces the old one there); a parked
    /// entry for the same venue is replaced too. Its unsent records sync under the new key.
    pub fn adopt_enrolment(
        &mut self,
        e: &NewEnrolment<'_>,
        at: DateTime<Utc>,
        active_problem: Option<&str>,
    ) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        let same: bool = tx
            .query_row(
                "SELECT count(*) FROM device WHERE venue_id = ?1",
                [&e.binding.venue_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?;
        if same {
            tx.execute("DELETE FROM device", [])?;
        } else {
            park_active(&tx, active_problem)?;
        }
        let at = at.to_rfc3339();
        install(
            &tx,
            &Active {
                secret: e.secret_key,
                device_id: e.device_id,
                url: e.server_url,
                binding: e.binding,
                enrolled_at: Some(&at),
                venue_json: Some(e.venue_json),
                key_made_at: Some(&at),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Parks nothing but notes the server's refusal of a parked venue's key (or clears it).
    pub fn set_parked_problem(
        &mut self,
        venue_id: &str,
        problem: Option<&str>,
    ) -> Result<(), AppError> {
        self.conn.execute(
            "UPDATE parked_venues SET problem = ?2 WHERE venue_id = ?1",
            params![venue_id, problem],
        )?;
        Ok(())
    }

    /// Forgets a parked venue: its key and its unsent records go (its check-ins stay in the
    /// local history). Returns how many unsent records were dropped.
    pub fn forget_venue(&mut self, venue_id: &str) -> Result<usize, AppError> {
        let tx = self.conn.transaction()?;
        if tx.execute("DELETE FROM parked_venues WHERE venue_id = ?1", [venue_id])? == 0 {
            return Err(AppError::Invalid(format!(
                "venue {venue_id} is not among this station's other venues"
            )));
        }
        let n = tx.execute(
            "DELETE FROM outbox WHERE sent_at IS NULL AND rejected IS NULL
                 AND json_extract(payload, '$.venue_id') = ?1",
            [venue_id],
        )?;
        tx.commit()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use venuecode_core::gate::{Direction, PresenceEffect};

    use super::*;
    use crate::store::tests::draft_at as any_draft;

    fn draft_at(venue: &str, at: chrono::DateTime<Utc>) -> venuecode_core::checkin::CheckInDraft {
        let mut d = any_draft(at, false);
        d.venue_id = venue.into();
        d
    }

    fn binding(venue: &str, cp: &str) -> Binding {
        Binding {
            venue_id: venue.into(),
            venue_name: format!("{venue} 名称"),
            checkpoint_id: cp.into(),
            inspector: "王五".into(),
            direction: Direction::Exit,
        }
    }

    fn adopt(store: &mut Store, venue: &str, key: &str) {
        let b = binding(venue, "north");
        store
            .adopt_enrolment(
                &NewEnrolment {
                    secret_key: key,
                    device_id: &format!("dev-{key}"),
                    server_url: "https://s",
                    binding: &b,
                    venue_json: &format!("{{\"venue_id\":\"{venue}\"}}"),
                },
                Utc::now(),
                None,
            )
            .unwrap();
    }

    #[test]
    fn venues_switch_whole_and_keep_their_keys_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        adopt(&mut store, "A", "ka");
        let a_record = store
            .record(&draft_at("A", Utc::now()), PresenceEffect::Keep)
            .unwrap();
        adopt(&mut store, "B", "kb");
        // B is active with its own key; A waits parked with its key, door and registry entry.
        assert_eq!(store.device().unwrap().unwrap().secret_key, "kb");
        assert_eq!(store.binding().unwrap().unwrap().venue_id, "B");
        assert_eq!(
            store.sync_value("venue").unwrap().as_deref(),
            Some("{\"venue_id\":\"B\"}")
        );
        let parked = store.parked_venues().unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].secret_key, "ka");
        assert_eq!(parked[0].binding, binding("A", "north"));
        assert_eq!(
            parked[0].venue_json.as_deref(),
            Some("{\"venue_id\":\"A\"}")
        );
        // Enrolment elsewhere does not drop A's unsent records; they are A's to send.
        assert_eq!(store.drop_unsent_of_other_venues("B").unwrap(), 0);
        assert_eq!(store.pending_of_venue("A", 10).unwrap().len(), 1);
        assert_eq!(
            store.pending_of_venue("A", 10).unwrap()[0].record_id,
            a_record
        );
        assert!(store.pending_of_venue("B", 10).unwrap().is_empty());
        // B's key sends B's records and those of no venue held — not parked A's, nor those of a
        // venue switched to after its round began.
        assert!(store.pending("B", 10).unwrap().is_empty());
        let stray = store
            .record(&draft_at("Z", Utc::now()), PresenceEffect::Keep)
            .unwrap();
        let ids = |v: Vec<crate::store::PendingRecord>| -> Vec<String> {
            v.into_iter().map(|r| r.record_id).collect()
        };
        assert_eq!(ids(store.pending("B", 10).unwrap()), vec![stray.clone()]);

        let b = store.switch_venue("A").unwrap();
        assert_eq!(b.venue_id, "A");
        // A round begun under B's key sends nothing of A's now that A is active.
        assert_eq!(ids(store.pending("B", 10).unwrap()), vec![stray.clone()]);
        assert_eq!(store.pending("A", 10).unwrap().len(), 2);
        assert_eq!(store.device().unwrap().unwrap().secret_key, "ka");
        assert_eq!(store.binding().unwrap().unwrap(), binding("A", "north"));
        assert_eq!(store.parked_venues().unwrap()[0].binding.venue_id, "B");
        assert!(store.switch_venue("Z").is_err(), "not held");
        assert_eq!(store.binding().unwrap().unwrap().venue_id, "A", "unchanged");

        // A new key at the active venue replaces the old one there; nothing is parked twice.
        adopt(&mut store, "A", "ka2");
        assert_eq!(store.device().unwrap().unwrap().secret_key, "ka2");
        assert_eq!(store.parked_venues().unwrap().len(), 1);
        // Forgetting B drops its unsent records only.
        store
            .record(&draft_at("B", Utc::now()), PresenceEffect::Keep)
            .unwrap();
        store
            .set_parked_problem("B", Some("device_revoked"))
            .unwrap();
        assert_eq!(
            store.parked_venues().unwrap()[0].problem.as_deref(),
            Some("device_revoked")
        );
        assert_eq!(store.forget_venue("B").unwrap(), 1);
        assert!(store.parked_venues().unwrap().is_empty());
        assert_eq!(store.pending_of_venue("A", 10).unwrap().len(), 1);
        assert!(store.forget_venue("B").is_err());
    }
}
