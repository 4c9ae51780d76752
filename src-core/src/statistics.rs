//! 检测统计: a venue's traffic, folded from counted groups of check-ins. The server counts its
//! check-ins by hour, door, inspector, direction, refusal and fever (one SQL `GROUP BY`); a
//! station counts its own store the same way; both hand the groups here, so a venue reads the same
//! figures wherever it looks.
//!
//! Figures: `entries` are entries let in, `exits` exits recorded (let through or not), `refused`
//! check-ins refused at either direction, `fevers` check-ins with a fever recorded. Hours and days
//! are the venue's local time (`offset` east of UTC, China +8), so "14:00" is the hour people at
//! the gate call 14:00.
//!
//! Invariants: pure; every group lands in exactly one hour of the day, one day, one door and one
//! inspector, so each breakdown sums to the totals; groups outside `[from, to]` are ignored;
//! every day of the range is listed, empty ones included (a line chart shows the gap).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::gate::Direction;

/// The longest range one statistics answer covers (a year and a day).
pub const MAX_DAYS: i64 = 366;

/// Check-ins counted alike: one hour (UTC hours since the epoch), one door, one inspector, one
/// direction, refused or not, fever or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub hour: i64,
    pub checkpoint_id: String,
    pub inspector: String,
    pub direction: Direction,
    pub refused: bool,
    pub fever: bool,
    pub count: u64,
}

/// The four figures every breakdown shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub entries: u64,
    pub exits: u64,
    pub refused: u64,
    pub fevers: u64,
}

impl Counts {
    fn add(&mut self, g: &Group) {
        if g.refused {
            self.refused += g.count;
        } else if g.direction == Direction::Entry {
            self.entries += g.count;
        }
        if g.direction == Direction::Exit && !g.refused {
            self.exits += g.count;
        }
        if g.fever {
            self.fevers += g.count;
        }
    }
}

/// One day of the range (local date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One door, or one inspector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub key: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// A venue's traffic over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub totals: Counts,
    /// 24 slots: hour of the day (local), summed over the range.
    pub by_hour: Vec<Counts>,
    /// Every local day of the range, oldest first.
    pub by_day: Vec<Day>,
    /// Doors, busiest first (then by id).
    pub by_checkpoint: Vec<Share>,
    /// Inspectors, busiest first (then by name).
    pub by_inspector: Vec<Share>,
}

/// Why a range is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the range must end after it starts")]
    Backwards,
    #[error("the range spans at most {MAX_DAYS} days")]
    TooLong,
    #[error("the time zone offset must be between -14 and +14 hours")]
    Offset,
}

/// Checks a range and an offset in minutes east of UTC; the offset as chrono's.
pub fn check_range(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset_minutes: i32,
) -> Result<FixedOffset, RangeError> {
    if to <= from {
        return Err(RangeError::Backwards);
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(RangeError::TooLong);
    }
    if offset_minutes.abs() > 14 * 60 {
        return Err(RangeError::Offset);
    }
    FixedOffset::east_opt(offset_minutes * 60).ok_or(RangeError::Offset)
}

