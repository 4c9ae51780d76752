//! The station's own statistics, read from its store offline: its check-ins of a venue over a
//! range of local days, counted as core's `statistics` groups (the server counts its copy the
//! same way, so the figures agree once synced).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::params;
use venuecode_core::gate::Direction;
use venuecode_core::statistics::{hour_of, Group};

use super::Store;
use crate::error::AppError;

type Key = (i64, String, String, Direction, bool, bool);

impl Store {
    /// `venue`'s check-ins on local days `first_day` to `last_day` (YYYY-MM-DD), counted by
    /// hour, door, inspector, direction, refusal and fever; and how many different people.
    pub fn stat_groups(
        &self,
        venue: &str,
        first_day: &str,
        last_day: &str,
    ) -> Result<(Vec<Group>, i64), AppError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, checkpoint_id, inspector, direction, verdict = 'refuse', fever
             FROM check_ins WHERE venue_id = ?1 AND day BETWEEN ?2 AND ?3",
        )?;
        let mut groups: BTreeMap<Key, u64> = BTreeMap::new();
        let rows = stmt.query_map(params![venue, first_day, last_day], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)? != 0,
                r.get::<_, i64>(5)? != 0,
            ))
        })?;
        for row in rows {
            let (at, door, who, dir, refused, fever) = row?;
            let Ok(at) = DateTime::parse_from_rfc3339(&at) else {
                continue;
            };
            let dir = Direction::parse(&dir).unwrap_or(Direction::Entry);
            let key = (
                hour_of(at.with_timezone(&Utc)),
                door,
                who,
                dir,
                refused,
                fever,
            );
            *groups.entry(key).or_default() += 1;
        }
        let people: i64 = self.conn.query_row(
            "SELECT count(DISTINCT subject) FROM check_ins
             WHERE venue_id = ?1 AND day BETWEEN ?2 AND ?3",
            params![venue, first_day, last_day],
            |r| r.get(0),
        )?;
        let groups = groups
            .into_iter()
            .map(
                |((hour, checkpoint_id, inspector, direction, refused, fever), count)| Group {
                    hour,
                    checkpoint_id,
                    inspector,
                    direction,
                    refused,
                    fever,
                    count,
                },
            )
            .collect();
        Ok((groups, people))
    }
}
