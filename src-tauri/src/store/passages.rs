//! The venue's passages as this station knows them (issue 18): a grow-only set keyed by check-in
//! id — own check-ins, residents' phone check-ins, passages relayed by the server and heard from
//! the venue's other stations on the LAN — numbered in the order learned (`seq`), so a peer can
//! ask for what came after its mark. Who is inside is computed from it (`checkins.rs`).
//!
//! Invariants: a second copy of an id is ignored, whatever its source (nothing counts twice);
//! only the station's active venue's passages are taken in; an exit heard from elsewhere also
//! closes this station's own stay row of that person (kept for retention).

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};
use venuecode_core::gate::Direction;
use venuecode_core::presence::Passage;

use super::Store;
use crate::error::AppError;

/// Where a passage came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Own,
    Phone,
    Relay,
    Lan,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Own => "own",
            Source::Phone => "phone",
            Source::Relay => "relay",
            Source::Lan => "lan",
        }
    }
}

/// Adds one passage inside the caller's transaction; true when it was new. A passing exit of
/// someone this station let in ends its own stay row too.
pub(super) fn add(
    tx: &Transaction<'_>,
    venue: &str,
    p: &Passage,
    source: Source,
) -> Result<bool, AppError> {
    let at = p.at.to_rfc3339();
    let new =
        tx.prepare_cached(
            "INSERT INTO passages (id, venue_id, subject, checkpoint_id, direction, at, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            p.id,
            venue,
            p.subject,
            p.checkpoint_id,
            p.direction.as_str(),
            at,
            source.as_str()
        ])? == 1;
    if new && p.direction == Direction::Exit && source != Source::Own {
        tx.prepare_cached(
            "UPDATE presence SET exited_at = ?3
             WHERE subject = ?1 AND venue_id = ?2 AND exited_at IS NULL AND entered_at <= ?3",
        )?
        .execute(params![p.subject, venue, at])?;
    }
    Ok(new)
}

/// One page of this station's log for a peer.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPage {
    pub passages: Vec<Passage>,
    /// The last number in the page (the mark the peer keeps), or the mark asked from.
    pub upto: u64,
    pub more: bool,
}

