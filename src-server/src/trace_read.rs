//! Reading what a trace compares: each venue of the case's stays, around those stays only (windows
//! merged where they meet), [`READERS`] windows at a time — who was inside as each window opened
//! (the database answers that) and every check-in in it.
//!
//! Invariants: a venue's windows come back in time order and in one [`VenueRead`]; nothing is
//! read outside `[stay start − margin − automatic exit, stay end + margin]`; a reader that fails
//! fails the whole read.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use venuecode_core::copresence::Stay;

use crate::store::{MarkRow, PassageRow, Store, StoreError};
use crate::trace_routes::AUTO_CLOSE;

/// A time span.
pub(crate) type Span = (DateTime<Utc>, DateTime<Utc>);

/// One venue's rows around the case's stays: who was inside as each window opened, then every
/// check-in in it. Kept until the answer copies the contacts it shows.
pub(crate) struct VenueRead {
    pub(crate) venue_id: String,
    pub(crate) inside: Vec<PassageRow>,
    pub(crate) marks: Vec<MarkRow>,
}

/// How many windows [`read_windows`] reads at once: on PostgreSQL the server scans one while
/// this process decodes another (a trace around a busy hospital reads tens of thousands of rows);
/// two per trace keep the connection pool for the other requests.
const READERS: usize = 2;

/// Who was inside when a window opened, and the marks in it.
pub(crate) type WindowRead = (Vec<PassageRow>, Vec<MarkRow>);

/// The rows around each `(venue, window)`: who was inside when it opens and every mark in it, in
/// the order of `jobs`, [`READERS`] windows at a time.
pub(crate) fn read_windows(
    store: &dyn Store,
    jobs: &[(&str, Span)],
) -> Result<Vec<WindowRead>, StoreError> {
    let read = |(venue, (a, b)): (&str, Span)| -> Result<WindowRead, StoreError> {
        // The automatic-exit span before a window matters only for who is still inside when
        // it opens: the database answers that, not every passage.
        let opens = (a + AUTO_CLOSE).min(b);
        Ok((
            store.inside_at(venue, a, opens)?,
            store.marks_at(venue, opens, b)?,
        ))
    };
    if jobs.len() < 2 {
        return jobs.iter().map(|j| read(*j)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(job) = jobs.get(i) else {
                return done;
            };
            done.push((i, read(*job)));
        }
    };
    let mut done = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..READERS).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        for h in helpers {
            // A reader that panicked has left its windows unread: reported below.
            done.extend(h.join().unwrap_or_default());
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    if done.len() != jobs.len() {
        return Err(StoreError::Poisoned);
    }
    done.into_iter().map(|(_, r)| r).collect()
}

/// The rows around `case_stays`, venue by venue. Each venue is read only around the case's stays
/// there, not across the whole span between its first and last visit: a regular of a busy market
/// would otherwise read two weeks of the market.
pub(crate) fn read_around(
    store: &dyn Store,
    case_stays: &[Stay],
    margin: Duration,
) -> Result<Vec<VenueRead>, StoreError> {
    let mut windows: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
    for s in case_stays {
        windows
            .entry(&s.venue_id)
            .or_default()
            .push((s.start - margin - AUTO_CLOSE, s.end + margin));
    }
    let mut jobs: Vec<(&str, Span)> = Vec::new();
    for (venue, mut spans) in windows {
        spans.sort();
        let mut merged: Vec<Span> = Vec::new();
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        jobs.extend(merged.into_iter().map(|w| (venue, w)));
    }
    let mut reads: Vec<VenueRead> = Vec::new();
    for ((venue, _), (inside, marks)) in jobs.iter().zip(read_windows(store, &jobs)?) {
        if reads.last().is_none_or(|r| r.venue_id != *venue) {
            reads.push(VenueRead {
                venue_id: venue.to_string(),
                inside: Vec::new(),
                marks: Vec::new(),
            });
        }
        if let Some(read) = reads.last_mut() {
            read.inside.extend(inside);
            read.marks.extend(marks);
        }
    }
    Ok(reads)
}
