//! The SQLite engine's application side: pending venues, review decisions, venue history.

use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, OptionalExtension};
use venuecode_core::application::Application;

use super::SqliteStore;
use crate::store::applications::SUMMARY_COLUMNS;
use crate::store::{Applications, Decision, StoreError, VenueEvent, VenueFilter, VenueSummary};

pub(super) fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VenueSummary> {
    Ok(VenueSummary {
        venue_id: r.get(0)?,
        name: r.get(1)?,
        category: r.get(2)?,
        region: r.get(3)?,
        address: r.get(4)?,
        status: r.get(5)?,
        credit_code: r.get(6)?,
        responsible_name: r.get(7)?,
        responsible_phone: r.get(8)?,
        declaration_code: r.get(9)?,
        reject_reason: r.get(10)?,
        created_at: r.get(11)?,
        lat_e6: r.get(12)?,
        lon_e6: r.get(13)?,
        place_type: r.get(14)?,
    })
}

pub(super) fn event(
    tx: &rusqlite::Transaction<'_>,
    at: DateTime<Utc>,
    venue_id: &str,
    action: &str,
    actor: &str,
    detail: &str,
) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO venue_events (at_ms, venue_id, action, actor, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![at.timestamp_millis(), venue_id, action, actor, detail],
    )
}

impl Applications for SqliteStore {
    fn apply(
        &self,
        venue_id: &str,
        a: &Application,
        applicant: &str,
        now: DateTime<Utc>,
    ) -> Result<VenueSummary, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let live: Option<String> = tx
            .query_row(
                "SELECT status FROM venues WHERE credit_code = ?1 AND address = ?2
                     AND status IN ('pending', 'approved') AND closed_ms IS NULL LIMIT 1",
                params![a.credit_code.as_str(), a.address],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(status) = live {
            return Err(StoreError::DuplicateApplication(status));
        }
        tx.execute(
            "INSERT INTO venues (venue_id, name, category, region, address, status, created_at,
                 updated_ms, lat_e6, lon_e6, credit_code, responsible_name, responsible_phone,
                 applicant, phone, place_type)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?12, ?14)",
            params![
                venue_id,
                a.name,
                a.category.code(),
                a.region,
                a.address,
                now.to_rfc3339(),
                now.timestamp_millis(),
                a.point.map(|p| p.lat_e6),
                a.point.map(|p| p.lon_e6),
                a.credit_code.as_str(),
                a.responsible_name,
                a.responsible_phone,
                applicant,
                a.place_type
            ],
        )?;
        tx.execute(
            "UPDATE accounts SET scopes = trim(scopes || ' ' || ?2) WHERE account_id = ?1",
            params![applicant, venue_id],
        )?;
        event(&tx, now, venue_id, "applied", applicant, "")?;
        let s = tx.query_row(
            &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = ?1"),
            [venue_id],
            summary_row,
        )?;
        tx.commit()?;
        Ok(s)
    }

    fn venue_summaries(
        &self,
        filter: &VenueFilter,
        status: Option<&str>,
    ) -> Result<Vec<VenueSummary>, StoreError> {
        let (clause, values): (String, &Vec<String>) = match filter {
            VenueFilter::Ids(ids) => (
                format!(
                    "venue_id IN ({})",
                    (1..=ids.len())
                        .map(|i| format!("?{i}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                ids,
            ),
            VenueFilter::Regions(prefixes) => (
                (1..=prefixes.len())
                    .map(|i| format!("substr(region, 1, length(?{i})) = ?{i}"))
                    .collect::<Vec<_>>()
                    .join(" OR "),
                prefixes,
            ),
        };
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE ({clause})");
        let mut args: Vec<String> = values.clone();
        if let Some(s) = status {
            args.push(s.to_string());
            sql.push_str(&format!(" AND status = ?{}", args.len()));
        }
        sql.push_str(" ORDER BY created_at DESC, venue_id");
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), summary_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn venue_summary(&self, venue_id: &str) -> Result<Option<VenueSummary>, StoreError> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = ?1"),
                [venue_id],
                summary_row,
            )
            .optional()?)
    }

    fn decide(
        &self,
        venue_id: &str,
        decision: &Decision,
        reviewer: &str,
        now: DateTime<Utc>,
    ) -> Result<VenueSummary, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let n = match decision {
            Decision::Approve { declaration_code } => {
                let taken: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM venues WHERE declaration_code = ?1)",
                    [declaration_code],
                    |r| r.get(0),
                )?;
                if taken {
                    return Err(StoreError::DeclarationCodeTaken(declaration_code.clone()));
                }
                tx.execute(
                    "UPDATE venues SET status = 'approved', approve_devices = 1, declaration_code = ?2,
                         reviewed_by = ?3, reviewed_ms = ?4, updated_ms = ?4
                     WHERE venue_id = ?1 AND status = 'pending'",
                    params![venue_id, declaration_code, reviewer, now.timestamp_millis()],
                )?
            }
            Decision::Reject { reason } => tx.execute(
                "UPDATE venues SET status = 'rejected', reject_reason = ?2,
                     reviewed_by = ?3, reviewed_ms = ?4, updated_ms = ?4
                 WHERE venue_id = ?1 AND status = 'pending'",
                params![venue_id, reason, reviewer, now.timestamp_millis()],
            )?,
        };
        if n != 1 {
            return Err(StoreError::NotPending(venue_id.to_string()));
        }
        if matches!(decision, Decision::Approve { .. }) {
            // A first door, so stations can enrol at once; the administrator renames it and adds
            // the others.
            tx.execute(
                "INSERT INTO checkpoints (venue_id, checkpoint_id, name) VALUES (?1, 'main', '正门')
                 ON CONFLICT DO NOTHING",
                [venue_id],
            )?;
        }
        let (action, detail) = match decision {
            Decision::Approve { .. } => ("approved", ""),
            Decision::Reject { reason } => ("rejected", reason.as_str()),
        };
        event(&tx, now, venue_id, action, reviewer, detail)?;
        let s = tx.query_row(
            &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = ?1"),
            [venue_id],
            summary_row,
        )?;
        tx.commit()?;
        Ok(s)
    }

    fn venue_history(&self, venue_id: &str) -> Result<Vec<VenueEvent>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT e.at_ms, e.action,
                 COALESCE(a.display_name || ' (' || a.username || ')', e.actor), e.detail
             FROM venue_events e LEFT JOIN accounts a ON a.account_id = e.actor
             WHERE e.venue_id = ?1
             ORDER BY e.seq",
        )?;
        let rows = stmt.query_map([venue_id], |r| {
            Ok(VenueEvent {
                at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                action: r.get(1)?,
                actor: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
