//! The PostgreSQL engine's application side: pending venues, review decisions, venue history.

use chrono::{DateTime, Utc};
use venuecode_core::application::Application;

use super::PgStore;
use crate::store::applications::SUMMARY_COLUMNS;
use crate::store::{Applications, Decision, StoreError, VenueEvent, VenueFilter, VenueSummary};

pub(super) fn summary_row(r: &postgres::Row) -> VenueSummary {
    VenueSummary {
        venue_id: r.get(0),
        name: r.get(1),
        category: r.get(2),
        region: r.get(3),
        address: r.get(4),
        status: r.get(5),
        credit_code: r.get(6),
        responsible_name: r.get(7),
        responsible_phone: r.get(8),
        declaration_code: r.get(9),
        reject_reason: r.get(10),
        created_at: r.get(11),
        lat_e6: r.get(12),
        lon_e6: r.get(13),
        place_type: r.get(14),
    }
}

pub(super) fn event(
    tx: &mut postgres::Transaction<'_>,
    at: DateTime<Utc>,
    venue_id: &str,
    action: &str,
    actor: &str,
    detail: &str,
) -> Result<u64, postgres::Error> {
    tx.execute(
        "INSERT INTO venue_events (at_ms, venue_id, action, actor, detail)
         VALUES ($1, $2, $3, $4, $5)",
        &[&at.timestamp_millis(), &venue_id, &action, &actor, &detail],
    )
}

impl Applications for PgStore {
    fn apply(
        &self,
        venue_id: &str,
        a: &Application,
        applicant: &str,
        now: DateTime<Utc>,
    ) -> Result<VenueSummary, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            // Two applications racing with the same code and address: one waits for the other.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                &[&a.credit_code.as_str()],
            )?;
            let live: Option<String> = tx
                .query_opt(
                    "SELECT status FROM venues WHERE credit_code = $1 AND address = $2
                         AND status IN ('pending', 'approved') AND closed_ms IS NULL LIMIT 1",
                    &[&a.credit_code.as_str(), &a.address],
                )?
                .map(|r| r.get(0));
            if let Some(status) = live {
                return Err(StoreError::DuplicateApplication(status));
            }
            tx.execute(
                "INSERT INTO venues (venue_id, name, category, region, address, status,
                     created_at, updated_ms, lat_e6, lon_e6, credit_code, responsible_name,
                     responsible_phone, applicant, phone, place_type)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12, $13, $12,
                     $14)",
                &[
                    &venue_id,
                    &a.name,
                    &a.category.code(),
                    &a.region,
                    &a.address,
                    &now.to_rfc3339(),
                    &now.timestamp_millis(),
                    &a.point.map(|p| p.lat_e6),
                    &a.point.map(|p| p.lon_e6),
                    &a.credit_code.as_str(),
                    &a.responsible_name,
                    &a.responsible_phone,
                    &applicant,
                    &a.place_type,
                ],
            )?;
            tx.execute(
                "UPDATE accounts SET scopes = trim(scopes || ' ' || $2) WHERE account_id = $1",
                &[&applicant, &venue_id],
            )?;
            event(&mut tx, now, venue_id, "applied", applicant, "")?;
            let row = tx.query_one(
                &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = $1"),
                &[&venue_id],
            )?;
            tx.commit()?;
            Ok(summary_row(&row))
        })
    }

    fn venue_summaries(
        &self,
        filter: &VenueFilter,
        status: Option<&str>,
    ) -> Result<Vec<VenueSummary>, StoreError> {
        let (clause, values) = match filter {
            VenueFilter::Ids(ids) => ("venue_id = ANY($1)", ids),
            VenueFilter::Regions(prefixes) => (
                "EXISTS (SELECT 1 FROM unnest($1::text[]) p WHERE starts_with(region, p))",
                prefixes,
            ),
        };
        if values.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|c| {
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM venues WHERE {clause}
                     AND ($2::text IS NULL OR status = $2)
                 ORDER BY created_at DESC, venue_id"
            );
            Ok(c.query(&sql, &[values, &status])?
                .iter()
                .map(summary_row)
                .collect())
        })
    }

    fn venue_summary(&self, venue_id: &str) -> Result<Option<VenueSummary>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = $1"),
                &[&venue_id],
            )?
            .map(|r| summary_row(&r)))
        })
    }

    fn decide(
        &self,
        venue_id: &str,
        decision: &Decision,
        reviewer: &str,
        now: DateTime<Utc>,
    ) -> Result<VenueSummary, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let at = now.timestamp_millis();
            let n = match decision {
                Decision::Approve { declaration_code } => {
                    let taken = tx
                        .query_opt(
                            "SELECT 1 FROM venues WHERE declaration_code = $1",
                            &[declaration_code],
                        )?
                        .is_some();
                    if taken {
                        return Err(StoreError::DeclarationCodeTaken(declaration_code.clone()));
                    }
                    tx.execute(
                        "UPDATE venues SET status = 'approved', approve_devices = true, declaration_code = $2,
                             reviewed_by = $3, reviewed_ms = $4, updated_ms = $4
                         WHERE venue_id = $1 AND status = 'pending'",
                        &[&venue_id, declaration_code, &reviewer, &at],
                    )?
                }
                Decision::Reject { reason } => tx.execute(
                    "UPDATE venues SET status = 'rejected', reject_reason = $2,
                         reviewed_by = $3, reviewed_ms = $4, updated_ms = $4
                     WHERE venue_id = $1 AND status = 'pending'",
                    &[&venue_id, reason, &reviewer, &at],
                )?,
            };
            if n != 1 {
                return Err(StoreError::NotPending(venue_id.to_string()));
            }
            if matches!(decision, Decision::Approve { .. }) {
                // A first door, so stations can enrol at once; the administrator renames it and
                // adds the others.
                tx.execute(
                    "INSERT INTO checkpoints (venue_id, checkpoint_id, name)
                     VALUES ($1, 'main', '正门') ON CONFLICT DO NOTHING",
                    &[&venue_id],
                )?;
            }
            let (action, detail) = match decision {
                Decision::Approve { .. } => ("approved", ""),
                Decision::Reject { reason } => ("rejected", reason.as_str()),
            };
            event(&mut tx, now, venue_id, action, reviewer, detail)?;
            let row = tx.query_one(
                &format!("SELECT {SUMMARY_COLUMNS} FROM venues WHERE venue_id = $1"),
                &[&venue_id],
            )?;
            tx.commit()?;
            Ok(summary_row(&row))
        })
    }

    fn venue_history(&self, venue_id: &str) -> Result<Vec<VenueEvent>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT e.at_ms, e.action,
                     COALESCE(a.display_name || ' (' || a.username || ')', e.actor), e.detail
                 FROM venue_events e LEFT JOIN accounts a ON a.account_id = e.actor
                 WHERE e.venue_id = $1
                 ORDER BY e.seq",
                &[&venue_id],
            )?
            .iter()
            .map(|r| VenueEvent {
                at: DateTime::from_timestamp_millis(r.get(0)).unwrap_or_default(),
                action: r.get(1),
                actor: r.get(2),
                detail: r.get(3),
            })
            .collect())
        })
    }
}
