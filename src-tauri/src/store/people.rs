//! The signed-in person's side of the local store: the session (one at a time), what each
//! screen last read from the server (shown offline with its age), and application drafts.
//!
//! Invariants: signing out deletes the session and every cached screen (the next person sees
//! nothing of the last one's); drafts survive restarts until sent or deleted.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::AppError;

/// A kept session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The person as JSON (the IPC `Me`).
    pub me: String,
}

/// A kept draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub draft_id: String,
    pub form: String,
    pub saved_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

impl Store {
    /// Keeps the session (replacing any other).
    pub fn set_person_session(&mut self, s: &PersonSession) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM person_cache", [])?;
        tx.execute(
            "INSERT INTO person_session (id, token, expires_at, me) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET token = excluded.token,
                 expires_at = excluded.expires_at, me = excluded.me",
            params![s.token, s.expires_at.to_rfc3339(), s.me],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The kept session, if any.
    pub fn person_session(&self) -> Result<Option<PersonSession>, AppError> {
        Ok(self
            .conn
            .query_row(
                "SELECT token, expires_at, me FROM person_session WHERE id = 1",
                [],
                |r| {
                    let at: String = r.get(1)?;
                    Ok(PersonSession {
                        token: r.get(0)?,
                        expires_at: DateTime::parse_from_rfc3339(&at)
                            .map(|t| t.with_timezone(&Utc))
                            .unwrap_or_default(),
                        me: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Forgets the session and every screen it read.
    pub fn clear_person_session(&mut self) -> Result<(), AppError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM person_session", [])?;
        tx.execute("DELETE FROM person_cache", [])?;
        tx.commit()?;
        Ok(())
    }

    /// Keeps what a screen read.
    pub fn cache_put(&mut self, key: &str, body: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        self.conn.execute(
            "INSERT INTO person_cache (key, body, fetched_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET body = excluded.body, fetched_ms = excluded.fetched_ms",
            params![key, body, now.timestamp_millis()],
        )?;
        Ok(())
    }

    /// What a screen read last, and when.
    pub fn cache_get(&self, key: &str) -> Result<Option<(String, DateTime<Utc>)>, AppError> {
        Ok(self
            .conn
            .query_row(
                "SELECT body, fetched_ms FROM person_cache WHERE key = ?1",
                [key],
                |r| {
                    Ok((
                        r.get(0)?,
                        DateTime::from_timestamp_millis(r.get(1)?).unwrap_or_default(),
                    ))
                },
            )
            .optional()?)
    }

    /// Keeps a draft (new, or replacing the one with this id).
    pub fn save_draft(&mut self, d: &Draft) -> Result<(), AppError> {
        self.conn.execute(
            "INSERT INTO drafts (draft_id, form, saved_ms, last_error) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (draft_id) DO UPDATE SET form = excluded.form,
                 saved_ms = excluded.saved_ms, last_error = excluded.last_error",
            params![
                d.draft_id,
                d.form,
                d.saved_at.timestamp_millis(),
                d.last_error
            ],
        )?;
        Ok(())
    }

    /// Notes why a draft could not be sent.
    pub fn draft_failed(&mut self, draft_id: &str, error: &str) -> Result<(), AppError> {
        self.conn.execute(
            "UPDATE drafts SET last_error = ?2 WHERE draft_id = ?1",
            params![draft_id, error],
        )?;
        Ok(())
    }

    /// Every draft, oldest first.
    pub fn drafts(&self) -> Result<Vec<Draft>, AppError> {
        let mut stmt = self.conn.prepare(
            "SELECT draft_id, form, saved_ms, last_error FROM drafts ORDER BY saved_ms, draft_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Draft {
                draft_id: r.get(0)?,
                form: r.get(1)?,
                saved_at: DateTime::from_timestamp_millis(r.get(2)?).unwrap_or_default(),
                last_error: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes a draft (sent, or given up).
    pub fn delete_draft(&mut self, draft_id: &str) -> Result<(), AppError> {
        self.conn
            .execute("DELETE FROM drafts WHERE draft_id = ?1", [draft_id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_cache_and_drafts_survive_reopening_and_sign_out_forgets_the_person() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        {
            let mut s = Store::open(dir.path()).unwrap();
            s.set_person_session(&PersonSession {
                token: "t".into(),
                expires_at: now,
                me: "{}".into(),
            })
            .unwrap();
            s.cache_put("venues", "[]", now).unwrap();
            s.save_draft(&Draft {
                draft_id: "d1".into(),
                form: "{}".into(),
                saved_at: now,
                last_error: None,
            })
            .unwrap();
            s.draft_failed("d1", "offline").unwrap();
        }
        let mut s = Store::open(dir.path()).unwrap();
        assert_eq!(s.person_session().unwrap().unwrap().token, "t");
        assert_eq!(s.cache_get("venues").unwrap().unwrap().0, "[]");
        assert_eq!(
            s.drafts().unwrap()[0].last_error.as_deref(),
            Some("offline")
        );
        s.clear_person_session().unwrap();
        assert!(s.person_session().unwrap().is_none());
        assert!(s.cache_get("venues").unwrap().is_none());
        assert_eq!(s.drafts().unwrap().len(), 1, "drafts stay until sent");
        s.delete_draft("d1").unwrap();
        assert!(s.drafts().unwrap().is_empty());
    }
}