impl Store {
    /// Takes in passages of `venue` from elsewhere (the server's relay, a peer on the LAN);
    /// returns how many were new.
    pub fn merge_passages(
        &mut self,
        venue: &str,
        passages: &[Passage],
        source: Source,
    ) -> Result<usize, AppError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for p in passages {
            n += usize::from(add(&tx, venue, p, source)?);
        }
        tx.commit()?;
        Ok(n)
    }

    /// What this station learned about `venue` after number `after`, at most `limit`, oldest
    /// first (what a peer on the LAN asks for).
    pub fn passages_after(
        &self,
        venue: &str,
        after: u64,
        limit: usize,
    ) -> Result<LogPage, AppError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, subject, checkpoint_id, direction, at FROM passages
             WHERE seq > ?1 AND venue_id = ?2 ORDER BY seq LIMIT ?3",
        )?;
        let mut rows = stmt.query(params![
            i64::try_from(after).unwrap_or(i64::MAX),
            venue,
            limit as i64 + 1
        ])?;
        let mut page = LogPage {
            passages: Vec::new(),
            upto: after,
            more: false,
        };
        while let Some(r) = rows.next()? {
            if page.passages.len() == limit {
                page.more = true;
                break;
            }
            let seq: i64 = r.get(0)?;
            page.upto = seq.max(0) as u64;
            let (Some(direction), Ok(at)) = (
                Direction::parse(r.get_ref(4)?.as_str().unwrap_or_default()),
                DateTime::parse_from_rfc3339(r.get_ref(5)?.as_str().unwrap_or_default()),
            ) else {
                continue;
            };
            page.passages.push(Passage {
                id: r.get(1)?,
                subject: r.get(2)?,
                checkpoint_id: r.get(3)?,
                direction,
                at: at.with_timezone(&Utc),
            });
        }
        Ok(page)
    }

    /// The ids of `venue`'s passages at or after `since`, sorted: the replicated set, as tests
    /// compare it between stations.
    pub fn passage_ids(&self, venue: &str, since: DateTime<Utc>) -> Result<Vec<String>, AppError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM passages WHERE venue_id = ?1 AND at >= ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![venue, since.to_rfc3339()], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// This station's log identity, made once: a peer holding a mark in another log (this
    /// station's data was made anew) asks from the start.
    pub fn passage_epoch(&mut self) -> Result<String, AppError> {
        if let Some(e) = self.sync_value("passage_epoch")? {
            return Ok(e);
        }
        let e = uuid::Uuid::new_v4().simple().to_string();
        self.put_sync_values(&[("passage_epoch", e.clone())])?;
        Ok(e)
    }

    /// What this station last received from `peer` on the LAN: `(epoch, upto)`.
    pub fn lan_mark(&self, peer: &str) -> Result<Option<(String, u64)>, AppError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT epoch, upto FROM lan_marks WHERE peer = ?1")?;
        let mut rows = stmt.query([peer])?;
        Ok(match rows.next()? {
            Some(r) => Some((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)),
            None => None,
        })
    }

    /// Keeps the mark reached in `peer`'s log.
    pub fn set_lan_mark(
        &mut self,
        peer: &str,
        epoch: &str,
        upto: u64,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        self.conn.execute(
            "INSERT INTO lan_marks (peer, epoch, upto, heard_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (peer) DO UPDATE SET epoch = excluded.epoch, upto = excluded.upto,
                 heard_at = excluded.heard_at",
            params![
                peer,
                epoch,
                i64::try_from(upto).unwrap_or(i64::MAX),
                now.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// Forgets passages older than `before` (they can keep nobody inside).
    pub fn purge_passages(&mut self, before: DateTime<Utc>) -> Result<usize, AppError> {
        Ok(self
            .conn
            .execute("DELETE FROM passages WHERE at < ?1", [before.to_rfc3339()])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        (dir, s)
    }

    fn p(id: &str, who: &str, d: Direction, at: DateTime<Utc>) -> Passage {
        Passage {
            id: id.into(),
            subject: who.into(),
            checkpoint_id: "north".into(),
            direction: d,
            at,
        }
    }

    #[test]
    fn the_log_is_a_set_numbered_in_the_order_learned() {
        let (_d, mut s) = store();
        let now = Utc::now();
        let a = p("a", "x", Direction::Entry, now - Duration::minutes(5));
        let b = p("b", "x", Direction::Exit, now - Duration::minutes(1));
        assert_eq!(
            s.merge_passages("V", std::slice::from_ref(&b), Source::Lan)
                .unwrap(),
            1
        );
        // The same passage from the server, and another venue's, change nothing here.
        assert_eq!(
            s.merge_passages("V", &[b.clone(), a.clone()], Source::Relay)
                .unwrap(),
            1
        );
        s.merge_passages("W", &[p("c", "y", Direction::Entry, now)], Source::Lan)
            .unwrap();
        let all = s.passages_after("V", 0, 10).unwrap();
        // Learned order, not time order.
        assert_eq!(all.passages, vec![b.clone(), a.clone()]);
        assert!(!all.more);
        let first = s.passages_after("V", 0, 1).unwrap();
        assert_eq!((first.passages.len(), first.more), (1, true));
        let rest = s.passages_after("V", first.upto, 10).unwrap();
        assert_eq!(rest.passages, vec![a]);
        assert_eq!(
            s.passages_after("V", rest.upto, 10).unwrap().passages,
            vec![]
        );
        assert_eq!(
            s.passage_ids("V", now - Duration::hours(1)).unwrap(),
            vec!["a", "b"]
        );
        let e = s.passage_epoch().unwrap();
        assert_eq!(s.passage_epoch().unwrap(), e);
        s.set_lan_mark("peer", "ep", 7, now).unwrap();
        s.set_lan_mark("peer", "ep", 9, now).unwrap();
        assert_eq!(s.lan_mark("peer").unwrap(), Some(("ep".into(), 9)));
        assert_eq!(s.lan_mark("nobody").unwrap(), None);
        assert_eq!(s.purge_passages(now - Duration::minutes(3)).unwrap(), 1);
    }
}