/// The UTC hour (hours since the epoch) an instant falls in, as groups are keyed.
pub fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// Folds counted groups into the statistics of `[from, to]` in local time `offset`. Groups are
/// kept when their hour starts within the range's hours (the range is read in whole hours).
pub fn fold(
    groups: &[Group],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: FixedOffset,
) -> Statistics {
    let (first_hour, last_hour) = (hour_of(from), hour_of(to));
    let first_day = from.with_timezone(&offset).date_naive();
    let last_day = to.with_timezone(&offset).date_naive();
    let mut totals = Counts::default();
    let mut by_hour = vec![Counts::default(); 24];
    let mut days: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
    let mut day = first_day;
    while day <= last_day {
        days.insert(day, Counts::default());
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    let mut doors: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut inspectors: BTreeMap<&str, Counts> = BTreeMap::new();
    for g in groups {
        if g.hour < first_hour || g.hour > last_hour || g.count == 0 {
            continue;
        }
        let Some(start) = DateTime::from_timestamp(g.hour * 3600, 0) else {
            continue;
        };
        let local = start.with_timezone(&offset);
        totals.add(g);
        by_hour[local.hour() as usize].add(g);
        days.entry(local.date_naive()).or_default().add(g);
        doors.entry(&g.checkpoint_id).or_default().add(g);
        inspectors.entry(&g.inspector).or_default().add(g);
    }
    Statistics {
        totals,
        by_hour,
        by_day: days
            .into_iter()
            .map(|(date, counts)| Day { date, counts })
            .collect(),
        by_checkpoint: ranked(doors),
        by_inspector: ranked(inspectors),
    }
}

fn ranked(m: BTreeMap<&str, Counts>) -> Vec<Share> {
    let mut v: Vec<Share> = m
        .into_iter()
        .map(|(k, counts)| Share {
            key: k.to_string(),
            counts,
        })
        .collect();
    // Stable sort: equal traffic keeps the map's order (by key).
    v.sort_by_key(|s| std::cmp::Reverse(s.counts.entries + s.counts.exits + s.counts.refused));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-30T{h:02}:{m:02}:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn g(
        at: DateTime<Utc>,
        door: &str,
        who: &str,
        dir: Direction,
        refused: bool,
        fever: bool,
        n: u64,
    ) -> Group {
        Group {
            hour: hour_of(at),
            checkpoint_id: door.into(),
            inspector: who.into(),
            direction: dir,
            refused,
            fever,
            count: n,
        }
    }

    #[test]
    fn breakdowns_sum_to_the_totals_in_local_hours_and_days() {
        let china = FixedOffset::east_opt(8 * 3600).unwrap();
        let groups = vec![
            // 09:10 UTC = 17:10 in China, 30 Nov.
            g(t(9, 10), "north", "王", Direction::Entry, false, false, 10),
            g(t(9, 40), "north", "王", Direction::Entry, true, true, 2),
            // 16:30 UTC = 00:30 on 1 Dec in China.
            g(t(16, 30), "south", "李", Direction::Exit, false, false, 7),
            g(t(16, 30), "south", "李", Direction::Entry, false, true, 1),
        ];
        let s = fold(&groups, t(0, 0), t(23, 0), china);
        assert_eq!(
            s.totals,
            Counts {
                entries: 11,
                exits: 7,
                refused: 2,
                fevers: 3
            }
        );
        assert_eq!(
            s.by_hour[17],
            Counts {
                entries: 10,
                exits: 0,
                refused: 2,
                fevers: 2
            }
        );
        assert_eq!(
            s.by_hour[0],
            Counts {
                entries: 1,
                exits: 7,
                refused: 0,
                fevers: 1
            }
        );
        assert_eq!(s.by_hour.len(), 24);
        let days: Vec<String> = s.by_day.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(days, ["2026-11-30", "2026-12-01"]);
        assert_eq!(s.by_day[0].counts.entries, 10);
        assert_eq!(s.by_day[1].counts.exits, 7);
        assert_eq!(s.by_checkpoint[0].key, "north");
        assert_eq!(s.by_inspector[1].key, "李");
        let sum = |v: &[Share]| {
            v.iter().fold(0, |a, s| {
                a + s.counts.entries + s.counts.exits + s.counts.refused
            })
        };
        assert_eq!(sum(&s.by_checkpoint), 20);
        assert_eq!(sum(&s.by_inspector), 20);
    }

    #[test]
    fn groups_outside_the_range_are_left_out_and_empty_days_are_listed() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let from = t(0, 0);
        let to = from + Duration::days(3);
        let groups = vec![
            g(
                from - Duration::hours(1),
                "a",
                "x",
                Direction::Entry,
                false,
                false,
                5,
            ),
            g(
                from + Duration::days(2),
                "a",
                "x",
                Direction::Entry,
                false,
                false,
                1,
            ),
        ];
        let s = fold(&groups, from, to, utc);
        assert_eq!(s.totals.entries, 1);
        assert_eq!(s.by_day.len(), 4);
        assert_eq!(s.by_day[1].counts, Counts::default());
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(
            check_range(t(2, 0), t(1, 0), 480),
            Err(RangeError::Backwards)
        );
        assert_eq!(
            check_range(t(0, 0), t(0, 0) + Duration::days(367), 480),
            Err(RangeError::TooLong)
        );
        assert_eq!(
            check_range(t(0, 0), t(1, 0), 15 * 60),
            Err(RangeError::Offset)
        );
        assert!(check_range(t(0, 0), t(1, 0), -300).is_ok());
    }
}
